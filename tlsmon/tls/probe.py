"""Recognise TLS by content: does a direction's first payload start like a TLS or SSLv2 hello?

Theory of operation: the engine calls :func:`looks_like_tls` on the first payload bytes of either direction,
on any port. A TLS stream starts with a handshake record (type 22, holding a ClientHello or ServerHello) or an
alert record (type 21, e.g. a server refusing at once) whose 5-byte header has major version 3, minor 0..4 and
a length within the record limit. An SSLv2 stream starts with a 2-byte header (high bit set) and a
CLIENT-HELLO (type 1, version 0x0002 or 0x03xx) or a SERVER-HELLO (type 4, version 0x0002). The answer is
None while the bytes seen so far are consistent with TLS but too few to decide, False as soon as one byte
rules TLS out.
"""

from __future__ import annotations

from tlsmon.tls.codes import (
    ALERT_LEVELS,
    CT_ALERT,
    CT_HANDSHAKE,
    HT_CLIENT_HELLO,
    HT_SERVER_HELLO,
    SSL2_MT_CLIENT_HELLO,
    SSL2_MT_SERVER_HELLO,
)
from tlsmon.tls.record import MAX_RECORD_LENGTH

_SSLV2_CLIENT_HELLO_MIN = 9  # msg type, version, three 2-byte lengths


def looks_like_tls(data: bytes) -> bool | None:
    if not data:
        return None
    first = data[0]
    if first in (CT_HANDSHAKE, CT_ALERT):
        return _tls_record(data)
    if first & 0x80:
        return _sslv2_hello(data)
    return False


def _tls_record(data: bytes) -> bool | None:
    if len(data) >= 2 and data[1] != 3:
        return False
    if len(data) >= 3 and data[2] > 4:
        return False
    if len(data) < 5:
        return None
    length = (data[3] << 8) | data[4]
    if data[0] == CT_HANDSHAKE:
        if length < 4 or length > MAX_RECORD_LENGTH:
            return False
        if len(data) >= 6 and data[5] not in (HT_CLIENT_HELLO, HT_SERVER_HELLO):
            return False
        return True
    if length < 2 or length > MAX_RECORD_LENGTH:
        return False
    if len(data) >= 6 and data[5] not in ALERT_LEVELS:
        return False
    return True


def _sslv2_hello(data: bytes) -> bool | None:
    if len(data) < 3:
        return None
    length = ((data[0] & 0x7F) << 8) | data[1]
    msg_type = data[2]
    if msg_type not in (SSL2_MT_CLIENT_HELLO, SSL2_MT_SERVER_HELLO):
        return False
    if msg_type == SSL2_MT_CLIENT_HELLO:
        if length < _SSLV2_CLIENT_HELLO_MIN:
            return False
        if len(data) < 5:
            return None
        return (data[3] == 3 and data[4] <= 4) or (data[3] == 0 and data[4] == 2)
    if len(data) < 7:
        return None
    return data[5] == 0 and data[6] == 2
