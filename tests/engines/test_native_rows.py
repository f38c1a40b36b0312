"""Rows written natively as Arrow batches (native/src/records, tlsmon/records/native_rows.py) are the rows
Python writes one by one: per part file, in order, with the same certificates files and the same figures.

The whole-capture equality runs on every fixture and corpus capture (test_capture_equality.py); these are the
cases where the batches meet something else: part boundaries inside a batch, rows Python writes between
native ones, a connection given interim records, a row whose values the native batch cannot hold.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fixtures.tcpsynth import write_pcap
from tests.engines.equality import capture_frames, native_tables, python_tables, table_rows
from tlsmon import _native
from tlsmon.engine import Engine
from tlsmon.native_engine import NativeEngine
from tlsmon.output.rotating import RotatingSink
from tlsmon.output.sink import ParquetSink
from tlsmon.recorder import MemorySink
from tlsmon.records.native_rows import X509Inputs
from tlsmon.tcp.tracker_config import TrackerConfig
from tlsmon.x509.chains import ConnectionCertificates

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pcaps"
# 18 connections TLS from the first byte (with and without chains) and one plaintext, then two STARTTLS ones:
# rows written natively, and rows Python writes itself between them.
MIXED = [
    FIXTURES / "sample.pcap",
    FIXTURES / "starttls" / "smtp-accepted-tls12.pcap",
    FIXTURES / "starttls" / "imap-not-offered.pcap",
]
ROWS = 21


def test_the_mixed_captures_have_native_and_python_rows() -> None:
    parts, _, _ = native_tables(MIXED)
    rows = [row for connections, _ in parts for row in connections]
    assert len(rows) == ROWS
    assert [r["tls_mode"] for r in rows].count("implicit") == 18


@pytest.mark.parametrize("part_rows", [1, 2, 5, 7])
def test_parts_end_where_they_would_with_rows_written_one_by_one(part_rows: int) -> None:
    native = native_tables(MIXED, part_rows=part_rows)
    assert native == python_tables(capture_frames(MIXED), part_rows=part_rows)
    assert len(native[0]) == -(-ROWS // part_rows)


@pytest.mark.parametrize("max_events", [1, 64])
def test_rows_interleave_with_python_rows_in_the_order_they_ended(max_events: int) -> None:
    native = native_tables(MIXED, max_events=max_events, read_ahead=False)
    python = python_tables(capture_frames(MIXED))
    assert [r["uid"] for r in native[0][0][0]] == [r["uid"] for r in python[0][0][0]]
    assert native == python


def test_a_connection_with_interim_records_keeps_its_uid() -> None:
    # Every millisecond of packet time: the fixture's connections last 5.5 ms.
    config = TrackerConfig(interim_interval_ns=1_000_000, sweep_interval_ns=1_000_000, check_every_packets=1)
    path = FIXTURES / "tls12-resumption.pcap"
    native = native_tables([path], config=config)
    rows = native[0][0][0]
    interim = [r for r in rows if r["end_reason"] == "interim"]
    assert interim, "the fixture's connections last longer than the interval"
    final = {r["uid"] for r in rows if r["end_reason"] != "interim"}
    assert {r["uid"] for r in interim} <= final
    assert native == python_tables(capture_frames([path]), config=config)


def test_a_row_too_long_for_an_exact_duration_is_written_by_python(tmp_path: Path) -> None:
    frames = capture_frames([FIXTURES / "tls12-ecdhe-rsa.pcap"])
    # The packets after the handshake 2**53 ns (104 days) later: the duration is no longer exact as a double
    # computed from integers, which only Python's int / int is.
    later = [(t + 2**53 if i > 8 else t, f) for i, (t, _, f) in enumerate(frames)]
    path = tmp_path / "long.pcap"
    write_pcap(path, later, nanosecond=True)
    native = native_tables([path])
    (row,) = native[0][0][0]
    assert isinstance(row["duration"], float) and row["duration"] > 2**53 / 1e9
    assert native == python_tables(capture_frames([path]))


def test_a_sink_without_batches_gets_every_row_as_objects() -> None:
    engine = NativeEngine(MemorySink())
    assert engine.native_rows is None
    engine.run(_native.CaptureSource(MIXED))
    engine.close()
    assert engine.tracker.pending_rows == 0
    assert isinstance(engine.sink, MemorySink) and len(engine.sink.records) == ROWS


def test_taking_more_rows_than_the_core_keeps_is_refused() -> None:
    tracker = _native.Tracker(1, 1, 10, 10, 10, 1, 1, [443], None, native_rows=True)
    with pytest.raises(ValueError, match="1 sequence numbers for 0 rows"):
        tracker.build_rows([1])


def test_rows_are_built_before_they_are_taken() -> None:
    tracker = _native.Tracker(1, 1, 10, 10, 10, 1, 1, [443], None, native_rows=True)
    with pytest.raises(ValueError, match="build_rows first"):
        tracker.take_rows([])


def test_rows_built_are_taken_before_more_are_built() -> None:
    tracker = _native.Tracker(1, 1, 10, 10, 10, 1, 1, [443], None, native_rows=True)
    tracker.build_rows([])
    with pytest.raises(ValueError, match="wait for take_rows"):
        tracker.build_rows([])
    schema, array, counted = tracker.take_rows([])
    batch = pa.RecordBatch._import_from_c_capsule(schema, array)
    assert (batch.num_rows, counted) == (0, (0, 0, 0, {}, {}, {}))


def test_a_tracker_without_native_rows_has_none_to_take() -> None:
    tracker = _native.Tracker(1, 1, 10, 10, 10, 1, 1, [443], None)
    with pytest.raises(ValueError, match="without native_rows"):
        tracker.build_rows([])
    with pytest.raises(ValueError, match="without native_rows"):
        tracker.take_rows([])


@pytest.mark.parametrize(("name", "seen"), [("tls13-basic.pcap", False), ("tls12-ecdhe-rsa.pcap", True)])
def test_the_tracker_says_when_a_certificate_has_been_seen(name: str, seen: bool) -> None:
    # The engine starts loading cryptography on a thread at that moment, while the native loop goes on.
    engine = NativeEngine(MemorySink())
    engine.run(_native.CaptureSource([FIXTURES / name]))
    assert engine.tracker.certificates_seen is seen


def test_an_error_making_certificate_columns_on_the_thread_reaches_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*args: object, **kwargs: object) -> None:
        raise RuntimeError("certificate columns failed")

    monkeypatch.setattr(ConnectionCertificates, "summarize", failing)
    engine = NativeEngine(ParquetSink(tmp_path))
    with pytest.raises(RuntimeError, match="certificate columns failed"):
        engine.run(_native.CaptureSource([FIXTURES / "tls12-ecdhe-rsa.pcap"]))
        engine.close()


def _rotated(out: Path) -> list[list[dict[str, object]]]:
    """Every file of the connections and certificates tables, in order, as rows."""
    return [
        table_rows(pq.read_table(path))
        for table in ("connections", "certificates")
        for path in sorted((out / table).rglob("*.parquet"))
    ]


def test_live_s_rotating_writer_takes_the_batches_and_writes_what_python_does(tmp_path: Path) -> None:
    python_out, native_out = tmp_path / "python", tmp_path / "native"
    python_sink = RotatingSink(python_out, now=1_700_000_000.0)
    engine = Engine(python_sink)
    python_sink.use_certificates(engine.certificates.get)
    engine.run(capture_frames(MIXED))
    engine.close()
    native_sink = RotatingSink(native_out, now=1_700_000_000.0)
    native = NativeEngine(native_sink)
    assert native.native_rows is not None
    native_sink.use_certificates(native.certificates.get)
    native.run(_native.CaptureSource(MIXED))
    native.close()
    rows = _rotated(native_out)
    assert len(rows[0]) == ROWS
    assert rows == _rotated(python_out)


def test_a_certificate_seen_again_crosses_as_the_same_bytes_object(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bytes] = []
    native_row = NativeEngine._native_row

    def recording(self: NativeEngine, inputs: X509Inputs | None) -> None:
        if inputs is not None:
            seen.extend([*inputs[0], *inputs[1]])
        native_row(self, inputs)

    monkeypatch.setattr(NativeEngine, "_native_row", recording)
    native_tables(MIXED)
    distinct = {der: der for der in seen}
    assert len(seen) > len(distinct) >= 2, "the capture repeats certificates"
    assert all(der is distinct[der] for der in seen)
