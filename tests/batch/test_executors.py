"""The local pool when a worker process dies under it: the tasks in flight are retried in a new pool."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

from tests.batch.helpers import SAMPLE
from tlsmon.batch.executors import LocalExecutor
from tlsmon.batch.inputs import identify
from tlsmon.batch.task import DONE, TaskSpec


def test_a_worker_killed_mid_batch_costs_no_input(tmp_path: Path) -> None:
    specs = []
    for i in range(6):
        path = tmp_path / f"in-{i}.pcap"
        shutil.copy(SAMPLE, path)
        specs.append(TaskSpec(identify(str(path)), str(tmp_path / "ds"), "default"))
    results = []
    for result in LocalExecutor(2).run(specs):
        if not results:
            os.kill(int(result.host.rsplit(":", 1)[1]), signal.SIGKILL)
        results.append(result)
    assert sorted(r.input.path for r in results) == sorted(s.input.path for s in specs)
    assert {r.state for r in results} == {DONE}
    assert len({r.host for r in results}) >= 3  # the killed worker, its replacement(s), the other one
