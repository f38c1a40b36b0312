"""Where the files of a batch dataset live, and the one way they are written (temporary name, fsync, rename).

Layout::

    DATASET/connections/sensor=S/date=YYYY-MM-DD/part-<input-id>.parquet
    DATASET/certificates/sensor=S/date=YYYY-MM-DD/part-<input-id>.parquet
    DATASET/stats/sensor=S/date=YYYY-MM-DD/part-<input-id>.parquet
    DATASET/connections/sensor=S/date=YYYY-MM-DD/part-stitched-<input-id>.parquet   (see stitch.py)
    DATASET/_manifest/part-<path-key>.parquet        (one row per input; see manifest.py)
    DATASET/_pieces/sensor=S/part-<input-id>.parquet (rows waiting for stitching)

A part is first written as ``.part-….parquet.tmp-<token>`` in its final directory, fsynced, then renamed; the
directory is fsynced after the rename. Names starting with a dot or an underscore are skipped by DuckDB,
pyarrow datasets and Spark, so a reader of ``DATASET/connections/**/*.parquet`` never sees a partial file.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from tlsmon.output.parquet import fsync_path

TABLES = ("connections", "certificates", "stats")
MANIFEST_DIR = "_manifest"
PIECES_DIR = "_pieces"
TMP_MARK = ".tmp-"


def part_name(input_id: str) -> str:
    return f"part-{input_id}.parquet"


def partition_dir(dataset: Path, table: str, sensor: str, date: str) -> Path:
    return dataset / table / f"sensor={sensor}" / f"date={date}"


def pieces_path(dataset: Path, sensor: str, input_id: str) -> Path:
    """Where an input's rows that may continue in a neighbouring file wait for stitching."""
    return dataset / PIECES_DIR / f"sensor={sensor}" / part_name(input_id)


def utc_date(ts_ns: int) -> str:
    """``YYYY-MM-DD`` of a UTC timestamp in nanoseconds."""
    return time.strftime("%Y-%m-%d", time.gmtime(ts_ns // 1_000_000_000))


def temporary_name(final: Path) -> Path:
    """A hidden name in the final file's own directory, unique to this writer."""
    return final.with_name(f".{final.name}{TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")


def write_atomic(final: Path, write: Callable[[Path], None]) -> None:
    """Create ``final`` by ``write(tmp)`` under a temporary name, fsync, rename over ``final``, fsync the folder."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(final)
    try:
        write(tmp)
        fsync_path(tmp)
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_path(final.parent)


def commit(pending: list[tuple[Path, Path]]) -> None:
    """Rename fsynced temporary files to their final names, then fsync each folder once."""
    for tmp, final in pending:
        os.replace(tmp, final)
    for folder in sorted({final.parent for _, final in pending}):
        fsync_path(folder)


def remove_temporaries(dataset: Path) -> int:
    """Delete temporary files left by a killed run; only safe while no writer works on the dataset."""
    removed = 0
    for table in (*TABLES, MANIFEST_DIR, PIECES_DIR):
        root = dataset / table
        if not root.is_dir():
            continue
        for path in root.rglob(f".*{TMP_MARK}*"):
            path.unlink(missing_ok=True)
            removed += 1
    return removed
