"""Reading the capture files on a reader thread (native/src/capture/reader_thread.rs): when `read` does it, and
that it changes nothing in what is written. Frame-for-frame equality at every chunk border, damaged and
compressed files included, is tested in Rust (native/src/capture/tests.rs) and fuzzed (capture_readers)."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tlsmon import engines
from tlsmon.cli import main
from tlsmon.engines import READER_THREAD_MIN_CPUS, available_cpus, wants_reader_thread

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pcaps"


def test_auto_reads_on_a_reader_thread_when_three_cpus_are_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines, "available_cpus", lambda: 3)
    assert READER_THREAD_MIN_CPUS == 3
    assert wants_reader_thread("auto") is True


def test_auto_reads_on_the_loops_thread_with_two_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines, "available_cpus", lambda: 2)
    assert wants_reader_thread("auto") is False


def test_on_and_off_are_obeyed_whatever_the_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines, "available_cpus", lambda: 1)
    assert wants_reader_thread("on") is True
    monkeypatch.setattr(engines, "available_cpus", lambda: 64)
    assert wants_reader_thread("off") is False


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
