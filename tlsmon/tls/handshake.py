"""Handshake message reassembly for one direction (RFC 8446 §5.1, RFC 5246 §6.2.1).

Theory of operation: handshake messages are not aligned with records: one record can hold several messages
and one message can span many records. :meth:`HandshakeReassembler.feed` takes the body of each plaintext
handshake record and returns every message it completes as ``(msg_type, body)``; the rest waits for the next
record. Each message has a 4-byte header (type, 24-bit length). A declared length above
:data:`MAX_HANDSHAKE_MESSAGE` is an anomaly: the reassembler stops rather than buffer up to 16 MiB of an
attacker's choosing.
"""

from __future__ import annotations

import struct

from tlsmon.tls.anomalies import TlsAnomaly

#: largest handshake message kept; typical chains are 2-30 KiB, but Zeek's own tls-fragmented-handshake trace
#: carries a valid 332 KiB Certificate, so the cap sits well above that
MAX_HANDSHAKE_MESSAGE = 1024 * 1024

_HEADER = struct.Struct(">I")

#: (msg_type, body)
Message = tuple[int, bytes]


class HandshakeReassembler:
    __slots__ = ("_buf", "error")

    def __init__(self) -> None:
        self._buf = bytearray()
        self.error: TlsAnomaly | None = None

    def pending(self) -> int:
        """Bytes of an incomplete message held back."""
        return len(self._buf)

    def reset(self) -> None:
        """Drop a partial message (the direction turned encrypted)."""
        self._buf.clear()

    def feed(self, fragment: bytes) -> list[Message]:
        if self.error is not None:
            return []
        buf = self._buf
        # with nothing held back, messages are sliced straight from the record body; only a tail is copied
        data: bytes | bytearray = fragment
        if buf:
            buf += fragment
            data = buf
        messages: list[Message] = []
        pos = 0
        end = len(data)
        while pos + 4 <= end:
            header = _HEADER.unpack_from(data, pos)[0]  # msg_type (8 bits) and length (24 bits) in one read
            length = header & 0xFFFFFF
            if length > MAX_HANDSHAKE_MESSAGE:
                self.error = TlsAnomaly.HANDSHAKE_TOO_LONG
                buf.clear()
                return messages
            start = pos + 4
            pos = start + length
            if pos > end:
                pos = start - 4
                break
            messages.append((header >> 24, bytes(data[start:pos])))
        if data is buf:
            if pos:
                del buf[:pos]
        elif pos < end:
            buf += memoryview(fragment)[pos:]
        return messages
