"""A small, bounded BER reader for the LDAP message envelope (ITU-T X.690 §8.1, as restricted by RFC 4511 §5.1).

Theory of operation: an element is a tag, a length and contents. LDAP uses only single-byte tags (tag numbers
below 31) and the definite length forms: short (one byte below 0x80) or long (0x81-0x84 then that many length
bytes); the indefinite form (0x80) is forbidden by RFC 4511 §5.1. Anything else raises :class:`BerError`.

:func:`element_length` frames a stream: the whole length of the element starting a buffer, or None while its
header is incomplete. :class:`BerReader` walks the contents of one buffered element. The buffer may be only a
prefix of a longer message (a big directory entry, a bind request with a long Kerberos ticket): a constructed
element may then run past the buffer and is read as far as it goes, but a primitive value must be wholly
present or the read raises, so no value is ever silently cut.
"""

from __future__ import annotations

TAG_INTEGER = 0x02
TAG_OCTET_STRING = 0x04
TAG_ENUMERATED = 0x0A
TAG_SEQUENCE = 0x30
TAG_SET = 0x31

_HIGH_TAG_NUMBER = 0x1F  # low five bits all set: the tag number continues in later bytes (X.690 §8.1.2.4)
_INDEFINITE = 0x80
_MAX_LENGTH_BYTES = 4  # lengths up to 4 GiB; larger is nonsense for LDAP (Suricata's ldap-parser also caps)
_MAX_INTEGER_BYTES = 4  # LDAP messageID and resultCode fit in 0..2^31-1 (RFC 4511 §4.1.1 maxInt)


class BerError(ValueError):
    """The bytes are not the BER LDAP allows, or a value runs past the available bytes."""


def read_header(data: bytes | bytearray, pos: int, end: int) -> tuple[int, int, int] | None:
    """(tag, contents start, contents length) of the element at ``pos``; None when its header passes ``end``."""
    if pos >= end:
        return None
    tag = data[pos]
    if tag & _HIGH_TAG_NUMBER == _HIGH_TAG_NUMBER:
        raise BerError("multi-byte tag")
    if pos + 1 >= end:
        return None
    first = data[pos + 1]
    if first < 0x80:
        return tag, pos + 2, first
    if first == _INDEFINITE:
        raise BerError("indefinite length")
    count = first & 0x7F
    if count > _MAX_LENGTH_BYTES:
        raise BerError("length too long")
    if pos + 2 + count > end:
        return None
    return tag, pos + 2 + count, int.from_bytes(data[pos + 2 : pos + 2 + count], "big")


def element_length(data: bytes | bytearray) -> int | None:
    """The whole length (header and contents) of the element at the start of ``data``; None if unknown yet."""
    header = read_header(data, 0, len(data))
    if header is None:
        return None
    _, start, length = header
    return start + length


class BerReader:
    """Reads the elements of ``data[pos:end]`` one after another."""

    __slots__ = ("_data", "_end", "_pos")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self._data = data
        self._pos = pos
        self._end = len(data) if end is None else min(end, len(data))

    def eof(self) -> bool:
        return self._pos >= self._end

    def peek_tag(self) -> int | None:
        return self._data[self._pos] if self._pos < self._end else None

    def _header(self, tag: int | None) -> tuple[int, int, int]:
        header = read_header(self._data, self._pos, self._end)
        if header is None:
            raise BerError("truncated header")
        if tag is not None and header[0] != tag:
            raise BerError(f"expected tag 0x{tag:02x}, found 0x{header[0]:02x}")
        return header

    def enter(self, tag: int | None = None) -> tuple[int, BerReader]:
        """A constructed element: its tag and a reader over its contents (as far as they are buffered)."""
        found, start, length = self._header(tag)
        self._pos = min(start + length, self._end)
        return found, BerReader(self._data, start, start + length)

    def value(self, tag: int | None = None) -> bytes:
        """A primitive element's contents; they must be wholly buffered."""
        _, start, length = self._header(tag)
        if start + length > self._end:
            raise BerError("truncated value")
        self._pos = start + length
        return self._data[start : start + length]

    def integer(self, tag: int = TAG_INTEGER) -> int:
        """A non-negative INTEGER or ENUMERATED of at most four bytes (LDAP's 0..maxInt)."""
        raw = self.value(tag)
        if not 0 < len(raw) <= _MAX_INTEGER_BYTES or raw[0] & 0x80:
            raise BerError("integer out of range")
        return int.from_bytes(raw, "big")

    def skip(self) -> int:
        """Step over the next element, whatever it is; its tag."""
        found, start, length = self._header(None)
        self._pos = min(start + length, self._end)
        return found
