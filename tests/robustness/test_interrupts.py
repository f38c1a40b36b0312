"""Interrupting ``tlsmon read`` keeps the work (issue 8 point 2).

SIGINT and SIGTERM stop reading, end every open connection with end_reason ``interrupted``, write both tables
and the stats row, and exit 128 + the signal with one line. SIGKILL loses at most the current part: every part
renamed before it is complete, and the next run into the folder removes the temporary file left behind. The
capture (about 100,000 packets: sample.pcap's connections 400 times, shifted) is made in tmp_path; each run
is signalled as soon as its first part file appears, so it is mid-run whatever the machine's speed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fixtures.make_robustness_captures import SAMPLE, many_connections
from tlsmon.cli import Interrupted, _Interrupts, main

COPIES = 400
SPACING_NS = 50_000_000  # 20 s of packet time: connections leave their 5 s linger long before the input ends
SAMPLE_CONNECTIONS = 18  # IPv4 connections of sample.pcap (its one IPv6 connection is not copied)
PART_ROWS = 200


@pytest.fixture(scope="module")
def long_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("capture") / "many.pcap"
    many_connections(path, COPIES, SPACING_NS)
    return path


def start_read(capture: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "tlsmon.cli", "read", str(capture), "-o", str(out), "-q",
            "--part-rows", str(PART_ROWS), *extra]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_parts(out: Path, count: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while len(list((out / "connections").glob("*.parquet"))) < count:
        assert proc.poll() is None, "tlsmon ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.01)


def table(out: Path, name: str) -> pa.Table:
    return pa.concat_tables(pq.read_table(p) for p in sorted((out / name).glob("*.parquet")))


class Run:
    def __init__(self, out: Path, status: int, err: str) -> None:
        self.out = out
        self.status = status
        self.err = err


def interrupt(long_capture: Path, out: Path, signum: int, *extra: str) -> Run:
    proc = start_read(long_capture, out, *extra)
    wait_for_parts(out, 1, proc)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    return Run(out, proc.returncode, err)


@pytest.fixture(scope="module")
def sigint(long_capture: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return interrupt(long_capture, tmp_path_factory.mktemp("sigint"), signal.SIGINT)


@pytest.fixture(scope="module")
def sigterm(long_capture: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return interrupt(long_capture, tmp_path_factory.mktemp("sigterm"), signal.SIGTERM)


@pytest.mark.parametrize(("run", "status", "name"), [("sigint", 130, "SIGINT"), ("sigterm", 143, "SIGTERM")])
def test_signal_exits_128_plus_signal_with_one_line(
    request: pytest.FixtureRequest, run: str, status: int, name: str
) -> None:
    result: Run = request.getfixturevalue(run)
    (line,) = result.err.splitlines()
    assert (result.status, line.startswith(f"tlsmon: interrupted by {name}: "), line.endswith("not read")) == (
        status, True, True
    )


@pytest.mark.parametrize("run", ["sigint", "sigterm"])
def test_signal_writes_open_connections_as_interrupted_and_both_tables(
    request: pytest.FixtureRequest, run: str
) -> None:
    out = request.getfixturevalue(run).out
    conns = table(out, "connections")
    reasons = set(conns.column("end_reason").to_pylist())
    assert "interrupted" in reasons
    assert 0 < conns.num_rows < COPIES * SAMPLE_CONNECTIONS  # mid-run: the input was not read to the end
    assert table(out, "certificates").num_rows > 0
    assert not list(out.rglob("*.tmp"))


def test_a_run_reading_on_a_reader_thread_is_interrupted_the_same_way(
    long_capture: Path, tmp_path: Path
) -> None:
    run = interrupt(long_capture, tmp_path, signal.SIGINT, "--reader-thread", "on")
    (line,) = run.err.splitlines()
    assert (run.status, line.startswith("tlsmon: interrupted by SIGINT: ")) == (130, True)
    conns = table(tmp_path, "connections")
    assert "interrupted" in set(conns.column("end_reason").to_pylist())
    assert 0 < conns.num_rows < COPIES * SAMPLE_CONNECTIONS
    assert not list(tmp_path.rglob("*.tmp"))


def test_interrupted_run_writes_its_stats_row(sigterm: Run) -> None:
    stats = table(sigterm.out, "stats").select(["mode", "connections", "active_connections"]).to_pylist()
    conns = table(sigterm.out, "connections")
    interrupted = conns.column("end_reason").to_pylist().count("interrupted")
    [row] = stats
    assert (row["mode"], row["connections"], row["active_connections"] >= interrupted) == (
        "read", conns.num_rows, True
    )


def test_each_certificates_file_holds_each_certificate_once(sigint: Run) -> None:
    files = sorted((sigint.out / "certificates").glob("*.parquet"))
    counts = [pq.read_table(f, columns=["fingerprint"]).column(0).to_pylist() for f in files]
    assert len(files) > 1
    assert all(len(fps) == len(set(fps)) for fps in counts)


def test_every_chain_of_a_connections_part_is_in_the_certificates_part_of_the_same_name(sigint: Run) -> None:
    conn_files = sorted((sigint.out / "connections").glob("*.parquet"))
    cert_files = sorted((sigint.out / "certificates").glob("*.parquet"))
    assert [f.name for f in conn_files] == [f.name for f in cert_files]
    for conn_file, cert_file in zip(conn_files, cert_files, strict=True):
        chains = pq.read_table(conn_file, columns=["cert_chain_fps", "client_cert_chain_fps"]).to_pylist()
        needed = {fp for row in chains for chain in row.values() if chain for fp in chain}
        held = set(pq.read_table(cert_file, columns=["fingerprint"]).column(0).to_pylist())
        assert needed == held


def test_sigkill_keeps_every_completed_part(long_capture: Path, tmp_path: Path) -> None:
    proc = start_read(long_capture, tmp_path)
    wait_for_parts(tmp_path, 3, proc)
    proc.kill()
    proc.wait(timeout=60)
    parts = sorted((tmp_path / "connections").glob("*.parquet"))
    rows = [pq.read_table(p).num_rows for p in parts]  # every renamed part is a complete file
    assert (len(parts) >= 3, all(n == PART_ROWS for n in rows)) == (True, True)


def test_next_run_into_the_folder_removes_a_killed_runs_temporary_file(tmp_path: Path) -> None:
    folder = tmp_path / "connections"
    folder.mkdir()
    killed = folder / ".part-20240101T000000Z-999999999-abcdef-00003.parquet.tmp"  # pid 999999999: not running
    killed.write_bytes(b"PAR1 half a file")
    status = main(["read", str(SAMPLE), "-o", str(tmp_path), "-q"])
    assert (status, list(tmp_path.rglob("*.tmp"))) == (0, [])


def test_temporary_file_of_a_running_writer_is_kept(tmp_path: Path) -> None:
    from tlsmon.output.directory import remove_stale_temporaries

    folder = tmp_path / "connections"
    folder.mkdir()
    ours = folder / f".part-20240101T000000Z-{os.getppid()}-abcdef-00000.parquet.tmp"
    dead = folder / ".part-20240101T000000Z-999999999-abcdef-00000.parquet.tmp"
    ours.write_bytes(b"")
    dead.write_bytes(b"")
    assert (remove_stale_temporaries(tmp_path), ours.exists(), dead.exists()) == ([dead], True, False)


# --- the mechanism, in-process ------------------------------------------------------------------------------


def wait_in_python(seconds: float) -> None:
    """A main thread busy elsewhere (a blocked read, an engine that calls no progress callback)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.01)


def test_first_signal_waits_for_the_progress_callback() -> None:
    with _Interrupts(watchdog_s=60) as interrupts:
        os.kill(os.getpid(), signal.SIGINT)
        wait_in_python(0.1)  # nothing raised here: the engine is between two statements of a packet
        with pytest.raises(Interrupted) as raised:
            interrupts.check()
    assert raised.value.signum == signal.SIGINT


def test_watchdog_redelivers_when_no_progress_callback_comes() -> None:
    with _Interrupts(watchdog_s=0.2), pytest.raises(Interrupted) as raised:
        os.kill(os.getpid(), signal.SIGTERM)
        wait_in_python(10)
    assert raised.value.signum == signal.SIGTERM


def test_second_signal_raises_at_once() -> None:
    with _Interrupts(watchdog_s=60), pytest.raises(Interrupted):
        os.kill(os.getpid(), signal.SIGINT)
        wait_in_python(0.05)
        os.kill(os.getpid(), signal.SIGINT)
        wait_in_python(10)


def test_signals_while_finishing_the_output_are_only_remembered() -> None:
    with _Interrupts(watchdog_s=0.1) as interrupts:
        interrupts.hold()
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)
        wait_in_python(0.3)
        interrupts.check()
    assert interrupts.signum == signal.SIGTERM
