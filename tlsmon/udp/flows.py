"""The UDP flow table: one flow per pair of endpoints, for TLS carried over UDP (QUIC, DTLS).

Theory of operation
-------------------
The TCP tracker's packet loop hands every decoded UDP datagram (not a tunnel) to :meth:`UdpTracker.datagram`.
Like the TCP table, the flow table is keyed by each direction's 4-tuple (sender first), so one lookup gives the
flow and the direction. A flow's originator is the sender of its first datagram, unless that datagram goes
from a well-known port to another one (then the receiver is, as Zeek guesses for UDP).

Each flow gets a consumer from the factory (the UDP dispatcher: it probes the first datagrams for QUIC or DTLS
and hands them to that analyzer). The consumer sees each datagram whole with its timestamp; once it says
``finished`` (not QUIC nor DTLS, or the handshake is over) the flow is *bypassed*: its datagrams are only
counted. A flow ends after ``udp_idle_timeout_ns`` without a datagram (Zeek's ``udp_inactivity_timeout`` is one
minute), when the input ends, or, past ``max_connections`` flows, the oldest-created is ended first
(``evicted``). Each flow is handed to ``on_close`` exactly once, with its counters and ``end_reason``.

A QUIC connection can change its 4-tuple (NAT rebinding, migration: RFC 9000 §9). The table learns each flow's
clear-text connection IDs and, before creating a flow for an unknown 4-tuple, asks the :class:`CidIndex`
whether the datagram names a live flow's ID (tlsmon/udp/cids.py has the rules). If so, the 4-tuple is added to
that flow (both directions, until the flow ends; at most ``MAX_PATHS_PER_FLOW``), the datagram is counted in
the direction the ID says and goes to the same consumer. The flow keeps its first 4-tuple as its addresses
(the row's); ``paths`` counts the 4-tuples and ``addresses_changed`` says whether a later one had other
addresses than the first (not only other ports), which the row names as ``udp.quic_address_changed``.

Both engines keep this table the same way (``native/src/udp/``), held equal by tests/engines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from tlsmon.decode.numbers import IPPROTO_UDP
from tlsmon.decode.packet import Decoded
from tlsmon.tcp.connection import END_EOF, END_EVICTED, END_TIMEOUT, TransportFacts
from tlsmon.tcp.ports import sender_is_originator
from tlsmon.tcp.tracker_config import DEFAULT_UDP_IDLE_TIMEOUT_NS
from tlsmon.udp.anomalies import UdpAnomaly
from tlsmon.udp.cids import MAX_CIDS_PER_FLOW, MAX_PATHS_PER_FLOW, CidIndex, long_header_cids


def path_anomalies(flow: TransportFacts) -> list[str]:
    """The row's transport anomalies of a UDP flow."""
    return [UdpAnomaly.QUIC_ADDRESS_CHANGED] if flow.addresses_changed else []


class DatagramConsumer(Protocol):
    """What a UDP flow's datagrams go to (the UDP dispatcher)."""

    @property
    def finished(self) -> bool: ...

    def datagram(self, is_orig: bool, ts: int, payload: bytes) -> None: ...

    def end(self) -> None: ...


class UdpFlow:
    """One UDP flow's transport facts (the :class:`~tlsmon.tcp.connection.TransportFacts` of its row)."""

    __slots__ = (
        "addresses_changed",
        "bypass",
        "cids",
        "consumer",
        "end_reason",
        "extra_paths",
        "history",
        "ip_version",
        "orig_bytes",
        "orig_h",
        "orig_last",
        "orig_p",
        "orig_pkts",
        "resp_bytes",
        "resp_h",
        "resp_last",
        "resp_p",
        "resp_pkts",
        "start_ts",
        "uid",
        "vlan",
    )

    def __init__(
        self,
        ts: int,
        ip_version: int,
        orig_h: int | bytes,
        orig_p: int,
        resp_h: int | bytes,
        resp_p: int,
        vlan: int | None,
    ) -> None:
        self.start_ts = ts
        self.ip_version = ip_version
        self.orig_h = orig_h
        self.orig_p = orig_p
        self.resp_h = resp_h
        self.resp_p = resp_p
        self.vlan = vlan
        self.orig_pkts = self.resp_pkts = 0
        self.orig_bytes = self.resp_bytes = 0
        self.orig_last = self.resp_last = ts
        self.history = ""
        self.end_reason = END_EOF
        self.bypass = False
        self.consumer: DatagramConsumer | None = None
        self.uid: str | None = None
        self.cids: list[bytes] = []  # the connection IDs learned (tlsmon/udp/cids.py)
        self.extra_paths: list[tuple[int | bytes, int, int | bytes, int]] = []  # later 4-tuples, orig side first
        self.addresses_changed = False

    proto = IPPROTO_UDP
    # TransportFacts that a UDP flow has in one way only: nothing is reassembled, and Zeek's size of a UDP
    # endpoint is its payload bytes.
    orig_missed_bytes = resp_missed_bytes = 0
    orig_state = resp_state = 0
    orig_seq_first = orig_seq_next = resp_seq_first = resp_seq_next = None

    @property
    def last_ts(self) -> int:
        return max(self.orig_last, self.resp_last)

    @property
    def paths(self) -> int:
        """The 4-tuples the flow was seen on: 1, more for a QUIC connection followed by connection ID."""
        return 1 + len(self.extra_paths)

    @property
    def zeek_last_ts(self) -> int:
        return self.last_ts

    @property
    def orig_size(self) -> int:
        return self.orig_bytes

    @property
    def resp_size(self) -> int:
        return self.resp_bytes


class UdpTracker:
    """The UDP flow table; driven by :class:`~tlsmon.tcp.tracker.TcpTracker`'s packet loop and clock."""

    def __init__(
        self,
        consumer_factory: Callable[[UdpFlow], DatagramConsumer],
        on_close: Callable[[UdpFlow], None],
        max_flows: int,
        idle_timeout_ns: int = DEFAULT_UDP_IDLE_TIMEOUT_NS,
    ) -> None:
        self.consumer_factory = consumer_factory
        self.on_close = on_close
        self.max_flows = max_flows
        self.idle_timeout_ns = idle_timeout_ns
        self.table: dict[tuple[object, ...], tuple[UdpFlow, bool]] = {}
        self.cids: CidIndex[UdpFlow] = CidIndex()
        self.flows: dict[int, UdpFlow] = {}  # by id(), in creation order: the eviction order
        self.created = 0
        self.evicted = 0
        self.bypassed_datagrams = 0

    def datagram(self, ts: int, d: Decoded) -> None:
        ip_version, src, dst, sport, dport, _, _, _, buf, poff, plen, vlan = d
        found = self.table.get((src, sport, dst, dport))
        if found is None:
            found = self._moved(buf, poff, poff + plen, src, sport, dst, dport) if self.cids.by_cid else None
            if found is None:
                found = self._create(ts, ip_version, src, dst, sport, dport, vlan)
        flow, is_orig = found
        if plen and buf[poff] & 0x80 and len(flow.cids) < MAX_CIDS_PER_FLOW:
            cids = long_header_cids(buf, poff, poff + plen)
            if cids is not None:
                # the DCID addresses the receiver, the SCID the sender
                self.cids.learn(flow, flow.cids, cids[0], not is_orig)
                self.cids.learn(flow, flow.cids, cids[1], is_orig)
        if is_orig:
            flow.orig_pkts += 1
            flow.orig_bytes += plen
            flow.orig_last = ts
            if "D" not in flow.history:
                flow.history += "D"
        else:
            flow.resp_pkts += 1
            flow.resp_bytes += plen
            flow.resp_last = ts
            if "d" not in flow.history:
                flow.history += "d"
        if flow.bypass:
            self.bypassed_datagrams += 1
            return
        consumer = flow.consumer
        assert consumer is not None
        consumer.datagram(is_orig, ts, bytes(buf[poff : poff + plen]))
        if consumer.finished:
            flow.bypass = True

    def _moved(
        self,
        buf: bytes | memoryview,
        off: int,
        end: int,
        src: int | bytes,
        sport: int,
        dst: int | bytes,
        dport: int,
    ) -> tuple[UdpFlow, bool] | None:
        """The live flow a datagram of an unknown 4-tuple names by connection ID, which gets the 4-tuple."""
        found = self.cids.match(buf, off, end)
        if found is None:
            return None
        flow, addressed_is_orig = found
        if len(flow.extra_paths) + 1 >= MAX_PATHS_PER_FLOW:
            return None
        is_orig = not addressed_is_orig  # the sender is the side the ID does not address
        path = (src, sport, dst, dport) if is_orig else (dst, dport, src, sport)
        flow.extra_paths.append(path)
        if (path[0], path[2]) != (flow.orig_h, flow.resp_h):
            flow.addresses_changed = True
        self.table[path] = (flow, True)
        self.table[(path[2], path[3], path[0], path[1])] = (flow, False)
        return flow, is_orig

    def _create(
        self,
        ts: int,
        ip_version: int,
        src: int | bytes,
        dst: int | bytes,
        sport: int,
        dport: int,
        vlan: int | None,
    ) -> tuple[UdpFlow, bool]:
        if len(self.flows) >= self.max_flows:
            oldest = next(iter(self.flows.values()))
            oldest.end_reason = END_EVICTED
            self.evicted += 1
            self._finalize(oldest)
        sender_is_orig = sender_is_originator(0, sport, dport)  # no SYN in UDP: the port rule alone
        if sender_is_orig:
            flow = UdpFlow(ts, ip_version, src, sport, dst, dport, vlan)
        else:
            flow = UdpFlow(ts, ip_version, dst, dport, src, sport, vlan)
        self.table[(flow.orig_h, flow.orig_p, flow.resp_h, flow.resp_p)] = (flow, True)
        self.table[(flow.resp_h, flow.resp_p, flow.orig_h, flow.orig_p)] = (flow, False)
        self.flows[id(flow)] = flow
        self.created += 1
        flow.consumer = self.consumer_factory(flow)
        return flow, sender_is_orig

    def _finalize(self, flow: UdpFlow) -> None:
        del self.flows[id(flow)]
        self.table.pop((flow.orig_h, flow.orig_p, flow.resp_h, flow.resp_p), None)
        self.table.pop((flow.resp_h, flow.resp_p, flow.orig_h, flow.orig_p), None)
        for orig_h, orig_p, resp_h, resp_p in flow.extra_paths:
            self.table.pop((orig_h, orig_p, resp_h, resp_p), None)
            self.table.pop((resp_h, resp_p, orig_h, orig_p), None)
        if flow.cids:
            self.cids.forget(flow, flow.cids)
        if flow.consumer is not None:
            flow.consumer.end()
        self.on_close(flow)

    def sweep(self, now: int) -> None:
        """End the flows idle for longer than the timeout, oldest-created first."""
        idle_before = now - self.idle_timeout_ns
        for flow in [f for f in self.flows.values() if f.last_ts < idle_before]:
            flow.end_reason = END_TIMEOUT
            self._finalize(flow)

    def finish(self, reason: str = END_EOF) -> None:
        """End of input: every flow ends now, oldest-created first, with ``reason``."""
        for flow in list(self.flows.values()):
            flow.end_reason = reason
            self._finalize(flow)
