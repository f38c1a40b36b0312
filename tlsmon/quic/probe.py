"""Is a flow's first datagram QUIC? A cheap look at its first bytes, no decryption (RFC 9000 §17.2, §14.1).

A client opens a QUIC connection with an Initial in a datagram of at least 1200 bytes. The probe accepts a long
header (form and fixed bits set) of a version tlsmon can read (v1, v2, drafts 29-32) with connection IDs of at
most 20 bytes; of an unknown version only a datagram of 1200 bytes or more with a DCID of 8 or more bytes (what
RFC 9000 §7.2 asks of a client), so that random UDP with a high first byte is not taken for QUIC.
"""

from __future__ import annotations

from tlsmon.quic.packet import MAX_CID_LENGTH, QUIC_DRAFTS, QUIC_V1, QUIC_V2

_KNOWN = frozenset({QUIC_V1, QUIC_V2}) | QUIC_DRAFTS
_MIN_CLIENT_DATAGRAM = 1200
_MIN_CLIENT_DCID = 8


def looks_like_quic(payload: bytes) -> bool:
    if len(payload) < 7 or payload[0] & 0xC0 != 0xC0:
        return False
    version = int.from_bytes(payload[1:5], "big")
    dcil = payload[5]
    if dcil > MAX_CID_LENGTH or 6 + dcil >= len(payload) or payload[6 + dcil] > MAX_CID_LENGTH:
        return False
    if version in _KNOWN:
        return True
    return version != 0 and len(payload) >= _MIN_CLIENT_DATAGRAM and dcil >= _MIN_CLIENT_DCID
