//! The connection table and the per-packet loop: the native twin of tlsmon/tcp/tracker.py.
//!
//! Theory of operation. The table maps each direction's own 4-tuple to its connection's slot and the
//! direction, so one lookup gives both. Connections live in slots (a free list reuses them); `order` keeps
//! them in creation order, which is the order the Python tracker's dict iterates in and therefore the order
//! in which sweeps, eviction and the end of input end them (the order fixes every row's uid, so it must be
//! the same). Finalized connections leave a dead entry in `order` that is skipped and compacted away.
//!
//! Eviction and tombstones follow the Python tracker's rules exactly (its module docstring): a second-chance
//! queue of (connection, packet count when queued), and a tombstone per 4-tuple of an evicted connection that
//! counts its later packets until idle, reused by a SYN, or pushed out by the cap (oldest first).
//!
//! The table hashes with aHash under a random per-process key (`ahash::RandomState`): the 4-tuples are chosen
//! by whoever sends the packets, and a fixed or unkeyed hash would let them flood one bucket. std's SipHash
//! is keyed too but took 11 % of the native loop (perf, bench/'s large workload); aHash about a third of that.
//!
//! Everything the Python tracker hands its stream consumer becomes an event in `out` (see `events`): the
//! Python side applies them and tells the tracker, between batches, which connections to bypass. A bypassed
//! connection costs the lookup and its counters; its later segments are not reassembled.

use std::collections::{HashMap, VecDeque};

use ahash::RandomState;

use crate::decode::numbers::IPPROTO_TCP;
use crate::decode::Segment;
use crate::dispatch::{open_event, Dispatch};
use crate::tcp::connection::{
    Connection, Key, ACK, END_EVICTED, END_FIN, END_INTERIM, END_RST, END_TIMEOUT, FIN, RST, SYN,
};
use crate::tcp::events::{ConnEnd, Event, EventBatch, EventKind, StreamOut};
use crate::tcp::reassembly::Reassembler;
use crate::udp::flows::UdpFlows;

/// Out-of-order data held across all connections exceeded `max_buffered_total`.
pub const ANOMALY_GLOBAL_BUFFER_CAP: &str = "tcp.global_buffer_cap";

const SECOND: i64 = 1_000_000_000;

#[derive(Debug, Clone)]
pub struct TrackerConfig {
    pub idle_timeout_ns: i64,
    pub linger_ns: i64,
    pub max_connections: usize,
    pub max_buffered_per_direction: usize,
    pub max_buffered_total: usize,
    pub sweep_interval_ns: i64,
    pub check_every_packets: u64,
    /// Ports whose owner is taken to be the server (tlsmon/tcp/ports.py hands them over).
    pub service_ports: Vec<u16>,
    /// Interim record of an open connection at each multiple of its age (live capture), checked by sweeps.
    pub interim_interval_ns: Option<i64>,
    /// A UDP flow ends after this long without a datagram (Zeek's `udp_inactivity_timeout`).
    pub udp_idle_timeout_ns: i64,
    /// Given: connections that are TLS from their first stream byte are analyzed natively with these limits
    /// (`crate::dispatch`); None: every connection's stream goes to Python.
    pub tls_limits: Option<crate::tls::Limits>,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            idle_timeout_ns: 300 * SECOND,
            linger_ns: 5 * SECOND,
            max_connections: 1_000_000,
            max_buffered_per_direction: 256 * 1024,
            max_buffered_total: 256 << 20,
            sweep_interval_ns: 10 * SECOND,
            check_every_packets: 16384,
            service_ports: (0..1024).collect(),
            interim_interval_ns: None,
            udp_idle_timeout_ns: 60 * SECOND,
            tls_limits: None,
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct TrackerStats {
    pub packets: u64,
    pub tcp_packets: u64,
    pub connections: u64,
    pub evicted: u64,
    pub evicted_packets: u64,
    pub buffer_cap_flushes: u64,
    pub bypassed_packets: u64,
}

pub struct Tracker {
    config: TrackerConfig,
    service_port: Vec<bool>,
    pub stats: TrackerStats,
    table: HashMap<Key, (u32, bool), RandomState>,
    slots: Vec<Option<Connection>>,
    free: Vec<u32>,
    order: VecDeque<(u64, u32)>,
    dead_in_order: usize,
    closing: VecDeque<(u64, u32, i64)>,
    /// Eviction candidates: (id, slot, packet count when queued).
    evict_queue: VecDeque<(u64, u32, u64)>,
    /// 4-tuples of evicted connections → (time of their last packet, serial of their entry in `tomb_order`).
    tombstones: HashMap<Key, (i64, u64), RandomState>,
    tomb_order: VecDeque<(Key, u64)>,
    tomb_serial: u64,
    live: usize,
    next_id: u64,
    /// The UDP flows (QUIC, DTLS); their ids come from `next_id` too.
    pub udp: UdpFlows,
    next_sweep_ts: Option<i64>,
    last_interim_check: Option<i64>,
    held_bytes: i64,
    check_at: u64,
    /// Events produced since the caller last took them.
    pub out: EventBatch,
    /// The last lookups, by a cheap index of the ports: `(key, slot, is_orig, connection id)`.
    recent: [Option<(Key, u32, bool, u64)>; RECENT],
}

/// Entries of the lookup cache in front of the table (a few flows interleave in any capture).
const RECENT: usize = 16;

fn recent_index(key: &Key) -> usize {
    usize::from(key.1 ^ key.3.rotate_left(5)) % RECENT
}

impl Tracker {
    pub fn new(config: TrackerConfig) -> Self {
        let mut service_port = vec![false; 65536];
        for &p in &config.service_ports {
            service_port[p as usize] = true;
        }
        let check_at = config.check_every_packets;
        Tracker {
            config,
            service_port,
            stats: TrackerStats::default(),
            table: HashMap::with_hasher(RandomState::new()),
            slots: Vec::new(),
            free: Vec::new(),
            order: VecDeque::new(),
            dead_in_order: 0,
            closing: VecDeque::new(),
            evict_queue: VecDeque::new(),
            tombstones: HashMap::with_hasher(RandomState::new()),
            tomb_order: VecDeque::new(),
            tomb_serial: 0,
            live: 0,
            next_id: 0,
            udp: UdpFlows::default(),
            next_sweep_ts: None,
            last_interim_check: None,
            held_bytes: 0,
            check_at,
            out: EventBatch::default(),
            recent: [None; RECENT],
        }
    }

    /// Connections in the table now (open or lingering).
    pub fn live(&self) -> usize {
        self.live
    }

    /// Every frame is counted here before it is decoded: the periodic work runs on the frame count and the
    /// frame's time, as in Python.
    pub fn frame(&mut self, ts: i64) {
        self.stats.packets += 1;
        if self.stats.packets >= self.check_at {
            self.check_at = self.stats.packets + self.config.check_every_packets;
            self.periodic(ts);
        }
    }

    /// A decoded TCP segment (or UDP datagram) of the frame last passed to `frame`.
    pub fn segment(&mut self, ts: i64, seg: &Segment) {
        if seg.udp {
            // no SYN in UDP: the port rule alone, as for a TCP connection picked up mid-stream
            let sender_is_orig = self.sender_is_originator(0, seg.sport, seg.dport);
            self.udp.datagram(
                ts,
                seg,
                &mut self.next_id,
                self.config.max_connections,
                sender_is_orig,
                &mut self.out,
            );
            return;
        }
        self.stats.tcp_packets += 1;
        let key: Key = (seg.src, seg.sport, seg.dst, seg.dport);
        let found = self.lookup(&key);
        if let Some((slot, is_orig)) = found {
            if seg.flags & (SYN | FIN | RST) == 0 {
                let conn = self.slots[slot as usize]
                    .as_mut()
                    .expect("table points at a live slot");
                if conn.bypass && conn.closed_ts.is_none() {
                    let half = conn.half(is_orig);
                    half.pkts += 1;
                    half.bytes += seg.payload.len() as u64;
                    half.last_ts = ts;
                    conn.add_history(is_orig, seg.flags, seg.payload.len());
                    conn.seqs
                        .track(ts, is_orig, seg.flags, seg.seq, seg.ack, seg.payload.len());
                    self.stats.bypassed_packets += 1;
                    return;
                }
            }
        }
        self.slow(found, key, ts, seg);
    }

    /// The table's entry for `key`, through the cache of recent lookups: a cached entry holds while its
    /// connection lives (a live connection's 4-tuples always map to it).
    #[inline]
    fn lookup(&mut self, key: &Key) -> Option<(u32, bool)> {
        let index = recent_index(key);
        if let Some((k, slot, is_orig, id)) = self.recent[index] {
            if k == *key
                && self
                    .slots
                    .get(slot as usize)
                    .and_then(Option::as_ref)
                    .is_some_and(|c| c.id == id)
            {
                return Some((slot, is_orig));
            }
        }
        let found = self.table.get(key).copied();
        if let Some((slot, is_orig)) = found {
            let id = self.slots[slot as usize]
                .as_ref()
                .map_or(u64::MAX, |c| c.id);
            self.recent[index] = Some((*key, slot, is_orig, id));
        }
        found
    }

    fn slow(&mut self, found: Option<(u32, bool)>, key: Key, ts: i64, seg: &Segment) {
        let flags = seg.flags;
        let plen = seg.payload.len();
        let mut found = found;
        if let Some((slot, _)) = found {
            let closed_ts = self.slots[slot as usize].as_ref().and_then(|c| c.closed_ts);
            // A new SYN on the 4-tuple (port reuse), or a packet after the linger: the closed connection ends
            // here, whether or not a sweep got to it yet, and the packet starts a new one.
            if closed_ts
                .is_some_and(|t| flags & (SYN | ACK) == SYN || ts - t > self.config.linger_ns)
            {
                self.finalize(slot);
                found = None;
            }
        }
        let (slot, is_orig) = if let Some(f) = found {
            f
        } else {
            if self.tombstones.contains_key(&key) && !self.reuse_tombstone(key, ts, flags) {
                return;
            }
            self.create(ts, seg, key)
        };
        let conn = self.slots[slot as usize].as_mut().expect("live slot");
        {
            let half = conn.half(is_orig);
            half.pkts += 1;
            half.bytes += plen as u64;
            half.last_ts = ts;
        }
        conn.add_history(is_orig, flags, plen);
        conn.seqs.track(ts, is_orig, flags, seg.seq, seg.ack, plen);
        if !conn.bypass && (conn.closed_ts.is_none() || conn.rst_open_side == Some(is_orig)) {
            self.reassemble(slot, is_orig, seg);
        }
        let conn = self.slots[slot as usize].as_mut().expect("live slot");
        if flags & RST != 0 {
            conn.rst = true;
            if conn.closed_ts.is_none() {
                // The reset ends its sender's stream; what the other side had already sent (a Certificate in
                // flight, say) is still reassembled until the linger ends.
                conn.rst_open_side = Some(!is_orig);
                self.close(slot, ts, END_RST);
            } else if conn.rst_open_side == Some(is_orig) {
                conn.rst_open_side = None; // the other side resets too: its stream is over as well
                self.flush(slot, Some(is_orig));
            }
        } else if flags & FIN != 0 {
            let (half, peer) = conn.halves(is_orig);
            half.fin = true;
            if peer.fin {
                self.close(slot, ts, END_FIN);
            }
        }
    }

    /// The segment and its ACK go to the reassemblers; then the point where Python asks whether the consumer
    /// is finished (the epoch moves on).
    fn reassemble(&mut self, slot: u32, is_orig: bool, seg: &Segment) {
        let flags = seg.flags;
        let plen = seg.payload.len();
        let max_total = self.config.max_buffered_total as i64;
        let max_dir = self.config.max_buffered_per_direction;
        let conn = self.slots[slot as usize].as_mut().expect("live slot");
        let id = conn.id;
        let epoch = conn.epoch;
        // After an RST the peer's stream is over: nothing of it is acknowledged any more.
        let peer_open = conn.closed_ts.is_none();
        if flags & SYN != 0 {
            conn.syn_seen = true;
        }
        let (half, peer, dispatch) = conn.streams(is_orig);
        let reasm = half.reasm.get_or_insert_with(|| Reassembler::new(max_dir));
        let before = reasm.held_memory() + peer.reasm.as_ref().map_or(0, Reassembler::held_memory);
        let out = &mut self.out;
        {
            let mut stream = StreamOut {
                batch: out,
                dispatch,
                conn: id,
                epoch,
                is_orig,
            };
            if flags & SYN != 0 {
                reasm.syn(seg.seq, &mut stream);
                if plen > 0 {
                    reasm.segment(
                        seg.seq.wrapping_add(1),
                        seg.payload,
                        flags & FIN != 0,
                        &mut stream,
                    );
                }
            } else if plen > 0 || flags & FIN != 0 {
                reasm.segment(seg.seq, seg.payload, flags & FIN != 0, &mut stream);
            }
        }
        if flags & ACK != 0 && peer_open {
            if let Some(peer_reasm) = peer.reasm.as_mut() {
                let mut stream = StreamOut {
                    batch: out,
                    dispatch,
                    conn: id,
                    epoch,
                    is_orig: !is_orig,
                };
                peer_reasm.ack(seg.ack, &mut stream);
            }
        }
        let after = reasm.held_memory() + peer.reasm.as_ref().map_or(0, Reassembler::held_memory);
        let held = after as i64 - before as i64;
        let mut cap_hit = false;
        if held != 0 {
            self.held_bytes += held;
            if self.held_bytes > max_total {
                // Over the global cap: this direction's holes become gaps now and its held bytes are delivered.
                self.held_bytes -= reasm.held_memory() as i64;
                let mut stream = StreamOut {
                    batch: out,
                    dispatch,
                    conn: id,
                    epoch,
                    is_orig,
                };
                reasm.flush(&mut stream);
                self.stats.buffer_cap_flushes += 1;
                cap_hit = true;
            }
        }
        if cap_hit && !conn.global_cap_named {
            conn.global_cap_named = true; // the row names it once; the run counts every flush
            let ev = Event {
                conn: id,
                epoch,
                is_orig,
                kind: EventKind::ConnAnomaly {
                    name: ANOMALY_GLOBAL_BUFFER_CAP,
                },
            };
            conn.dispatch.event(&mut self.out, ev);
        }
        conn.epoch += 1;
        // The checkpoint: a natively analyzed connection is bypassed here, as the Python tracker bypasses.
        if conn.dispatch.is_finished_tls() {
            self.bypass_slot(slot);
        }
    }

    fn create(&mut self, ts: i64, seg: &Segment, key: Key) -> (u32, bool) {
        if self.live >= self.config.max_connections {
            self.evict(ts);
        }
        let id = self.next_id;
        self.next_id += 1;
        let mut conn = if self.sender_is_originator(seg.flags, seg.sport, seg.dport) {
            Connection::new(
                id,
                ts,
                seg.ip_version,
                seg.src,
                seg.sport,
                seg.dst,
                seg.dport,
                seg.vlan,
            )
        } else {
            Connection::new(
                id,
                ts,
                seg.ip_version,
                seg.dst,
                seg.dport,
                seg.src,
                seg.sport,
                seg.vlan,
            )
        };
        let resp_p = conn.resp_p;
        if let Some(limits) = self.config.tls_limits {
            conn.dispatch = Dispatch::Undecided {
                resp_p,
                limits,
                pending: Vec::new(),
            };
        } else {
            self.out.events.push(open_event(id, resp_p));
        }
        let orig_key = conn.orig_key();
        let resp_key = conn.resp_key();
        let slot = if let Some(slot) = self.free.pop() {
            self.slots[slot as usize] = Some(conn);
            slot
        } else {
            self.slots.push(Some(conn));
            (self.slots.len() - 1) as u32
        };
        self.table.insert(orig_key, (slot, true));
        self.table.insert(resp_key, (slot, false));
        self.order.push_back((id, slot));
        self.evict_queue.push_back((id, slot, 1)); // the packet creating it is its first
        if self.evict_queue.len() > 4 * (self.live + 1) + 1024 {
            let slots = &self.slots;
            self.evict_queue.retain(|&(i, s, _)| {
                slots
                    .get(s as usize)
                    .and_then(Option::as_ref)
                    .is_some_and(|c| c.id == i)
            });
        }
        self.live += 1;
        self.stats.connections += 1;
        (slot, orig_key == key)
    }

    /// End the connection quiet the longest (second chance) and leave its tombstone.
    fn evict(&mut self, ts: i64) {
        while let Some((id, slot, queued_at)) = self.evict_queue.pop_front() {
            if !self.is_live(id, slot) {
                continue;
            }
            let conn = self.slots[slot as usize].as_mut().expect("live slot");
            let seen = conn.orig.pkts + conn.resp.pkts;
            if seen != queued_at {
                self.evict_queue.push_back((id, slot, seen));
                continue;
            }
            conn.end_reason = END_EVICTED;
            let keys = [conn.orig_key(), conn.resp_key()];
            self.stats.evicted += 1;
            self.finalize(slot);
            for key in keys {
                self.set_tombstone(key, ts);
            }
            while self.tombstones.len() > 2 * self.config.max_connections {
                let Some((key, serial)) = self.tomb_order.pop_front() else {
                    break;
                };
                if self.tombstones.get(&key).is_some_and(|&(_, s)| s == serial) {
                    self.tombstones.remove(&key);
                }
            }
            return;
        }
    }

    /// Python's `OrderedDict` assignment: an existing key keeps its place, a new one goes last.
    fn set_tombstone(&mut self, key: Key, ts: i64) {
        if let Some(entry) = self.tombstones.get_mut(&key) {
            entry.0 = ts;
        } else {
            self.tomb_serial += 1;
            self.tombstones.insert(key, (ts, self.tomb_serial));
            self.tomb_order.push_back((key, self.tomb_serial));
        }
    }

    /// A packet on an evicted connection's 4-tuple: true if it opens a new connection (a SYN), else counted.
    fn reuse_tombstone(&mut self, key: Key, ts: i64, flags: u8) -> bool {
        if flags & (SYN | ACK) == SYN {
            let (src, sport, dst, dport) = key;
            self.tombstones.remove(&key);
            self.tombstones.remove(&(dst, dport, src, sport));
            return true;
        }
        self.set_tombstone(key, ts);
        self.stats.evicted_packets += 1;
        false
    }

    fn sender_is_originator(&self, flags: u8, sport: u16, dport: u16) -> bool {
        match flags & (SYN | ACK) {
            SYN => true,
            x if x == SYN | ACK => false,
            _ => {
                let d = self.service_port[dport as usize];
                let s = self.service_port[sport as usize];
                // The side sending to the service port is the originator; a tie goes to the sender.
                d || !s
            }
        }
    }

    /// Python's `_bypass`: called for the connections Python reports finished.
    pub fn bypass(&mut self, id: u64) {
        if self.udp.bypass(id) {
            return;
        }
        if let Some(slot) = self.slot_of(id) {
            self.bypass_slot(slot);
        }
    }

    /// Stop reassembling a connection: its later packets are only counted.
    fn bypass_slot(&mut self, slot: u32) {
        let conn = self.slots[slot as usize].as_mut().expect("live slot");
        if conn.bypass {
            return;
        }
        conn.bypass = true;
        for half in [&mut conn.orig, &mut conn.resp] {
            if let Some(reasm) = half.reasm.as_mut() {
                self.held_bytes -= reasm.held_memory() as i64;
                reasm.stop();
            }
        }
    }

    /// The slot of a live connection, by id. Ids grow with creation, so `order` is sorted by id.
    fn slot_of(&self, id: u64) -> Option<u32> {
        let idx = self.order.partition_point(|&(i, _)| i < id);
        let &(i, slot) = self.order.get(idx)?;
        (i == id && self.is_live(i, slot)).then_some(slot)
    }

    fn is_live(&self, id: u64, slot: u32) -> bool {
        self.slots
            .get(slot as usize)
            .and_then(Option::as_ref)
            .is_some_and(|c| c.id == id)
    }

    fn close(&mut self, slot: u32, ts: i64, reason: &'static str) {
        let conn = self.slots[slot as usize].as_mut().expect("live slot");
        if conn.closed_ts.is_some() {
            return;
        }
        conn.closed_ts = Some(ts);
        conn.end_reason = reason;
        let id = conn.id;
        self.flush(slot, None);
        self.closing.push_back((id, slot, ts));
    }

    /// Hand the consumer everything still buffered, holes reported as gaps.
    /// Hand the consumer everything still buffered, holes reported as gaps: both directions (`only` None),
    /// except the one an RST left open (flushed when the connection is finalized), or the direction `only`.
    fn flush(&mut self, slot: u32, only: Option<bool>) {
        let conn = self.slots[slot as usize].as_mut().expect("live slot");
        if conn.bypass {
            return;
        }
        let (id, epoch, open_side) = (conn.id, conn.epoch, conn.rst_open_side);
        let dispatch = &mut conn.dispatch;
        for (is_orig, half) in [(true, &mut conn.orig), (false, &mut conn.resp)] {
            let wanted = match only {
                Some(side) => side == is_orig,
                None => open_side != Some(is_orig),
            };
            if !wanted {
                continue;
            }
            if let Some(reasm) = half.reasm.as_mut() {
                self.held_bytes -= reasm.held_memory() as i64;
                let mut stream = StreamOut {
                    batch: &mut self.out,
                    dispatch,
                    conn: id,
                    epoch,
                    is_orig,
                };
                reasm.flush(&mut stream);
            }
        }
    }

    fn finalize(&mut self, slot: u32) {
        let closed = self.slots[slot as usize]
            .as_ref()
            .expect("live slot")
            .closed_ts
            .is_some();
        let open_side = self.slots[slot as usize]
            .as_ref()
            .expect("live slot")
            .rst_open_side;
        if !closed {
            self.flush(slot, None);
        } else if let Some(side) = open_side {
            self.flush(slot, Some(side));
        }
        let mut conn = self.slots[slot as usize].take().expect("live slot");
        self.free.push(slot);
        self.live -= 1;
        self.dead_in_order += 1;
        for key in [conn.orig_key(), conn.resp_key()] {
            if self.table.get(&key).is_some_and(|&(s, _)| s == slot) {
                self.table.remove(&key);
            }
        }
        let index = self.out.ends.len();
        self.out.ends.push(Self::facts(&conn, conn.end_reason));
        let kind = match conn.dispatch.take_row() {
            Some(row) => {
                self.out.tls_ends += 1;
                EventKind::TlsEnd {
                    index,
                    tls: self.out.push_tls(row),
                }
            }
            None => EventKind::End { index },
        };
        let ev = Event {
            conn: conn.id,
            epoch: conn.epoch,
            is_orig: true,
            kind,
        };
        conn.dispatch.event(&mut self.out, ev);
        self.compact_order();
    }

    /// Drop dead entries from `order` once they are the majority, so it stays proportional to the table.
    fn compact_order(&mut self) {
        while let Some(&(id, slot)) = self.order.front() {
            if self.is_live(id, slot) {
                break;
            }
            self.order.pop_front();
            self.dead_in_order -= 1;
        }
        if self.dead_in_order > 1024 && self.dead_in_order > self.order.len() / 2 {
            let slots = &self.slots;
            self.order.retain(|&(id, slot)| {
                slots
                    .get(slot as usize)
                    .and_then(Option::as_ref)
                    .is_some_and(|c| c.id == id)
            });
            self.dead_in_order = 0;
        }
    }

    /// Live connections, oldest first.
    fn live_in_order(&self) -> Vec<u32> {
        self.order
            .iter()
            .filter(|&&(id, slot)| self.is_live(id, slot))
            .map(|&(_, slot)| slot)
            .collect()
    }

    fn periodic(&mut self, ts: i64) {
        self.release_closed(ts);
        match self.next_sweep_ts {
            None => self.next_sweep_ts = Some(ts + self.config.sweep_interval_ns),
            Some(next) if ts >= next => {
                self.next_sweep_ts = Some(ts + self.config.sweep_interval_ns);
                self.sweep(ts);
            }
            Some(_) => {}
        }
    }

    /// Finalize closed connections whose linger is over, oldest close first.
    fn release_closed(&mut self, now: i64) {
        let linger_before = now - self.config.linger_ns;
        while let Some(&(id, slot, closed_ts)) = self.closing.front() {
            if closed_ts >= linger_before {
                break;
            }
            self.closing.pop_front();
            if self.is_live(id, slot) {
                self.finalize(slot);
            }
        }
    }

    /// End connections idle for longer than the timeout and closed ones past their linger time.
    pub fn sweep(&mut self, now: i64) {
        let idle_before = now - self.config.idle_timeout_ns;
        let linger_before = now - self.config.linger_ns;
        let expired: Vec<u32> = self
            .live_in_order()
            .into_iter()
            .filter(|&slot| {
                let c = self.slots[slot as usize].as_ref().expect("live slot");
                c.closed_ts.is_some_and(|t| t < linger_before) || c.last_ts() < idle_before
            })
            .collect();
        for slot in expired {
            let conn = self.slots[slot as usize].as_mut().expect("live slot");
            if conn.closed_ts.is_none() {
                conn.end_reason = END_TIMEOUT;
            }
            self.finalize(slot);
        }
        self.tombstones
            .retain(|_, &mut (last, _)| last >= idle_before);
        let tombstones = &self.tombstones;
        self.tomb_order
            .retain(|(key, serial)| tombstones.get(key).is_some_and(|&(_, s)| s == *serial));
        self.udp
            .sweep(now, self.config.udp_idle_timeout_ns, &mut self.out);
        if let Some(interval) = self.config.interim_interval_ns.filter(|&i| i > 0) {
            self.interim(now, interval);
        }
    }

    /// Interim records of open connections whose age crossed a multiple of `interval` since the last check.
    fn interim(&mut self, now: i64, interval: i64) {
        let previous = self.last_interim_check;
        if previous.is_some_and(|p| now <= p) {
            return;
        }
        self.last_interim_check = Some(now);
        let Some(previous) = previous else { return };
        for slot in self.live_in_order() {
            let conn = self.slots[slot as usize].as_mut().expect("live slot");
            let start = conn.start_ts;
            let crossed =
                (now - start).div_euclid(interval) > (previous - start).div_euclid(interval).max(0);
            if conn.closed_ts.is_none() && crossed {
                let facts = Self::facts(conn, END_INTERIM);
                let (id, epoch) = (conn.id, conn.epoch);
                let index = self.out.ends.len();
                self.out.ends.push(facts);
                let kind = match conn.dispatch.snapshot_row() {
                    Some(row) => EventKind::TlsInterim {
                        index,
                        tls: self.out.push_tls(row),
                    },
                    None => EventKind::Interim { index },
                };
                let ev = Event {
                    conn: id,
                    epoch,
                    is_orig: true,
                    kind,
                };
                conn.dispatch.event(&mut self.out, ev);
            }
        }
    }

    fn facts(conn: &Connection, end_reason: &'static str) -> ConnEnd {
        ConnEnd {
            conn: conn.id,
            start_ts: conn.start_ts,
            last_ts: conn.last_ts(),
            ip_version: conn.ip_version,
            orig_h: conn.orig_h,
            orig_p: conn.orig_p,
            resp_h: conn.resp_h,
            resp_p: conn.resp_p,
            vlan: conn.vlan,
            orig_pkts: conn.orig.pkts,
            resp_pkts: conn.resp.pkts,
            orig_bytes: conn.orig.bytes,
            resp_bytes: conn.resp.bytes,
            history: conn.history.clone(),
            end_reason,
            seqs: conn.seqs,
            orig_seen: conn.orig.pkts > 0,
            resp_seen: conn.resp.pkts > 0,
            proto: IPPROTO_TCP,
            paths: 1,
            addresses_changed: false,
        }
    }

    /// End of input: every connection still in the table ends now, oldest first; those still open with
    /// `reason` (eof, or interrupted).
    pub fn finish(&mut self, reason: &'static str) {
        for slot in self.live_in_order() {
            let conn = self.slots[slot as usize].as_mut().expect("live slot");
            if conn.closed_ts.is_none() {
                conn.end_reason = reason;
            }
            self.finalize(slot);
        }
        self.udp.finish(reason, &mut self.out);
    }
}
