"""Reading and removing one input's rows in part files, plain or compacted.

A plain part, ``part-<input-id>.parquet``, holds the rows of one input. A compacted part,
``part-compacted-<digest>.parquet``, holds the rows of several, one after another; its schema metadata
``tlsmon_batch_inputs`` (JSON ``[[input_id, first_row, rows], ...]``) says which rows are whose, so one input can
be taken out again (when it changes or is stitched) by rewriting the file without its rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tlsmon.batch.layout import write_atomic
from tlsmon.output.parquet import COMPRESSION

INPUTS_KEY = b"tlsmon_batch_inputs"
COMPACTED_PREFIX = "part-compacted-"
STITCHED = "stitched-"  # id of an input's stitched rows: part-stitched-<input-id>.parquet


def is_compacted(path: Path) -> bool:
    return path.name.startswith(COMPACTED_PREFIX)


def input_id_of(path: Path) -> str:
    """The input id of a plain part (``part-<id>.parquet``)."""
    return path.name[len("part-") : -len(".parquet")]


def row_ranges(schema: pa.Schema) -> list[tuple[str, int, int]]:
    raw = (schema.metadata or {}).get(INPUTS_KEY)
    if raw is None:
        return []
    return [(str(i), int(s), int(n)) for i, s, n in json.loads(raw)]


def read_by_input(path: Path) -> list[tuple[str, pa.Table]]:
    """The file's rows as (input id, rows) pieces, in file order."""
    table = pq.read_table(path)
    if not is_compacted(path):
        return [(input_id_of(path), table)]
    return [(input_id, table.slice(start, rows)) for input_id, start, rows in row_ranges(table.schema)]


def write_pieces(final: Path, pieces: Sequence[tuple[str, pa.Table]], metadata: dict[bytes, bytes]) -> None:
    """Write pieces of several inputs as one compacted file (atomically), recording whose rows are where."""
    ranges = []
    start = 0
    for input_id, table in pieces:
        ranges.append([input_id, start, table.num_rows])
        start += table.num_rows
    meta = {k: v for k, v in metadata.items() if k not in (INPUTS_KEY, b"input_id")}
    meta[INPUTS_KEY] = json.dumps(ranges).encode()
    schema = pieces[0][1].schema.with_metadata(meta)
    table = pa.concat_tables([t.replace_schema_metadata(meta) for _, t in pieces]).cast(schema)
    write_atomic(final, lambda tmp: pq.write_table(table, tmp, compression=COMPRESSION))


def remove_input_parts(dataset: Path, input_id: str, parts: Sequence[str]) -> None:
    """Delete the input's plain parts; rewrite compacted ones without its rows (delete when nothing is left)."""
    for rel in parts:
        path = dataset / rel
        if not path.exists():
            continue
        if not is_compacted(path):
            path.unlink()
            continue
        pieces = read_by_input(path)
        kept = [(i, t) for i, t in pieces if i not in (input_id, STITCHED + input_id)]
        if not kept:
            path.unlink()
        elif len(kept) != len(pieces):
            metadata = pq.read_schema(path).metadata or {}
            write_pieces(path, kept, metadata)
