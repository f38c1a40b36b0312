"""Is a flow's first datagram DTLS? A cheap look at its first record header (RFC 6347 §4.1).

The probe accepts a DTLS 1.0/1.2 record header (content type 20-23, version 0xfeff/0xfefd/0xfefc) whose length
fits the datagram, with epoch 0 for a handshake record (a flow's first datagram is a ClientHello, or a
HelloVerifyRequest when the flow was picked up late), as Zeek's DTLS signature does.
"""

from __future__ import annotations

import struct

_HEADER = struct.Struct(">BHHHIH")
_VERSIONS = frozenset({0xFEFF, 0xFEFD, 0xFEFC})


def looks_like_dtls(payload: bytes) -> bool:
    if len(payload) < 13:
        return False
    content_type, version, epoch, _, _, length = _HEADER.unpack_from(payload)
    if not 20 <= content_type <= 23 or version not in _VERSIONS or 13 + length > len(payload):
        return False
    return content_type != 22 or epoch == 0
