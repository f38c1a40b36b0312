"""A batch killed with SIGKILL and started again: finished inputs kept, unfinished redone, nothing twice.

The batch runs as a real process over six fixture captures on one worker; the test kills it (SIGKILL, no
chance to clean up) as soon as the manifest holds a finished input, checks that every visible part is a complete
Parquet file, starts the batch again and compares the dataset with one made by an uninterrupted run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

from tests.batch.helpers import PCAPS, ROOT, batch, files, manifest, parts, read, sort_rows

INPUTS = sorted(p for p in PCAPS.glob("*.pcap") if p.name != "truncated.pcap")[:6]


def _batch(inputs: Path, ds: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tlsmon.cli", "batch", str(inputs), "-o", str(ds), "--workers", "1", "-q"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _finished(ds: Path) -> int:
    folder = ds / "_manifest"
    return len(list(folder.glob("part-*.parquet"))) if folder.is_dir() else 0


def test_a_batch_killed_mid_run_resumes_without_losing_or_doubling_anything(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for p in INPUTS:
        shutil.copy(p, inputs / p.name)
    reference = tmp_path / "reference"
    assert batch(inputs, "-o", reference, "--workers", "1") == 0

    ds = tmp_path / "ds"
    proc = _batch(inputs, ds)
    deadline = time.monotonic() + 60
    while _finished(ds) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    done_before = {path: e for path, e in manifest(ds).items() if e.state == "done"}
    assert 2 <= len(done_before) < len(INPUTS), "the kill did not land mid-batch"
    for table in ("connections", "certificates", "stats"):
        for part in parts(ds, table):
            pq.read_metadata(ds / part)  # every visible part is complete
    kept = {k: v for k, v in files(ds).items() if any(k in e.parts for e in done_before.values())}

    rerun = _batch(inputs, ds)
    assert rerun.wait(timeout=120) == 0, rerun.stderr.read() if rerun.stderr else ""
    after = files(ds)
    assert {k: after[k] for k in kept} == kept  # finished inputs were not redone
    assert not [k for k in after if ".tmp-" in k]
    assert {e.state for e in manifest(ds).values()} == {"done"}
    assert len(manifest(ds)) == len(INPUTS)
    for table in ("connections", "certificates", "stats"):
        assert parts(ds, table) == parts(reference, table)
    assert sort_rows(read(ds, "connections")) == sort_rows(read(reference, "connections"))
