"""CRYPTO stream reassembly for one direction's Initial packet number space (RFC 9000 §19.6, RFC 9001 §4.1.3).

Theory of operation: CRYPTO frames carry the TLS handshake at explicit offsets, in any order, repeated or
overlapping, spread over packets and datagrams (Chrome splits its ClientHello over several Initials and sends
the pieces out of order). :meth:`CryptoStream.add` takes one frame's ``(offset, data)`` and returns the bytes
that became contiguous from the stream's start: the delivered prefix only grows, each byte is delivered once,
and a byte already delivered or already waiting is kept from its first copy (as tlsmon's TCP reassembly).

Bounds: nothing at or past ``max_bytes`` of stream offset is kept, and at most ``max_fragments`` pieces wait
for a hole; past either the piece is dropped and :meth:`add` reports it, so a hostile sender costs at most
``max_fragments`` pieces of work per frame and ``max_bytes`` of memory.
"""

from __future__ import annotations


class CryptoStream:
    __slots__ = ("_pending", "delivered", "dropped", "max_bytes", "max_fragments")

    def __init__(self, max_bytes: int, max_fragments: int) -> None:
        self.max_bytes = max_bytes
        self.max_fragments = max_fragments
        #: bytes delivered so far (the next offset expected)
        self.delivered = 0
        #: pieces waiting for a hole, as (offset, data), trimmed to start past ``delivered``
        self._pending: list[tuple[int, bytes]] = []
        #: frames (or parts) dropped at a bound
        self.dropped = 0

    def pending_bytes(self) -> int:
        return sum(len(data) for _, data in self._pending)

    def add(self, offset: int, data: bytes) -> tuple[bytes, bool]:
        """(bytes newly contiguous, True if a bound dropped some of this frame)."""
        cut = False
        end = offset + len(data)
        if end > self.max_bytes:
            data = data[: max(0, self.max_bytes - offset)]
            end = offset + len(data)
            cut = True
        if end <= self.delivered:
            return b"", cut
        if offset < self.delivered:
            data = data[self.delivered - offset :]
            offset = self.delivered
        if offset > self.delivered:
            if len(self._pending) >= self.max_fragments:
                self.dropped += 1
                return b"", True
            self._pending.append((offset, data))
            if cut:
                self.dropped += 1
            return b"", cut
        out = bytearray(data)
        self.delivered = end
        pending = self._pending
        progress = True
        while pending and progress:
            progress = False
            rest: list[tuple[int, bytes]] = []
            for piece_offset, piece in pending:
                piece_end = piece_offset + len(piece)
                if piece_end <= self.delivered:
                    continue
                if piece_offset <= self.delivered:
                    out += piece[self.delivered - piece_offset :]
                    self.delivered = piece_end
                    progress = True
                else:
                    rest.append((piece_offset, piece))
            pending = rest
        self._pending = pending
        if cut:
            self.dropped += 1
        return bytes(out), cut
