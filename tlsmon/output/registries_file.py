"""Writing the ``registries`` table: one Parquet file of IANA's TLS registries next to an output's tables.

Theory of operation
-------------------
The table is the same for every run of one tlsmon version (:mod:`tlsmon.records.registries_table`), so each output
holds exactly one file, ``OUT/registries/registries.parquet``, written under a hidden temporary name, fsynced
and renamed over the previous one: ``read`` writes it with its other tables, ``live`` when it starts, ``batch``
once per run into the dataset. A reader never sees a partial file and never two copies. A file that already
holds the same rows, schema and metadata is left as it is, so a rerun rewrites nothing. That file is read with
``ParquetFile``, not ``pq.read_table``: the latter goes through ``pyarrow.dataset``, 80 ms of import at the end
of every run for one small file. ``pyarrow.parquet`` itself is imported when the file is written (as in
:mod:`tlsmon.output.parquet`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa

from tlsmon.output.parquet import COMPRESSION, fsync_path
from tlsmon.records.registries_table import REGISTRIES_TABLE, registry_rows

TABLE = "registries"
FILE_NAME = "registries.parquet"


def registries_arrow(metadata: dict[str, str]) -> pa.Table:
    fields = [c.field() for g in REGISTRIES_TABLE for c in g.columns]
    schema = pa.schema(fields, metadata={**metadata, "table": TABLE})
    rows = list(registry_rows())
    columns = {f.name: [getattr(r, f.name) for r in rows] for f in fields}
    return pa.Table.from_pydict(columns, schema=schema)


def _holds(path: Path, table: pa.Table) -> bool:
    """Whether ``path`` is a readable Parquet file with exactly ``table`` (rows, schema and metadata)."""
    import pyarrow.parquet as pq  # when writing: see the module docstring

    try:
        with pq.ParquetFile(path) as parquet:
            existing = parquet.read()
    except (OSError, pa.ArrowException):
        return False
    return existing.equals(table, check_metadata=True)


def write_registries(out_dir: Path, metadata: dict[str, str]) -> Path:
    """``out_dir/registries/registries.parquet``, replaced atomically; its path."""
    import pyarrow.parquet as pq  # when writing: see the module docstring

    folder = out_dir / TABLE
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / FILE_NAME
    table = registries_arrow(metadata)
    if _holds(final, table):
        return final  # a rerun rewrites nothing (batch promises it; live restarts and --append profit)
    for stale in folder.glob(f".{FILE_NAME}.tmp-*"):  # left by a killed run (outputs are locked to one writer)
        stale.unlink(missing_ok=True)
    tmp = folder / f".{FILE_NAME}.tmp-{os.getpid()}"
    try:
        pq.write_table(table, tmp, compression=COMPRESSION)
        fsync_path(tmp)
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_path(folder)
    return final
