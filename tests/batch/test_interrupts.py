"""SIGINT and SIGTERM stop a batch: one line, exit 130/143, finished inputs kept, the rest converted by a rerun.

Issue 8 point 2 for batch: the coordinator stops waiting, abandons the tasks in flight (their temporary files
are removed by the next run's recovery) and keeps every input already recorded in the manifest.
"""

from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path

import pytest

from tests.batch.helpers import batch, manifest, parts, read, sort_rows
from tests.batch.test_resume import INPUTS, _batch, _finished


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_batch_with_one_line_and_a_rerun_finishes_it(tmp_path: Path, signum: int) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for p in INPUTS:
        shutil.copy(p, inputs / p.name)
    ds = tmp_path / "ds"
    proc = _batch(inputs, ds)
    deadline = time.monotonic() + 60
    while _finished(ds) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signum)
    assert proc.wait(timeout=30) == 128 + signum
    assert proc.stderr is not None
    lines = proc.stderr.read().decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"tlsmon batch: interrupted by {signal.Signals(signum).name}")
    done = [e for e in manifest(ds).values() if e.state == "done"]
    assert 2 <= len(done) <= len(INPUTS)

    rerun = _batch(inputs, ds)
    assert rerun.wait(timeout=120) == 0
    assert {e.state for e in manifest(ds).values()} == {"done"} and len(manifest(ds)) == len(INPUTS)
    reference = tmp_path / "reference"
    assert batch(inputs, "-o", reference, "--workers", "1") == 0
    for table in ("connections", "certificates", "stats"):
        assert parts(ds, table) == parts(reference, table)
    assert sort_rows(read(ds, "connections")) == sort_rows(read(reference, "connections"))  # nothing twice
