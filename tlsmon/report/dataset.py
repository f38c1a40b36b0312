"""Finding the Parquet files of one or more datasets and exposing them to DuckDB as two filtered views.

Theory of operation: a dataset is a directory written by ``tlsmon read`` (``OUT/<table>/part-*.parquet``),
``tlsmon live`` (``OUT/<table>/date=…/hour=…/part-*.parquet``) or ``tlsmon batch``
(``DATASET/<table>/sensor=…/date=…/…``). Whatever the layout, every ``*.parquet`` file below ``<table>/`` is
one part of that table, so the files are listed with a recursive glob (hidden and temporary files, which the
writers rename into place only when complete, are skipped) and handed to ``read_parquet`` as one list with
``union_by_name`` (older files may lack newer columns). Partition directories are not read as columns: every
row carries its own timestamps, which is what ``--since``/``--until`` filter on.

Tables and views, each analysis reads only these:

- ``conn_all``: connection rows in the time window, interim records of ``live`` left out (each open
  connection's final record follows with the same start, so counting interim rows would count it twice).
  It holds only :data:`READ_COLUMNS`. Over a few large files it is a view, so each query decodes just the
  columns it needs (copying them into a DuckDB table first costs more CPU than the twenty-odd scans it
  saves). Over many small files — ``live`` writes one per interval — opening every file again in every query
  dominates (about a millisecond per file per query), so when files average fewer than
  :data:`MATERIALISE_BELOW_ROWS_PER_FILE` rows the columns are copied into a temporary table once; figures in
  docs/performance.md, "Report". A column that no file has (written by an older tlsmon) is null;
- ``conn``: ``conn_all`` without Tor-like leaves when ``--exclude-tor`` is given (R7 reads ``conn_all`` to
  say how many it left out);
- ``certs``: one row per distinct certificate fingerprint (``live`` writes a certificate again in each
  interval file it is seen in).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from tlsmon.records.tables import CONNECTIONS

TABLES = ("connections", "certificates")

#: Files this small on average (rows) make the columns worth copying into memory once (module docstring).
MATERIALISE_BELOW_ROWS_PER_FILE = 50_000

#: The connection columns the analyses read (tests/report check that the SQL reads no other).
READ_COLUMNS = (
    "ts_start", "ts_end", "orig_h", "resp_h", "resp_p", "end_reason", "app_proto", "tls_mode",
    "starttls_offered", "starttls_command_seen", "auth_mechs_offered", "plaintext_auth_command",
    "xmpp_stream_type", "version", "cipher", "forward_secrecy", "rc4", "curve", "dh_prime_bits", "next_protocol",
    "client_alpn", "client_status_request", "ocsp_stapled", "ocsp_status", "cert_chain_fps", "validity_class",
    "leaf_tor_like",
)


class DatasetError(ValueError):
    """A dataset path that holds no tlsmon output; the message names it."""


@dataclass(frozen=True, slots=True)
class Window:
    """The time window and exclusions applied to every analysis."""

    since: datetime | None = None
    until: datetime | None = None
    exclude_tor: bool = False


def table_files(datasets: Sequence[Path], table: str) -> list[Path]:
    """Every complete Parquet file of ``table`` under the datasets, in a stable order."""
    files: list[Path] = []
    for root in datasets:
        base = root / table
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.parquet")):
            rel = path.relative_to(base)
            if any(part.startswith(".") for part in rel.parts) or not path.is_file():
                continue
            files.append(path)
    return files


def check_datasets(datasets: Sequence[Path]) -> None:
    for root in datasets:
        if not root.is_dir():
            raise DatasetError(f"{root}: no such directory")
        if not (root / "connections").is_dir():
            raise DatasetError(f"{root}: not a tlsmon dataset (no connections/ directory)")


def _file_list(files: Sequence[Path]) -> str:
    return "[" + ", ".join(_quote(str(p)) for p in files) + "]"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ts(value: datetime) -> str:
    return f"TIMESTAMPTZ {_quote(value.isoformat())}"


def _duck_type(column: str) -> str:
    """The DuckDB type of a connections column, for a column absent from every file."""
    field = next(c.field() for g in CONNECTIONS for c in g.columns if c.name == column)
    t = field.type
    if pa.types.is_list(t):
        return "VARCHAR[]"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_integer(t):
        return "BIGINT"
    return "VARCHAR"


def open_dataset(datasets: Sequence[Path], window: Window) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the views ``conn_all``, ``conn`` and ``certs`` (see the module docstring)."""
    check_datasets(datasets)
    conn_files = table_files(datasets, "connections")
    if not conn_files:
        raise DatasetError(", ".join(str(d) for d in datasets) + ": no connections/*.parquet files")
    cert_files = table_files(datasets, "certificates")
    db = duckdb.connect(":memory:")
    db.execute("SET TimeZone = 'UTC'")
    # Every analysis reads the same files again: parse each file's footer once. Every table has its ORDER BY,
    # so scans need not keep the files' row order.
    db.execute("SET parquet_metadata_cache = true")
    db.execute("SET preserve_insertion_order = false")
    where = ["end_reason <> 'interim'"]
    if window.since is not None:
        where.append(f"ts_start >= {_ts(window.since)}")
    if window.until is not None:
        where.append(f"ts_start < {_ts(window.until)}")
    source = f"read_parquet({_file_list(conn_files)}, union_by_name = true, hive_partitioning = false)"
    present = {str(r[0]) for r in db.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    columns = ", ".join(c if c in present else f"CAST(NULL AS {_duck_type(c)}) AS {c}" for c in READ_COLUMNS)
    rows = db.execute(f"SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata({_file_list(conn_files)})")
    total = int((rows.fetchone() or (0,))[0])
    small_files = len(conn_files) > 8 and total < MATERIALISE_BELOW_ROWS_PER_FILE * len(conn_files)
    kind = "TEMP TABLE" if small_files else "VIEW"
    db.execute(f"CREATE {kind} conn_all AS SELECT {columns} FROM {source} WHERE {' AND '.join(where)}")
    tor = " WHERE leaf_tor_like IS NOT TRUE" if window.exclude_tor else ""
    db.execute(f"CREATE VIEW conn AS SELECT * FROM conn_all{tor}")
    if cert_files:
        db.execute(
            "CREATE VIEW certs AS SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER "
            "(PARTITION BY fingerprint ORDER BY first_seen) AS rn FROM read_parquet("
            f"{_file_list(cert_files)}, union_by_name = true, hive_partitioning = false)) WHERE rn = 1"
        )
    else:
        db.execute("CREATE VIEW certs AS SELECT NULL::VARCHAR AS fingerprint, NULL::VARCHAR AS spki_sha256, "
                   "NULL::VARCHAR AS certificate_subject WHERE false")
    return db


def file_metadata(datasets: Sequence[Path], key: str) -> list[str]:
    """Distinct values of one Parquet key-value metadata entry (e.g. ``certifi_version``) over all files."""
    files = table_files(datasets, "connections")
    if not files:
        return []
    rows = duckdb.execute(
        f"SELECT DISTINCT decode(value) FROM parquet_kv_metadata({_file_list(files)}) "
        f"WHERE decode(key) = {_quote(key)} ORDER BY 1"
    ).fetchall()
    return [str(r[0]) for r in rows]


def describe(datasets: Sequence[Path], window: Window) -> dict[str, object]:
    """What the report was made from, for the report's header and report.json."""
    return {
        "datasets": [str(d) for d in datasets],
        "connection_files": len(table_files(datasets, "connections")),
        "certificate_files": len(table_files(datasets, "certificates")),
        "since": window.since.isoformat() if window.since else None,
        "until": window.until.isoformat() if window.until else None,
        "exclude_tor": window.exclude_tor,
        "certifi_versions": file_metadata(datasets, "certifi_version"),
        "tlsmon_versions": file_metadata(datasets, "tlsmon_version"),
    }


