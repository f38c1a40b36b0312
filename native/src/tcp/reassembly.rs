//! Per-direction TCP stream reassembly: segments in any order → in-order bytes and explicit gaps.
//!
//! The same policy as `tlsmon/tcp/reassembly.py` (its docstring and docs/tcp-reassembly.md are the
//! specification): bytes live on a relative offset axis starting at the stream's first byte; the first copy
//! of a byte wins; holes become gaps only when an ACK passes them, when the out-of-order cap is exceeded, or
//! when the connection ends; a FIN fixes the end of the stream. Held out-of-order chunks are kept in a
//! `BTreeMap` keyed by offset, so an insertion costs O(log n) whatever the arrival order.

use std::collections::BTreeMap;

use crate::tcp::events::StreamOut;

const SEQ_MOD: i64 = 1 << 32;
/// Memory accounted for each held chunk beyond its bytes (tlsmon/tcp/reassembly.py's CHUNK_OVERHEAD): about
/// what a chunk costs here (a BTreeMap entry, a Vec header, the allocator's minimum).
pub const CHUNK_OVERHEAD: usize = 64;
const SEQ_HALF: u32 = 1 << 31;

/// Reassembly anomalies (Python's `TcpAnomaly`), with the row names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum TcpAnomaly {
    OverlapMismatch = 0,
    BufferOverflow = 1,
    DataAfterFin = 2,
    FinSeqChanged = 3,
    TruncatedPayload = 4,
    IsnChanged = 5,
}

impl TcpAnomaly {
    pub fn name(self) -> &'static str {
        match self {
            TcpAnomaly::OverlapMismatch => "tcp.overlap_mismatch",
            TcpAnomaly::BufferOverflow => "tcp.buffer_overflow",
            TcpAnomaly::DataAfterFin => "tcp.data_after_fin",
            TcpAnomaly::FinSeqChanged => "tcp.fin_seq_changed",
            TcpAnomaly::TruncatedPayload => "tcp.truncated_payload",
            TcpAnomaly::IsnChanged => "tcp.isn_changed",
        }
    }
}

/// One direction of one TCP connection.
#[derive(Debug)]
pub struct Reassembler {
    max_buffered: usize,
    pub missed_bytes: u64,
    pub buffered_bytes: usize,
    /// Sequence number of offset 0; None until the stream starts.
    base_seq: Option<u32>,
    /// Sequence number of offset `next`.
    next_seq: u32,
    /// First offset not yet delivered nor declared a gap.
    next: i64,
    /// `Some(next_seq)` while the in-order fast path is allowed.
    fast_seq: Option<u32>,
    held: BTreeMap<i64, Vec<u8>>,
    /// The chunk delivered last, ending at `next`: retransmissions are compared with it.
    last: Vec<u8>,
    fin_end: Option<i64>,
    stopped: bool,
    /// Anomalies already reported (bit per `TcpAnomaly`): the row lists each name once per direction.
    reported: u8,
    /// A later SYN's stream start, adopted if the peer's next ACK confirms it (`syn`).
    pending_base: Option<u32>,
}

impl Reassembler {
    pub fn new(max_buffered: usize) -> Self {
        Reassembler {
            max_buffered,
            missed_bytes: 0,
            buffered_bytes: 0,
            base_seq: None,
            next_seq: 0,
            next: 0,
            fast_seq: None,
            held: BTreeMap::new(),
            last: Vec::new(),
            fin_end: None,
            stopped: false,
            reported: 0,
            pending_base: None,
        }
    }

    /// A SYN with ISN `seq`: the stream starts at `seq + 1`. A later SYN with another ISN, before any byte of
    /// the stream arrived, is held as a candidate: the peer's next ACK says which one the stream follows (a
    /// SYN-ACK resent with a new ISN, or a spurious one).
    pub fn syn(&mut self, seq: u32, out: &mut StreamOut) {
        let first = seq.wrapping_add(1);
        match self.base_seq {
            None => self.start(first),
            Some(base) if base != first => {
                self.count(TcpAnomaly::IsnChanged, out);
                if self.next == 0 && self.held.is_empty() && self.fin_end.is_none() {
                    self.pending_base = Some(first);
                }
            }
            Some(_) => {}
        }
    }

    /// A segment carrying `payload`, with the FIN flag as given.
    pub fn segment(&mut self, seq: u32, payload: &[u8], fin: bool, out: &mut StreamOut) {
        if self.fast_seq == Some(seq) && !payload.is_empty() && !fin {
            self.last.clear();
            self.last.extend_from_slice(payload);
            self.next_seq = seq.wrapping_add(payload.len() as u32);
            self.fast_seq = Some(self.next_seq);
            self.next += payload.len() as i64;
            out.data(payload);
            return;
        }
        self.segment_slow(seq, payload, fin, out);
    }

    /// The peer acknowledged every byte before `seq`: bytes below it never seen become a gap now.
    pub fn ack(&mut self, seq: u32, out: &mut StreamOut) {
        if let Some(pending) = self.pending_base {
            if seq == pending {
                self.pending_base = None;
                self.start(pending);
                return;
            }
            if Some(seq) == self.base_seq {
                self.pending_base = None;
            }
        }
        if self.stopped || self.base_seq.is_none() || seq == self.next_seq {
            return;
        }
        let distance = seq.wrapping_sub(self.next_seq);
        if distance >= SEQ_HALF {
            return;
        }
        let mut upto = self.next + i64::from(distance);
        if let Some(fin_end) = self.fin_end {
            upto = upto.min(fin_end);
        }
        self.gap_until(upto, out);
        self.sync_fast();
    }

    /// The connection is over: deliver everything held, declaring the holes before it gaps.
    pub fn flush(&mut self, out: &mut StreamOut) {
        if self.stopped {
            return;
        }
        while let Some(first) = self.first_held() {
            self.skip(first - self.next, out);
            self.drain(out);
        }
        if let Some(fin_end) = self.fin_end {
            if self.next < fin_end {
                self.skip(fin_end - self.next, out);
            }
        }
        self.sync_fast();
    }

    /// The consumer wants no more bytes: drop the buffer; later segments cost one comparison.
    pub fn stop(&mut self) {
        self.stopped = true;
        self.fast_seq = None;
        self.held.clear();
        self.last = Vec::new();
        self.buffered_bytes = 0;
    }

    /// The held bytes as the caps count them: bytes plus `CHUNK_OVERHEAD` per held chunk.
    pub fn held_memory(&self) -> usize {
        self.buffered_bytes + CHUNK_OVERHEAD * self.held.len()
    }

    fn segment_slow(&mut self, seq: u32, payload: &[u8], fin: bool, out: &mut StreamOut) {
        let length = payload.len() as i64;
        if self.stopped || (length == 0 && !fin) {
            return;
        }
        if self.base_seq.is_none() {
            self.start(seq);
        }
        let mut distance = i64::from(seq.wrapping_sub(self.next_seq));
        if distance >= i64::from(SEQ_HALF) {
            distance -= SEQ_MOD;
        }
        if distance == -1 && length <= 1 && !fin {
            return; // keep-alive: one old byte (or none) at next - 1, often garbage
        }
        let start = self.next + distance;
        let mut end = start + length;
        if fin {
            self.note_fin(end, out);
        }
        if let Some(fin_end) = self.fin_end {
            if end > fin_end && end > start {
                self.count(TcpAnomaly::DataAfterFin, out);
                end = fin_end;
            }
        }
        // The decoder hands over the captured payload only, so a snaplen cut cannot show here; Python's
        // check for it has nothing to compare against and is not repeated.
        if start < self.next {
            self.check_delivered(start, end, payload, out);
        }
        if end > self.next {
            let lo = start.max(self.next);
            // A FIN before the segment's start leaves nothing of it (end < lo): Python's slice is then empty.
            if end > lo {
                self.insert(
                    lo,
                    &payload[(lo - start) as usize..(end - start) as usize],
                    out,
                );
            }
            self.drain(out);
            self.enforce_cap(out);
        }
        self.sync_fast();
    }

    fn start(&mut self, seq: u32) {
        self.base_seq = Some(seq);
        self.next_seq = seq;
        self.sync_fast();
    }

    fn note_fin(&mut self, end: i64, out: &mut StreamOut) {
        match self.fin_end {
            None => {
                let mut end = end;
                if end < self.next {
                    self.count(TcpAnomaly::DataAfterFin, out); // bytes past it were delivered already
                    end = self.next;
                }
                self.fin_end = Some(end);
                self.trim_after_fin(end, out);
            }
            Some(fin_end) if fin_end != end => self.count(TcpAnomaly::FinSeqChanged, out),
            Some(_) => {}
        }
    }

    fn trim_after_fin(&mut self, fin_end: i64, out: &mut StreamOut) {
        while let Some((&chunk_start, chunk)) = self.held.last_key_value() {
            if chunk_start + chunk.len() as i64 <= fin_end {
                break;
            }
            self.count(TcpAnomaly::DataAfterFin, out);
            let mut chunk = self.held.remove(&chunk_start).unwrap_or_default();
            let keep = (fin_end - chunk_start).max(0) as usize;
            self.buffered_bytes -= chunk.len() - keep;
            if keep > 0 {
                chunk.truncate(keep);
                self.held.insert(chunk_start, chunk);
                break;
            }
        }
    }

    /// Compare the part of [start, end) that the last delivered chunk covers; `payload[0]` is at `start`.
    fn check_delivered(&mut self, start: i64, end: i64, payload: &[u8], out: &mut StreamOut) {
        let last_start = self.next - self.last.len() as i64;
        let lo = start.max(last_start);
        let hi = end.min(self.next);
        if lo < hi {
            let held = &self.last[(lo - last_start) as usize..(hi - last_start) as usize];
            let seen = &payload[(lo - start) as usize..(hi - start) as usize];
            if held != seen {
                self.count(TcpAnomaly::OverlapMismatch, out);
            }
        }
    }

    /// Hold `data` (offsets start..; start >= next) where no byte is held yet: the first copy wins.
    fn insert(&mut self, start: i64, data: &[u8], out: &mut StreamOut) {
        let end = start + data.len() as i64;
        let mut pos = start;
        let mut mismatch = false;
        while pos < end {
            let covering = self
                .held
                .range(..=pos)
                .next_back()
                .filter(|(&s, c)| s + c.len() as i64 > pos)
                .map(|(&s, c)| (s, c.len() as i64));
            if let Some((held_start, held_len)) = covering {
                let upto = (held_start + held_len).min(end);
                let held = &self.held[&held_start]
                    [(pos - held_start) as usize..(upto - held_start) as usize];
                if held != &data[(pos - start) as usize..(upto - start) as usize] {
                    mismatch = true;
                }
                pos = upto;
            } else {
                let upto = self
                    .held
                    .range(pos..)
                    .next()
                    .map_or(end, |(&s, _)| s.min(end));
                self.held.insert(
                    pos,
                    data[(pos - start) as usize..(upto - start) as usize].to_vec(),
                );
                self.buffered_bytes += (upto - pos) as usize;
                pos = upto;
            }
        }
        if mismatch {
            self.count(TcpAnomaly::OverlapMismatch, out);
        }
    }

    /// Deliver the held run that starts at `next`, as one data event.
    fn drain(&mut self, out: &mut StreamOut) {
        if self.first_held() != Some(self.next) {
            return;
        }
        let mut run = Vec::new();
        let mut run_end = self.next;
        while let Some(entry) = self.held.first_entry() {
            if *entry.key() != run_end {
                break;
            }
            let chunk = entry.remove();
            run_end += chunk.len() as i64;
            if run.is_empty() {
                run = chunk;
            } else {
                run.extend_from_slice(&chunk);
            }
        }
        self.buffered_bytes -= run.len();
        self.advance(run.len() as i64);
        out.data(&run);
        self.last = run;
    }

    fn enforce_cap(&mut self, out: &mut StreamOut) {
        if self.held_memory() <= self.max_buffered {
            return;
        }
        self.count(TcpAnomaly::BufferOverflow, out);
        while self.held_memory() > self.max_buffered {
            let Some(first) = self.first_held() else {
                break;
            };
            self.skip(first - self.next, out);
            self.drain(out);
        }
    }

    /// Declare every hole below `upto` a gap, delivering the held bytes between them.
    fn gap_until(&mut self, upto: i64, out: &mut StreamOut) {
        while self.next < upto {
            let hole_end = self.first_held().map_or(upto, |s| s.min(upto));
            self.skip(hole_end - self.next, out);
            self.drain(out);
        }
    }

    /// Declare the next `length` bytes a gap (none of them is held).
    fn skip(&mut self, length: i64, out: &mut StreamOut) {
        self.advance(length);
        self.last.clear();
        self.missed_bytes += length as u64;
        out.gap(length as u64);
    }

    fn advance(&mut self, length: i64) {
        self.next += length;
        self.next_seq = self.next_seq.wrapping_add(length as u32);
    }

    fn sync_fast(&mut self) {
        let fast = !(self.stopped
            || !self.held.is_empty()
            || self.fin_end.is_some()
            || self.base_seq.is_none());
        self.fast_seq = if fast { Some(self.next_seq) } else { None };
    }

    fn first_held(&self) -> Option<i64> {
        self.held.keys().next().copied()
    }

    fn count(&mut self, anomaly: TcpAnomaly, out: &mut StreamOut) {
        let bit = 1u8 << (anomaly as u8);
        if self.reported & bit == 0 {
            self.reported |= bit;
            out.anomaly(anomaly.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Reassembler, TcpAnomaly};
    use crate::dispatch::Dispatch;
    use crate::tcp::events::{EventBatch, EventKind, StreamOut};

    /// What the consumer heard, as readable items: bytes, gaps and anomaly names.
    #[derive(Debug, PartialEq, Eq)]
    enum Heard {
        Data(Vec<u8>),
        Gap(u64),
        Anomaly(&'static str),
    }

    fn heard(batch: &EventBatch) -> Vec<Heard> {
        batch
            .events
            .iter()
            .map(|e| match e.kind {
                EventKind::Data { start, len } => Heard::Data(batch.data(start, len).to_vec()),
                EventKind::Gap { len } => Heard::Gap(len),
                EventKind::Anomaly { name } => Heard::Anomaly(name),
                other => panic!("unexpected event {other:?}"),
            })
            .collect()
    }

    fn out(batch: &mut EventBatch) -> StreamOut<'_> {
        StreamOut {
            batch,
            // a few bytes per call, in tests only: the events go to the batch as they do for Python's dispatcher
            dispatch: Box::leak(Box::new(Dispatch::Python)),
            conn: 0,
            epoch: 0,
            is_orig: true,
        }
    }

    fn data(bytes: &[u8]) -> Heard {
        Heard::Data(bytes.to_vec())
    }

    #[test]
    fn in_order_segments_are_delivered_as_they_come() {
        let mut b = EventBatch::default();
        let mut r = Reassembler::new(1024);
        r.syn(999, &mut out(&mut b));
        r.segment(1000, b"abc", false, &mut out(&mut b));
        r.segment(1003, b"de", false, &mut out(&mut b));
        assert_eq!(heard(&b), vec![data(b"abc"), data(b"de")]);
    }

    #[test]
    fn a_segment_ahead_is_held_until_the_hole_fills_then_delivered_as_one_run() {
        let mut b = EventBatch::default();
        let mut r = Reassembler::new(1024);
        r.syn(999, &mut out(&mut b));
        r.segment(1003, b"de", false, &mut out(&mut b));
        assert_eq!(r.buffered_bytes, 2);
        r.segment(1000, b"abc", false, &mut out(&mut b));
        assert_eq!(heard(&b), vec![data(b"abcde")]);
        assert_eq!(r.buffered_bytes, 0);
    }

    #[test]
    fn a_later_syn_confirmed_by_the_peer_restarts_the_stream_at_its_isn() {
        let mut b = EventBatch::default();
        let mut r = Reassembler::new(1024);
        r.syn(999, &mut out(&mut b));
        r.syn(4999, &mut out(&mut b));
        r.ack(5000, &mut out(&mut b));
        r.segment(5000, b"abc", false, &mut out(&mut b));
        assert_eq!(
            heard(&b),
            vec![Heard::Anomaly("tcp.isn_changed"), data(b"abc")]
        );
    }

    #[test]
    fn a_later_syn_the_peer_does_not_confirm_is_ignored() {
        let mut b = EventBatch::default();
        let mut r = Reassembler::new(1024);
        r.syn(999, &mut out(&mut b));
        r.syn(4999, &mut out(&mut b));
        r.ack(1000, &mut out(&mut b));
        r.segment(1000, b"abc", false, &mut out(&mut b));
        assert_eq!(
            heard(&b),
            vec![Heard::Anomaly("tcp.isn_changed"), data(b"abc")]
        );
    }

    #[test]
    fn sequence_numbers_wrap_at_two_to_the_32() {
        let mut b = EventBatch::default();
        let mut r = Reassembler::new(1024);
        r.syn(u32::MAX - 1, &mut out(&mut b));
        r.segment(u32::MAX, b"ab", false, &mut out(&mut b));
        r.segment(1, b"cd", false, &mut out(&mut b));
        assert_eq!(heard(&b), vec![data(b"ab"), data(b"cd")]);
    }

    #[test]
    fn an_ack_beyond_a_hole_declares_the_hole_a_gap() {
        let mut b = EventBatch::default();
        let mut r = Reassembler::new(1024);
        r.syn(999, &mut out(&mut b));
        r.segment(1005, b"xyz", false, &mut out(&mut b));
        r.ack(1008, &mut out(&mut b));
        assert_eq!(heard(&b), vec![Heard::Gap(5), data(b"xyz")]);
        assert_eq!(r.missed_bytes, 5);
    }

    #[test]
    fn the_first_copy_of_a_byte_wins_and_a_different_copy_is_an_anomaly_named_once() {
        let mut b = EventBatch::default();
        let mut r = Reassembler::new(1024);
        r.syn(999, &mut out(&mut b));
        r.segment(1002, b"CD", false, &mut out(&mut b));
        r.segment(1002, b"XY", false, &mut out(&mut b));
        r.segment(1002, b"QQ", false, &mut out(&mut b));
        r.segment(1000, b"ab", false, &mut out(&mut b));
        assert_eq!(
            heard(&b),
            vec![Heard::Anomaly("tcp.overlap_mismatch"), data(b"abCD")]
        );
    }

    #[test]
    fn a_retransmission_that_differs_from_delivered_bytes_is_an_anomaly() {
        let mut b = EventBatch::default();
        let mut r = Reassembler::new(1024);
        r.syn(999, &mut out(&mut b));
        r.segment(1000, b"abcd", false, &mut out(&mut b));
        r.segment(1000, b"abXd", false, &mut out(&mut b));
        assert_eq!(
            heard(&b),
            vec![
                data(b"abcd"),
                Heard::Anomaly(TcpAnomaly::OverlapMismatch.name())
            ]
        );
    }

    #[test]
    fn bytes_past_the_fin_are_dropped_and_named() {
        let mut b = EventBatch::default();
        let mut r = Reassembler::new(1024);
        r.syn(999, &mut out(&mut b));
        r.segment(1000, b"ab", true, &mut out(&mut b));
        r.segment(1002, b"zz", false, &mut out(&mut b));
        assert_eq!(
            heard(&b),
            vec![data(b"ab"), Heard::Anomaly("tcp.data_after_fin")]
        );
    }

    #[test]
    fn over_the_cap_holes_become_gaps_until_the_held_bytes_fit() {
        let mut b = EventBatch::default();
        let mut r = Reassembler::new(4 + 2 * super::CHUNK_OVERHEAD);
        r.syn(999, &mut out(&mut b));
        r.segment(1002, b"cd", false, &mut out(&mut b));
        r.segment(1006, b"ghi", false, &mut out(&mut b));
        assert_eq!(
            heard(&b),
            vec![
                Heard::Anomaly("tcp.buffer_overflow"),
                Heard::Gap(2),
                data(b"cd")
            ]
        );
        assert_eq!(r.buffered_bytes, 3);
    }

    #[test]
    fn flush_declares_every_remaining_hole_and_the_hole_before_the_fin() {
        let mut b = EventBatch::default();
        let mut r = Reassembler::new(1024);
        r.syn(999, &mut out(&mut b));
        r.segment(1001, b"b", false, &mut out(&mut b));
        r.segment(1004, b"", true, &mut out(&mut b));
        r.flush(&mut out(&mut b));
        assert_eq!(heard(&b), vec![Heard::Gap(1), data(b"b"), Heard::Gap(2)]);
    }

    #[test]
    fn one_byte_segments_in_reverse_order_are_reassembled() {
        let mut b = EventBatch::default();
        let mut r = Reassembler::new(1 << 30);
        r.syn(0, &mut out(&mut b));
        let n: u32 = 50_000;
        for i in (0..n).rev() {
            r.segment(1 + i, &[(i % 251) as u8], false, &mut out(&mut b));
        }
        let expected: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
        assert_eq!(heard(&b), vec![Heard::Data(expected)]);
    }

    #[test]
    fn a_segment_starting_past_the_fin_leaves_nothing_held() {
        let mut b = EventBatch::default();
        let mut r = Reassembler::new(1024);
        r.syn(999, &mut out(&mut b));
        r.segment(1000, b"", true, &mut out(&mut b)); // FIN at offset 0: the stream is empty
        r.segment(1004, b"late", false, &mut out(&mut b));
        assert_eq!(heard(&b), vec![Heard::Anomaly("tcp.data_after_fin")]);
        assert_eq!(r.buffered_bytes, 0);
    }

    #[test]
    fn a_stopped_reassembler_ignores_everything() {
        let mut b = EventBatch::default();
        let mut r = Reassembler::new(1024);
        r.syn(999, &mut out(&mut b));
        r.segment(1002, b"cd", false, &mut out(&mut b));
        r.stop();
        r.segment(1000, b"ab", false, &mut out(&mut b));
        r.flush(&mut out(&mut b));
        assert_eq!(heard(&b), vec![]);
        assert_eq!(r.buffered_bytes, 0);
    }
}
