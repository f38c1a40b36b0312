"""The manifest table ``DATASET/_manifest/``: what the dataset holds, one row per input path.

Theory of operation. Each input's row is its own small Parquet file, ``_manifest/part-<path-key>.parquet``
(``path-key`` hashes the input's absolute path), replaced atomically (temporary name, fsync, rename) when the
input's state changes. Compaction may merge rows into ``_manifest/part-compacted-*.parquet``; a path can then
have more than one row, and the row with the latest ``recorded`` wins (:func:`latest` applies the rule; the
SQL equivalent is in docs/batch.md). Rows are written by the batch coordinator only, after the input's parts
are committed, so a ``done`` row always describes parts that exist.

Why per-input files rather than one table rewritten per run: a batch killed at any moment must know exactly
which inputs finished. Writing one tiny file per finished input is durable at once and never rewrites others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tlsmon.batch.layout import MANIFEST_DIR, write_atomic
from tlsmon.output.parquet import COMPRESSION

_TS = pa.timestamp("ns", tz="UTC")

MANIFEST_SCHEMA = pa.schema(
    [
        pa.field("path", pa.string(), nullable=False, metadata={"description": "Absolute path of the input."}),
        pa.field("input_id", pa.string(), nullable=False, metadata={"description": "Id naming its parts."}),
        pa.field("identity", pa.string(), nullable=False,
                 metadata={"description": "How input_id was made: stat (path, size, mtime) or hash (content)."}),
        pa.field("size", pa.uint64(), nullable=False),
        pa.field("mtime", _TS, nullable=False),
        pa.field("sensor", pa.string(), nullable=False),
        pa.field("state", pa.string(), nullable=False, metadata={"description": "done, failed or skipped."}),
        pa.field("reason", pa.string(), nullable=False,
                 metadata={"description": "One line: why it failed or was skipped; empty when done."}),
        pa.field("parts", pa.list_(pa.string()), nullable=False,
                 metadata={"description": "Its part files, relative to the dataset."}),
        pa.field("connections", pa.uint64(), nullable=False),
        pa.field("certificates", pa.uint64(), nullable=False),
        pa.field("stats", pa.uint64(), nullable=False),
        pa.field("packets", pa.uint64(), nullable=False),
        pa.field("warnings", pa.list_(pa.string()), nullable=False,
                 metadata={"description": "Damage warnings (the rest of the file after damage is not read)."}),
        pa.field("first_ts", _TS),
        pa.field("last_ts", _TS),
        pa.field("tlsmon_version", pa.string(), nullable=False),
        pa.field("schema_version", pa.string(), nullable=False),
        pa.field("started", _TS, nullable=False),
        pa.field("duration_s", pa.float64(), nullable=False),
        pa.field("host", pa.string(), nullable=False),
        pa.field("recorded", _TS, nullable=False,
                 metadata={"description": "When this row was written; the latest row of a path wins."}),
    ],
    metadata={"table": "manifest"},
)


@dataclass(slots=True)
class ManifestEntry:
    path: str
    input_id: str
    identity: str
    size: int
    mtime: int
    sensor: str
    state: str
    reason: str
    parts: list[str] = field(default_factory=list)
    connections: int = 0
    certificates: int = 0
    stats: int = 0
    packets: int = 0
    warnings: list[str] = field(default_factory=list)
    first_ts: int | None = None
    last_ts: int | None = None
    tlsmon_version: str = ""
    schema_version: str = ""
    started: int = 0
    duration_s: float = 0.0
    host: str = ""
    recorded: int = 0


_NAMES = [f.name for f in fields(ManifestEntry)]
assert _NAMES == MANIFEST_SCHEMA.names


def path_key(path: str) -> str:
    return hashlib.blake2b(path.encode(), digest_size=8).hexdigest()


def entries_table(entries: Iterable[ManifestEntry]) -> pa.Table:
    rows = list(entries)
    arrays = [pa.array([getattr(e, name) for e in rows], type=f.type) for name, f in zip(_NAMES, MANIFEST_SCHEMA,
                                                                                          strict=True)]
    return pa.Table.from_arrays(arrays, schema=MANIFEST_SCHEMA)


def read_entries(dataset: Path) -> list[ManifestEntry]:
    """Every row of every manifest file (several per path after compaction; see :func:`latest`)."""
    folder = dataset / MANIFEST_DIR
    out: list[ManifestEntry] = []
    for file in sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []:
        table = pq.read_table(file, schema=MANIFEST_SCHEMA)
        for i, f in enumerate(MANIFEST_SCHEMA):
            if pa.types.is_timestamp(f.type):
                table = table.set_column(i, f.name, table.column(i).cast(pa.int64()))
        out.extend(ManifestEntry(**row) for row in table.to_pylist())
    return out


def latest(entries: Iterable[ManifestEntry]) -> dict[str, ManifestEntry]:
    best: dict[str, ManifestEntry] = {}
    for e in entries:
        old = best.get(e.path)
        if old is None or e.recorded >= old.recorded:
            best[e.path] = e
    return best


class Manifest:
    """The manifest of one dataset, loaded once and kept in step with every row written."""

    def __init__(self, dataset: Path) -> None:
        self.dataset = dataset
        self.folder = dataset / MANIFEST_DIR
        self.entries = latest(read_entries(dataset))

    def get(self, path: str) -> ManifestEntry | None:
        return self.entries.get(path)

    def record(self, entry: ManifestEntry) -> None:
        final = self.folder / f"part-{path_key(entry.path)}.parquet"
        table = entries_table([entry])
        write_atomic(final, lambda tmp: pq.write_table(table, tmp, compression=COMPRESSION))
        self.entries[entry.path] = entry

    def references(self, input_id: str, except_path: str) -> bool:
        """Whether another path's row lists parts of ``input_id`` (content-identical inputs under --hash)."""
        return any(e.input_id == input_id and e.path != except_path and e.parts for e in self.entries.values())
