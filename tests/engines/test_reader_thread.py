"""Reading the capture files on a reader thread (native/src/capture/reader_thread.rs): when `read` does it, and
that it changes nothing in what is written. Frame-for-frame equality at every chunk border, damaged and
compressed files included, is tested in Rust (native/src/capture/tests.rs) and fuzzed (capture_readers)."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tlsmon import _native, engines, readahead
from tlsmon.cli import main
from tlsmon.engines import READER_THREAD_MIN_CPUS, available_cpus, reader_thread_start
from tlsmon.limits import DEFAULT_LIMITS
from tlsmon.native_engine import NativeEngine
from tlsmon.native_tracker import DEFAULT_MAX_EVENTS
from tlsmon.output.sink import ParquetSink
from tlsmon.readahead import ReadAhead
from tlsmon.tcp.tracker_config import TrackerConfig

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pcaps"
SAMPLE = FIXTURES / "sample.pcap"  # 276 frames, 18 connections TLS from their first byte and one plaintext
# Closed connections end at once (no linger) and the table is swept at every frame: rows come as they end.
PROMPT = TrackerConfig(linger_ns=1, sweep_interval_ns=1, check_every_packets=1)


def test_auto_reads_on_a_reader_thread_from_the_start_with_three_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines, "available_cpus", lambda: 3)
    assert READER_THREAD_MIN_CPUS == 3
    assert reader_thread_start("auto") == "open"


def test_auto_reads_on_a_reader_thread_once_the_engine_runs_with_two_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines, "available_cpus", lambda: 2)
    assert reader_thread_start("auto") == "run"


def test_on_and_off_are_obeyed_whatever_the_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines, "available_cpus", lambda: 1)
    assert reader_thread_start("on") == "open"
    monkeypatch.setattr(engines, "available_cpus", lambda: 64)
    assert reader_thread_start("off") == "never"


def _engine_run(tmp_path: Path, read_ahead_rows: int, monkeypatch: pytest.MonkeyPatch) -> _native.CaptureSource:
    """sample.pcap read ahead up to ``read_ahead_rows`` rows, then by an engine told to use a reader thread."""
    monkeypatch.setattr(readahead, "READ_AHEAD_ROWS", read_ahead_rows)
    source = _native.CaptureSource([SAMPLE])
    ahead = ReadAhead(source, PROMPT, DEFAULT_LIMITS, native_rows=True, max_events=DEFAULT_MAX_EVENTS)
    sink = ParquetSink(tmp_path)
    engine = NativeEngine(sink, PROMPT, read_ahead=ahead, reader_thread=True)
    sink.use_certificates(engine.certificates.get)
    assert source.reader_thread is False
    engine.run(source)
    engine.close()
    return source


def test_an_engine_told_to_reads_on_a_reader_thread_from_where_the_read_ahead_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _engine_run(tmp_path, 1, monkeypatch).reader_thread is True


def test_no_reader_thread_once_the_read_ahead_has_read_the_whole_capture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _engine_run(tmp_path, 1 << 20, monkeypatch).reader_thread is False


def test_available_cpus_are_the_processs_affinity_not_the_machines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 5}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 96)
    assert available_cpus() == 2


@pytest.mark.parametrize("capture", ["tls13.pcap.zst", "tls12-client-cert.pcap", "starttls/smtp-accepted.pcap"])
def test_read_on_a_reader_thread_writes_the_same_tables(tmp_path: Path, capture: str) -> None:
    written = {}
    for choice in ("off", "on"):
        out = tmp_path / choice
        assert main(["read", str(FIXTURES / capture), "-o", str(out), "-q", "--reader-thread", choice]) == 0
        written[choice] = {
            table: [pq.read_table(f).to_pylist() for f in sorted((out / table).glob("*.parquet"))]
            for table in ("connections", "certificates")
        }
        assert written[choice]["connections"][0]
    assert written["on"] == written["off"]


def test_read_refuses_an_unknown_reader_thread_choice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["read", str(FIXTURES / "tls13-basic.pcap"), "-o", str(tmp_path), "--reader-thread", "sometimes"]) == 2
    assert "--reader-thread: invalid choice: 'sometimes' (choose from 'auto', 'on', 'off')" in capsys.readouterr().err
