"""The TLS record layer of one direction: bytes in, whole records out.

Theory of operation: :meth:`RecordReader.feed` takes a TCP segment's bytes and
:meth:`RecordReader.next_record` returns one complete record at a time as a ``(content_type, version, body)``
tuple, or None when more bytes are needed, so records split across segments and several records per segment
both work. While nothing is pending the segment itself is the buffer (records are sliced straight out of it);
only a record that continues into the next segment is copied into a bytearray that accumulates it. The reader
checks each 5-byte header (RFC 5246 §6.2.1) and turns a bad one into a named anomaly; after an anomaly the
direction is dead (:attr:`RecordReader.error` is set, later bytes are dropped), because a byte stream that lost
record sync cannot be trusted again. :meth:`RecordReader.stop` ends a direction for other reasons.

SSLv2 (draft-hickman-netscape-ssl-00 §1.2) is recognised only where it can occur: as the first record of
either direction (a CLIENT-HELLO from the client, a SERVER-HELLO from the server). Its records have a 2-byte
header (high bit set) or a 3-byte header and are returned with the pseudo content type :data:`CT_SSLV2` and
version :data:`~tlsmon.tls.codes.SSLV2`; the body starts with the SSLv2 message type. A client that sent an
SSLv2 hello switches to TLS records when the server answers in TLS (the SSLv2-compatible hello of RFC 5246
Appendix E.2).

Once a direction is encrypted the analyzer clears :attr:`RecordReader.keep_bodies`: records are still
delimited (their headers are needed to see the connection's progress) but their bodies are skipped without
buffering.
"""

from __future__ import annotations

import struct

from tlsmon.tls.anomalies import TlsAnomaly
from tlsmon.tls.codes import SSL2_MT_CLIENT_HELLO, SSL2_MT_SERVER_HELLO, SSLV2, TLS_CONTENT_TYPES

#: largest TLSCiphertext.length (RFC 5246 §6.2.3); TLS 1.3 allows less (2^14 + 256), so this bounds both
MAX_RECORD_LENGTH = 2**14 + 2048
#: pseudo content type of an SSLv2 record (outside the one-byte wire range, so it never collides)
CT_SSLV2 = 0x100
#: compact the receive buffer once this many consumed bytes sit in front of it
_COMPACT_AT = 1 << 16

_HEADER = struct.Struct(">BHH")
_U16 = struct.Struct(">H")

#: (content_type, version, body)
Record = tuple[int, int, bytes]

# record framing modes of one direction
MODE_DETECT = 0  # nothing seen yet: the first header decides between TLS and SSLv2
MODE_TLS = 1
MODE_V2_HELLO = 2  # the client sent an SSLv2 CLIENT-HELLO; its next record may be SSLv2 or TLS
MODE_V2 = 3  # an SSLv2 session: every record is SSLv2

#: record versions accepted on a TLS record: major 3, minor 0 (SSL 3.0) to 4
_TLS_RECORD_VERSIONS = frozenset(0x0300 + minor for minor in range(5))
_SSLV2_HELLO_VERSIONS = frozenset({SSLV2, 0x0300, 0x0301, 0x0302, 0x0303})


class RecordReader:
    __slots__ = ("_buf", "_pos", "_skip", "closed", "error", "is_orig", "keep_bodies", "mode")

    def __init__(self, is_orig: bool) -> None:
        self.is_orig = is_orig
        #: the last segment (bytes) while whole records are read from it, or a bytearray that accumulates a
        #: record split across segments; ``_pos`` is the first byte not yet returned
        self._buf: bytes | bytearray = b""
        self._pos = 0
        self._skip = 0
        self.mode = MODE_DETECT
        self.keep_bodies = True
        self.closed = False
        self.error: TlsAnomaly | None = None

    def feed(self, data: bytes) -> None:
        if self.closed or not data:
            return
        if type(data) is not bytes:
            data = bytes(data)
        if self._skip:
            n = min(self._skip, len(data))
            self._skip -= n
            if n == len(data):
                return
            data = data[n:]
        buf = self._buf
        if self._pos >= len(buf):
            # nothing pending: records are read straight out of the segment, which is not copied
            self._buf = data
            self._pos = 0
            return
        if isinstance(buf, bytearray):
            if self._pos >= _COMPACT_AT:
                del buf[: self._pos]
                self._pos = 0
        else:
            # a record continues in this segment: start accumulating from its first byte
            buf = self._buf = bytearray(memoryview(buf)[self._pos :])
            self._pos = 0
        buf += data

    def buffered(self) -> int:
        """Bytes received but not yet returned as (part of) a record."""
        return len(self._buf) - self._pos

    def stop(self, anomaly: TlsAnomaly | None = None) -> None:
        """Drop everything buffered and ignore later bytes; ``anomaly`` says why, None for a normal stop."""
        self.closed = True
        self.error = anomaly
        self._buf = b""
        self._pos = 0
        self._skip = 0

    def next_record(self) -> Record | None:
        if self.closed or self._skip:
            return None
        if self.mode == MODE_TLS:
            # the common case, once per record, inlined; a bad header takes the general path to its anomaly
            buf, pos = self._buf, self._pos
            if len(buf) - pos < 5:
                return None
            content_type, version, length = _HEADER.unpack_from(buf, pos)
            if content_type in TLS_CONTENT_TYPES and version in _TLS_RECORD_VERSIONS and length <= MAX_RECORD_LENGTH:
                end = pos + 5 + length
                if not self.keep_bodies:
                    self._pos = take = min(end, len(buf))
                    self._skip = end - take
                    return (content_type, version, b"")
                if end > len(buf):
                    return None
                self._pos = end
                return (content_type, version, bytes(buf[pos + 5 : end]))
            return self._next_tls()
        avail = len(self._buf) - self._pos
        if avail < 1:
            return None
        first = self._buf[self._pos]
        mode = self.mode
        if mode == MODE_V2:
            return self._next_v2(first & 0x80 == 0)
        if mode == MODE_V2_HELLO:
            if first & 0x80:
                return self._next_v2(False)
            if avail < 2:
                return None
            if first in TLS_CONTENT_TYPES and self._buf[self._pos + 1] == 3:
                self.mode = MODE_TLS
                return self._next_tls()
            self.stop(TlsAnomaly.UNKNOWN_CONTENT_TYPE)
            return None
        return self._detect(first)

    def _detect(self, first: int) -> Record | None:
        if not first & 0x80:
            self.mode = MODE_TLS
            return self._next_tls()
        buf, pos = self._buf, self._pos
        if len(buf) - pos < 5:
            return None
        msg_type = buf[pos + 2]
        if self.is_orig and msg_type == SSL2_MT_CLIENT_HELLO:
            if _U16.unpack_from(buf, pos + 3)[0] not in _SSLV2_HELLO_VERSIONS:
                self.stop(TlsAnomaly.UNKNOWN_CONTENT_TYPE)
                return None
            self.mode = MODE_V2_HELLO
            return self._next_v2(False)
        if not self.is_orig and msg_type == SSL2_MT_SERVER_HELLO:
            self.mode = MODE_V2
            return self._next_v2(False)
        self.stop(TlsAnomaly.UNKNOWN_CONTENT_TYPE)
        return None

    def _next_tls(self) -> Record | None:
        buf, pos = self._buf, self._pos
        if len(buf) - pos < 5:
            return None
        content_type, version, length = _HEADER.unpack_from(buf, pos)
        if content_type not in TLS_CONTENT_TYPES:
            self.stop(TlsAnomaly.UNKNOWN_CONTENT_TYPE)
            return None
        if version >> 8 != 3 or version & 0xFF > 4:
            self.stop(TlsAnomaly.BAD_RECORD_VERSION)
            return None
        if length > MAX_RECORD_LENGTH:
            self.stop(TlsAnomaly.RECORD_TOO_LONG)
            return None
        return self._take(content_type, version, 5, length)

    def _next_v2(self, three_byte_header: bool) -> Record | None:
        buf, pos = self._buf, self._pos
        header = 3 if three_byte_header else 2
        if len(buf) - pos < header:
            return None
        mask = 0x3F if three_byte_header else 0x7F
        length = ((buf[pos] & mask) << 8) | buf[pos + 1]
        return self._take(CT_SSLV2, SSLV2, header, length)

    def _take(self, content_type: int, version: int, header: int, length: int) -> Record | None:
        buf, pos = self._buf, self._pos
        start = pos + header
        end = start + length
        if not self.keep_bodies:
            take = min(end, len(buf))
            self._skip = end - take
            self._pos = take
            return (content_type, version, b"")
        if end > len(buf):
            return None
        self._pos = end
        return (content_type, version, bytes(buf[start:end]))
