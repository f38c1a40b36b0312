"""Capture files in the order given, as one continuous stream of ``(ts_ns, linktype, frame)`` tuples.

Theory of operation. Each file is opened as a :class:`~tlsmon.capture.stream.ChunkStream` (decompressing
gzip/zstd found by magic), and its first four uncompressed bytes pick the reader: classic pcap (any of its
magics) or pcapng. Readers yield the frames of one 256 KiB chunk as a list; the source counts them,
updates ``bytes_read`` and, when a BPF filter was given, keeps only the frames it matches (one libpcap program
per link type, compiled on first use). Iterating over a list per chunk keeps the per-frame cost in C.

Errors follow the architecture: a file that cannot be read as a capture at all raises :class:`CaptureError`
(frames of earlier files have been yielded by then); damage inside a file is one warning line, collected in
``warnings`` and passed to ``on_warning``, after which the next file is read. A BPF filter libpcap cannot
compile for a link type raises at the first frame of that link type, after the frames before it.
``counters`` holds the capture stage's named counts (``capture.bad_timestamp``, …; see ``frames``).

The compiled core has the same class (``tlsmon._native.CaptureSource``); tests/capture holds the two equal.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from itertools import chain

from tlsmon.capture.bpf import Matcher, compile_filter
from tlsmon.capture.errors import CaptureError
from tlsmon.capture.frames import Batch, Frame, Reader, ReadState
from tlsmon.capture.pcap import MAGICS, read_pcap
from tlsmon.capture.pcapng import SHB_MAGIC, read_pcapng
from tlsmon.capture.stream import ChunkStream, open_stream

__all__ = ["CaptureError", "CaptureSource"]


class CaptureSource:
    """Frames from capture files, read in the order given; see the module docstring."""

    __slots__ = (
        "_bpf",
        "_matchers",
        "_on_warning",
        "_paths",
        "_sizes",
        "_state",
        "bytes_read",
        "filtered_out",
        "packets",
        "total_bytes",
        "warnings",
    )

    def __init__(
        self,
        paths: Sequence[str | os.PathLike[str]],
        bpf: str | None = None,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self._paths = [os.fspath(p) for p in paths]
        self._bpf = bpf
        self._on_warning = on_warning
        self._matchers: dict[int, Matcher] = {}
        self._sizes: list[int] = []
        for path in self._paths:
            try:
                self._sizes.append(os.stat(path).st_size)
            except OSError as exc:
                raise CaptureError(f"{path}: {exc.strerror or exc}") from None
        self.total_bytes = sum(self._sizes)
        self.bytes_read = 0
        self.warnings: list[str] = []
        self.packets = 0
        self.filtered_out = 0
        self._state = ReadState(self._warn)

    @property
    def counters(self) -> dict[str, int]:
        """The capture stage's named counters (every name, zeros included)."""
        return self._state.counters()

    def __iter__(self) -> Iterator[Frame]:
        # chain.from_iterable walks each batch list in C: no Python frame is resumed per frame.
        return chain.from_iterable(self._batches())

    def _batches(self) -> Iterator[Batch]:
        done = 0
        for path, size in zip(self._paths, self._sizes, strict=True):
            stream = open_stream(path)
            try:
                reader = self._reader(stream)
                if reader is not None:
                    for batch in reader:
                        self.packets += len(batch)
                        self.bytes_read = done + stream.raw_pos
                        if self._bpf is None:
                            yield batch
                        else:
                            kept, error = self._filter(path, batch)
                            if kept:
                                yield kept
                            if error is not None:
                                raise error
            finally:
                stream.close()
            done += size
            self.bytes_read = done

    def _reader(self, stream: ChunkStream) -> Reader | None:
        """The reader for the stream's format, or None (after a warning) for a file with no usable data."""
        data = b""
        while len(data) < 4:
            more = stream.read()
            if not more:
                break
            data += more
        magic = data[:4]
        if magic in MAGICS:
            return read_pcap(stream, data, self._state)
        if magic == SHB_MAGIC:
            return read_pcapng(stream, data, self._state)
        if stream.damage is not None:
            self._state.damaged(f"{stream.name}: {stream.damage}; file skipped")
            return None
        raise CaptureError(f"{stream.name}: not a capture file ({_describe(data, stream)})")

    def _filter(self, path: str, batch: Batch) -> tuple[Batch, CaptureError | None]:
        """The frames the filter keeps, and the error for a link type it cannot be compiled for.

        At such an error the frames before the failing one are kept and it and those after it are not
        counted as read (``packets`` then counts the frames handed to the filter, whatever the batching).
        """
        matchers = self._matchers
        kept: Batch = []
        for i, frame in enumerate(batch):
            match = matchers.get(frame[1])
            if match is None:
                try:
                    match = self._compile(path, frame[1])
                except CaptureError as exc:
                    self.packets -= len(batch) - i
                    self.filtered_out += i - len(kept)
                    return kept, exc
            if match(frame[2]):
                kept.append(frame)
        self.filtered_out += len(batch) - len(kept)
        return kept, None

    def _compile(self, path: str, linktype: int) -> Matcher:
        assert self._bpf is not None
        try:
            match = compile_filter(self._bpf, linktype)
        except ValueError as exc:
            raise CaptureError(f"{path}: {exc}") from None
        self._matchers[linktype] = match
        return match

    def _warn(self, line: str) -> None:
        self.warnings.append(line)
        if self._on_warning is not None:
            self._on_warning(line)


def _describe(head: bytes, stream: ChunkStream) -> str:
    """Why the first bytes are not a capture: its magic, or that it is (nearly) empty."""
    packed = f"{stream.compression}-compressed, " if stream.compression else ""
    if not head:
        return f"{packed}empty"
    if len(head) < 4:
        return f"{packed}only {len(head)} bytes"
    return f"{packed}magic 0x{head[:4].hex()}"
