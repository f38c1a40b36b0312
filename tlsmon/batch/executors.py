"""Where tasks run: a local pool of processes (the default) or an existing Dask cluster (``--scheduler``).

Both take the task specs and yield one :class:`~tlsmon.batch.task.TaskResult` per spec, in completion order.
A task never raises for its input, so the only failures left to an executor are dead workers:

- Local pool: at most ``workers`` tasks are in flight, so when a worker process dies (OOM killer, a signal,
  a crash in native code) the tasks in flight are exactly the ones that might have killed it. They are retried in
  a fresh pool; a task in flight during :data:`MAX_ATTEMPTS` deaths is reported failed
  ("worker process died"), and the batch goes on. Workers come from a fork server that has imported tlsmon
  once (not forked from the coordinator, which runs a progress thread), and ask Linux to kill them when their
  parent dies; the fork server exits when the coordinator does, so a SIGKILLed batch leaves no workers writing
  behind it.
- Dask: the scheduler already reruns the tasks of a worker that dies (``distributed.scheduler.allowed-failures``,
  default 3). A task given up on (``KilledWorker``) is reported failed with that reason.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from tlsmon.batch.task import FAILED, TaskResult, TaskSpec, run_task

MAX_ATTEMPTS = 2
_PR_SET_PDEATHSIG = 1


class SchedulerError(Exception):
    """The Dask scheduler cannot be reached; ``str()`` is one line."""


class Executor(Protocol):
    def run(self, specs: Sequence[TaskSpec]) -> Iterator[TaskResult]: ...


def _failed(spec: TaskSpec, reason: str) -> TaskResult:
    return TaskResult(spec.input, spec.sensor, FAILED, reason=f"{spec.input.path}: {reason}")


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the worker processes now."""
    processes = list(getattr(pool, "_processes", {}).values())  # no public handle on the workers
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=5)


def _worker_init() -> None:
    # A terminal's Ctrl-C reaches the whole process group: only the coordinator decides what it means.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: orphans finish their task and exit with the pool
        pass
    if os.getppid() == 1:  # the coordinator died before prctl took effect
        os._exit(1)


class LocalExecutor:
    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)

    def run(self, specs: Sequence[TaskSpec]) -> Iterator[TaskResult]:
        queue = list(reversed(specs))
        attempts: dict[str, int] = {}
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["tlsmon.batch.task"])
        while queue:
            pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_worker_init)
            try:
                in_flight: dict[Future[TaskResult], TaskSpec] = {}
                broken = False
                while (queue or in_flight) and not broken:
                    while queue and len(in_flight) < self.workers:
                        spec = queue.pop()
                        in_flight[pool.submit(run_task, spec)] = spec
                    done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                    for future in done:
                        spec = in_flight.pop(future)
                        try:
                            yield future.result()
                        except BrokenProcessPool:
                            broken = True
                            yield from self._retry(spec, attempts, queue)
                if broken:
                    for spec in in_flight.values():
                        yield from self._retry(spec, attempts, queue)
            except BaseException:
                # Interrupted (a signal) or the caller stopped: tasks in flight are abandoned, not waited for.
                # Their temporary files are removed by the next run's recovery; nothing was renamed into place.
                _stop(pool)
                raise
            pool.shutdown(wait=True)

    @staticmethod
    def _retry(spec: TaskSpec, attempts: dict[str, int], queue: list[TaskSpec]) -> Iterator[TaskResult]:
        n = attempts[spec.input.path] = attempts.get(spec.input.path, 0) + 1
        if n >= MAX_ATTEMPTS:
            yield _failed(spec, f"worker process died ({n} attempts)")
        else:
            queue.append(spec)


class DaskExecutor:
    def __init__(self, address: str, connect_timeout_s: float = 30.0) -> None:
        self.address = address
        self.connect_timeout_s = connect_timeout_s

    def run(self, specs: Sequence[TaskSpec]) -> Iterator[TaskResult]:
        from distributed import Client, as_completed

        try:
            client = Client(self.address, timeout=self.connect_timeout_s)
        except (OSError, ValueError) as exc:
            raise SchedulerError(f"{self.address}: cannot reach the Dask scheduler ({exc})") from None
        with client:
            futures = {}
            for spec in specs:
                key = f"tlsmon-batch-{spec.input.input_id}-{os.getpid()}"
                futures[client.submit(run_task, spec, key=key, pure=False)] = spec
            for future in as_completed(list(futures)):
                spec = futures[future]
                try:
                    result = future.result()
                except Exception as exc:
                    yield _failed(spec, f"{type(exc).__name__}: {exc}".replace("\n", " "))
                else:
                    assert isinstance(result, TaskResult)
                    yield result
                future.release()
