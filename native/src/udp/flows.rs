//! The UDP flow table: the native twin of tlsmon/udp/flows.py (its docstring has the theory), held equal to
//! it by tests/engines.
//!
//! The tracker hands every decoded UDP datagram to [`UdpFlows::datagram`]. A new flow emits an `OpenUdp`
//! event; each datagram of a flow not bypassed emits a `Datagram` event (payload and timestamp); Python's UDP
//! dispatcher says when a flow is finished and the tracker bypasses it ([`UdpFlows::bypass`]). Flows end
//! after the UDP idle timeout, at the end of input, or oldest-created first past the flow cap, each with an
//! `End` event carrying its facts.
//!
//! A datagram of an unknown 4-tuple that names a live flow's connection ID (udp/cids.rs) joins that flow: its
//! 4-tuple is added to the table for both directions until the flow ends (at most [`MAX_PATHS_PER_FLOW`]).

use std::collections::{BTreeMap, HashMap};

use ahash::RandomState;

use crate::decode::{Addr, Segment};
use crate::tcp::connection::{Key, END_EVICTED, END_TIMEOUT};
use crate::tcp::endpoint::Endpoints;
use crate::tcp::events::{ConnEnd, Event, EventBatch, EventKind};
use crate::udp::cids::{long_header_cids, Cid, CidIndex, MAX_CIDS_PER_FLOW, MAX_PATHS_PER_FLOW};

/// IP protocol number of UDP, as the facts carry it.
pub const IPPROTO_UDP: u8 = 17;

/// One UDP flow's transport facts.
#[derive(Debug)]
struct UdpFlow {
    start_ts: i64,
    ip_version: u8,
    orig_h: Addr,
    orig_p: u16,
    resp_h: Addr,
    resp_p: u16,
    vlan: Option<u16>,
    orig_pkts: u64,
    resp_pkts: u64,
    orig_bytes: u64,
    resp_bytes: u64,
    orig_last: i64,
    resp_last: i64,
    history: String,
    bypass: bool,
    /// The connection IDs learned (udp/cids.rs).
    cids: Vec<Cid>,
    /// Later 4-tuples, originator side first.
    extra_paths: Vec<Key>,
    addresses_changed: bool,
}

impl UdpFlow {
    fn last_ts(&self) -> i64 {
        self.orig_last.max(self.resp_last)
    }

    fn facts(&self, id: u64, end_reason: &'static str) -> ConnEnd {
        ConnEnd {
            conn: id,
            start_ts: self.start_ts,
            last_ts: self.last_ts(),
            ip_version: self.ip_version,
            orig_h: self.orig_h,
            orig_p: self.orig_p,
            resp_h: self.resp_h,
            resp_p: self.resp_p,
            vlan: self.vlan,
            orig_pkts: self.orig_pkts,
            resp_pkts: self.resp_pkts,
            orig_bytes: self.orig_bytes,
            resp_bytes: self.resp_bytes,
            history: self.history.clone(),
            end_reason,
            seqs: Endpoints::default(),
            orig_seen: false,
            resp_seen: false,
            proto: IPPROTO_UDP,
            paths: 1 + u32::try_from(self.extra_paths.len()).expect("at most MAX_PATHS_PER_FLOW"),
            addresses_changed: self.addresses_changed,
        }
    }
}

/// The UDP flows, keyed like the TCP table by each direction's 4-tuple (sender first).
#[derive(Default)]
pub struct UdpFlows {
    table: HashMap<Key, (u64, bool), RandomState>,
    cids: CidIndex,
    /// By id: ids grow with creation, so this is the creation order (eviction, sweeps and the end of input).
    flows: BTreeMap<u64, UdpFlow>,
    pub evicted: u64,
}

impl UdpFlows {
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// A datagram; `next_id` is the tracker's id counter (shared with TCP connections) and
    /// `sender_is_orig` its originator guess for a new flow's first datagram.
    #[allow(clippy::too_many_arguments)]
    pub fn datagram(
        &mut self,
        ts: i64,
        seg: &Segment,
        next_id: &mut u64,
        max_flows: usize,
        sender_is_orig: bool,
        out: &mut EventBatch,
    ) {
        let key: Key = (seg.src, seg.sport, seg.dst, seg.dport);
        let (id, is_orig) = if let Some(&found) = self.table.get(&key) {
            found
        } else if let Some(found) = self.moved(seg) {
            found
        } else {
            self.create(ts, seg, next_id, max_flows, sender_is_orig, out)
        };
        let flow = self
            .flows
            .get_mut(&id)
            .expect("table points at a live flow");
        if flow.cids.len() < MAX_CIDS_PER_FLOW && seg.payload.first().is_some_and(|b| b & 0x80 != 0)
        {
            if let Some((dcid, scid)) = long_header_cids(seg.payload) {
                // the DCID addresses the receiver, the SCID the sender
                self.cids.learn(id, &mut flow.cids, dcid, !is_orig);
                self.cids.learn(id, &mut flow.cids, scid, is_orig);
            }
        }
        let plen = seg.payload.len() as u64;
        if is_orig {
            flow.orig_pkts += 1;
            flow.orig_bytes += plen;
            flow.orig_last = ts;
            if !flow.history.contains('D') {
                flow.history.push('D');
            }
        } else {
            flow.resp_pkts += 1;
            flow.resp_bytes += plen;
            flow.resp_last = ts;
            if !flow.history.contains('d') {
                flow.history.push('d');
            }
        }
        if flow.bypass {
            return;
        }
        let start = out.payload.len();
        out.payload.extend_from_slice(seg.payload);
        out.events.push(Event {
            conn: id,
            epoch: 0,
            is_orig,
            kind: EventKind::Datagram {
                start,
                len: seg.payload.len(),
                ts,
            },
        });
    }

    /// The live flow a datagram of an unknown 4-tuple names by connection ID, which gets the 4-tuple.
    fn moved(&mut self, seg: &Segment) -> Option<(u64, bool)> {
        let (id, addressed_is_orig) = self.cids.lookup(seg.payload)?;
        let flow = self.flows.get_mut(&id)?;
        if flow.extra_paths.len() + 1 >= MAX_PATHS_PER_FLOW {
            return None;
        }
        let is_orig = !addressed_is_orig; // the sender is the side the ID does not address
        let path: Key = if is_orig {
            (seg.src, seg.sport, seg.dst, seg.dport)
        } else {
            (seg.dst, seg.dport, seg.src, seg.sport)
        };
        flow.extra_paths.push(path);
        if (path.0, path.2) != (flow.orig_h, flow.resp_h) {
            flow.addresses_changed = true;
        }
        self.table.insert(path, (id, true));
        self.table
            .insert((path.2, path.3, path.0, path.1), (id, false));
        Some((id, is_orig))
    }

    fn create(
        &mut self,
        ts: i64,
        seg: &Segment,
        next_id: &mut u64,
        max_flows: usize,
        sender_is_orig: bool,
        out: &mut EventBatch,
    ) -> (u64, bool) {
        if self.flows.len() >= max_flows {
            if let Some((&oldest, _)) = self.flows.iter().next() {
                self.evicted += 1;
                self.finalize(oldest, END_EVICTED, out);
            }
        }
        let (orig_h, orig_p, resp_h, resp_p) = if sender_is_orig {
            (seg.src, seg.sport, seg.dst, seg.dport)
        } else {
            (seg.dst, seg.dport, seg.src, seg.sport)
        };
        let id = *next_id;
        *next_id += 1;
        self.table
            .insert((orig_h, orig_p, resp_h, resp_p), (id, true));
        self.table
            .insert((resp_h, resp_p, orig_h, orig_p), (id, false));
        self.flows.insert(
            id,
            UdpFlow {
                start_ts: ts,
                ip_version: seg.ip_version,
                orig_h,
                orig_p,
                resp_h,
                resp_p,
                vlan: seg.vlan,
                orig_pkts: 0,
                resp_pkts: 0,
                orig_bytes: 0,
                resp_bytes: 0,
                orig_last: ts,
                resp_last: ts,
                history: String::new(),
                bypass: false,
                cids: Vec::new(),
                extra_paths: Vec::new(),
                addresses_changed: false,
            },
        );
        out.events.push(Event {
            conn: id,
            epoch: 0,
            is_orig: true,
            kind: EventKind::OpenUdp { resp_p },
        });
        (id, sender_is_orig)
    }

    fn finalize(&mut self, id: u64, end_reason: &'static str, out: &mut EventBatch) {
        let Some(flow) = self.flows.remove(&id) else {
            return;
        };
        self.table
            .remove(&(flow.orig_h, flow.orig_p, flow.resp_h, flow.resp_p));
        self.table
            .remove(&(flow.resp_h, flow.resp_p, flow.orig_h, flow.orig_p));
        for &(orig_h, orig_p, resp_h, resp_p) in &flow.extra_paths {
            self.table.remove(&(orig_h, orig_p, resp_h, resp_p));
            self.table.remove(&(resp_h, resp_p, orig_h, orig_p));
        }
        self.cids.forget(id, &flow.cids);
        let index = out.ends.len();
        out.ends.push(flow.facts(id, end_reason));
        out.events.push(Event {
            conn: id,
            epoch: 0,
            is_orig: true,
            kind: EventKind::End { index },
        });
    }

    /// Python's UDP dispatcher is done with the flow: its datagrams are only counted from now on.
    /// Returns false when `id` is no UDP flow.
    pub fn bypass(&mut self, id: u64) -> bool {
        match self.flows.get_mut(&id) {
            Some(flow) => {
                flow.bypass = true;
                true
            }
            None => false,
        }
    }

    /// End the flows idle for longer than `idle_timeout_ns`, oldest-created first.
    pub fn sweep(&mut self, now: i64, idle_timeout_ns: i64, out: &mut EventBatch) {
        let idle_before = now - idle_timeout_ns;
        let expired: Vec<u64> = self
            .flows
            .iter()
            .filter(|(_, f)| f.last_ts() < idle_before)
            .map(|(&id, _)| id)
            .collect();
        for id in expired {
            self.finalize(id, END_TIMEOUT, out);
        }
    }

    /// End of input: every flow ends now, oldest-created first, with `reason`.
    pub fn finish(&mut self, reason: &'static str, out: &mut EventBatch) {
        let ids: Vec<u64> = self.flows.keys().copied().collect();
        for id in ids {
            self.finalize(id, reason, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(sport: u16, payload: &[u8]) -> Segment<'_> {
        Segment {
            ip_version: 4,
            src: Addr::V4(0x0a00_0001),
            dst: Addr::V4(0x0a00_0002),
            sport,
            dport: 443,
            flags: 0,
            seq: 0,
            ack: 0,
            payload,
            vlan: None,
            udp: true,
        }
    }

    fn kinds(out: &EventBatch) -> Vec<(u64, EventKind)> {
        out.events.iter().map(|e| (e.conn, e.kind)).collect()
    }

    #[test]
    fn a_new_flow_opens_then_carries_its_datagram_with_the_time() {
        let (mut flows, mut out, mut id) = (UdpFlows::default(), EventBatch::default(), 0);
        flows.datagram(7, &seg(40000, b"hi"), &mut id, 10, true, &mut out);
        assert_eq!(
            kinds(&out),
            vec![
                (0, EventKind::OpenUdp { resp_p: 443 }),
                (
                    0,
                    EventKind::Datagram {
                        start: 0,
                        len: 2,
                        ts: 7
                    }
                )
            ]
        );
    }

    #[test]
    fn a_bypassed_flow_only_counts_its_datagrams() {
        let (mut flows, mut out, mut id) = (UdpFlows::default(), EventBatch::default(), 0);
        flows.datagram(1, &seg(40000, b"a"), &mut id, 10, true, &mut out);
        assert!(flows.bypass(0));
        out.clear();
        flows.datagram(2, &seg(40000, b"bc"), &mut id, 10, true, &mut out);
        flows.finish("eof", &mut out);
        assert_eq!(kinds(&out), vec![(0, EventKind::End { index: 0 })]);
        assert_eq!((out.ends[0].orig_pkts, out.ends[0].orig_bytes), (2, 3));
    }

    #[test]
    fn past_the_cap_the_oldest_flow_ends_first() {
        let (mut flows, mut out, mut id) = (UdpFlows::default(), EventBatch::default(), 0);
        flows.datagram(1, &seg(40000, b"a"), &mut id, 1, true, &mut out);
        flows.datagram(2, &seg(40001, b"b"), &mut id, 1, true, &mut out);
        assert_eq!(out.ends[0].end_reason, END_EVICTED);
        assert_eq!((out.ends[0].conn, flows.evicted, flows.len()), (0, 1, 1));
    }

    /// The first bytes of a v1 Initial with these IDs (the rest does not matter to the table).
    fn long(dcid: &[u8], scid: &[u8]) -> Vec<u8> {
        let mut d = vec![0xc3, 0, 0, 0, 1, u8::try_from(dcid.len()).unwrap()];
        d.extend_from_slice(dcid);
        d.push(u8::try_from(scid.len()).unwrap());
        d.extend_from_slice(scid);
        d.extend_from_slice(&[0, 0x41, 0]);
        d
    }

    fn short(dcid: &[u8]) -> Vec<u8> {
        [&[0x41], dcid, b"sealed"].concat()
    }

    fn from_server(dport: u16, payload: &[u8]) -> Segment<'_> {
        Segment {
            src: Addr::V4(0x0a00_0002),
            dst: Addr::V4(0x0a00_0001),
            sport: 443,
            dport,
            ..seg(0, payload)
        }
    }

    /// The flow table, its events and its connection counter, one datagram at a time.
    #[derive(Default)]
    struct Table {
        flows: UdpFlows,
        out: EventBatch,
        id: u64,
    }

    impl Table {
        fn send(&mut self, ts: i64, seg: &Segment<'_>) {
            self.flows
                .datagram(ts, seg, &mut self.id, 10, true, &mut self.out);
        }

        /// After a handshake on port 40000: the client's Initial (first DCID "client-dcid", SCID "clientid")
        /// and the server's (SCID "serverid").
        fn after_handshake() -> Self {
            let mut t = Table::default();
            t.send(1, &seg(40000, &long(b"client-dcid", b"clientid")));
            t.send(2, &from_server(40000, &long(b"clientid", b"serverid")));
            t
        }
    }

    #[test]
    fn a_short_header_from_a_new_port_naming_the_servers_id_joins_the_flow_from_the_client() {
        let mut t = Table::after_handshake();
        t.send(3, &seg(40001, &short(b"serverid")));
        t.send(4, &from_server(40001, &short(b"clientid")));
        t.flows.finish("eof", &mut t.out);
        let end = &t.out.ends[0];
        assert_eq!((t.id, t.flows.len(), t.out.ends.len()), (1, 0, 1));
        assert_eq!(
            (end.orig_p, end.orig_pkts, end.resp_pkts, end.paths),
            (40000, 2, 2, 2)
        );
        assert!(!end.addresses_changed);
        assert!(t.out.events.iter().all(|e| e.conn == 0));
    }

    #[test]
    fn the_clients_first_dcid_names_the_server_side() {
        let mut t = Table::default();
        t.send(1, &seg(40000, &long(b"client-dcid", b"clientid")));
        t.send(2, &seg(40001, &long(b"client-dcid", b"clientid")));
        t.flows.finish("eof", &mut t.out);
        assert_eq!((t.out.ends[0].orig_pkts, t.out.ends[0].paths), (2, 2));
    }

    #[test]
    fn a_new_path_with_another_address_is_noted() {
        let mut t = Table::after_handshake();
        let payload = short(b"serverid");
        let moved = Segment {
            src: Addr::V4(0x0a00_0063),
            ..seg(5000, &payload)
        };
        t.send(3, &moved);
        t.flows.finish("eof", &mut t.out);
        assert_eq!(
            (t.out.ends[0].paths, t.out.ends[0].addresses_changed),
            (2, true)
        );
    }

    #[test]
    fn an_unknown_id_on_a_new_port_is_a_flow_of_its_own() {
        let mut t = Table::after_handshake();
        t.send(3, &seg(40001, &short(b"stranger")));
        assert_eq!((t.id, t.flows.len()), (2, 2));
    }

    #[test]
    fn an_ended_flows_paths_and_ids_leave_the_tables() {
        let mut t = Table::after_handshake();
        t.send(3, &seg(40001, &short(b"serverid")));
        t.flows.finish("eof", &mut t.out);
        assert_eq!((t.flows.table.len(), t.flows.cids.len()), (0, 0));
        t.send(4, &seg(40002, &short(b"serverid")));
        assert_eq!(t.id, 2);
    }

    #[test]
    fn a_flow_holds_at_most_eight_paths() {
        let mut t = Table::after_handshake();
        for port in 40001..40009 {
            t.send(3, &seg(port, &short(b"serverid")));
        }
        assert_eq!(
            (t.id, t.flows.len(), t.flows.table.len()),
            (2, 2, 2 * 8 + 2)
        );
    }
}
