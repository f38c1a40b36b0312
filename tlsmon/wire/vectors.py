"""TLS vectors read by offset: the cursor-free twin of ``wire/buffer.py`` for the per-handshake hot path.

Theory of operation: every function takes the message bytes ``data``, the offset ``off`` of a vector's length
prefix and the ``end`` of the enclosing block, and returns the decoded value together with the offset just
past the vector. A prefix or a vector that runs past ``end`` raises :class:`~tlsmon.wire.buffer.BufferReadError`
at the same point :meth:`~tlsmon.wire.buffer.Buffer.pull_block` would, so a parser that walks offsets keeps
exactly the same notion of malformed as one that pulls from a :class:`~tlsmon.wire.buffer.Buffer`. Nothing is
allocated but the result: no cursor object, no sub-buffer per extension, and a vector of uint16 is a single
precompiled ``struct`` call however many items it holds.

Every read checks its bounds against ``end`` *before* touching ``data``: ``end`` may lie inside ``data`` (an
extension inside a hello), and ``struct.error``/``IndexError`` are not :class:`ValueError`, which is what the
parsers' callers catch.
"""

from __future__ import annotations

import struct

from tlsmon.wire.buffer import BufferReadError

U8_PAIR = struct.Struct(">BH")  # (uint8, uint16), e.g. a ServerName entry's name_type and name length
U16 = struct.Struct(">H")
U16_PAIR = struct.Struct(">HH")  # (uint16, uint16), e.g. an extension's type and length

#: vectors of up to this many uint16 get a cached ``Struct``; a longer one (rare: a hello offering >255
#: suites) is unpacked through ``struct``'s own small cache, so this cache stays bounded whatever arrives
_CACHED_COUNTS = 256
_UINT16_ARRAYS: list[struct.Struct] = [struct.Struct(f">{n}H") for n in range(_CACHED_COUNTS)]


def unpack_uint16s(data: bytes, off: int, count: int) -> list[int]:
    """``count`` big-endian uint16 from ``data[off:]`` in one ``struct`` call (the caller checked bounds)."""
    if count < _CACHED_COUNTS:
        return list(_UINT16_ARRAYS[count].unpack_from(data, off))
    return list(struct.unpack_from(f">{count}H", data, off))


def uint16_at(data: bytes, off: int, end: int) -> int:
    """The uint16 at ``off``."""
    if off + 2 > end:
        raise BufferReadError("read out of bounds")
    value: int = U16.unpack_from(data, off)[0]
    return value


def block8(data: bytes, off: int, end: int) -> tuple[int, int]:
    """``(start, stop)`` of the contents of a vector with a 1-byte length at ``off``; ``stop`` is the next offset."""
    if off >= end:
        raise BufferReadError("read out of bounds")
    stop = off + 1 + data[off]
    if stop > end:
        raise BufferReadError("block extends past the end")
    return off + 1, stop


def block16(data: bytes, off: int, end: int) -> tuple[int, int]:
    """``(start, stop)`` of the contents of a vector with a 2-byte length at ``off``."""
    if off + 2 > end:
        raise BufferReadError("read out of bounds")
    stop = off + 2 + U16.unpack_from(data, off)[0]
    if stop > end:
        raise BufferReadError("block extends past the end")
    return off + 2, stop


def block24(data: bytes, off: int, end: int) -> tuple[int, int]:
    """``(start, stop)`` of the contents of a vector with a 3-byte length at ``off``."""
    if off + 3 > end:
        raise BufferReadError("read out of bounds")
    stop = off + 3 + ((data[off] << 16) | (data[off + 1] << 8) | data[off + 2])
    if stop > end:
        raise BufferReadError("block extends past the end")
    return off + 3, stop


def opaque8(data: bytes, off: int, end: int) -> tuple[bytes, int]:
    """An ``opaque x<0..2^8-1>`` and the offset after it."""
    start, stop = block8(data, off, end)
    return data[start:stop], stop


def opaque16(data: bytes, off: int, end: int) -> tuple[bytes, int]:
    """An ``opaque x<0..2^16-1>`` and the offset after it."""
    start, stop = block16(data, off, end)
    return data[start:stop], stop


def opaque24(data: bytes, off: int, end: int) -> tuple[bytes, int]:
    """An ``opaque x<0..2^24-1>`` and the offset after it."""
    start, stop = block24(data, off, end)
    return data[start:stop], stop


def uint8_list8(data: bytes, off: int, end: int) -> tuple[list[int], int]:
    """A ``uint8 x<0..2^8-1>`` vector (compression methods, point formats, PSK modes)."""
    start, stop = block8(data, off, end)
    return list(data[start:stop]), stop


def uint16_list8(data: bytes, off: int, end: int) -> tuple[list[int], int]:
    """A uint16 vector with a 1-byte length (ClientHello supported_versions)."""
    start, stop = block8(data, off, end)
    length = stop - start
    if length % 2:
        raise BufferReadError("odd length for a vector of uint16")
    return unpack_uint16s(data, start, length >> 1), stop


def uint16_list16(data: bytes, off: int, end: int) -> tuple[list[int], int]:
    """A uint16 vector with a 2-byte length (cipher suites, groups, signature schemes)."""
    if off + 2 > end:
        raise BufferReadError("read out of bounds")
    length = U16.unpack_from(data, off)[0]
    if length % 2:
        raise BufferReadError("odd length for a vector of uint16")
    start = off + 2
    stop = start + length
    if stop > end:
        raise BufferReadError("read out of bounds")
    return unpack_uint16s(data, start, length >> 1), stop


def opaque8_list16(data: bytes, off: int, end: int) -> tuple[list[bytes], int]:
    """A 2-byte-length vector of ``opaque x<0..2^8-1>`` items (ALPN's ProtocolNameList)."""
    pos, stop = block16(data, off, end)
    items: list[bytes] = []
    while pos < stop:
        item_stop = pos + 1 + data[pos]
        if item_stop > stop:
            raise BufferReadError("read out of bounds")
        items.append(data[pos + 1 : item_stop])
        pos = item_stop
    return items, stop
