"""Shared by the batch tests: fixture paths, running the CLI in-process, reading a dataset back."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tlsmon.batch.manifest import ManifestEntry, latest, read_entries
from tlsmon.batch.task import convert
from tlsmon.cli import main
from tlsmon.tcp.tracker_config import TrackerConfig

ROOT = Path(__file__).resolve().parents[2]
PCAPS = ROOT / "fixtures" / "pcaps"
SAMPLE = PCAPS / "sample.pcap"
TLS13 = PCAPS / "tls13-basic.pcap"
TRUNCATED = PCAPS / "truncated.pcap"


def batch(*args: str | os.PathLike[str]) -> int:
    return main(["batch", *map(str, args), "-q"])


def files(dataset: Path) -> dict[str, tuple[int, int]]:
    """Every file under the dataset (lock file aside) → (inode, mtime_ns): what a rewrite would change."""
    out = {}
    for path in sorted(dataset.rglob("*")):
        if path.is_file() and path.name != ".lock":
            st = path.stat()
            out[str(path.relative_to(dataset))] = (st.st_ino, st.st_mtime_ns)
    return out


def parts(dataset: Path, table: str) -> list[str]:
    return sorted(str(p.relative_to(dataset)) for p in (dataset / table).rglob("*.parquet"))


def read(dataset: Path, table: str) -> pa.Table:
    paths = sorted((dataset / table).rglob("*.parquet"))
    return pa.concat_tables(pq.read_table(p).replace_schema_metadata() for p in paths)


def manifest(dataset: Path) -> dict[str, ManifestEntry]:
    return latest(read_entries(dataset))


def read_whole(*captures: Path) -> dict[str, pa.Table]:
    """What the ``read`` engine makes of the captures, each read alone, tables concatenated in order."""
    out: dict[str, list[pa.Table]] = {"connections": [], "certificates": []}
    for capture in captures:
        with tempfile.TemporaryDirectory() as tmp:
            convert(str(capture), Path(tmp), TrackerConfig())
            for table, tables in out.items():
                found = sorted((Path(tmp) / table).glob("*.parquet"))
                tables.extend(pq.read_table(p).replace_schema_metadata() for p in found)
    return {table: pa.concat_tables(tables) for table, tables in out.items()}


def sort_rows(table: pa.Table, keys: tuple[str, ...] = ("ts_start", "orig_p")) -> list[dict[str, object]]:
    """Rows in key order, timestamps as integer nanoseconds (datetime would drop them)."""
    table = table.sort_by([(k, "ascending") for k in keys])
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.int64()))
    return table.to_pylist()
