"""The output directory of ``tlsmon read``: its tables, how large their part files grow, and finding or deleting
what an earlier run left there (light to import: ``read`` checks the directory before the writer loads)."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

#: A part ends after this many connection rows (memory does not grow with it: rows go to the file in row groups) …
DEFAULT_PART_ROWS = 100_000
#: … or after this many seconds, whichever comes first.
DEFAULT_PART_SECONDS = 60.0

#: The tables ``tlsmon read`` writes; an output directory holding any of them already holds tlsmon output.
READ_TABLES = ("connections", "certificates", "stats", "registries")

_TMP_NAME = re.compile(r"^\.part-\d{8}T\d{6}Z-(\d+)-[0-9a-f]+-\d+\.parquet\.tmp$")


def existing_tables(out_dir: str | os.PathLike[str]) -> list[str]:
    """The tlsmon tables that already have Parquet files under ``out_dir`` (flat as ``read`` writes them, or in
    the partitions of ``live`` and ``batch``)."""
    return [t for t in READ_TABLES if _holds_parquet(os.path.join(out_dir, t))]


def _holds_parquet(folder: str) -> bool:
    """Whether ``folder`` or a folder below it holds a Parquet file (os.walk: pathlib is not loaded yet when
    ``read`` looks)."""
    return any(name.endswith(".parquet") for _, _, files in os.walk(folder) for name in files)


def remove_tables(out_dir: str | os.PathLike[str]) -> int:
    """Delete the Parquet files of tlsmon's tables under ``out_dir`` (``--overwrite``); nothing else. Returns
    how many were deleted."""
    from pathlib import Path

    removed = 0
    for table in READ_TABLES:
        folder = Path(out_dir) / table
        if folder.is_dir():
            for path in folder.rglob("*.parquet"):  # live and batch write Hive partitions below the table
                path.unlink()
                removed += 1
    return removed


def remove_stale_temporaries(out_dir: str | os.PathLike[str]) -> list[Path]:
    """Delete the ``.part-*.parquet.tmp`` files of writers that are no longer running; return them."""
    from pathlib import Path

    removed: list[Path] = []
    for table in READ_TABLES:
        folder = Path(out_dir) / table
        if not folder.is_dir():
            continue
        for path in folder.glob(".part-*.parquet.tmp"):
            m = _TMP_NAME.match(path.name)
            if m is not None and int(m.group(1)) != os.getpid() and _alive(int(m.group(1))):
                continue
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
