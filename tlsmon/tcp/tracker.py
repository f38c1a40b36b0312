"""The connection table and the per-packet loop.

Theory of operation
-------------------
Every decoded TCP segment is looked up in one dict keyed by the 4-tuple in a canonical order (the smaller
(address, port) first), so both directions of a connection find the same entry with one lookup.

A connection is *bypassed* once its consumer (the protocol dispatcher) says nothing later in the stream can
change its record — typically when the TLS handshake is over. A bypassed connection's packets cost the decode,
the lookup and three counter updates; only SYN/FIN/RST packets leave that fast path. Everything else goes
through :meth:`TcpTracker._slow`: connection creation, direction, history letters, reassembly, closing.

Connections end on FIN from both sides, on RST, after an idle timeout, when the input ends, or when evicted to
respect the connection cap. A closed connection lingers in the table for ``linger_ns`` so that the last ACKs
and retransmissions are counted in it instead of starting a bogus new connection; a new SYN on the same
4-tuple ends it at once (port reuse). Each connection is handed to ``on_close`` exactly once.

Originator: the sender of a SYN without ACK (or the receiver of a SYN-ACK). A connection picked up mid-stream
takes as originator the side that sent to the well-known port, as Zeek does; failing that, the sender of the
first packet seen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tlsmon.decode.packet import Decoded, Decoder
from tlsmon.stream import StreamConsumer
from tlsmon.tcp.connection import (
    END_EOF,
    END_EVICTED,
    END_FIN,
    END_REUSED,
    END_RST,
    END_TIMEOUT,
    Connection,
)
from tlsmon.tcp.ports import is_service_port
from tlsmon.tcp.reassembly import Reassembler

_FIN = 0x01
_SYN = 0x02
_RST = 0x04
_ACK = 0x10
_SYN_FIN_RST = _FIN | _SYN | _RST

_SECOND = 1_000_000_000


@dataclass(slots=True)
class TrackerConfig:
    idle_timeout_ns: int = 300 * _SECOND  # Zeek's tcp_inactivity_timeout is 5 min
    linger_ns: int = 5 * _SECOND  # how long a closed connection still absorbs its stray packets
    max_connections: int = 1_000_000
    max_buffered_per_direction: int = 256 * 1024
    sweep_interval_ns: int = 10 * _SECOND  # packet-time interval between idle sweeps
    check_every_packets: int = 16384  # how often the loop looks at the clock (sweeps, progress)


@dataclass(slots=True)
class TrackerStats:
    packets: int = 0  # frames handed to the tracker
    tcp_packets: int = 0  # frames that decoded to a TCP segment
    connections: int = 0  # connections created
    evicted: int = 0  # connections removed early to respect max_connections
    bypassed_packets: int = 0
    counters: dict[str, int] = field(default_factory=dict)


class TcpTracker:
    def __init__(
        self,
        decoder: Decoder,
        consumer_factory: Callable[[Connection], StreamConsumer],
        on_close: Callable[[Connection], None],
        config: TrackerConfig | None = None,
        on_progress: Callable[[], None] | None = None,
    ) -> None:
        self.decoder = decoder
        self.consumer_factory = consumer_factory
        self.on_close = on_close
        self.config = config or TrackerConfig()
        self.on_progress = on_progress
        self.table: dict[tuple[object, ...], Connection] = {}
        self.stats = TrackerStats()
        self._next_sweep_ts: int | None = None
        self._last_ts = 0

    # -- the per-packet loop ------------------------------------------------------------------------
    def process(self, frames: Iterable[tuple[int, int, bytes]]) -> None:
        decode = self.decoder.decode
        get = self.table.get
        slow = self._slow
        stats = self.stats
        every = self.config.check_every_packets
        n = stats.packets
        check_at = n + every
        tcp = 0
        fast = 0
        try:
            for ts, linktype, frame in frames:
                n += 1
                if n >= check_at:
                    check_at = n + every
                    stats.packets = n
                    self._periodic(ts)
                d = decode(ts, linktype, frame)
                if d is None:
                    continue
                tcp += 1
                src = d[1]
                dst = d[2]
                sport = d[3]
                dport = d[4]
                if src < dst or (src == dst and sport < dport):  # type: ignore[operator]  # same IP version
                    key = (src, sport, dst, dport)
                else:
                    key = (dst, dport, src, sport)
                conn = get(key)
                if conn is not None and conn.bypass and not d[5] & _SYN_FIN_RST:
                    if sport == conn.orig_p and src == conn.orig_h:
                        conn.orig_pkts += 1
                        conn.orig_bytes += d[10]
                    else:
                        conn.resp_pkts += 1
                        conn.resp_bytes += d[10]
                    conn.last_ts = ts
                    fast += 1
                    continue
                slow(conn, key, ts, d)
        finally:
            stats.packets = n
            stats.tcp_packets += tcp
            stats.bypassed_packets += fast

    # -- everything that is not a bypassed data packet -------------------------------------------------
    def _slow(self, conn: Connection | None, key: tuple[object, ...], ts: int, d: Decoded) -> None:
        ip_version, src, dst, sport, dport, flags, seq, ack, buf, poff, plen, vlan = d
        self._last_ts = ts
        if conn is not None and conn.closed_ts is not None and flags & (_SYN | _ACK) == _SYN:
            conn.end_reason = conn.end_reason if conn.end_reason != END_EOF else END_REUSED
            self._finalize(conn)
            conn = None
        if conn is None:
            conn = self._create(key, ts, ip_version, src, dst, sport, dport, flags, vlan)
        is_orig = sport == conn.orig_p and src == conn.orig_h
        conn.last_ts = ts
        if is_orig:
            conn.orig_pkts += 1
            conn.orig_bytes += plen
        else:
            conn.resp_pkts += 1
            conn.resp_bytes += plen
        _add_history(conn, is_orig, flags, plen)

        if not conn.bypass and conn.closed_ts is None:
            reasm = self._reassembler(conn, is_orig)
            if flags & _SYN:
                reasm.syn(seq)
                conn.syn_seen = True
                if plen:  # data on a SYN (TFO) starts after the SYN's sequence number
                    reasm.segment(seq + 1, buf, poff, plen, bool(flags & _FIN))
            elif plen or flags & _FIN:
                reasm.segment(seq, buf, poff, plen, bool(flags & _FIN))
            if flags & _ACK:
                # Bytes the peer acknowledges but we never saw are a gap now (Zeek's missed_bytes).
                peer = conn.reasm_resp if is_orig else conn.reasm_orig
                if peer is not None:
                    peer.ack(ack)
            consumer = conn.consumer
            if consumer is not None and consumer.finished:
                self._bypass(conn)

        if flags & _RST:
            conn.rst = True
            self._close(conn, ts, END_RST)
        elif flags & _FIN:
            if is_orig:
                conn.fin_orig = True
            else:
                conn.fin_resp = True
            if conn.fin_orig and conn.fin_resp:
                self._close(conn, ts, END_FIN)

    def _create(
        self,
        key: tuple[object, ...],
        ts: int,
        ip_version: int,
        src: int | bytes,
        dst: int | bytes,
        sport: int,
        dport: int,
        flags: int,
        vlan: int | None,
    ) -> Connection:
        table = self.table
        if len(table) >= self.config.max_connections:
            oldest = next(iter(table.values()))
            oldest.end_reason = END_EVICTED
            self.stats.evicted += 1
            self._finalize(oldest)
        if _sender_is_originator(flags, sport, dport):
            conn = Connection(key, ts, ip_version, src, sport, dst, dport, vlan)
        else:
            conn = Connection(key, ts, ip_version, dst, dport, src, sport, vlan)
        conn.consumer = self.consumer_factory(conn)
        table[key] = conn
        self.stats.connections += 1
        return conn

    def _reassembler(self, conn: Connection, is_orig: bool) -> Reassembler:
        if is_orig:
            if conn.reasm_orig is None:
                conn.reasm_orig = self._new_reassembler(conn, True)
            return conn.reasm_orig
        if conn.reasm_resp is None:
            conn.reasm_resp = self._new_reassembler(conn, False)
        return conn.reasm_resp

    def _new_reassembler(self, conn: Connection, is_orig: bool) -> Reassembler:
        assert conn.consumer is not None
        return Reassembler(is_orig, conn.consumer, self.config.max_buffered_per_direction)

    def _bypass(self, conn: Connection) -> None:
        conn.bypass = True
        for reasm in (conn.reasm_orig, conn.reasm_resp):
            if reasm is not None:
                reasm.stop()

    def _close(self, conn: Connection, ts: int, reason: str) -> None:
        if conn.closed_ts is not None:
            return
        conn.closed_ts = ts
        conn.end_reason = reason
        self._flush(conn)

    def _flush(self, conn: Connection) -> None:
        """Hand the consumer everything still buffered, holes reported as gaps."""
        if conn.bypass:
            return
        for reasm in (conn.reasm_orig, conn.reasm_resp):
            if reasm is not None:
                reasm.flush()

    def _finalize(self, conn: Connection) -> None:
        if self.table.get(conn.key) is conn:
            del self.table[conn.key]
        if conn.closed_ts is None:
            self._flush(conn)
        if conn.consumer is not None:
            conn.consumer.end()
        self.on_close(conn)

    # -- time ----------------------------------------------------------------------------------------
    def _periodic(self, ts: int) -> None:
        if self.on_progress is not None:
            self.on_progress()
        if self._next_sweep_ts is None:
            self._next_sweep_ts = ts + self.config.sweep_interval_ns
        elif ts >= self._next_sweep_ts:
            self._next_sweep_ts = ts + self.config.sweep_interval_ns
            self.sweep(ts)

    def sweep(self, now: int) -> None:
        """End connections idle for longer than the timeout and closed ones past their linger time."""
        cfg = self.config
        idle_before = now - cfg.idle_timeout_ns
        linger_before = now - cfg.linger_ns
        expired = [
            c
            for c in self.table.values()
            if (c.closed_ts is not None and c.closed_ts < linger_before) or c.last_ts < idle_before
        ]
        for conn in expired:
            if conn.closed_ts is None:
                conn.end_reason = END_TIMEOUT
            self._finalize(conn)

    def finish(self) -> None:
        """End of input: every connection still in the table ends now, oldest first."""
        for conn in list(self.table.values()):
            self._finalize(conn)


def _sender_is_originator(flags: int, sport: int, dport: int) -> bool:
    syn_ack = flags & (_SYN | _ACK)
    if syn_ack == _SYN:
        return True
    if syn_ack == _SYN | _ACK:
        return False
    dport_service = is_service_port(dport)
    sport_service = is_service_port(sport)
    if dport_service != sport_service:
        return dport_service
    return True


def _add_history(conn: Connection, is_orig: bool, flags: int, plen: int) -> None:
    """Zeek's conn.log history letters, each recorded once per direction; upper case for the originator."""
    if flags & _SYN:
        letter = "S" if not flags & _ACK else "H"
    elif flags & _FIN:
        letter = "F"
    elif flags & _RST:
        letter = "R"
    elif plen:
        letter = "D"
    elif flags & _ACK:
        letter = "A"
    else:
        return
    if not is_orig:
        letter = letter.lower()
    if letter not in conn.history:
        conn.history += letter
    if plen and flags & (_SYN | _FIN | _RST):
        data_letter = "D" if is_orig else "d"
        if data_letter not in conn.history:
            conn.history += data_letter
