"""Run both engines on the same frames and give their outputs in a form that compares field by field."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from tlsmon import _native
from tlsmon.capture import CaptureError, CaptureSource
from tlsmon.engine import Engine, MemorySink
from tlsmon.native_engine import NativeEngine
from tlsmon.tcp.tracker import TrackerConfig

Frames = Iterable[tuple[int, int, bytes]]
# Every record's parts as reprs (the dataclasses' reprs list every field), sorted; then the certificates.
Output = tuple[list[str], list[str]]


def output(sink: MemorySink) -> Output:
    rows = sorted(repr((r.conn, r.preamble, r.starttls, r.tls, r.x509)) for r in sink.records)
    return rows, sorted(repr(c) for c in sink.certificates)


def run_python(frames: Frames, config: TrackerConfig | None = None) -> Output:
    sink = MemorySink()
    engine = Engine(sink, config)
    engine.run(frames)
    engine.close()
    return output(sink)


def run_native(frames: Frames, config: TrackerConfig | None = None, batch: int = 4096) -> Output:
    sink = MemorySink()
    engine = NativeEngine(sink, config, batch=batch)
    engine.run(frames)
    engine.close()
    return output(sink)


def run_native_capture(paths: Sequence[Path], config: TrackerConfig | None = None, max_events: int = 64) -> Output:
    """The whole native path: the capture files read, decoded and tracked without Python per packet."""
    sink = MemorySink()
    engine = NativeEngine(sink, config, max_events=max_events)
    try:
        engine.run(_native.CaptureSource(paths))
    except CaptureError:
        pass
    engine.close()
    return output(sink)


def capture_frames(paths: Sequence[Path]) -> list[tuple[int, int, bytes]]:
    """Every frame of the files, up to the first fatal capture error (as `tlsmon read` would see them)."""
    frames: list[tuple[int, int, bytes]] = []
    try:
        frames.extend(CaptureSource(paths))
    except CaptureError:
        pass
    return frames
