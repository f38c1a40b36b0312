//! IP fragment reassembly for IPv4 (RFC 791) and IPv6 (RFC 8200 §4.5), as `tlsmon/decode/fragments.py`.
//!
//! Theory of operation. Fragments are grouped by a [`FragKey`]: (src, dst, protocol, id) for IPv4, (src,
//! dst, id) for IPv6. Each partial datagram keeps sorted, non-overlapping pieces; a new fragment only fills
//! the holes between pieces already held (the first copy of a byte wins, any overlap is counted). The
//! fragment without "more fragments" fixes the datagram's length; the datagram is complete when its pieces
//! cover it, and [`FragmentTable::add`] then hands back its pieces for the caller to join.
//!
//! Python keeps partials in an insertion-ordered dict, so the oldest is always first. Here a hash map holds
//! the partials and a queue holds (sequence number, key) in insertion order; a queue entry whose sequence
//! number is not the live partial's is stale (that partial completed or was dropped, maybe re-created) and
//! is skipped. The queue is compacted when stale entries outnumber live ones, so it stays proportional to
//! the partials held. Each call first expires partials whose first fragment is older than the timeout, and
//! when held bytes exceed the memory cap the oldest are evicted; both are counted, never raised. The cap
//! counts payload plus [`DATAGRAM_COST`] per datagram and [`PIECE_COST`] per piece, the charges Python
//! makes, so both evict alike and a flood of tiny fragments is bounded.
//!
//! An IPv6 datagram's upper-layer protocol is the one its first byte came with: the first fragment at
//! offset 0 that carries data names it.

// std's HashMap (SipHash keyed per map), not hashbrown's foldhash: whoever sends the packets chooses the
// keys, and foldhash does not claim HashDoS resistance; lookups happen only for fragments.
use std::collections::{HashMap, VecDeque};

use super::counters::{Counter, Counters};
use super::numbers::MAX_IP_DATAGRAM;
use super::Addr;

/// Bytes charged against the memory cap per partial datagram, besides its payload (as Python's).
pub const DATAGRAM_COST: usize = 320;
/// Bytes charged per piece held, besides its payload (as Python's).
pub const PIECE_COST: usize = 112;

/// Which datagram a fragment belongs to; `proto` is [`FragKey::V6_PROTO`] for IPv6 (its key has none).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FragKey {
    pub src: Addr,
    pub dst: Addr,
    pub ident: u32,
    pub proto: u16,
}

impl FragKey {
    pub const V6_PROTO: u16 = 0x100;
}

/// One fragment as its IP header describes it.
#[derive(Clone, Copy, Debug)]
pub struct Fragment<'d> {
    /// Where `data` starts in the datagram's payload.
    pub offset: usize,
    pub data: &'d [u8],
    /// The "more fragments" flag.
    pub more: bool,
    /// The upper-layer protocol as this fragment states it; only an offset-0 fragment's claim is kept.
    pub proto: u8,
}

/// One run of payload bytes `[start, start + data.len())`.
#[derive(Debug)]
pub struct Piece {
    pub start: usize,
    pub data: Vec<u8>,
}

impl Piece {
    fn end(&self) -> usize {
        self.start + self.data.len()
    }
}

/// A completed datagram: its pieces in order (they tile `[0, total)`) and the upper-layer protocol.
#[derive(Debug)]
pub struct Completed {
    pub pieces: Vec<Piece>,
    pub proto: i32,
}

impl Completed {
    /// The payload joined into `out` (cleared first, its allocation reused).
    pub fn join_into(&self, out: &mut Vec<u8>) {
        out.clear();
        for piece in &self.pieces {
            out.extend_from_slice(&piece.data);
        }
    }
}

#[derive(Debug)]
struct Partial {
    seq: u64,
    first_ts: i64,
    pieces: Vec<Piece>,
    held: usize,
    total: Option<usize>,
    /// Upper-layer protocol from the offset-0 fragment, -1 until it is seen (as Python).
    proto: i32,
}

impl Partial {
    /// What this partial is charged against the memory cap.
    fn cost(&self) -> usize {
        DATAGRAM_COST + self.pieces.len() * PIECE_COST + self.held
    }
}

/// Partial datagrams by key, oldest first.
#[derive(Debug)]
pub struct FragmentTable {
    timeout_ns: i64,
    max_bytes: usize,
    held_bytes: usize,
    partials: HashMap<FragKey, Partial>,
    order: VecDeque<(u64, FragKey)>,
    next_seq: u64,
}

impl FragmentTable {
    pub fn new(timeout_ns: i64, max_bytes: usize) -> Self {
        FragmentTable {
            timeout_ns,
            max_bytes,
            held_bytes: 0,
            partials: HashMap::new(),
            order: VecDeque::new(),
            next_seq: 0,
        }
    }

    /// Datagrams with fragments held.
    pub fn len(&self) -> usize {
        self.partials.len()
    }

    pub fn is_empty(&self) -> bool {
        self.partials.is_empty()
    }

    /// Payload bytes held plus the per-datagram and per-piece charges: what the memory cap limits.
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Add one fragment; its datagram when this completes it.
    pub fn add(
        &mut self,
        counters: &mut Counters,
        ts_ns: i64,
        key: FragKey,
        fragment: &Fragment<'_>,
    ) -> Option<Completed> {
        let &Fragment {
            offset,
            data,
            more,
            proto,
        } = fragment;
        self.expire(counters, ts_ns);
        let end = offset + data.len();
        if end > MAX_IP_DATAGRAM {
            counters.bump(Counter::FragmentTooLarge);
            self.drop_key(&key);
            return None;
        }
        if !self.partials.contains_key(&key) {
            let seq = self.next_seq;
            self.next_seq += 1;
            self.order.push_back((seq, key));
            let partial = Partial {
                seq,
                first_ts: ts_ns,
                pieces: Vec::new(),
                held: 0,
                total: None,
                proto: -1,
            };
            self.partials.insert(key, partial);
            self.held_bytes += DATAGRAM_COST;
        }
        let partial = self.partials.get_mut(&key).expect("inserted above");
        if !fits_length(partial, end, more) {
            counters.bump(Counter::FragmentInconsistent);
            return None;
        }
        if offset == 0 && !data.is_empty() && partial.pieces.first().is_none_or(|p| p.start != 0) {
            partial.proto = i32::from(proto); // this fragment brings the datagram's first byte
        }
        let pieces_before = partial.pieces.len();
        let added = fill(counters, partial, offset, end, data);
        partial.held += added;
        self.held_bytes += added + (partial.pieces.len() - pieces_before) * PIECE_COST;
        if partial.total == Some(partial.held) {
            let partial = self.partials.remove(&key).expect("present");
            self.held_bytes -= partial.cost();
            self.compact();
            counters.bump(Counter::FragmentReassembled);
            return Some(Completed {
                pieces: partial.pieces,
                proto: partial.proto,
            });
        }
        if self.held_bytes > self.max_bytes {
            self.evict(counters, key);
        }
        None
    }

    /// Drop the partial datagrams whose first fragment is older than the timeout.
    pub fn expire(&mut self, counters: &mut Counters, now_ns: i64) {
        let deadline = i128::from(now_ns) - i128::from(self.timeout_ns);
        while let Some(key) = self.oldest() {
            if i128::from(self.partials[&key].first_ts) > deadline {
                return;
            }
            self.drop_key(&key);
            counters.bump(Counter::FragmentsExpired);
        }
    }

    /// Drop the oldest partial datagrams until the held bytes fit the cap again, stopping after `keep`.
    fn evict(&mut self, counters: &mut Counters, keep: FragKey) {
        while self.held_bytes > self.max_bytes {
            let Some(key) = self.oldest() else { return };
            self.drop_key(&key);
            counters.bump(Counter::FragmentsEvicted);
            if key == keep {
                return;
            }
        }
    }

    /// The key of the oldest live partial, popping stale queue entries on the way.
    fn oldest(&mut self) -> Option<FragKey> {
        while let Some(&(seq, key)) = self.order.front() {
            match self.partials.get(&key) {
                Some(partial) if partial.seq == seq => return Some(key),
                _ => {
                    self.order.pop_front();
                }
            }
        }
        None
    }

    fn drop_key(&mut self, key: &FragKey) {
        if let Some(partial) = self.partials.remove(key) {
            self.held_bytes -= partial.cost();
            self.compact();
        }
    }

    fn compact(&mut self) {
        if self.order.len() > 2 * self.partials.len() + 64 {
            let partials = &self.partials;
            self.order
                .retain(|(seq, key)| partials.get(key).is_some_and(|p| p.seq == *seq));
        }
    }
}

/// Check the fragment against the datagram length; a last fragment sets it.
fn fits_length(partial: &mut Partial, end: usize, more: bool) -> bool {
    if more {
        return partial.total.is_none_or(|total| end <= total);
    }
    match partial.total {
        None => {
            if partial.pieces.last().is_some_and(|last| last.end() > end) {
                return false;
            }
            partial.total = Some(end);
            true
        }
        Some(total) => total == end,
    }
}

/// Insert the parts of `[start, end)` not held yet; count an overlap; return the bytes added.
fn fill(
    counters: &mut Counters,
    partial: &mut Partial,
    start: usize,
    end: usize,
    data: &[u8],
) -> usize {
    let mut new: Vec<Piece> = Vec::new();
    let mut cur = start;
    let mut overlap = false;
    for piece in &partial.pieces {
        let (p_start, p_end) = (piece.start, piece.end());
        if p_end <= cur {
            continue;
        }
        if p_start >= end {
            break;
        }
        overlap = true;
        if p_start > cur {
            new.push(Piece {
                start: cur,
                data: data[cur - start..p_start - start].to_vec(),
            });
        }
        cur = p_end;
        if cur >= end {
            break;
        }
    }
    if cur < end {
        new.push(Piece {
            start: cur,
            data: data[cur - start..].to_vec(),
        });
    }
    if overlap {
        counters.bump(Counter::FragmentOverlap);
    }
    let added = new.iter().map(|p| p.data.len()).sum();
    if !new.is_empty() {
        partial.pieces.extend(new);
        partial.pieces.sort_unstable_by_key(|p| p.start);
    }
    added
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ident: u32) -> FragKey {
        FragKey {
            src: Addr::V4(1),
            dst: Addr::V4(2),
            ident,
            proto: 6,
        }
    }

    fn frag(offset: usize, data: &[u8], more: bool) -> Fragment<'_> {
        Fragment {
            offset,
            data,
            more,
            proto: 6,
        }
    }

    fn joined(done: &Completed) -> Vec<u8> {
        let mut out = Vec::new();
        done.join_into(&mut out);
        out
    }

    #[test]
    fn two_fragments_in_any_order_complete_the_datagram() {
        let mut c = Counters::default();
        let mut t = FragmentTable::new(30_000_000_000, 1 << 20);
        assert!(t
            .add(&mut c, 0, key(1), &frag(8, b"abcdefgh", false))
            .is_none());
        let done = t
            .add(&mut c, 1, key(1), &frag(0, b"01234567", true))
            .expect("complete");
        assert_eq!(joined(&done), b"01234567abcdefgh");
        assert_eq!(done.proto, 6);
        assert!(t.is_empty());
        assert_eq!(t.held_bytes(), 0);
        assert_eq!(c.get(Counter::FragmentReassembled), 1);
        assert_eq!(c.non_zero().len(), 1);
    }

    #[test]
    fn the_first_copy_of_a_byte_wins_and_the_overlap_is_counted() {
        let mut c = Counters::default();
        let mut t = FragmentTable::new(30_000_000_000, 1 << 20);
        assert!(t
            .add(&mut c, 0, key(1), &frag(0, b"AAAAAAAA", true))
            .is_none());
        let done = t
            .add(&mut c, 0, key(1), &frag(4, b"bbbbbbbbbbbb", false))
            .expect("complete");
        assert_eq!(joined(&done), b"AAAAAAAAbbbbbbbb");
        assert_eq!(c.get(Counter::FragmentOverlap), 1);
    }

    #[test]
    fn a_second_last_fragment_with_another_end_is_inconsistent() {
        let mut c = Counters::default();
        let mut t = FragmentTable::new(30_000_000_000, 1 << 20);
        assert!(t
            .add(&mut c, 0, key(1), &frag(8, b"12345678", false))
            .is_none());
        assert!(t
            .add(&mut c, 0, key(1), &frag(16, b"12345678", false))
            .is_none());
        assert!(t.add(&mut c, 0, key(1), &frag(16, b"1", true)).is_none());
        assert_eq!(c.get(Counter::FragmentInconsistent), 2);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn partials_expire_after_the_timeout_oldest_first() {
        let mut c = Counters::default();
        let mut t = FragmentTable::new(10, 1 << 20);
        t.add(&mut c, 0, key(1), &frag(0, b"x", true));
        t.add(&mut c, 5, key(2), &frag(0, b"x", true));
        t.expire(&mut c, 10);
        assert_eq!(t.len(), 1);
        t.expire(&mut c, 15);
        assert!(t.is_empty());
        assert_eq!(c.get(Counter::FragmentsExpired), 2);
    }

    #[test]
    fn the_memory_cap_evicts_the_oldest() {
        let mut c = Counters::default();
        let one = DATAGRAM_COST + PIECE_COST;
        let mut t = FragmentTable::new(1_000, 2 * one + 20);
        t.add(&mut c, 0, key(1), &frag(0, &[0; 16], true));
        t.add(&mut c, 1, key(2), &frag(0, &[0; 8], true));
        assert_eq!(t.len(), 1);
        assert_eq!(t.held_bytes(), one + 8);
        assert_eq!(c.get(Counter::FragmentsEvicted), 1);
    }

    #[test]
    fn empty_fragments_each_with_their_own_id_are_bounded_by_the_cap() {
        let mut c = Counters::default();
        let mut t = FragmentTable::new(i64::MAX, 1 << 20);
        for ident in 0..100_000 {
            t.add(&mut c, 0, key(ident), &frag(0, b"", true));
        }
        assert_eq!(t.len(), (1 << 20) / DATAGRAM_COST);
        assert_eq!(c.get(Counter::FragmentsEvicted), 100_000 - t.len() as u64);
    }

    #[test]
    fn the_protocol_is_the_one_the_first_byte_came_with() {
        let mut c = Counters::default();
        let mut t = FragmentTable::new(1_000, 1 << 20);
        let v6 = FragKey {
            src: Addr::V6([1; 16]),
            dst: Addr::V6([2; 16]),
            ident: 1,
            proto: FragKey::V6_PROTO,
        };
        let claim = |offset, data, more, proto| Fragment {
            offset,
            data,
            more,
            proto,
        };
        t.add(&mut c, 0, v6, &claim(0, b"", true, 58));
        t.add(&mut c, 0, v6, &claim(0, b"01234567", true, 6));
        t.add(&mut c, 0, v6, &claim(0, b"abcdefgh", true, 17));
        let done = t
            .add(&mut c, 0, v6, &claim(8, b"x", false, 17))
            .expect("complete");
        assert_eq!((joined(&done), done.proto), (b"01234567x".to_vec(), 6));
    }

    #[test]
    fn beyond_65535_bytes_drops_the_datagram() {
        let mut c = Counters::default();
        let mut t = FragmentTable::new(1_000, 1 << 20);
        t.add(&mut c, 0, key(1), &frag(0, &[0; 8], true));
        assert!(t
            .add(&mut c, 0, key(1), &frag(65528, &[0; 8], false))
            .is_none());
        assert!(t.is_empty());
        assert_eq!(c.get(Counter::FragmentTooLarge), 1);
    }

    #[test]
    fn the_order_queue_stays_bounded() {
        let mut c = Counters::default();
        let mut t = FragmentTable::new(i64::MAX, 1 << 30);
        t.add(&mut c, 0, key(0), &frag(0, b"x", true)); // held forever at the front
        for i in 1..10_000 {
            t.add(&mut c, 0, key(i), &frag(8, b"y", false));
            assert!(t
                .add(&mut c, 0, key(i), &frag(0, b"01234567", true))
                .is_some());
        }
        assert_eq!(t.len(), 1);
        assert!(t.order.len() <= 2 * t.len() + 65);
    }
}
