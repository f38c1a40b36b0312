"""One task: one input file → its part files in the dataset, and a :class:`TaskResult` saying what happened.

Theory of operation. :func:`convert` runs the same engine as ``tlsmon read`` on the one file, writing the
``read`` layout (``connections/part-*.parquet``, ``certificates/part-*.parquet``) into a private scratch folder
on the worker's local disk. It is the only place the engine is built, so switching engines is a change here.
:func:`run_task` then splits those files by UTC date (``ts_start`` of a connection, ``first_seen`` of a
certificate) into ``DATASET/<table>/sensor=S/date=D/``, streaming record batches so memory stays bounded by a
batch. Every part is first written under a hidden temporary name in its final folder and fsynced; only when all
of them (and the one-row ``stats`` part) are complete are they renamed into place, one after another, so the
window in which some but not all parts of an input are visible is a few renames long, and no part is ever
visible half-written.

Rows that may be pieces of a connection cut at a file boundary (:func:`is_piece`) are held back from
``connections/`` and written to ``DATASET/_pieces/sensor=S/part-<input-id>.parquet`` instead; the stitching
step after the tasks (:mod:`~tlsmon.batch.stitch`) joins them and writes the result into ``connections/``.

Part names depend only on the input id, so redoing a task — after a crash, a killed Dask worker, or a rerun —
writes the same names again and cannot duplicate rows. After committing, parts of the same input id that the new
run did not produce (possible only when another tlsmon version drew the dates differently) are removed.

A task never raises for a bad input: a file that is not a capture, an unreadable file or any error while
converting becomes ``state="failed"`` with a one-line reason; damage inside a capture is a warning on a
``done`` result (the part files hold everything before the damage).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tlsmon import __version__
from tlsmon.batch.inputs import InputFile
from tlsmon.batch.layout import PIECES_DIR, commit, part_name, partition_dir, pieces_path, temporary_name, utc_date
from tlsmon.batch.statstable import InputStats, stats_table
from tlsmon.capture import CaptureError
from tlsmon.engines import DEFAULT_ENGINE, make_engine, open_source
from tlsmon.output.parquet import COMPRESSION, fsync_path
from tlsmon.output.sink import ParquetSink, run_metadata
from tlsmon.tcp.tracker_config import TrackerConfig

DONE = "done"
FAILED = "failed"
SKIPPED = "skipped"

#: table → the timestamp column whose UTC date picks the partition
DATE_COLUMNS = {"connections": "ts_start", "certificates": "first_seen"}
_BATCH_ROWS = 65536
PIECES_KEY = "pieces"


@dataclass(frozen=True, slots=True)
class TaskSpec:
    input: InputFile
    dataset: str
    sensor: str
    idle_timeout_s: float = 300.0
    max_connections: int = 1_000_000


@dataclass(slots=True)
class TaskResult:
    input: InputFile
    sensor: str
    state: str
    reason: str = ""
    parts: list[str] = field(default_factory=list)  # relative to the dataset, sorted
    rows: dict[str, int] = field(default_factory=dict)  # table → rows written
    warnings: list[str] = field(default_factory=list)
    packets: int = 0
    connections: int = 0
    first_ts: int | None = None
    last_ts: int | None = None
    started: int = 0  # ns since the epoch
    duration_s: float = 0.0
    host: str = ""


@dataclass(slots=True)
class Conversion:
    """What :func:`convert` leaves behind: ``read``-shaped Parquet under ``out_dir`` and the run's figures."""

    out_dir: Path
    packets: int
    tcp_packets: int
    connections: int
    tls_connections: int
    warnings: list[str]


def convert(path: str, out_dir: Path, config: TrackerConfig) -> Conversion:
    """Run the ``read`` engine over one capture file into ``out_dir`` (the one place the engine is built)."""
    source = open_source(DEFAULT_ENGINE, [path])
    engine = make_engine(DEFAULT_ENGINE, ParquetSink(out_dir), config)
    engine.run(source)
    stats = engine.close()
    return Conversion(out_dir, stats.packets, stats.tcp_packets, stats.connections, stats.tls_connections,
                      list(source.warnings))


def run_task(spec: TaskSpec) -> TaskResult:
    """Convert one input into its parts; never raises for anything the input or the conversion does."""
    started = time.time_ns()
    clock = time.perf_counter()
    result = TaskResult(spec.input, spec.sensor, FAILED, started=started, host=_host())
    scratch = Path(tempfile.mkdtemp(prefix="tlsmon-batch-"))
    pending: list[tuple[Path, Path]] = []
    try:
        config = TrackerConfig(idle_timeout_ns=int(spec.idle_timeout_s * 1e9), max_connections=spec.max_connections)
        conversion = convert(spec.input.path, scratch, config)
        pending = _write_parts(spec, conversion, result)
        commit(pending)
        pending = []
        _remove_stale(Path(spec.dataset), spec, result.parts)
        result.state = DONE
    except CaptureError as exc:
        result.reason = str(exc)
    except Exception as exc:
        result.reason = f"{spec.input.path}: {type(exc).__name__}: {exc}".replace("\n", " ")
    finally:
        for tmp, _ in pending:
            tmp.unlink(missing_ok=True)
        shutil.rmtree(scratch, ignore_errors=True)
    if result.state != DONE:
        result.parts = []
        result.rows = {}
    result.duration_s = time.perf_counter() - clock
    return result


def _host() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _write_parts(spec: TaskSpec, conv: Conversion, result: TaskResult) -> list[tuple[Path, Path]]:
    """Write every part under a temporary name; return (temporary, final) pairs, nothing renamed yet."""
    dataset = Path(spec.dataset)
    metadata = {**run_metadata(), "input_id": spec.input.input_id, "sensor": spec.sensor}
    pending: list[tuple[Path, Path]] = []
    try:
        for table, date_column in DATE_COLUMNS.items():
            files = sorted((conv.out_dir / table).glob("*.parquet"))
            rows = _split_by_date(files, table, date_column, dataset, spec, metadata, pending, result)
            result.rows[table] = rows
        result.warnings = conv.warnings
        result.packets = conv.packets
        result.connections = conv.connections
        stats = InputStats(
            input_path=spec.input.path, input_id=spec.input.input_id, input_bytes=spec.input.size,
            packets=conv.packets, tcp_packets=conv.tcp_packets, connections=conv.connections,
            tls_connections=conv.tls_connections, certificates=result.rows.get("certificates", 0),
            first_ts=result.first_ts, last_ts=result.last_ts, warnings=conv.warnings, started=result.started,
            duration_s=time.time_ns() / 1e9 - result.started / 1e9, host=result.host, tlsmon_version=__version__,
        )
        ts = result.first_ts if result.first_ts is not None else spec.input.mtime_ns
        final = partition_dir(dataset, "stats", spec.sensor, utc_date(ts)) / part_name(spec.input.input_id)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_name(final)
        pending.append((tmp, final))
        pq.write_table(stats_table(stats, metadata), tmp, compression=COMPRESSION)
        fsync_path(tmp)
        result.rows["stats"] = 1
    except BaseException:
        for tmp, _ in pending:
            tmp.unlink(missing_ok=True)
        raise
    result.parts = sorted(str(final.relative_to(dataset)) for _, final in pending)
    return pending


def _split_by_date(
    files: list[Path],
    table: str,
    date_column: str,
    dataset: Path,
    spec: TaskSpec,
    metadata: dict[str, str],
    pending: list[tuple[Path, Path]],
    result: TaskResult,
) -> int:
    writers: dict[str, pq.ParquetWriter] = {}
    rows = 0
    try:
        for file in files:
            parquet = pq.ParquetFile(file)
            schema = parquet.schema_arrow.with_metadata({**(parquet.schema_arrow.metadata or {}),
                                                         **{k.encode(): v.encode() for k, v in metadata.items()}})
            for batch in parquet.iter_batches(batch_size=_BATCH_ROWS):
                if not batch.num_rows:
                    continue
                rows += batch.num_rows
                if table == "connections":
                    _note_times(batch, result)
                if table == "connections":
                    piece = is_piece(batch)
                    if pc.any(piece).as_py():
                        _write_pieces(batch.filter(piece), schema, dataset, spec, pending, writers)
                        batch = batch.filter(pc.invert(piece))
                        if not batch.num_rows:
                            continue
                dates = pc.cast(batch.column(date_column), pa.date32())
                for date in pc.unique(dates).to_pylist():
                    day = date.isoformat()
                    writer = writers.get(day)
                    if writer is None:
                        final = partition_dir(dataset, table, spec.sensor, day) / part_name(spec.input.input_id)
                        final.parent.mkdir(parents=True, exist_ok=True)
                        tmp = temporary_name(final)
                        pending.append((tmp, final))
                        writer = writers[day] = pq.ParquetWriter(tmp, schema, compression=COMPRESSION)
                    writer.write_batch(batch.filter(pc.equal(dates, pa.scalar(date, pa.date32()))))
    finally:
        for writer in writers.values():
            writer.close()
    for tmp, final in pending:
        if final.parts[-4] == table or final.parts[-3] == PIECES_DIR:
            fsync_path(tmp)
    return rows


def is_piece(batch: pa.RecordBatch) -> pa.Array:
    """Rows that may be one piece of a connection cut by a file boundary: still open at the end of the file
    (``end_reason`` eof), or picked up without the originator's SYN (history without ``S``)."""
    open_at_end = pc.equal(batch.column("end_reason"), "eof")
    no_syn = pc.invert(pc.match_substring(batch.column("history"), "S"))
    return pc.or_(open_at_end, no_syn)


def _write_pieces(
    rows: pa.RecordBatch,
    schema: pa.Schema,
    dataset: Path,
    spec: TaskSpec,
    pending: list[tuple[Path, Path]],
    writers: dict[str, pq.ParquetWriter],
) -> None:
    writer = writers.get(PIECES_KEY)
    if writer is None:
        final = pieces_path(dataset, spec.sensor, spec.input.input_id)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_name(final)
        pending.append((tmp, final))
        writer = writers[PIECES_KEY] = pq.ParquetWriter(tmp, schema, compression=COMPRESSION)
    writer.write_batch(rows)


def _note_times(batch: pa.RecordBatch, result: TaskResult) -> None:
    first = pc.min(batch.column("ts_start")).cast(pa.int64()).as_py()
    last = pc.max(batch.column("ts_end")).cast(pa.int64()).as_py()
    if result.first_ts is None or first < result.first_ts:
        result.first_ts = first
    if result.last_ts is None or last > result.last_ts:
        result.last_ts = last


def _remove_stale(dataset: Path, spec: TaskSpec, parts: list[str]) -> None:
    keep = set(parts)
    name = part_name(spec.input.input_id)
    for table in DATE_COLUMNS.keys() | {"stats"}:
        for path in (dataset / table / f"sensor={spec.sensor}").glob(f"date=*/{name}"):
            if str(path.relative_to(dataset)) not in keep:
                path.unlink(missing_ok=True)
    pieces = pieces_path(dataset, spec.sensor, spec.input.input_id)
    if str(pieces.relative_to(dataset)) not in keep:
        pieces.unlink(missing_ok=True)
