"""Run both engines on the same frames and give their outputs in a form that compares field by field."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tlsmon import _native
from tlsmon.capture import CaptureError, CaptureSource
from tlsmon.engine import Engine
from tlsmon.limits import DEFAULT_LIMITS
from tlsmon.live.counting import CountingSink, LiveCounters
from tlsmon.native_engine import NativeEngine
from tlsmon.output.sink import ParquetSink
from tlsmon.readahead import ReadAhead
from tlsmon.recorder import MemorySink, RunStats
from tlsmon.tcp.tracker_config import TrackerConfig

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


def run_native_capture(
    paths: Sequence[Path], config: TrackerConfig | None = None, max_events: int = 64, reader_thread: bool = False
) -> Output:
    """The whole native path: the capture files read (on a reader thread if asked), decoded and tracked without
    Python per packet."""
    sink = MemorySink()
    engine = NativeEngine(sink, config, max_events=max_events)
    source = _native.CaptureSource(paths)
    if reader_thread:
        source.use_reader_thread()
    try:
        engine.run(source)
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


# Each part's connections rows (as dicts, in file order), then its certificates rows; then what the run's figures
# and live's counters say of the rows.
Written = tuple[list[tuple[list[dict[str, object]], list[dict[str, object]]]], tuple[object, ...], tuple[object, ...]]


def written_parts(out: Path) -> list[tuple[list[dict[str, object]], list[dict[str, object]]]]:
    connections = sorted((out / "connections").glob("*.parquet"))
    certificates = sorted((out / "certificates").glob("*.parquet"))
    assert len(connections) == len(certificates)
    pairs = zip(connections, certificates, strict=True)
    return [(table_rows(pq.read_table(c)), table_rows(pq.read_table(k))) for c, k in pairs]


def table_rows(table: pa.Table) -> list[dict[str, object]]:
    """The rows, timestamps as integers (nanoseconds do not all fit a datetime)."""
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.int64()))
    return table.to_pylist()


def _row_figures(stats: RunStats) -> tuple[object, ...]:
    return (stats.connections, stats.tls_connections, stats.transports, stats.versions, stats.ciphers, stats.anomalies)


def _counted(c: LiveCounters) -> tuple[object, ...]:
    return (
        c.connections,
        c.tls_connections,
        c.connections_evicted,
        c.connections_with_gaps,
        c.missed_bytes,
        c.anomalies,
        c.anomaly_names,
        c.versions,
        c.counters,
    )


def python_tables(frames: Frames, part_rows: int = 100_000, config: TrackerConfig | None = None) -> Written:
    """What `tlsmon read --engine python` writes, and counts."""
    with tempfile.TemporaryDirectory() as out:
        parquet = ParquetSink(out, part_rows)
        counters = LiveCounters()
        engine = Engine(CountingSink(parquet, counters), config)
        parquet.use_certificates(engine.certificates.get)
        engine.run(frames)
        stats = engine.close()
        return written_parts(Path(out)), _row_figures(stats), _counted(counters)


def native_tables(
    paths: Sequence[Path],
    part_rows: int = 100_000,
    max_events: int = 64,
    config: TrackerConfig | None = None,
    read_ahead: bool = True,
    reader_thread: bool = False,
) -> Written:
    """What `tlsmon read` writes, and counts: the files read natively (on a reader thread if asked; the first
    frames read ahead while the engine is made, as `tlsmon read` does), the rows of natively analyzed
    connections written as Arrow batches."""
    config = config or TrackerConfig()
    with tempfile.TemporaryDirectory() as out:
        parquet = ParquetSink(out, part_rows)
        counters = LiveCounters()
        try:
            source = _native.CaptureSource(paths)
        except CaptureError:
            source = None
        if reader_thread and source is not None:
            source.use_reader_thread()
        ahead = None
        if read_ahead and source is not None:
            ahead = ReadAhead(source, config, DEFAULT_LIMITS, native_rows=True, max_events=max_events)
        engine = NativeEngine(CountingSink(parquet, counters), config, max_events=max_events, read_ahead=ahead)
        assert engine.native_rows is not None, "the Parquet sink takes the native rows as batches"
        parquet.use_certificates(engine.certificates.get)
        try:
            if source is not None:
                engine.run(source)
        except CaptureError:
            pass
        stats = engine.close()
        return written_parts(Path(out)), _row_figures(stats), _counted(counters)
