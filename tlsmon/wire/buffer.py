"""A read cursor over wire bytes, in the style of aioquic's ``Buffer``.

Theory of operation: a :class:`Buffer` holds one immutable byte string and a position. ``pull_*`` methods read
big-endian integers and byte strings and advance the position; reading past the end raises
:class:`BufferReadError`, which parsers turn into a named anomaly at one boundary. :meth:`Buffer.pull_block`
reads a length prefix and narrows the readable end to that block for the duration of a ``with`` statement, so
a vector's contents can never be read past its declared length, and checks on exit that exactly the declared
length was consumed. :func:`pull_list` and :func:`pull_opaque` build the common TLS vector shapes on top of
it.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")


class BufferReadError(ValueError):
    """A read went past the end of the data or of the enclosing block, or a block was not fully consumed."""


class Buffer:
    __slots__ = ("_data", "_end", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = bytes(data)
        self._pos = 0
        self._end = len(self._data)

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int) -> None:
        if pos < 0 or pos > self._end:
            raise BufferReadError("seek out of bounds")
        self._pos = pos

    def eof(self) -> bool:
        """True when nothing is left to read (inside the current block, if any)."""
        return self._pos >= self._end

    def remaining(self) -> int:
        return self._end - self._pos

    def pull_bytes(self, length: int) -> bytes:
        pos = self._pos
        end = pos + length
        if length < 0 or end > self._end:
            raise BufferReadError("read out of bounds")
        self._pos = end
        return self._data[pos:end]

    def pull_rest(self) -> bytes:
        """Everything left in the current block."""
        return self.pull_bytes(self._end - self._pos)

    def pull_uint8(self) -> int:
        pos = self._pos
        if pos >= self._end:
            raise BufferReadError("read out of bounds")
        self._pos = pos + 1
        return self._data[pos]

    def pull_uint16(self) -> int:
        pos = self._pos
        if pos + 2 > self._end:
            raise BufferReadError("read out of bounds")
        self._pos = pos + 2
        value: int = _U16.unpack_from(self._data, pos)[0]
        return value

    def pull_uint24(self) -> int:
        pos = self._pos
        if pos + 3 > self._end:
            raise BufferReadError("read out of bounds")
        self._pos = pos + 3
        data = self._data
        return (data[pos] << 16) | (data[pos + 1] << 8) | data[pos + 2]

    def pull_uint32(self) -> int:
        pos = self._pos
        if pos + 4 > self._end:
            raise BufferReadError("read out of bounds")
        self._pos = pos + 4
        value: int = _U32.unpack_from(self._data, pos)[0]
        return value

    def pull_length(self, len_size: int) -> int:
        """A ``len_size``-byte big-endian length prefix."""
        if len_size == 1:
            return self.pull_uint8()
        if len_size == 2:
            return self.pull_uint16()
        if len_size == 3:
            return self.pull_uint24()
        if len_size == 4:
            return self.pull_uint32()
        raise ValueError(f"unsupported length prefix size {len_size}")

    @contextmanager
    def pull_block(self, len_size: int) -> Iterator[int]:
        """Read a ``len_size``-byte length, confine reads to that many bytes, and check all were consumed.

        Yields the block length. Raises :class:`BufferReadError` if the block extends past the data or was
        not consumed exactly.
        """
        length = self.pull_length(len_size)
        end = self._pos + length
        if end > self._end:
            raise BufferReadError("block extends past the end")
        outer_end = self._end
        self._end = end
        try:
            yield length
        finally:
            self._end = outer_end
        if self._pos != end:
            raise BufferReadError("block not consumed exactly")


def pull_opaque(buf: Buffer, len_size: int) -> bytes:
    """A TLS ``opaque x<..>`` vector: a ``len_size``-byte length followed by that many bytes."""
    return buf.pull_bytes(buf.pull_length(len_size))


def pull_uint8_vector(buf: Buffer, len_size: int) -> list[int]:
    """A vector of uint8 (e.g. ``CompressionMethod compression_methods<1..2^8-1>``) in one read."""
    return list(buf.pull_bytes(buf.pull_length(len_size)))


def pull_uint16_vector(buf: Buffer, len_size: int) -> list[int]:
    """A vector of uint16 (cipher suites, groups, signature schemes) in one ``struct`` call."""
    length = buf.pull_length(len_size)
    if length % 2:
        raise BufferReadError("odd length for a vector of uint16")
    return list(struct.unpack(f">{length // 2}H", buf.pull_bytes(length)))


def pull_list(buf: Buffer, len_size: int, pull_item: Callable[[], T]) -> list[T]:
    """A TLS vector: a ``len_size``-byte length, then items read by ``pull_item`` until it is used up."""
    items: list[T] = []
    with buf.pull_block(len_size):
        while not buf.eof():
            items.append(pull_item())
    return items
