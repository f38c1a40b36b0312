"""Per-direction TCP stream reassembly: segments in any order → in-order bytes and explicit gaps.

Theory of operation. A :class:`Reassembler` owns one direction of one connection. It places every byte on a
*relative offset* axis that starts at 0 with the first byte of the stream (ISN + 1 when the SYN was seen, else
the first segment seen: a mid-stream pickup). Sequence numbers are 32-bit and wrap, so a segment's offset is
found from its signed 32-bit distance to the next expected sequence number; the axis itself is an unbounded
Python int, so streams longer than 4 GiB keep working.

``_next`` is the first offset not yet handed to the consumer. Everything below it was delivered (or declared
a gap) and is never delivered again. Segments that start at ``_next`` while nothing is held take the fast
path: a few comparisons, one copy and one ``consumer.data()`` call. Anything else takes the slow path:

* bytes below ``_next`` are dropped (retransmissions); they are compared with the last delivered chunk;
* bytes above ``_next`` only fill the holes between already-held bytes: the first copy of a byte wins, as in
  Zeek; a later copy that differs counts ``tcp.overlap_mismatch``. Held chunks therefore never overlap;
* the contiguous run that starts at ``_next`` is then delivered as one ``data()`` call;
* if the held memory exceeds ``max_buffered``, the hole before the first held chunk is declared a gap
  (``consumer.gap()``, ``missed_bytes``) and delivery resumes after it.

Held memory is counted as each held chunk's bytes plus :data:`CHUNK_OVERHEAD`, so a flood of one-byte
segments cannot hold many times the cap (issue 8 measured 46 bytes of memory per held payload byte when only
payload was counted). Held chunks live in a ``SortedDict`` keyed by offset: inserting one costs O(log n)
whatever the arrival order (a sorted list with ``insert`` was quadratic for segments arriving in reverse).

A hole is also declared when it can no longer be filled: :meth:`Reassembler.ack` (the peer acknowledged bytes
we never saw, so they will not be retransmitted) and :meth:`Reassembler.flush` (the connection is over). The
consumer always hears the gap before the bytes that follow it. A FIN fixes the end of the stream: bytes beyond
it are dropped and counted. docs/tcp-reassembly.md states the policy and compares it with Zeek and Suricata.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeAlias

from sortedcontainers import SortedDict

from tlsmon.consumer import StreamConsumer

SEQ_MOD = 1 << 32  # RFC 9293 §3.4: sequence numbers are 32-bit, arithmetic is modulo 2**32
SEQ_MASK = SEQ_MOD - 1
SEQ_HALF = 1 << 31  # RFC 1982 serial-number comparison: within 2**31 ahead is "after"
DEFAULT_MAX_BUFFERED = 256 * 1024  # out-of-order memory held per direction; Suricata's depth is per stream too
# Memory accounted for each held chunk beyond its bytes: about what one costs in the native engine (a BTreeMap
# entry, a Vec header, the allocator's minimum); the native engine counts the same, so both cap at one point.
CHUNK_OVERHEAD = 64


class TcpAnomaly(StrEnum):
    """Reassembly anomalies, counted per direction in :attr:`Reassembler.anomalies`."""

    # A retransmitted or overlapping segment carries bytes that differ from the first copy seen (possible
    # injection/evasion; Zeek's rexmit_inconsistency, Suricata's stream.reassembly_overlap_different_data).
    OVERLAP_MISMATCH = "tcp.overlap_mismatch"
    # Out-of-order bytes exceeded max_buffered: the hole before them was declared a gap.
    BUFFER_OVERFLOW = "tcp.buffer_overflow"
    # Payload beyond the sequence number of the direction's FIN (RFC 9293 §3.10.7.4: none may follow it).
    DATA_AFTER_FIN = "tcp.data_after_fin"
    # A second FIN at a different sequence number; the first one is kept.
    FIN_SEQ_CHANGED = "tcp.fin_seq_changed"
    # The capture holds fewer payload bytes than the segment carried (snaplen); the rest becomes a hole.
    TRUNCATED_PAYLOAD = "tcp.truncated_payload"
    # A SYN whose ISN does not match the stream already started (port reuse or injection).
    ISN_CHANGED = "tcp.isn_changed"


Payload: TypeAlias = bytes | bytearray | memoryview


class Reassembler:
    """One direction of one TCP connection; delivers its bytes in order to a :class:`StreamConsumer`.

    ``missed_bytes`` counts bytes declared gaps (Zeek's conn.log ``missed_bytes`` for this direction),
    ``buffered_bytes`` the out-of-order bytes held now, ``held_memory`` what they are accounted as (bytes plus
    :data:`CHUNK_OVERHEAD` per chunk; the caps compare it), ``anomalies`` maps :class:`TcpAnomaly` names to
    counts. All sequence numbers passed in are raw 32-bit values from the TCP header.
    """

    __slots__ = (
        "_base_seq",
        "_consumer",
        "_fast_seq",
        "_fin_end",
        "_held",
        "_is_orig",
        "_last",
        "_next",
        "_next_seq",
        "_pending_base",
        "_stopped",
        "anomalies",
        "buffered_bytes",
        "max_buffered",
        "missed_bytes",
    )

    def __init__(self, is_orig: bool, consumer: StreamConsumer, max_buffered: int = DEFAULT_MAX_BUFFERED) -> None:
        self._is_orig = is_orig
        self._consumer = consumer
        self.max_buffered = max_buffered
        self.missed_bytes = 0
        self.buffered_bytes = 0
        self.anomalies: dict[str, int] = {}
        self._base_seq = -1  # sequence number of offset 0; -1 until the stream starts
        self._next_seq = -1  # sequence number of offset _next
        self._next = 0  # first offset not yet delivered nor declared a gap
        # Equals _next_seq while the fast path is allowed (started, not stopped, nothing held, no FIN seen),
        # else -1, which no 32-bit sequence number matches: the fast path needs a single comparison.
        self._fast_seq = -1
        self._held: SortedDict[int, bytes] = SortedDict()  # offset → held out-of-order chunk; never overlapping
        self._last = b""  # the chunk delivered last, ending at _next: checks retransmissions for mismatch
        self._fin_end: int | None = None  # offset just past the last byte, once a FIN was seen
        self._stopped = False
        self._pending_base = -1  # a later SYN's stream start, adopted if the peer's next ACK confirms it

    # -- public API --------------------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        """True once the stream's first offset is known (SYN or first segment seen)."""
        return self._base_seq >= 0

    @property
    def held_memory(self) -> int:
        """The held bytes as the caps count them: bytes plus CHUNK_OVERHEAD per held chunk."""
        return self.buffered_bytes + CHUNK_OVERHEAD * len(self._held)

    @property
    def delivered_bytes(self) -> int:
        """Bytes handed to ``consumer.data()`` so far."""
        return self._next - self.missed_bytes

    @property
    def complete(self) -> bool:
        """True when a FIN was seen and every byte before it was delivered or declared a gap."""
        return self._fin_end is not None and self._next >= self._fin_end

    def syn(self, seq: int) -> None:
        """A SYN with ISN ``seq``: the stream starts at ``seq + 1``.

        Payload carried on the SYN (TCP Fast Open) occupies ``seq + 1`` onwards: pass it to :meth:`segment`
        with that sequence number. A later SYN with another ISN, before any byte of the stream arrived, is held
        as a candidate: the peer's next ACK says which one the stream follows (a SYN-ACK resent with a new ISN,
        or a spurious one).
        """
        first = (seq + 1) & SEQ_MASK
        if self._base_seq < 0:
            self._start(first)
        elif first != self._base_seq:
            self._count(TcpAnomaly.ISN_CHANGED)
            if self._next == 0 and not self._held and self._fin_end is None:
                self._pending_base = first

    def segment(self, seq: int, buf: Payload, off: int, length: int, fin: bool = False) -> None:
        """A segment whose payload is ``buf[off:off + length]``, with the FIN flag as given."""
        if seq == self._fast_seq and length and not fin:
            chunk = bytes(buf[off : off + length])
            if len(chunk) == length:  # else the capture truncated the payload: the slow path handles it
                self._last = chunk
                self._fast_seq = self._next_seq = (seq + length) & SEQ_MASK
                self._next += length
                self._consumer.data(self._is_orig, chunk)
                return
        self._segment_slow(seq, buf, off, length, fin)

    def ack(self, seq: int) -> None:
        """The peer acknowledged every byte before ``seq``; bytes below it never seen become a gap now.

        An acknowledged byte will not be retransmitted, so waiting for it is pointless (Zeek trims its
        reassembler on ACKs the same way). Call it only for segments of the other direction with ACK set.
        """
        pending = self._pending_base
        if pending >= 0:
            if seq == pending:
                self._pending_base = -1
                self._start(pending)
                return
            if seq == self._base_seq:
                self._pending_base = -1
        if seq == self._next_seq or self._stopped or self._base_seq < 0:
            return
        distance = (seq - self._next_seq) & SEQ_MASK
        if distance >= SEQ_HALF:  # acknowledges bytes already delivered
            return
        upto = self._next + distance
        if self._fin_end is not None and upto > self._fin_end:
            upto = self._fin_end  # the FIN occupies one sequence number but carries no byte
        self._gap_until(upto)
        self._sync_fast()

    def flush(self) -> None:
        """The connection is over: deliver everything held, declaring the holes before it gaps.

        A hole between the last delivered byte and a seen FIN becomes a gap too. The reassembler stays usable.
        """
        if self._stopped:
            return
        held = self._held
        while held:
            self._skip(held.peekitem(0)[0] - self._next)
            self._drain()
        if self._fin_end is not None and self._next < self._fin_end:
            self._skip(self._fin_end - self._next)
        self._sync_fast()

    def stop(self) -> None:
        """The consumer wants no more bytes: drop the buffer; later segments cost one comparison."""
        self._stopped = True
        self._fast_seq = -1
        self._held.clear()
        self._last = b""
        self.buffered_bytes = 0

    # -- slow path ---------------------------------------------------------------------------------------

    def _segment_slow(self, seq: int, buf: Payload, off: int, length: int, fin: bool) -> None:
        if self._stopped or (length <= 0 and not fin):
            return
        if self._base_seq < 0:
            self._start(seq)
        distance = (seq - self._next_seq) & SEQ_MASK
        if distance >= SEQ_HALF:
            distance -= SEQ_MOD
        if distance == -1 and length <= 1 and not fin:
            return  # keep-alive: one old byte (or none) at next - 1, often garbage
        start = self._next + distance
        end = start + length
        if fin:
            self._note_fin(end)
        if self._fin_end is not None and end > self._fin_end and end > start:
            self._count(TcpAnomaly.DATA_AFTER_FIN)
            end = self._fin_end
        captured_end = min(end, start + len(buf) - off)
        if captured_end < end:
            # Snaplen cut the payload: the tail stays a hole until a copy, an ACK or flush() settles it.
            self._count(TcpAnomaly.TRUNCATED_PAYLOAD)
            end = captured_end
        if start < self._next:
            self._check_delivered(start, end, buf, off - start)
        if end > self._next:
            lo = max(start, self._next)
            self._insert(lo, bytes(buf[off + lo - start : off + end - start]))
            self._drain()
            self._enforce_cap()
        self._sync_fast()

    def _start(self, seq: int) -> None:
        self._base_seq = self._next_seq = seq & SEQ_MASK
        self._sync_fast()

    def _note_fin(self, end: int) -> None:
        if self._fin_end is None:
            if end < self._next:
                self._count(TcpAnomaly.DATA_AFTER_FIN)  # bytes past it were delivered already
                end = self._next
            self._fin_end = end
            self._trim_after_fin(end)
        elif end != self._fin_end:
            self._count(TcpAnomaly.FIN_SEQ_CHANGED)

    def _trim_after_fin(self, fin_end: int) -> None:
        held = self._held
        while held and held.peekitem(-1)[0] + len(held.peekitem(-1)[1]) > fin_end:
            self._count(TcpAnomaly.DATA_AFTER_FIN)
            chunk_start, chunk = held.popitem(-1)
            keep = max(fin_end - chunk_start, 0)
            self.buffered_bytes -= len(chunk) - keep
            if keep:
                held[chunk_start] = chunk[:keep]
                break

    def _check_delivered(self, start: int, end: int, buf: Payload, shift: int) -> None:
        """Compare the part of [start, end) that the last delivered chunk covers; ``buf[o + shift]`` is o."""
        last = self._last
        last_start = self._next - len(last)
        lo, hi = max(start, last_start), min(end, self._next)
        if lo < hi and last[lo - last_start : hi - last_start] != bytes(buf[lo + shift : hi + shift]):
            self._count(TcpAnomaly.OVERLAP_MISMATCH)

    def _insert(self, start: int, data: bytes) -> None:
        """Hold ``data`` (offsets start..; start >= _next) where no byte is held yet: the first copy wins."""
        held = self._held
        starts = held.keys()
        end = start + len(data)
        pos = start
        i = held.bisect_right(pos) - 1
        if i < 0 or starts[i] + len(held[starts[i]]) <= pos:
            i += 1  # no held chunk covers pos: i is the first chunk after it
        mismatch = False
        while pos < end:
            if i < len(starts) and starts[i] <= pos:
                held_start = starts[i]
                chunk = held[held_start]
                upto = min(held_start + len(chunk), end)
                if chunk[pos - held_start : upto - held_start] != data[pos - start : upto - start]:
                    mismatch = True
                i += 1
            else:
                upto = min(starts[i], end) if i < len(starts) else end
                held[pos] = data if pos == start and upto == end else data[pos - start : upto - start]
                self.buffered_bytes += upto - pos
                i += 1
            pos = upto
        if mismatch:
            self._count(TcpAnomaly.OVERLAP_MISMATCH)

    def _drain(self) -> None:
        """Deliver the held run that starts at _next, as one data() call."""
        held = self._held
        if not held or held.peekitem(0)[0] != self._next:
            return
        run: list[bytes] = []
        run_end = self._next
        while held and held.peekitem(0)[0] == run_end:
            chunk = held.popitem(0)[1]
            run.append(chunk)
            run_end += len(chunk)
        data = run[0] if len(run) == 1 else b"".join(run)
        self.buffered_bytes -= len(data)
        self._advance(len(data))
        self._last = data
        self._consumer.data(self._is_orig, data)

    def _enforce_cap(self) -> None:
        if self.held_memory <= self.max_buffered:
            return
        self._count(TcpAnomaly.BUFFER_OVERFLOW)
        while self.held_memory > self.max_buffered:
            self._skip(self._held.peekitem(0)[0] - self._next)
            self._drain()

    def _gap_until(self, upto: int) -> None:
        """Declare every hole below ``upto`` a gap, delivering the held bytes between them."""
        while self._next < upto:
            hole_end = min(self._held.peekitem(0)[0], upto) if self._held else upto
            self._skip(hole_end - self._next)
            self._drain()

    def _skip(self, length: int) -> None:
        """Declare the next ``length`` bytes a gap (none of them is held)."""
        self._advance(length)
        self._last = b""
        self.missed_bytes += length
        self._consumer.gap(self._is_orig, length)

    def _advance(self, length: int) -> None:
        self._next += length
        self._next_seq = (self._next_seq + length) & SEQ_MASK

    def _sync_fast(self) -> None:
        fast = not (self._stopped or self._held or self._fin_end is not None or self._base_seq < 0)
        self._fast_seq = self._next_seq if fast else -1

    def _count(self, name: TcpAnomaly) -> None:
        key = name.value
        self.anomalies[key] = self.anomalies.get(key, 0) + 1
