"""Compaction: merge a partition's small parts into files of about a target size, keeping the manifest true.

Theory of operation. Within each partition (``<table>/sensor=S/date=D``), parts smaller than the target are
taken in name order and grouped until a group reaches the target; each group of two or more parts with the same
columns becomes one ``part-compacted-<digest>.parquet`` (see :mod:`~tlsmon.batch.parts` for how it records
whose rows are where). A group is replaced in four steps, each of which survives a crash:

1. a journal ``_manifest/_compact-<digest>.json`` names the new file and the parts it replaces;
2. the new file is written (temporary name, fsync, rename);
3. every manifest row listing a replaced part is rewritten to list the new file instead;
4. the replaced parts are deleted, then the journal.

A crash before step 2 completes leaves the journal with no new file: the journal is dropped. A crash after it
leaves the new file and possibly the old parts: :func:`finish_interrupted` (run under the dataset lock before
every batch and compaction) redoes steps 3 and 4. Between steps 2 and 4 a reader globbing the partition could
count the group's rows twice for that moment; the manifest never does.

The manifest's own per-input files are merged into one ``_manifest/part-compacted-<digest>.parquet`` too
(its latest-row-per-path rule makes that safe at any point).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from tlsmon.batch.layout import MANIFEST_DIR, TABLES, write_atomic
from tlsmon.batch.manifest import Manifest, entries_table, latest, read_entries
from tlsmon.batch.parts import COMPACTED_PREFIX, read_by_input, write_pieces
from tlsmon.output.parquet import COMPRESSION

DEFAULT_TARGET_BYTES = 128 * 1024 * 1024
_JOURNAL_PREFIX = "_compact-"


@dataclass(slots=True)
class CompactionReport:
    groups: int = 0
    parts_merged: int = 0
    files_written: int = 0
    manifest_files_merged: int = 0


def compact_dataset(dataset: Path, target_bytes: int = DEFAULT_TARGET_BYTES) -> CompactionReport:
    from tlsmon.batch.runner import dataset_lock, recover

    dataset = dataset.resolve()
    report = CompactionReport()
    with dataset_lock(dataset):
        recover(dataset)
        manifest = Manifest(dataset)
        for partition in _partitions(dataset):
            for group in _groups(partition, target_bytes):
                _replace(dataset, manifest, group)
                report.groups += 1
                report.parts_merged += len(group)
                report.files_written += 1
        report.manifest_files_merged = _compact_manifest(dataset)
    return report


def finish_interrupted(dataset: Path) -> None:
    folder = dataset / MANIFEST_DIR
    journals = sorted(folder.glob(f"{_JOURNAL_PREFIX}*.json")) if folder.is_dir() else []
    if not journals:
        return
    manifest = Manifest(dataset)
    for journal in journals:
        plan = json.loads(journal.read_text())
        if (dataset / plan["new"]).exists():
            _finish(dataset, manifest, plan["new"], plan["old"])
        journal.unlink()


def _partitions(dataset: Path) -> Iterator[Path]:
    for table in TABLES:
        yield from sorted(p for p in (dataset / table).glob("sensor=*/date=*") if p.is_dir())


def _groups(partition: Path, target_bytes: int) -> Iterator[list[Path]]:
    group: list[Path] = []
    size = 0
    columns: object = None
    for part in sorted(partition.glob("part-*.parquet")):
        part_size = part.stat().st_size
        if part_size >= target_bytes:
            continue
        schema = pq.read_schema(part).remove_metadata()
        if group and schema != columns:
            if len(group) > 1:
                yield group
            group, size = [], 0
        columns = schema
        group.append(part)
        size += part_size
        if size >= target_bytes:
            yield group
            group, size = [], 0
    if len(group) > 1:
        yield group


def _replace(dataset: Path, manifest: Manifest, group: list[Path]) -> None:
    pieces = [piece for part in group for piece in read_by_input(part)]
    digest = hashlib.blake2b("\0".join(i for i, _ in pieces).encode(), digest_size=10).hexdigest()
    new = group[0].parent / f"{COMPACTED_PREFIX}{digest}.parquet"
    new_rel = str(new.relative_to(dataset))
    old_rel = [str(p.relative_to(dataset)) for p in group if p != new]
    journal = dataset / MANIFEST_DIR / f"{_JOURNAL_PREFIX}{digest}.json"
    plan = json.dumps({"new": new_rel, "old": old_rel}).encode()
    write_atomic(journal, lambda tmp: _write_bytes(tmp, plan))
    write_pieces(new, pieces, pq.read_schema(group[0]).metadata or {})
    _finish(dataset, manifest, new_rel, old_rel)
    journal.unlink()


def _finish(dataset: Path, manifest: Manifest, new: str, old: list[str]) -> None:
    replaced = set(old)
    for entry in list(manifest.entries.values()):
        if replaced.intersection(entry.parts):
            parts = sorted({new if p in replaced else p for p in entry.parts})
            entry.parts = parts
            entry.recorded = time.time_ns()
            manifest.record(entry)
    for rel in old:
        (dataset / rel).unlink(missing_ok=True)


def _compact_manifest(dataset: Path) -> int:
    folder = dataset / MANIFEST_DIR
    files = sorted(folder.glob("part-*.parquet"))
    if len(files) < 2:
        return 0
    rows = sorted(latest(read_entries(dataset)).values(), key=lambda e: e.path)
    table = entries_table(rows)
    digest = hashlib.blake2b("\0".join(f.name for f in files).encode(), digest_size=10).hexdigest()
    final = folder / f"{COMPACTED_PREFIX}{digest}.parquet"
    write_atomic(final, lambda tmp: pq.write_table(table, tmp, compression=COMPRESSION))
    for file in files:
        if file != final:
            file.unlink()
    return len(files)


def _write_bytes(path: Path, data: bytes) -> None:
    path.write_bytes(data)
