//! Which analyzer gets a TCP connection's stream: the native TLS analyzer, or Python's dispatcher.
//!
//! Theory of operation. `tlsmon/dispatch.py` chooses a connection's analyzer from its first bytes. Its first
//! decision is the common one: when the first stream bytes of either direction, on their own, start like TLS
//! (`tls::probe`), the connection is implicit TLS and every later byte goes to a TLS analyzer. The tracker makes
//! that decision itself, at the same byte, when it was given the TLS limits (`TrackerConfig::tls_limits`): such
//! a connection never crosses to Python until its end, when its transport facts and its TLS row part go over
//! together (`EventKind::TlsEnd`). Everything else — plaintext protocols and STARTTLS, PROXY headers and
//! preambles, first bytes too few to decide, a gap or the end before any byte — goes to Python's dispatcher as
//! before: the connection's `Open` event, held back until the decision, is emitted then, followed by the
//! anomalies that came before it, in order.
//!
//! Equality with the Python engine: the analyzer is fed exactly the data and gaps Python's dispatcher would
//! hand its TLS analyzer, and the tracker asks it `finished` at the checkpoint where the Python tracker asks
//! the dispatcher (then bypasses at once, as the Python tracker does).

use crate::tcp::events::{Event, EventBatch, EventKind};
use crate::tls::probe::{looks_like_tls, TLS_PROBE_BYTES};
use crate::tls::summary::Summary;
use crate::tls::{Limits, TlsAnalyzer};

/// A connection whose stream the native TLS analyzer reads, and what its row takes from the stream events.
pub struct NativeTls {
    pub analyzer: TlsAnalyzer,
    /// Bytes never seen, per direction: `[responder, originator]` (indexed by `is_orig`).
    pub missed: [u64; 2],
    pub conn_anomalies: Vec<&'static str>,
    pub orig_anomalies: Vec<&'static str>,
    pub resp_anomalies: Vec<&'static str>,
}

impl NativeTls {
    fn new(limits: Limits) -> Self {
        NativeTls {
            analyzer: TlsAnalyzer::new("t", limits),
            missed: [0, 0],
            conn_anomalies: Vec::new(),
            orig_anomalies: Vec::new(),
            resp_anomalies: Vec::new(),
        }
    }

    /// The row's TLS part now (an interim record: the analyzer goes on).
    pub fn snapshot(&self) -> TlsRow {
        TlsRow {
            summary: self.analyzer.summary.clone(),
            tls_anomalies: self.analyzer.anomalies.clone(),
            transport_anomalies: self.transport_anomalies(),
            missed: self.missed,
        }
    }

    /// The row's TLS part at the connection's end.
    pub fn into_row(mut self) -> TlsRow {
        self.analyzer.end();
        let transport_anomalies = self.transport_anomalies();
        TlsRow {
            summary: std::mem::take(&mut self.analyzer.summary),
            tls_anomalies: std::mem::take(&mut self.analyzer.anomalies),
            transport_anomalies,
            missed: self.missed,
        }
    }

    /// Keeps a reassembly or connection anomaly for the row; false for any other event.
    fn note_anomaly(&mut self, ev: &Event) -> bool {
        match ev.kind {
            EventKind::Anomaly { name } if ev.is_orig => self.orig_anomalies.push(name),
            EventKind::Anomaly { name } => self.resp_anomalies.push(name),
            EventKind::ConnAnomaly { name } => self.conn_anomalies.push(name),
            _ => return false,
        }
        true
    }

    /// The TCP stage's anomalies as the Python engine lists them: the connection's, then each direction's.
    fn transport_anomalies(&self) -> Vec<&'static str> {
        let mut all = self.conn_anomalies.clone();
        all.extend_from_slice(&self.orig_anomalies);
        all.extend_from_slice(&self.resp_anomalies);
        all
    }
}

/// What a natively analyzed connection's row takes from its stream: handed to Python with its transport facts.
#[derive(Debug, Default)]
pub struct TlsRow {
    pub summary: Summary,
    pub tls_anomalies: Vec<&'static str>,
    pub transport_anomalies: Vec<&'static str>,
    pub missed: [u64; 2],
}

pub enum Dispatch {
    /// No stream byte yet: the first decides. `pending`: the events Python gets if the connection goes there.
    Undecided {
        resp_p: u16,
        limits: Limits,
        pending: Vec<Event>,
    },
    /// Python's dispatcher analyzes it (events cross the boundary).
    Python,
    /// The native TLS analyzer does.
    Tls(Box<NativeTls>),
}

impl std::fmt::Debug for Dispatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Dispatch::Undecided { .. } => "Undecided",
            Dispatch::Python => "Python",
            Dispatch::Tls(_) => "Tls",
        })
    }
}

impl Dispatch {
    /// In-order stream bytes of one direction.
    pub fn data(&mut self, batch: &mut EventBatch, ev: Event, bytes: &[u8]) {
        match self {
            Dispatch::Python => push_data(batch, ev, bytes),
            Dispatch::Tls(tls) => {
                tls.analyzer.data(ev.is_orig, bytes);
                note_certificates(batch, &tls.analyzer.summary);
            }
            Dispatch::Undecided { limits, .. } => {
                let limits = *limits;
                let head = &bytes[..bytes.len().min(TLS_PROBE_BYTES)];
                if looks_like_tls(head) == Some(true) {
                    let mut tls = Box::new(NativeTls::new(limits));
                    if let Dispatch::Undecided { pending, .. } = self {
                        for waiting in pending.drain(..) {
                            tls.note_anomaly(&waiting); // only anomalies wait for the decision
                        }
                    }
                    tls.analyzer.data(ev.is_orig, bytes);
                    note_certificates(batch, &tls.analyzer.summary);
                    *self = Dispatch::Tls(tls);
                } else {
                    self.to_python(batch, ev.conn);
                    push_data(batch, ev, bytes);
                }
            }
        }
    }

    /// Any other event of the connection (a gap, an anomaly, its end).
    pub fn event(&mut self, batch: &mut EventBatch, ev: Event) {
        match self {
            Dispatch::Python => batch.events.push(ev),
            Dispatch::Tls(tls) => {
                if let EventKind::Gap { len } = ev.kind {
                    tls.missed[usize::from(ev.is_orig)] += len;
                    tls.analyzer.gap(ev.is_orig, len);
                } else if !tls.note_anomaly(&ev) {
                    batch.events.push(ev); // its end or interim record
                }
            }
            Dispatch::Undecided { pending, .. } => match ev.kind {
                EventKind::Anomaly { .. } | EventKind::ConnAnomaly { .. } => pending.push(ev),
                _ => {
                    self.to_python(batch, ev.conn);
                    batch.events.push(ev);
                }
            },
        }
    }

    /// Python's dispatcher takes the connection: its `Open` event, then what waited for the decision.
    pub fn to_python(&mut self, batch: &mut EventBatch, conn: u64) {
        let Dispatch::Undecided {
            resp_p, pending, ..
        } = self
        else {
            return;
        };
        batch.events.push(open_event(conn, *resp_p));
        batch.events.append(pending);
        *self = Dispatch::Python;
    }

    /// A natively analyzed connection's row part at its end (the analyzer is done with); None otherwise.
    pub fn take_row(&mut self) -> Option<TlsRow> {
        if !matches!(self, Dispatch::Tls(_)) {
            return None;
        }
        match std::mem::replace(self, Dispatch::Python) {
            Dispatch::Tls(tls) => Some(tls.into_row()),
            _ => None,
        }
    }

    /// A natively analyzed connection's row part so far (an interim record); None otherwise.
    pub fn snapshot_row(&self) -> Option<TlsRow> {
        match self {
            Dispatch::Tls(tls) => Some(tls.snapshot()),
            _ => None,
        }
    }

    pub fn is_finished_tls(&self) -> bool {
        matches!(self, Dispatch::Tls(tls) if tls.analyzer.finished)
    }
}

/// A connection's `Open` event (Python makes its dispatcher, which wants the responder's port).
/// Python makes a row's certificate columns with cryptography; it starts loading it once the first natively
/// analyzed connection has something for them (`EventBatch::certificates_seen`).
fn note_certificates(batch: &mut EventBatch, s: &crate::tls::summary::Summary) {
    if !batch.certificates_seen
        && (!s.cert_chain.is_empty()
            || !s.client_cert_chain.is_empty()
            || s.ocsp_response.is_some())
    {
        batch.certificates_seen = true;
    }
}

pub fn open_event(conn: u64, resp_p: u16) -> Event {
    Event {
        conn,
        epoch: 0,
        is_orig: true,
        kind: EventKind::Open { resp_p },
    }
}

fn push_data(batch: &mut EventBatch, ev: Event, bytes: &[u8]) {
    let start = batch.payload.len();
    batch.payload.extend_from_slice(bytes);
    batch.events.push(Event {
        kind: EventKind::Data {
            start,
            len: bytes.len(),
        },
        ..ev
    });
}

#[cfg(test)]
mod tests {
    use crate::decode::{Addr, Segment};
    use crate::tcp::connection::{ACK, FIN, SYN};
    use crate::tcp::events::EventKind;
    use crate::tcp::tracker::{Tracker, TrackerConfig};
    use crate::tls::testdata::{HANDSHAKE_FAILURE, TLS13_BASIC};
    use crate::tls::Limits;

    const CLIENT: Addr = Addr::V4(0x0a00_0001);
    const SERVER: Addr = Addr::V4(0x0a00_0002);

    fn unhex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
            .collect()
    }

    /// A TCP connection on loopback-like addresses: handshake, then `chunks` in turn, each acknowledging the
    /// peer's bytes so far, then FINs.
    struct Wire {
        tracker: Tracker,
        ts: i64,
        seq: [u32; 2], // next sequence number of [server, client]
    }

    impl Wire {
        fn new(native_tls: bool) -> Self {
            let config = TrackerConfig {
                tls_limits: native_tls.then(Limits::default),
                ..TrackerConfig::default()
            };
            let mut wire = Wire {
                tracker: Tracker::new(config),
                ts: 1_000,
                seq: [5_000, 1_000],
            };
            wire.send(true, SYN, &[]);
            wire.send(false, SYN | ACK, &[]);
            wire.send(true, ACK, &[]);
            wire
        }

        fn send(&mut self, from_client: bool, flags: u8, payload: &[u8]) {
            let (src, sport, dst, dport) = if from_client {
                (CLIENT, 40_000, SERVER, 443)
            } else {
                (SERVER, 443, CLIENT, 40_000)
            };
            let me = usize::from(from_client);
            let seg = Segment {
                ip_version: 4,
                src,
                dst,
                sport,
                dport,
                flags,
                seq: self.seq[me],
                ack: if flags & SYN != 0 && flags & ACK == 0 {
                    0
                } else {
                    self.seq[1 - me]
                },
                payload,
                vlan: None,
                udp: false,
            };
            self.ts += 1_000;
            self.tracker.frame(self.ts);
            self.tracker.segment(self.ts, &seg);
            let used = payload.len() as u32 + u32::from(flags & (SYN | FIN) != 0);
            self.seq[me] = self.seq[me].wrapping_add(used);
        }

        fn chunks(&mut self, chunks: &[(bool, &str)]) {
            for &(from_client, hex) in chunks {
                self.send(from_client, ACK, &unhex(hex));
            }
        }

        fn kinds(&self) -> Vec<&'static str> {
            self.tracker
                .out
                .events
                .iter()
                .map(|e| match e.kind {
                    EventKind::Open { .. } => "open",
                    EventKind::Data { .. } => "data",
                    EventKind::Gap { .. } => "gap",
                    EventKind::Anomaly { .. } => "anomaly",
                    EventKind::ConnAnomaly { .. } => "conn-anomaly",
                    EventKind::End { .. } => "end",
                    EventKind::Interim { .. } => "interim",
                    EventKind::TlsEnd { .. } => "tls-end",
                    EventKind::TlsInterim { .. } => "tls-interim",
                    EventKind::OpenUdp { .. } | EventKind::Datagram { .. } => "udp",
                })
                .collect()
        }
    }

    #[test]
    fn a_connection_tls_from_its_first_byte_crosses_once_at_its_end() {
        let mut wire = Wire::new(true);
        wire.chunks(TLS13_BASIC);
        wire.tracker.finish("eof");
        assert_eq!(wire.kinds(), ["tls-end"]);
        let row = &wire.tracker.out.tls[0];
        assert_eq!(row.summary.server_name.as_deref(), Some("example.test"));
        assert_eq!(row.summary.version.as_deref(), Some("TLSv13"));
        assert_eq!(row.missed, [0, 0]);
    }

    #[test]
    fn without_tls_limits_every_stream_goes_to_python() {
        let mut wire = Wire::new(false);
        wire.chunks(&TLS13_BASIC[..1]);
        wire.tracker.finish("eof");
        assert_eq!(wire.kinds(), ["open", "data", "end"]);
    }

    #[test]
    fn a_plaintext_first_byte_hands_the_connection_to_python_at_that_byte() {
        let mut wire = Wire::new(true);
        assert_eq!(
            wire.kinds(),
            Vec::<&str>::new(),
            "nothing crosses before the first byte"
        );
        wire.send(false, ACK, b"220 mail.example.test ESMTP\r\n");
        wire.tracker.finish("eof");
        assert_eq!(wire.kinds(), ["open", "data", "end"]);
        assert_eq!(
            wire.tracker.out.events[0].kind,
            EventKind::Open { resp_p: 443 }
        );
    }

    #[test]
    fn a_connection_without_a_stream_byte_ends_in_python() {
        let mut wire = Wire::new(true);
        wire.tracker.finish("eof");
        assert_eq!(wire.kinds(), ["open", "end"]);
    }

    #[test]
    fn an_established_connection_is_bypassed_at_the_checkpoint() {
        let mut wire = Wire::new(true);
        wire.chunks(TLS13_BASIC); // encrypted records both ways: nothing more can change the row
        let bypassed = wire.tracker.stats.bypassed_packets;
        wire.send(true, ACK, b"late bytes are only counted");
        assert_eq!(wire.tracker.stats.bypassed_packets, bypassed + 1);
        wire.tracker.finish("eof");
        assert!(wire.tracker.out.tls[0].summary.established);
    }

    #[test]
    fn a_connection_still_in_its_handshake_is_not_bypassed() {
        let mut wire = Wire::new(true);
        wire.chunks(HANDSHAKE_FAILURE); // a fatal protocol_version alert: the stream may still say more
        wire.send(true, ACK, b"more bytes are read");
        assert_eq!(wire.tracker.stats.bypassed_packets, 0);
        wire.tracker.finish("eof");
        let row = &wire.tracker.out.tls[0];
        assert_eq!(row.summary.last_alert.as_deref(), Some("protocol_version"));
    }
}
