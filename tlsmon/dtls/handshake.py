"""DTLS handshake reassembly for one direction (RFC 6347 §4.2.2-4.2.3, RFC 9147 §5.5).

Theory of operation: each DTLS handshake message carries a 12-byte header: type, total length, message_seq,
fragment_offset and fragment_length; a message may be split into fragments over several records and datagrams,
which arrive in any order, repeated (a whole flight is retransmitted on a timeout) or overlapping.
:meth:`DtlsHandshakeReassembler.feed` takes one plaintext handshake record and returns every message it
completes as ``(msg_type, body)``. A fragment that covers the whole message is delivered at once; others fill a
buffer of the message's length (one per message_seq) with a byte mask, so overlapping copies cost their length
once and completion is a counter reaching zero. A retransmitted message is delivered again, as Zeek's DTLS
analyzer does (its ``ssl_history`` shows ``CCC`` for a ClientHello sent three times with no answer).

Bounds: the incomplete messages of a direction hold at most Limits.max_dtls_reassembly_bytes (each counted at
its full length from its first fragment; a longer message is never reassembled), and at most
Limits.max_dtls_pending_messages of them wait at once; each cut is a named anomaly and the work stays linear in
the bytes received.
"""

from __future__ import annotations

import struct

from tlsmon.dtls.anomalies import DtlsAnomaly

FRAGMENT_HEADER_LEN = 12
_HEADER = struct.Struct(">BHBHHBHB")  # type, length (24 bits as 16+8), seq, offset (16+8), fragment length (16+8)


def _u24(high: int, low: int) -> int:
    return (high << 8) | low


class _Partial:
    __slots__ = ("buf", "length", "mask", "missing", "msg_type")

    def __init__(self, msg_type: int, length: int) -> None:
        self.msg_type = msg_type
        self.length = length
        self.buf = bytearray(length)
        self.mask = bytearray(length)
        self.missing = length


class DtlsHandshakeReassembler:
    __slots__ = ("_pending", "_pending_bytes", "max_bytes", "max_pending")

    def __init__(self, max_bytes: int, max_pending: int) -> None:
        self.max_bytes = max_bytes
        self.max_pending = max_pending
        self._pending: dict[int, _Partial] = {}
        self._pending_bytes = 0

    def pending(self) -> int:
        """Bytes held for incomplete messages (their full lengths)."""
        return self._pending_bytes

    def feed(self, body: bytes) -> tuple[list[tuple[int, bytes]], list[DtlsAnomaly]]:
        """(completed messages, anomalies) of one plaintext handshake record."""
        messages: list[tuple[int, bytes]] = []
        anomalies: list[DtlsAnomaly] = []
        pos = 0
        end = len(body)
        while pos < end:
            if pos + FRAGMENT_HEADER_LEN > end:
                anomalies.append(DtlsAnomaly.MALFORMED_FRAGMENT)
                break
            msg_type, len_hi, len_lo, seq, off_hi, off_lo, frag_hi, frag_lo = _HEADER.unpack_from(body, pos)
            length = _u24(len_hi, len_lo)
            offset = _u24(off_hi, off_lo)
            frag_len = _u24(frag_hi, frag_lo)
            start = pos + FRAGMENT_HEADER_LEN
            pos = start + frag_len
            if pos > end or offset + frag_len > length:
                anomalies.append(DtlsAnomaly.MALFORMED_FRAGMENT)
                break
            if offset == 0 and frag_len == length:
                self._drop(seq)
                messages.append((msg_type, body[start:pos]))
                continue
            anomaly = self._fragment(seq, msg_type, length, offset, body[start:pos], messages)
            if anomaly is not None:
                anomalies.append(anomaly)
        return messages, anomalies

    def _fragment(
        self, seq: int, msg_type: int, length: int, offset: int, data: bytes, messages: list[tuple[int, bytes]]
    ) -> DtlsAnomaly | None:
        partial = self._pending.get(seq)
        if partial is None:
            if length > self.max_bytes:
                return DtlsAnomaly.HANDSHAKE_TOO_LONG
            if len(self._pending) >= self.max_pending:
                return DtlsAnomaly.TOO_MANY_PENDING_MESSAGES
            if self._pending_bytes + length > self.max_bytes:
                return DtlsAnomaly.REASSEMBLY_BUFFER_FULL
            partial = self._pending[seq] = _Partial(msg_type, length)
            self._pending_bytes += length
        elif partial.msg_type != msg_type or partial.length != length:
            return DtlsAnomaly.INCONSISTENT_FRAGMENT
        stop = offset + len(data)
        mask = partial.mask
        new = mask.count(0, offset, stop)
        if new:
            if new == len(data):
                partial.buf[offset:stop] = data
            else:  # first copy of a byte wins
                for i in range(offset, stop):
                    if not mask[i]:
                        partial.buf[i] = data[i - offset]
            mask[offset:stop] = b"\x01" * len(data)
            partial.missing -= new
        if partial.missing == 0:
            self._drop(seq)
            messages.append((msg_type, bytes(partial.buf)))
        return None

    def _drop(self, seq: int) -> None:
        partial = self._pending.pop(seq, None)
        if partial is not None:
            self._pending_bytes -= partial.length
