"""The connection table and the per-packet loop.

Theory of operation
-------------------
Every decoded TCP segment is looked up in one dict keyed by its own 4-tuple (sender first). Both directions of
a connection are in the table, each under its own key, pointing at that direction's :class:`Half`; one lookup
gives the connection and the direction.

A connection is *bypassed* once its consumer (the protocol dispatcher) says nothing later in the stream can
change its record — typically when the TLS handshake is over. A bypassed connection's packets cost the decode,
the lookup and three counter updates; only SYN/FIN/RST packets leave that fast path. Everything else goes
through :meth:`TcpTracker._slow`: connection creation, direction, history letters, reassembly, closing.

Connections end on FIN from both sides, on RST, after an idle timeout, when the input ends, or when evicted to
respect the connection cap. Eviction takes the connection that has been quiet longest by a second-chance
queue (as Suricata's flow manager prefers idle flows): connections queue in creation order with their packet
count; the one at the head is evicted if it has had no packet since it was queued, else it queues again with
its new count. Each packet is requeued at most once per pass, so eviction is O(1) amortised. An evicted
connection leaves a *tombstone* on both its 4-tuples: its later packets are counted
(``TrackerStats.evicted_packets``) instead of each opening a new connection and a new row, until the tombstone
has been idle for the idle timeout, a new SYN reuses the 4-tuple, or the tombstones themselves exceed the
connection cap (oldest first). A closed connection lingers in the table for ``linger_ns`` so that the last ACKs
and retransmissions are counted in it instead of starting a bogus new connection; a new SYN on the same
4-tuple ends it at once (port reuse). Each connection is handed to ``on_close`` exactly once as it ends.

Interim records (``interim_interval_ns``, for long-running capture): a sweep also hands ``on_close`` every open
connection that has crossed a multiple of the interval since its start (at 1, 2, 3 … times the interval) since the
previous sweep, with ``end_reason`` set to ``interim`` for that call only; the connection stays in the table
and is handed over once more when it ends. The check runs in the sweep, never per packet.

Originator: the sender of a SYN without ACK (or the receiver of a SYN-ACK). A connection picked up mid-stream
takes as originator the side that sent to the well-known port, as Zeek does; failing that, the sender of the
first packet seen.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Iterable

from tlsmon.capture.linktypes import LINKTYPE_ETHERNET
from tlsmon.consumer import StreamConsumer
from tlsmon.decode.numbers import IPPROTO_TCP, IPV4_FRAGMENTED
from tlsmon.decode.packet import (
    FAST_ETH_IPV4_TCP,
    FAST_HEAD,
    FAST_MASK,
    FAST_MIN_LEN,
    FLAG_UDP,
    Decoded,
    Decoder,
)
from tlsmon.tcp.connection import (
    END_EOF,
    END_EVICTED,
    END_FIN,
    END_INTERIM,
    END_RST,
    END_TIMEOUT,
    LETTER_ACK,
    LETTER_DATA,
    Connection,
    Half,
)
from tlsmon.tcp.endpoint import both_closed, track
from tlsmon.tcp.ports import sender_is_originator
from tlsmon.tcp.reassembly import Reassembler
from tlsmon.tcp.tracker_config import TrackerConfig, TrackerStats
from tlsmon.udp.flows import UdpTracker

_FIN = 0x01
_SYN = 0x02
_RST = 0x04
_ACK = 0x10
_SYN_FIN_RST = _FIN | _SYN | _RST

# Out-of-order data held across all connections exceeded max_buffered_total: one direction's holes were
# declared gaps early to free memory (Suricata's stream.reassembly memcap, counted per connection here).
ANOMALY_GLOBAL_BUFFER_CAP = "tcp.global_buffer_cap"

class TcpTracker:
    def __init__(
        self,
        decoder: Decoder,
        consumer_factory: Callable[[Connection], StreamConsumer],
        on_close: Callable[[Connection], None],
        config: TrackerConfig | None = None,
        on_progress: Callable[[], None] | None = None,
        udp: UdpTracker | None = None,
    ) -> None:
        self.decoder = decoder
        self.udp = udp  # UDP datagrams go to its flow table; without one they are counted and dropped
        self.consumer_factory = consumer_factory
        self.on_close = on_close
        self.config = config or TrackerConfig()
        self.on_progress = on_progress
        self.table: dict[tuple[object, ...], Half] = {}
        self.stats = TrackerStats()
        self._next_sweep_ts: int | None = None
        self._last_interim_check: int | None = None
        self._held_bytes = 0  # out-of-order bytes held by all reassemblers
        # Closed connections in the order they closed, so their linger ends are released without a full sweep.
        self._closing: deque[Connection] = deque()
        # Eviction candidates with their packet count when queued (see the module docstring).
        self._evict_queue: deque[tuple[Connection, int]] = deque()
        # 4-tuples of evicted connections → time of their last packet.
        self._tombstones: OrderedDict[tuple[object, ...], int] = OrderedDict()

    # -- the per-packet loop ------------------------------------------------------------------------
    def process(self, frames: Iterable[tuple[int, int, bytes]]) -> None:
        decode = self.decoder.decode
        fast_unpack = FAST_ETH_IPV4_TCP
        get = self.table.get
        slow = self._slow
        stats = self.stats
        udp = self.udp
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
                if linktype == LINKTYPE_ETHERNET and len(frame) >= FAST_MIN_LEN:
                    # Bypass lane: a whole Ethernet/IPv4/TCP data segment of a bypassed connection is
                    # counted without building the decoded tuple. Anything else falls through to decode().
                    head, total, frag, proto, src, dst, sport, dport, seq, ack, doff, flags = fast_unpack(frame)
                    if (
                        head & FAST_MASK == FAST_HEAD
                        and proto == IPPROTO_TCP
                        and not frag & IPV4_FRAGMENTED
                        and not flags & _SYN_FIN_RST
                    ):
                        half = get((src, sport, dst, dport))
                        if half is not None and half.bypass and half.conn.closed_ts is None:
                            plen = total - 20 - ((doff >> 2) & 0x3C)
                            if plen >= 0 and total + 14 <= len(frame):
                                half.pkts += 1
                                half.bytes += plen
                                half.last_ts = ts
                                if not half.letters & (LETTER_DATA if plen else LETTER_ACK):
                                    _add_history(half, flags, plen)
                                _track_bypassed(half, ts, flags, seq, ack, plen)
                                fast += 1
                                tcp += 1
                                continue
                d = decode(ts, linktype, frame)
                if d is None:
                    continue
                _, src, dst, sport, dport, flags, seq, ack, _, _, plen, _ = d
                if flags & FLAG_UDP:
                    if udp is not None:
                        udp.datagram(ts, d)
                    continue
                tcp += 1
                key = (src, sport, dst, dport)
                half = get(key)
                if half is not None and half.bypass and not flags & _SYN_FIN_RST and half.conn.closed_ts is None:
                    half.pkts += 1
                    half.bytes += plen
                    half.last_ts = ts
                    if not half.letters & (LETTER_DATA if plen else LETTER_ACK):
                        _add_history(half, flags, plen)
                    _track_bypassed(half, ts, flags, seq, ack, plen)
                    fast += 1
                    continue
                slow(half, key, ts, d)
        finally:
            stats.packets = n
            stats.tcp_packets += tcp
            stats.bypassed_packets += fast

    # -- everything that is not a bypassed data packet -------------------------------------------------
    def _slow(self, half: Half | None, key: tuple[object, ...], ts: int, d: Decoded) -> None:
        ip_version, src, dst, sport, dport, flags, seq, ack, buf, poff, plen, vlan = d
        closed_ts = half.conn.closed_ts if half is not None else None
        if closed_ts is not None and (flags & (_SYN | _ACK) == _SYN or ts - closed_ts > self.config.linger_ns):
            # A new SYN on the 4-tuple (port reuse), or a packet after the linger: the closed connection ends
            # here, whether or not a sweep got to it yet, and the packet starts a new one.
            assert half is not None
            self._finalize(half.conn)
            half = None
        if half is None:
            if key in self._tombstones and not self._reuse_tombstone(key, ts, flags):
                return
            half = self._create(ts, ip_version, src, dst, sport, dport, flags, vlan, key)
        conn = half.conn
        is_orig = half.is_orig
        peer = conn.resp if is_orig else conn.orig
        half.pkts += 1
        half.bytes += plen
        half.last_ts = ts
        _add_history(half, flags, plen)
        if not both_closed(half.seqs, peer.seqs):
            conn.zeek_last_ts = ts
        track(half.seqs, peer.seqs, conn.orig.seqs, is_orig, flags, seq, ack, plen)

        if not half.bypass and (conn.closed_ts is None or conn.rst_open_side is is_orig):
            reasm = half.reasm
            if reasm is None:
                reasm = half.reasm = self._new_reassembler(conn, is_orig)
            held = reasm.held_memory + (peer.reasm.held_memory if peer.reasm is not None else 0)
            if flags & _SYN:
                reasm.syn(seq)
                conn.syn_seen = True
                if plen:  # data on a SYN (TFO) starts after the SYN's sequence number
                    reasm.segment(seq + 1, buf, poff, plen, bool(flags & _FIN))
            elif plen or flags & _FIN:
                reasm.segment(seq, buf, poff, plen, bool(flags & _FIN))
            if flags & _ACK and peer.reasm is not None and conn.closed_ts is None:
                # Bytes the peer acknowledges but we never saw are a gap now (Zeek's missed_bytes). After an
                # RST the peer's stream is over: nothing of it is acknowledged any more.
                peer.reasm.ack(ack)
            held = reasm.held_memory + (peer.reasm.held_memory if peer.reasm is not None else 0) - held
            if held:
                self._held_bytes += held
                if self._held_bytes > self.config.max_buffered_total:
                    self._release_memory(conn, reasm)
            consumer = conn.consumer
            if consumer is not None and consumer.finished:
                self._bypass(conn)

        if flags & _RST:
            conn.rst = True
            if conn.closed_ts is None:
                # The reset ends its sender's stream; what the other side had already sent (a Certificate in
                # flight, say) is still reassembled until the linger ends.
                conn.rst_open_side = not is_orig
                self._close(conn, ts, END_RST)
            elif conn.rst_open_side is is_orig:  # the other side resets too: its stream is over as well
                conn.rst_open_side = None
                self._flush(conn, only=half)
        elif flags & _FIN:
            half.fin = True
            if peer.fin:
                self._close(conn, ts, END_FIN)

    def _create(
        self,
        ts: int,
        ip_version: int,
        src: int | bytes,
        dst: int | bytes,
        sport: int,
        dport: int,
        flags: int,
        vlan: int | None,
        key: tuple[object, ...],
    ) -> Half:
        table = self.table
        if len(table) >= 2 * self.config.max_connections:
            self._evict(ts)
        if sender_is_originator(flags, sport, dport):
            conn = Connection(ts, ip_version, src, sport, dst, dport, vlan)
        else:
            conn = Connection(ts, ip_version, dst, dport, src, sport, vlan)
        conn.consumer = self.consumer_factory(conn)
        table[conn.orig.key] = conn.orig
        table[conn.resp.key] = conn.resp
        queue = self._evict_queue
        queue.append((conn, 1))  # the packet creating it is its first
        if len(queue) > 2 * len(table) + 1024:  # drop ended connections from the queue; order is kept
            self._evict_queue = deque((c, n) for c, n in queue if table.get(c.orig.key) is c.orig)
        self.stats.connections += 1
        return conn.orig if conn.orig.key == key else conn.resp

    def _evict(self, ts: int) -> None:
        """End the connection quiet the longest (second chance) and leave its tombstone."""
        queue = self._evict_queue
        table = self.table
        while queue:
            conn, queued_at = queue.popleft()
            if table.get(conn.orig.key) is not conn.orig:
                continue  # ended already
            seen = conn.orig.pkts + conn.resp.pkts
            if seen != queued_at:
                queue.append((conn, seen))
                continue
            conn.end_reason = END_EVICTED
            self.stats.evicted += 1
            self._finalize(conn)
            tombstones = self._tombstones
            tombstones[conn.orig.key] = ts
            tombstones[conn.resp.key] = ts
            while len(tombstones) > 2 * self.config.max_connections:
                tombstones.popitem(last=False)
            return

    def _reuse_tombstone(self, key: tuple[object, ...], ts: int, flags: int) -> bool:
        """A packet on an evicted connection's 4-tuple: True if it opens a new connection (a SYN), else counted."""
        tombstones = self._tombstones
        if flags & (_SYN | _ACK) == _SYN:
            src, sport, dst, dport = key
            del tombstones[key]
            tombstones.pop((dst, dport, src, sport), None)
            return True
        tombstones[key] = ts
        self.stats.evicted_packets += 1
        return False

    def _new_reassembler(self, conn: Connection, is_orig: bool) -> Reassembler:
        assert conn.consumer is not None
        return Reassembler(is_orig, conn.consumer, self.config.max_buffered_per_direction)

    def _release_memory(self, conn: Connection, reasm: Reassembler) -> None:
        """Over the global cap: this direction's holes become gaps now and its held bytes are delivered."""
        self._held_bytes -= reasm.held_memory
        reasm.flush()
        if ANOMALY_GLOBAL_BUFFER_CAP not in conn.anomalies:  # named once per row; the run counts every flush
            conn.anomalies.append(ANOMALY_GLOBAL_BUFFER_CAP)
        self.stats.buffer_cap_flushes += 1

    def _bypass(self, conn: Connection) -> None:
        for half in (conn.orig, conn.resp):
            half.bypass = True
            if half.reasm is not None:
                self._held_bytes -= half.reasm.held_memory
                half.reasm.stop()

    def _close(self, conn: Connection, ts: int, reason: str) -> None:
        if conn.closed_ts is not None:
            return
        conn.closed_ts = ts
        conn.end_reason = reason
        self._flush(conn)
        self._closing.append(conn)

    def _flush(self, conn: Connection, only: Half | None = None) -> None:
        """Hand the consumer everything still buffered, holes reported as gaps: both directions, or ``only``
        one, except the direction an RST left open (it is flushed when the connection is finalized)."""
        if conn.bypass:
            return
        for half in (conn.orig, conn.resp) if only is None else (only,):
            if only is None and conn.rst_open_side is half.is_orig:
                continue
            if half.reasm is not None:
                self._held_bytes -= half.reasm.held_memory
                half.reasm.flush()

    def _finalize(self, conn: Connection) -> None:
        table = self.table
        for half in (conn.orig, conn.resp):
            if table.get(half.key) is half:
                del table[half.key]
        if conn.closed_ts is None:
            self._flush(conn)
        elif conn.rst_open_side is not None:
            self._flush(conn, only=conn.orig if conn.rst_open_side else conn.resp)
        if conn.consumer is not None:
            conn.consumer.end()
        self.on_close(conn)

    # -- time ----------------------------------------------------------------------------------------
    def _periodic(self, ts: int) -> None:
        if self.on_progress is not None:
            self.on_progress()
        self._release_closed(ts)
        if self._next_sweep_ts is None:
            self._next_sweep_ts = ts + self.config.sweep_interval_ns
        elif ts >= self._next_sweep_ts:
            self._next_sweep_ts = ts + self.config.sweep_interval_ns
            self.sweep(ts)

    def _release_closed(self, now: int) -> None:
        """Finalize closed connections whose linger is over, oldest close first (closes are queued in order)."""
        closing = self._closing
        linger_before = now - self.config.linger_ns
        table = self.table
        while closing and (closing[0].closed_ts or 0) < linger_before:
            conn = closing.popleft()
            if table.get(conn.orig.key) is conn.orig:  # not already ended by a sweep or a reused 4-tuple
                self._finalize(conn)

    def sweep(self, now: int) -> None:
        """End connections idle for longer than the timeout and closed ones past their linger time."""
        cfg = self.config
        idle_before = now - cfg.idle_timeout_ns
        linger_before = now - cfg.linger_ns
        expired = [
            h.conn
            for h in self.table.values()
            if h.is_orig
            and ((h.conn.closed_ts is not None and h.conn.closed_ts < linger_before) or h.conn.last_ts < idle_before)
        ]
        for conn in expired:
            if conn.closed_ts is None:
                conn.end_reason = END_TIMEOUT
            self._finalize(conn)
        tombstones = self._tombstones
        for key in [k for k, last in tombstones.items() if last < idle_before]:
            del tombstones[key]
        if self.udp is not None:
            self.udp.sweep(now)
        if cfg.interim_interval_ns:
            self._interim(now, cfg.interim_interval_ns)

    def _interim(self, now: int, interval: int) -> None:
        """Interim records of open connections whose age crossed a multiple of ``interval`` since last time."""
        previous = self._last_interim_check
        if previous is not None and now <= previous:
            return
        self._last_interim_check = now
        if previous is None:
            return
        due = [
            h.conn
            for h in self.table.values()
            if h.is_orig
            and h.conn.closed_ts is None
            and (now - h.conn.start_ts) // interval > max(0, (previous - h.conn.start_ts) // interval)
        ]
        for conn in due:
            reason = conn.end_reason
            conn.end_reason = END_INTERIM
            try:
                self.on_close(conn)
            finally:
                conn.end_reason = reason

    def connections(self) -> list[Connection]:
        """The connections in the table now (open or lingering after their close), oldest first."""
        return [h.conn for h in self.table.values() if h.is_orig]

    def finish(self, reason: str = END_EOF) -> None:
        """End of input: every connection still in the table ends now, oldest first.

        ``reason`` is the ``end_reason`` of those still open (``eof``, or ``interrupted`` when the run was
        stopped by a signal); a connection that closed with FIN or RST keeps its own.
        """
        for half in list(self.table.values()):
            if half.is_orig:
                conn = half.conn
                if conn.closed_ts is None:
                    conn.end_reason = reason
                self._finalize(conn)
        if self.udp is not None:
            self.udp.finish(reason)


def _add_history(half: Half, flags: int, plen: int) -> None:
    """Zeek's conn.log history letters, each recorded once per direction; upper case for the originator.

    Bypassed segments still add their letter (D or A), so the history does not depend on when the bypass
    started: the native engine learns of it a batch later than this one does.
    """
    conn = half.conn
    is_orig = half.is_orig
    if plen:
        half.letters |= LETTER_DATA
    elif not flags & _SYN_FIN_RST and flags & _ACK:
        half.letters |= LETTER_ACK
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


def _track_bypassed(half: Half, ts: int, flags: int, seq: int, ack: int, plen: int) -> None:
    conn = half.conn
    is_orig = half.is_orig
    peer = conn.resp if is_orig else conn.orig
    if not both_closed(half.seqs, peer.seqs):
        conn.zeek_last_ts = ts
    track(half.seqs, peer.seqs, conn.orig.seqs, is_orig, flags, seq, ack, plen)
