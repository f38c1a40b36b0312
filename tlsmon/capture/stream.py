"""One capture file as a sequence of large chunks of uncompressed bytes.

Theory of operation. :func:`open_stream` opens the file unbuffered and looks at its first bytes: gzip
(``1f 8b``) and zstd (``28 b5 2f fd``) are recognised by magic, never by file name. :meth:`ChunkStream.read`
then returns the next chunk of (decompressed) bytes, ``b""`` at the end. Decompression is incremental
(``zlib.decompressobj`` in gzip mode, ``zstandard`` decompression objects) and follows concatenated gzip
members and zstd frames, as ``gzip -d`` and ``zstd -d`` do.

A damaged stream is not an exception: a truncated gzip/zstd stream, corrupt compressed data or a read error
ends the stream early and leaves a one-line description in :attr:`ChunkStream.damage`, which the record
readers turn into the file's warning. :attr:`ChunkStream.raw_pos` is the number of on-disk bytes consumed,
for progress reporting.
"""

from __future__ import annotations

import zlib
from typing import BinaryIO, Final, Protocol

import zstandard

from tlsmon.capture.errors import CaptureError

# Uncompressed bytes per chunk. Measured on the pcap record loop: 256 KiB reads ~1.5x faster than 4 MiB,
# because a chunk's frames (yielded as one list) then stay in the CPU cache until they are consumed.
CHUNK_SIZE: Final = 256 * 2**10
RAW_CHUNK_SIZE: Final = 64 * 2**10  # compressed bytes read and fed to a decompressor at a time
# zstd objects have no output cap, so they are fed small pieces: a zstd RLE block turns 4 bytes into 128 KiB,
# so one 4 KiB piece yields at most 128 MiB, whatever a crafted file holds.
ZSTD_FEED_SIZE: Final = 4 * 2**10

GZIP_MAGIC: Final = b"\x1f\x8b"
ZSTD_MAGIC: Final = b"\x28\xb5\x2f\xfd"


class _Inflater(Protocol):
    """A decompressor for one compression format, member after member."""

    kind: str

    def feed(self, raw: bytes) -> bytes: ...
    def more(self) -> bytes: ...
    def at_boundary(self) -> bool: ...


class _GzipInflater:
    """gzip members (RFC 1952) one after another; output is capped per call."""

    __slots__ = ("_obj", "_pending", "_started")
    kind = "gzip"

    def __init__(self) -> None:
        self._obj = zlib.decompressobj(wbits=31)
        self._started = False
        self._pending = b""

    def feed(self, raw: bytes) -> bytes:
        self._pending += raw
        return self.more()

    def more(self) -> bytes:
        # Returns as soon as there is output, so that output is never lost to an error in later input.
        while self._pending:
            self._started = True
            out = self._obj.decompress(self._pending, CHUNK_SIZE)
            if self._obj.eof:
                self._pending = self._obj.unused_data
                self._obj = zlib.decompressobj(wbits=31)
                self._started = False
            else:
                self._pending = self._obj.unconsumed_tail
            if out:
                return out
        return b""

    def at_boundary(self) -> bool:
        return not self._started


class _ZstdInflater:
    """zstd frames (RFC 8878) one after another."""

    __slots__ = ("_dctx", "_obj", "_out", "_out_pos", "_pending", "_pos", "_started")
    kind = "zstd"

    def __init__(self) -> None:
        self._dctx = zstandard.ZstdDecompressor()
        self._obj = self._dctx.decompressobj()
        self._started = False
        self._pending = b""
        self._pos = 0  # pending[pos:] is not yet fed
        self._out = b""  # output of one piece beyond CHUNK_SIZE, handed out CHUNK_SIZE at a time
        self._out_pos = 0

    def feed(self, raw: bytes) -> bytes:
        self._pending = self._pending[self._pos :] + raw
        self._pos = 0
        return self.more()

    def more(self) -> bytes:
        if self._out_pos < len(self._out):
            out = self._out[self._out_pos : self._out_pos + CHUNK_SIZE]
            self._out_pos += len(out)
            return out
        pending = self._pending
        while self._pos < len(pending):
            piece = pending[self._pos : self._pos + ZSTD_FEED_SIZE]
            self._pos += len(piece)
            self._started = True
            out = self._obj.decompress(piece)
            if self._obj.eof:
                self._pos -= len(self._obj.unused_data)  # the rest of the piece is fed to the next frame
                self._obj = self._dctx.decompressobj()
                self._started = False
            if len(out) > CHUNK_SIZE:  # a highly compressed piece: keep chunks (and frame batches) small
                self._out, self._out_pos = out, CHUNK_SIZE
                return out[:CHUNK_SIZE]
            if out:
                return out
        return b""

    def at_boundary(self) -> bool:
        return not self._started and self._pos >= len(self._pending)


class ChunkStream:
    """The uncompressed bytes of one file, handed out in chunks; see the module docstring."""

    __slots__ = ("_first", "_inflater", "_raw", "compression", "damage", "name", "raw_pos")

    def __init__(self, name: str, raw: BinaryIO, first: bytes) -> None:
        self.name = name
        self._raw = raw
        self._first = first
        self.raw_pos = len(first)
        self.damage: str | None = None
        self._inflater: _Inflater | None = None
        if first.startswith(GZIP_MAGIC):
            self._inflater = _GzipInflater()
        elif first.startswith(ZSTD_MAGIC):
            self._inflater = _ZstdInflater()
        self.compression = self._inflater.kind if self._inflater is not None else None

    def read(self) -> bytes:
        """The next chunk of uncompressed bytes; ``b""`` at the end of the file or of readable data."""
        if self.damage is not None:
            return b""
        inflater = self._inflater
        if inflater is None:
            if self._first:
                chunk, self._first = self._first, b""
                return chunk
            return self._read_raw(CHUNK_SIZE)
        try:
            out = inflater.more()
            while not out:
                if self._first:
                    raw, self._first = self._first, b""
                else:
                    raw = self._read_raw(RAW_CHUNK_SIZE)
                if not raw:
                    if not inflater.at_boundary():
                        self.damage = f"truncated {inflater.kind} stream at compressed byte {self.raw_pos}"
                    return b""
                out = inflater.feed(raw)
            return out
        except (zlib.error, zstandard.ZstdError) as exc:
            self.damage = f"corrupt {inflater.kind} data near compressed byte {self.raw_pos} ({exc})"
            return b""

    def _read_raw(self, size: int) -> bytes:
        try:
            data = self._raw.read(size)
        except OSError as exc:
            self.damage = f"read error ({exc.strerror or exc})"
            return b""
        self.raw_pos += len(data)
        return data

    def close(self) -> None:
        self._raw.close()


def open_stream(path: str) -> ChunkStream:
    """Open ``path`` and detect its compression; an unopenable file raises :class:`CaptureError`."""
    try:
        raw = open(path, "rb", buffering=0)  # ChunkStream owns and closes it
    except OSError as exc:
        raise CaptureError(f"{path}: {exc.strerror or exc}") from None
    try:
        first = raw.read(CHUNK_SIZE)
    except OSError as exc:
        raw.close()
        raise CaptureError(f"{path}: {exc.strerror or exc}") from None
    return ChunkStream(path, raw, first)
