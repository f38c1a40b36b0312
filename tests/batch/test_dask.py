"""``--scheduler``: the same per-file tasks on a real Dask cluster (a ``dask scheduler`` and two ``dask worker``
processes started here on 127.0.0.1, killed at the end whatever happens).

The output dataset is on the local file system, which every worker shares because they run on this machine:
the shared-POSIX-storage case. Each wait is bounded, so a cluster that does not come up fails the test in
seconds instead of hanging.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.batch.helpers import PCAPS, ROOT, batch, manifest, parts, read, sort_rows
from tlsmon.batch.runner import BatchOptions, run_batch
from tlsmon.batch.task import TaskResult, TaskSpec

distributed = pytest.importorskip("distributed")

INPUTS = sorted(p for p in PCAPS.glob("*.pcap") if p.name != "truncated.pcap")[:8]
DASK = Path(sys.executable).with_name("dask")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    def __init__(self, address: str, scheduler: subprocess.Popen[bytes], workers: list[subprocess.Popen[bytes]]):
        self.address = address
        self.scheduler = scheduler
        self.workers = workers

    def stop(self) -> None:
        for proc in [*self.workers, self.scheduler]:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    scheduler = subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                  "--no-dashboard"], **quiet)  # type: ignore[call-overload]
    workers = [
        subprocess.Popen([str(DASK), "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                          "--name", f"w{i}"], **quiet)  # type: ignore[call-overload]
        for i in range(2)
    ]
    running = Cluster(address, scheduler, workers)
    try:
        with distributed.Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("in")
    for p in INPUTS:
        shutil.copy(p, folder / p.name)
    return folder


@pytest.fixture(scope="module")
def local(inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    ds = tmp_path_factory.mktemp("local") / "ds"
    assert batch(inputs, "-o", ds, "--workers", "2") == 0
    return ds


def _same_dataset(ds: Path, reference: Path) -> None:
    for table in ("connections", "certificates", "stats"):
        assert parts(ds, table) == parts(reference, table)
    assert sort_rows(read(ds, "connections")) == sort_rows(read(reference, "connections"))
    rows = manifest(ds)
    assert len(rows) == len(INPUTS)
    assert {e.state for e in rows.values()} == {"done"}


def test_a_dask_batch_writes_the_same_dataset_as_the_local_pool(
    cluster: Cluster, inputs: Path, local: Path, tmp_path: Path
) -> None:
    ds = tmp_path / "ds"
    assert batch(inputs, "-o", ds, "--scheduler", cluster.address) == 0
    _same_dataset(ds, local)
    hosts = {e.host.rsplit(":", 1)[1] for e in manifest(ds).values()}
    assert hosts <= {str(w.pid) for w in cluster.workers}


class _KillFirstWorker:
    """Observer that SIGKILLs one worker as soon as the first task result arrives."""

    def __init__(self, worker: subprocess.Popen[bytes]) -> None:
        self.worker = worker
        self.results: list[TaskResult] = []

    def planned(self, tasks: Sequence[TaskSpec], unchanged: int, skipped: int) -> None:
        pass

    def finished(self, result: TaskResult) -> None:
        if not self.results:
            os.kill(self.worker.pid, signal.SIGKILL)
        self.results.append(result)


def test_a_worker_killed_mid_batch_has_its_tasks_rerun_without_duplicates(
    cluster: Cluster, inputs: Path, local: Path, tmp_path: Path
) -> None:
    ds = tmp_path / "ds"
    observer = _KillFirstWorker(cluster.workers[0])
    report = run_batch(BatchOptions([str(inputs)], ds, scheduler=cluster.address), observer)
    assert cluster.workers[0].wait(timeout=10) == -signal.SIGKILL
    assert sorted(r.input.path for r in report.results) == sorted(str(inputs / p.name) for p in INPUTS)
    assert not report.failed
    _same_dataset(ds, local)
    survivor = str(cluster.workers[1].pid)
    late = [r for r in observer.results[1:] if r.host.rsplit(":", 1)[1] != survivor]
    assert not late, "a result came from the killed worker after its death"
