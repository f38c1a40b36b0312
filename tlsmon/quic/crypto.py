"""CRYPTO stream reassembly for one direction's Initial packet number space (RFC 9000 §19.6, RFC 9001 §4.1.3).

Theory of operation: CRYPTO frames carry the TLS handshake at explicit offsets, in any order, repeated or
overlapping, spread over packets and datagrams (Chrome splits its ClientHello over several Initials and sends
the pieces out of order). :meth:`CryptoStream.add` takes one frame's ``(offset, data)`` and returns the bytes
that became contiguous from the stream's start: the delivered prefix only grows and each byte is delivered
once. Bytes are written into a buffer at their offset with a byte mask beside it, so the first copy of a byte
wins (as in tlsmon's TCP reassembly) and an overlapping copy costs its length once.

Bounds: nothing at or past ``max_bytes`` of stream offset is kept (the buffer and its mask never grow past it);
:meth:`add` reports the cut. Work per frame is its length plus one scan for the next hole.
"""

from __future__ import annotations


class CryptoStream:
    __slots__ = ("_buf", "_mask", "delivered", "dropped", "max_bytes")

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        #: bytes delivered so far (the next offset expected)
        self.delivered = 0
        #: frames (or their tails) dropped at max_bytes
        self.dropped = 0
        self._buf = bytearray()
        self._mask = bytearray()

    def pending_bytes(self) -> int:
        """Bytes received past the delivered prefix, waiting for a hole to fill."""
        return len(self._mask) - self.delivered - self._mask.count(0, self.delivered)

    def add(self, offset: int, data: bytes) -> tuple[bytes, bool]:
        """(bytes newly contiguous, True if max_bytes dropped some of this frame)."""
        cut = False
        end = offset + len(data)
        if end > self.max_bytes:
            data = data[: max(0, self.max_bytes - offset)]
            end = offset + len(data)
            cut = True
            self.dropped += 1
        delivered = self.delivered
        if end <= delivered:
            return b"", cut
        if offset < delivered:
            data = data[delivered - offset :]
            offset = delivered
        buf, mask = self._buf, self._mask
        if end > len(buf):
            grow = end - len(buf)
            buf += bytes(grow)
            mask += bytes(grow)
        new = mask.count(0, offset, end)
        if new == len(data):
            buf[offset:end] = data
        elif new:  # first copy of a byte wins
            for i in range(offset, end):
                if not mask[i]:
                    buf[i] = data[i - offset]
        mask[offset:end] = b"\x01" * len(data)
        if offset > delivered:
            return b"", cut
        stop = mask.find(0, delivered)
        if stop == -1:
            stop = len(mask)
        self.delivered = stop
        return bytes(buf[delivered:stop]), cut
