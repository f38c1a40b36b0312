"""The batch coordinator: plan which inputs need work, run them on an executor, keep the manifest true.

Theory of operation. One coordinator per dataset (an exclusive lock on ``_manifest/.lock``). It first removes
temporary files a killed run left behind and finishes any interrupted compaction, then identifies every input
and compares it with the manifest:

- ``done`` with the same input id, sensor and schema version → nothing to do, nothing rewritten;
- modified before ``--since`` → recorded ``skipped`` (once; an unchanged skipped row is not rewritten);
- with ``--hash``, the same content as another input already done (or planned) → recorded ``skipped``;
- anything else (new, changed, failed before, or unfinished when a run was killed) → one task.

After the tasks, connections cut by file boundaries are stitched (:mod:`~tlsmon.batch.stitch`); that step
also runs when no input needed work, and rewrites nothing when nothing changed.

For each result, in completion order, the coordinator removes the parts of the input's previous version that the
new run did not rewrite, then writes the input's manifest row. Parts are committed by the task before its result
arrives, so a ``done`` row always names parts that exist, and a run killed anywhere leaves each input either
recorded (skipped next time) or not (redone next time, over the same part names). Nothing is counted twice:
rows live only in parts, and an input's part names depend only on its id.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

from tlsmon import __version__
from tlsmon.batch.executors import DaskExecutor, Executor, LocalExecutor
from tlsmon.batch.inputs import InputFile, discover, identify
from tlsmon.batch.layout import MANIFEST_DIR, remove_temporaries
from tlsmon.batch.manifest import Manifest, ManifestEntry
from tlsmon.batch.parts import remove_input_parts
from tlsmon.batch.stitch import StitchReport, is_stitched_output, stitch_dataset
from tlsmon.batch.task import DONE, FAILED, SKIPPED, TaskResult, TaskSpec
from tlsmon.output.registries_file import write_registries
from tlsmon.output.sink import run_metadata
from tlsmon.records.tables import SCHEMA_VERSION


class DatasetBusyError(Exception):
    """Another batch or compaction holds the dataset's lock."""


@dataclass(slots=True)
class BatchOptions:
    inputs: Sequence[str]
    dataset: Path
    workers: int | None = None
    scheduler: str | None = None
    sensor: str = "default"
    since: date | None = None
    content_hash: bool = False
    idle_timeout_s: float = 300.0
    max_connections: int = 1_000_000


@dataclass(slots=True)
class BatchReport:
    inputs: int = 0
    unchanged: int = 0  # already done, untouched
    skipped: list[ManifestEntry] = field(default_factory=list)
    results: list[TaskResult] = field(default_factory=list)
    stitch: StitchReport = field(default_factory=StitchReport)
    elapsed_s: float = 0.0

    @property
    def failed(self) -> list[TaskResult]:
        return [r for r in self.results if r.state == FAILED]

    @property
    def done(self) -> list[TaskResult]:
        return [r for r in self.results if r.state == DONE]

    @property
    def damaged(self) -> list[TaskResult]:
        return [r for r in self.results if r.state == DONE and r.warnings]


class Observer(Protocol):
    def planned(self, tasks: Sequence[TaskSpec], unchanged: int, skipped: int) -> None: ...

    def finished(self, result: TaskResult) -> None: ...


@contextmanager
def dataset_lock(dataset: Path) -> Iterator[None]:
    folder = dataset / MANIFEST_DIR
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatasetBusyError(f"{dataset}: another tlsmon batch or compaction is working on it") from None
        yield
    finally:
        os.close(fd)


def make_executor(options: BatchOptions) -> Executor:
    if options.scheduler:
        return DaskExecutor(options.scheduler)
    return LocalExecutor(options.workers)


def run_batch(options: BatchOptions, observer: Observer | None = None, executor: Executor | None = None) -> BatchReport:
    started = time.perf_counter()
    dataset = options.dataset.resolve()
    report = BatchReport()
    with dataset_lock(dataset):
        recover(dataset)
        write_registries(dataset, run_metadata())
        manifest = Manifest(dataset)
        paths = discover(options.inputs)
        report.inputs = len(paths)
        specs = _plan(options, dataset, manifest, paths, report)
        if observer is not None:
            observer.planned(specs, report.unchanged, len(report.skipped))
        runner = executor or make_executor(options)
        for result in runner.run(specs) if specs else ():
            record_result(manifest, result)
            report.results.append(result)
            if observer is not None:
                observer.finished(result)
        report.stitch = stitch_dataset(dataset, manifest, options.idle_timeout_s)
    report.elapsed_s = time.perf_counter() - started
    return report


def recover(dataset: Path) -> None:
    """Undo what a killed run left half done (under the lock)."""
    from tlsmon.batch.compact import finish_interrupted

    remove_temporaries(dataset)
    finish_interrupted(dataset)


def _plan(
    options: BatchOptions, dataset: Path, manifest: Manifest, paths: list[str], report: BatchReport
) -> list[TaskSpec]:
    since_ns = None
    if options.since is not None:
        since_ns = int(datetime.combine(options.since, datetime.min.time(), UTC).timestamp()) * 10**9
    done_ids = {(e.input_id, e.sensor): e.path for e in manifest.entries.values() if _is_current(e)}
    specs: list[TaskSpec] = []
    for path in paths:
        try:
            found = identify(path, options.content_hash)
        except OSError as exc:
            spec = TaskSpec(InputFile(path, 0, 0, "", "stat"), str(dataset), options.sensor)
            result = TaskResult(spec.input, spec.sensor, FAILED, reason=f"{path}: {exc.strerror or exc}")
            record_result(manifest, result)
            report.results.append(result)
            continue
        prev = manifest.get(path)
        if prev is not None and prev.input_id == found.input_id and prev.sensor == options.sensor and _is_current(
            prev
        ):
            report.unchanged += 1
            continue
        reason = ""
        if since_ns is not None and found.mtime_ns < since_ns:
            reason = f"modified before {options.since.isoformat() if options.since else ''}"
        elif options.content_hash and (found.input_id, options.sensor) in done_ids:
            reason = f"same content as {done_ids[(found.input_id, options.sensor)]}"
        if reason:
            if prev is None or prev.state != SKIPPED or prev.input_id != found.input_id or prev.reason != reason:
                entry = _skipped_entry(found, options.sensor, reason)
                _remove_previous(manifest, prev, [])
                manifest.record(entry)
            report.skipped.append(manifest.entries[path])
            continue
        done_ids[(found.input_id, options.sensor)] = path
        specs.append(TaskSpec(found, str(dataset), options.sensor, options.idle_timeout_s, options.max_connections))
    return specs


def _is_current(entry: ManifestEntry) -> bool:
    return entry.state == DONE and entry.schema_version == SCHEMA_VERSION


def _skipped_entry(found: InputFile, sensor: str, reason: str) -> ManifestEntry:
    return ManifestEntry(
        path=found.path, input_id=found.input_id, identity=found.identity, size=found.size, mtime=found.mtime_ns,
        sensor=sensor, state=SKIPPED, reason=reason, tlsmon_version=__version__, schema_version=SCHEMA_VERSION,
        started=time.time_ns(), host="", recorded=time.time_ns(),
    )


def record_result(manifest: Manifest, result: TaskResult) -> None:
    """Remove what the input's previous version left that this run did not rewrite, then write its row."""
    found = result.input
    prev = manifest.get(found.path)
    parts = list(result.parts)
    if prev is not None and result.state == DONE and (prev.input_id, prev.sensor) == (found.input_id, result.sensor):
        # the same input redone: its stitched rows are the stitching step's, which redoes them if they changed
        parts += [p for p in prev.parts if is_stitched_output(p, found.input_id) and (manifest.dataset / p).exists()]
    _remove_previous(manifest, prev, parts)
    entry = ManifestEntry(
        path=found.path, input_id=found.input_id, identity=found.identity, size=found.size, mtime=found.mtime_ns,
        sensor=result.sensor, state=result.state, reason=result.reason, parts=sorted(set(parts)),
        connections=result.rows.get("connections", 0), certificates=result.rows.get("certificates", 0),
        stats=result.rows.get("stats", 0), packets=result.packets, warnings=list(result.warnings),
        first_ts=result.first_ts, last_ts=result.last_ts, tlsmon_version=__version__,
        schema_version=SCHEMA_VERSION, started=result.started or time.time_ns(), duration_s=result.duration_s,
        host=result.host, recorded=time.time_ns(),
    )
    manifest.record(entry)


def _remove_previous(manifest: Manifest, prev: ManifestEntry | None, keep: Sequence[str]) -> None:
    if prev is None or not prev.parts or manifest.references(prev.input_id, prev.path):
        return
    stale = [p for p in prev.parts if p not in set(keep)]
    if stale:
        remove_input_parts(manifest.dataset, prev.input_id, stale)
