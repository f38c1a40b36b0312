"""IP fragment reassembly for IPv4 (RFC 791) and IPv6 (RFC 8200 §4.5), shared by both versions.

Theory of operation. Fragments are grouped by a key the caller builds — (4, src, dst, protocol, id) for IPv4,
(6, src, dst, id) for IPv6. Each partial datagram keeps a sorted list of non-overlapping ``(start, end,
bytes)`` pieces. A new fragment only fills the holes between pieces already held: the first copy of a byte
wins, as in Zeek and in the Linux and BSD stacks, and any overlap is counted. The fragment without "more
fragments" fixes the datagram's length; the datagram is complete when its pieces cover it, and then its
payload (the bytes after the IP header, or after the IPv6 Fragment header) is returned as one ``bytes``.

The upper-layer protocol of an IPv6 datagram is the one its first byte came with: the first fragment at
offset 0 that carries data names it, like the bytes, and a later copy of that fragment changes neither.

Partial datagrams live in an insertion-ordered dict, so the oldest is always first: each call first drops
those whose first fragment is older than the timeout, and when the held bytes exceed the memory cap the
oldest are evicted. Both are counted, never raised. The cap counts what the table costs, not only payload:
each partial datagram is charged :data:`DATAGRAM_COST` and each piece :data:`PIECE_COST` besides its bytes
(about the size of their Python objects), so a flood of tiny or empty fragments, each with its own id, is
bounded like a few large ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from typing import Final

from tlsmon.decode.counters import DecodeCounter
from tlsmon.decode.numbers import MAX_IP_DATAGRAM

# Bytes charged against the memory cap besides the payload, near what CPython spends: a dict entry, the key
# tuple and a _Partial with its list per datagram; a (start, end, bytes) tuple and a bytes header per piece.
# The native decoder (native/src/decode/fragments.rs) charges the same, so both evict alike.
DATAGRAM_COST: Final = 320
PIECE_COST: Final = 112


class _Partial:
    """One datagram being reassembled."""

    __slots__ = ("first_ts", "held", "pieces", "proto", "total")

    def __init__(self, first_ts: int) -> None:
        self.first_ts = first_ts
        self.pieces: list[tuple[int, int, bytes]] = []
        self.held = 0  # payload bytes held (pieces never overlap)
        self.total: int | None = None  # payload length, once the last fragment was seen
        self.proto = -1  # upper-layer protocol from the first fragment (IPv6: after the Fragment header)


class FragmentTable:
    """Partial datagrams by key; :meth:`add` returns a datagram's payload once it is complete.

    ``max_bytes`` caps :attr:`held_bytes`: payload plus the per-datagram and per-piece charges.
    """

    __slots__ = ("_partials", "counters", "held_bytes", "max_bytes", "timeout_ns")

    def __init__(self, counters: Counter[str], timeout_ns: int, max_bytes: int) -> None:
        self.counters = counters
        self.timeout_ns = timeout_ns
        self.max_bytes = max_bytes
        self.held_bytes = 0  # payload held plus DATAGRAM_COST and PIECE_COST charges: what the cap limits
        self._partials: dict[Hashable, _Partial] = {}

    def __len__(self) -> int:
        return len(self._partials)

    def add(
        self, ts_ns: int, key: Hashable, offset: int, data: bytes, more: bool, proto: int
    ) -> tuple[bytes, int] | None:
        """Add one fragment; ``(payload, proto)`` when this completes its datagram, else None.

        ``proto`` is the upper-layer protocol as this fragment states it (only the claim of the fragment
        that brings byte 0 is used), ``more`` its "more fragments" flag.
        """
        self.expire(ts_ns)
        counters = self.counters
        end = offset + len(data)
        partial = self._partials.get(key)
        if end > MAX_IP_DATAGRAM:
            counters[DecodeCounter.FRAGMENT_TOO_LARGE] += 1
            if partial is not None:
                self._drop(key, partial)
            return None
        if partial is None:
            partial = self._partials[key] = _Partial(ts_ns)
            self.held_bytes += DATAGRAM_COST
        if not self._fits_length(partial, end, more):
            counters[DecodeCounter.FRAGMENT_INCONSISTENT] += 1
            return None
        if offset == 0 and data and not (partial.pieces and partial.pieces[0][0] == 0):
            partial.proto = proto  # this fragment brings the datagram's first byte
        pieces_before = len(partial.pieces)
        added = self._fill(partial, offset, end, data)
        partial.held += added
        self.held_bytes += added + (len(partial.pieces) - pieces_before) * PIECE_COST
        if partial.total is not None and partial.held == partial.total:
            self._drop(key, partial)
            counters[DecodeCounter.FRAGMENT_REASSEMBLED] += 1
            return b"".join([piece[2] for piece in partial.pieces]), partial.proto
        if self.held_bytes > self.max_bytes:
            self._evict(key)
        return None

    def expire(self, now_ns: int) -> None:
        """Drop the partial datagrams whose first fragment is older than the timeout."""
        partials = self._partials
        deadline = now_ns - self.timeout_ns
        while partials:
            key, partial = next(iter(partials.items()))
            if partial.first_ts > deadline:
                return
            self._drop(key, partial)
            self.counters[DecodeCounter.FRAGMENTS_EXPIRED] += 1

    @staticmethod
    def _fits_length(partial: _Partial, end: int, more: bool) -> bool:
        """Check the fragment against the datagram length; a last fragment sets it."""
        if more:
            return partial.total is None or end <= partial.total
        if partial.total is None:
            if partial.pieces and partial.pieces[-1][1] > end:
                return False
            partial.total = end
            return True
        return partial.total == end

    def _fill(self, partial: _Partial, start: int, end: int, data: bytes) -> int:
        """Insert the parts of [start, end) not held yet; count an overlap; return the bytes added."""
        pieces = partial.pieces
        new: list[tuple[int, int, bytes]] = []
        cur = start
        overlap = False
        for p_start, p_end, _ in pieces:
            if p_end <= cur:
                continue
            if p_start >= end:
                break
            overlap = True
            if p_start > cur:
                new.append((cur, p_start, data[cur - start : p_start - start]))
            cur = p_end
            if cur >= end:
                break
        if cur < end:
            new.append((cur, end, data[cur - start :]))
        if overlap:
            self.counters[DecodeCounter.FRAGMENT_OVERLAP] += 1
        if new:
            pieces.extend(new)
            pieces.sort()
        return sum(p_end - p_start for p_start, p_end, _ in new)

    def _evict(self, keep: Hashable) -> None:
        """Drop the oldest partial datagrams until the held bytes fit the cap again."""
        partials = self._partials
        while self.held_bytes > self.max_bytes and partials:
            key, partial = next(iter(partials.items()))
            self._drop(key, partial)
            self.counters[DecodeCounter.FRAGMENTS_EVICTED] += 1
            if key == keep:
                return

    def _drop(self, key: Hashable, partial: _Partial) -> None:
        del self._partials[key]
        self.held_bytes -= DATAGRAM_COST + len(partial.pieces) * PIECE_COST + partial.held
