//! What the native packet path hands to Python: an ordered list of stream events per batch.
//!
//! Theory of operation. The Python side owns the protocol analyzers (sans-IO). The native tracker cannot ask
//! them, packet by packet, whether a connection's record is complete (the bypass decision): that would cross
//! the boundary per packet. Instead it keeps reassembling and records what an analyzer would have been fed —
//! data, gaps, reassembly anomalies — in one ordered event list; Python applies the list in order and, after
//! the batch, tells the tracker which connections are finished, which are then bypassed.
//!
//! Equality with the Python engine rests on *checkpoints*: the Python tracker asks `consumer.finished` at one
//! point of each packet it reassembles (after the segment and the ACK were applied, before FIN/RST close the
//! connection). The native tracker bumps the connection's `epoch` at that same point. Python, on meeting an
//! event of a connection whose epoch differs from the last one it saw, first asks the analyzer whether it is
//! finished; once it is, every later event of that connection is dropped — exactly the events the Python
//! engine would never have produced, because it had bypassed the connection there.

use crate::dispatch::{Dispatch, TlsRow};

/// One event's payload. Data bytes live in the batch's shared buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A connection was created; Python makes its analyzer (which wants the responder's port).
    Open { resp_p: u16 },
    /// In-order stream bytes `payload[start..start + len]` of one direction.
    Data { start: usize, len: usize },
    /// `len` bytes of one direction were never seen.
    Gap { len: u64 },
    /// A reassembly anomaly of one direction (first occurrence per direction only: the row lists names once).
    Anomaly { name: &'static str },
    /// A connection-level anomaly (e.g. the global reassembly memory cap).
    ConnAnomaly { name: &'static str },
    /// The connection ended: its transport facts are `ends[index]`.
    End { index: usize },
    /// An interim record of a connection still open (live capture): its facts so far are `ends[index]`.
    Interim { index: usize },
    /// A natively analyzed TLS connection ended: its transport facts are `ends[index]`, its TLS part `tls[tls]`.
    TlsEnd { index: usize, tls: usize },
    /// An interim record of a natively analyzed TLS connection (as `Interim`, with its TLS part `tls[tls]`).
    TlsInterim { index: usize, tls: usize },
    /// A UDP flow was created; Python makes its UDP dispatcher.
    OpenUdp { resp_p: u16 },
    /// One whole UDP datagram `payload[start..start + len]` of one direction, sent at `ts`.
    Datagram { start: usize, len: usize, ts: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub conn: u64,
    pub epoch: u32,
    pub is_orig: bool,
    pub kind: EventKind,
}

/// Everything about a connection's transport that its row needs, taken when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnEnd {
    pub conn: u64,
    pub start_ts: i64,
    pub last_ts: i64,
    pub ip_version: u8,
    pub orig_h: crate::decode::Addr,
    pub orig_p: u16,
    pub resp_h: crate::decode::Addr,
    pub resp_p: u16,
    pub vlan: Option<u16>,
    pub orig_pkts: u64,
    pub resp_pkts: u64,
    pub orig_bytes: u64,
    pub resp_bytes: u64,
    pub history: String,
    pub end_reason: &'static str,
    /// Zeek's endpoint states and sequence spaces at the end.
    pub seqs: crate::tcp::endpoint::Endpoints,
    /// Whether each direction sent a packet (its sequence columns are null otherwise).
    pub orig_seen: bool,
    pub resp_seen: bool,
    /// IP protocol: 6 (TCP) or 17 (UDP).
    pub proto: u8,
    /// 4-tuples the connection was seen on (1; more for a QUIC flow followed by connection ID: udp/cids.rs),
    /// and whether a later one had other addresses than the first.
    pub paths: u32,
    pub addresses_changed: bool,
}

/// The events of one batch, in the order they happened.
#[derive(Debug, Default)]
pub struct EventBatch {
    pub events: Vec<Event>,
    pub payload: Vec<u8>,
    pub ends: Vec<ConnEnd>,
    /// The TLS parts of the rows of natively analyzed connections (`TlsEnd`, `TlsInterim`).
    pub tls: Vec<TlsRow>,
    /// `TlsEnd` events among `events`: rows that Python need not act on at once when they stay native.
    pub tls_ends: usize,
    /// A natively analyzed connection has had a certificate chain or a stapled OCSP response (since the start;
    /// `clear` keeps it).
    pub certificates_seen: bool,
}

impl EventBatch {
    pub fn clear(&mut self) {
        self.events.clear();
        self.payload.clear();
        self.ends.clear();
        self.tls.clear();
        self.tls_ends = 0;
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Keeps a natively analyzed connection's row part; its index for the event.
    pub fn push_tls(&mut self, row: TlsRow) -> usize {
        self.tls.push(row);
        self.tls.len() - 1
    }

    /// The bytes of a `Data` event.
    pub fn data(&self, start: usize, len: usize) -> &[u8] {
        &self.payload[start..start + len]
    }
}

/// Where a reassembler sends what it produces for one direction of one connection.
pub struct StreamOut<'a> {
    pub batch: &'a mut EventBatch,
    /// The connection's analyzer choice: its events go to Python, or to the native TLS analyzer.
    pub dispatch: &'a mut Dispatch,
    pub conn: u64,
    pub epoch: u32,
    pub is_orig: bool,
}

impl StreamOut<'_> {
    pub fn data(&mut self, bytes: &[u8]) {
        let ev = self.event(EventKind::Data { start: 0, len: 0 });
        self.dispatch.data(self.batch, ev, bytes);
    }

    pub fn gap(&mut self, len: u64) {
        self.push(EventKind::Gap { len });
    }

    pub fn anomaly(&mut self, name: &'static str) {
        self.push(EventKind::Anomaly { name });
    }

    fn event(&self, kind: EventKind) -> Event {
        Event {
            conn: self.conn,
            epoch: self.epoch,
            is_orig: self.is_orig,
            kind,
        }
    }

    fn push(&mut self, kind: EventKind) {
        let ev = self.event(kind);
        self.dispatch.event(self.batch, ev);
    }
}
