"""A record sink for long runs: one set of Parquet files per time interval, in a Hive-style layout.

Theory of operation. Rows go to the *current interval*. :meth:`RotatingSink.rotate` (at each interval
boundary, on SIGHUP, and at close) ends it: every table that received rows in it becomes one file,

    OUT/<table>/date=YYYY-MM-DD/hour=HH/part-<start>-w<worker>-<token>-<seq>.parquet

where ``date``/``hour`` and ``<start>`` are the interval's start (UTC), ``<worker>`` the capture worker,
``<token>`` random per sink (two runs never collide) and ``<seq>`` counts the sink's intervals. A table with no
rows in an interval gets no file. Tables are ``connections`` and ``certificates`` plus any given by the
caller (live capture adds ``stats``); each table's rows in a file are those *written* during the interval, so
a connection that spans a rotation is in the file of the interval where it ended, with its real start time.

Files are never visible half-written. Each interval's tables are written by a
:class:`~tlsmon.output.parquet.TableWriter` in a private staging directory, ``OUT/.staging/w<worker>-<token>/``,
which writes ``.part-….parquet.tmp``, fsyncs it and renames it complete; rotation then renames the complete
file into its partition (same file system, so atomic) and fsyncs the partition directory. Rows of the current
interval live in memory until then (TableWriter writes a row group early only past 131072 rows, still under the
temporary name). A reader of ``OUT/<table>/`` sees only complete files: staging is outside the table
directories, and both it and the temporary files start with a dot, which DuckDB, pyarrow datasets and Spark
skip. After SIGKILL or power loss at most the current interval is lost; :func:`recover_staging` moves files
that were complete but not yet moved into their partition and deletes the temporary ones.

Certificates are deduplicated per file: the certificates table of an interval holds each certificate of that
interval's connections once, with the run's cumulative ``first_seen``/``last_seen``/``times_seen`` as of the
rotation. A certificate seen again in a later interval is written again, once, in that interval's file, so
every file is self-contained.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from tlsmon.columns import ColumnGroup
from tlsmon.output.parquet import ColumnValueError, TableWriter, fsync_path
from tlsmon.output.sink import run_metadata
from tlsmon.recorder import RowChains
from tlsmon.records.tables import CERTIFICATES, CONNECTIONS, ConnectionRecord
from tlsmon.x509.store import CertificateRecord

if TYPE_CHECKING:
    import pyarrow as pa

    from tlsmon.records.native_rows import RowCounts

STAGING = ".staging"
CertificateLookup = Callable[[bytes], CertificateRecord | None]


def partition_dir(out_dir: Path, table: str, start_s: float) -> Path:
    """``OUT/<table>/date=YYYY-MM-DD/hour=HH`` for an interval starting at ``start_s`` (UTC)."""
    t = time.gmtime(start_s)
    return out_dir / table / f"date={t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}" / f"hour={t.tm_hour:02d}"


def _stamp(start_s: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(start_s))


class RotatingSink:
    """Connections, certificates and extra tables in per-interval files; see the module docstring."""

    __slots__ = (
        "_cert_lookup",
        "_dead_letters_before",
        "_file_certs",
        "_fitted_before",
        "_metadata",
        "_out",
        "_seq",
        "_staging",
        "_start",
        "_tables",
        "_token",
        "_writers",
        "closed",
        "files",
        "worker",
    )

    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        worker: int = 0,
        extra_tables: Mapping[str, Sequence[ColumnGroup]] | None = None,
        now: float | None = None,
    ) -> None:
        self._out = Path(out_dir)
        self.worker = worker
        self._tables: dict[str, Sequence[ColumnGroup]] = {
            "connections": CONNECTIONS,
            "certificates": CERTIFICATES,
            **(extra_tables or {}),
        }
        self._token = secrets.token_hex(3)
        self._staging = self._out / STAGING / f"w{worker}-{self._token}"
        self._staging.mkdir(parents=True, exist_ok=True)
        self._metadata = {**run_metadata(), "worker": str(worker)}
        self._start = time.time() if now is None else now
        self._seq = 0
        self._writers: dict[str, TableWriter] = {}
        self._file_certs: dict[str, CertificateRecord] = {}
        self._cert_lookup: CertificateLookup | None = None
        self.files: list[Path] = []  # every file moved into place, in order
        self.closed = False
        self._fitted_before: Counter[str] = Counter()  # of writers already closed (earlier intervals)
        self._dead_letters_before = 0

    @property
    def interval_start(self) -> float:
        return self._start

    @property
    def fitted(self) -> Counter[str]:
        """Values fitted to their columns since the sink was opened, by anomaly name (every interval)."""
        total = Counter(self._fitted_before)
        for writer in self._writers.values():
            total.update(writer.fitted)
        return total

    @property
    def dead_letters(self) -> int:
        """Rows that could not be written at all since the sink was opened."""
        return self._dead_letters_before + sum(w.dead_letters for w in self._writers.values())

    @property
    def pending_rows(self) -> int:
        """Rows of the current interval, all tables."""
        return sum(w.rows for w in self._writers.values())

    def use_certificates(self, lookup: CertificateLookup) -> None:
        """Where to find a chain's certificate records (the engine's store), for per-file certificates."""
        self._cert_lookup = lookup

    # -- RecordSink ----------------------------------------------------------------------------------------
    def connection(self, record: ConnectionRecord) -> None:
        self._writer("connections").append(*record.parts())
        tls = record.tls
        if tls is not None:
            self._keep_certificates(tls.cert_chain, tls.client_cert_chain)

    def connection_batch(self, batch: pa.RecordBatch, chains: Sequence[RowChains], counts: RowCounts) -> None:
        """Rows already in columns (the native core's: tlsmon.records.native_rows), in order."""
        self._writer("connections").append_batch(batch)
        for _, server, client in chains:
            self._keep_certificates(server, client)

    def _keep_certificates(self, *chains: Sequence[bytes]) -> None:
        """The chains' certificates go with the current interval's certificates file."""
        lookup = self._cert_lookup
        if lookup is None:
            return
        for der in chain(*chains):
            cert = lookup(der)
            if cert is not None:
                self._file_certs.setdefault(cert.fingerprint, cert)

    def rows_before_part_end(self) -> int:
        """Intervals end on the clock (:meth:`rotate`), not after a number of rows."""
        return sys.maxsize

    def close(self, certificates: Iterator[CertificateRecord]) -> None:
        """Write the last interval; without a lookup, the certificates given go with it."""
        if self.closed:
            return
        if self._cert_lookup is None:
            for cert in certificates:
                self._file_certs.setdefault(cert.fingerprint, cert)
        self.rotate()
        self.closed = True
        _remove_empty_tree(self._staging)
        try:
            self._staging.parent.rmdir()  # OUT/.staging, unless another worker still stages there
        except OSError:
            pass

    # -- other tables --------------------------------------------------------------------------------------
    def write(self, table: str, *parts: object | None) -> None:
        """One row of ``table`` (a table given in ``extra_tables``), one record per column group."""
        self._writer(table).append(*parts)

    def rotate(self, now: float | None = None) -> list[Path]:
        """End the current interval: move its complete files into place; the next interval starts ``now``.

        A :class:`ColumnValueError` (rows dropped from a table) is raised after every file has been moved.
        """
        if self.closed:
            raise ValueError("rotate after close")
        if self._file_certs:
            writer = self._writer("certificates")
            for cert in self._file_certs.values():
                writer.append(cert, cert.parsed)
            self._file_certs = {}
        moved: list[Path] = []
        error: ColumnValueError | None = None
        writers, self._writers = self._writers, {}
        for table, writer in writers.items():
            target = partition_dir(self._out, table, self._start)
            _make_dirs(target)
            try:
                writer.close()
            except ColumnValueError as exc:  # the bad rows were dropped; the file holds the others
                error = error or exc
            self._fitted_before.update(writer.fitted)
            self._dead_letters_before += writer.dead_letters
            for i, path in enumerate(writer.paths):
                suffix = f"-{i}" if i else ""
                name = f"part-{_stamp(self._start)}-w{self.worker}-{self._token}-{self._seq:05d}{suffix}.parquet"
                final = target / name
                os.replace(path, final)
                moved.append(final)
            fsync_path(target)
        self.files.extend(moved)
        self._seq += 1
        self._start = time.time() if now is None else now
        if error is not None:
            raise error
        return moved

    def _writer(self, table: str) -> TableWriter:
        writer = self._writers.get(table)
        if writer is None:
            writer = TableWriter(
                self._staging / f"{self._seq:05d}", table, self._tables[table], self._metadata
            )
            self._writers[table] = writer
        return writer


def recover_staging(out_dir: str | os.PathLike[str]) -> list[Path]:
    """After a crash: move complete staged files into their partitions, delete temporary ones.

    Only for a directory no running sink is using. A recovered file goes to the partition of its modification
    time, named ``part-recovered-…``. Returns the recovered files.
    """
    out = Path(out_dir)
    staging = out / STAGING
    recovered: list[Path] = []
    if not staging.is_dir():
        return recovered
    for path in sorted(staging.rglob("*")):
        if not path.is_file():
            continue
        if path.name.startswith(".") or not path.name.endswith(".parquet"):
            path.unlink()
            continue
        table = path.parent.name
        sink_dir = path.parent.parent.parent.name
        target = partition_dir(out, table, path.stat().st_mtime)
        _make_dirs(target)
        final = target / f"part-recovered-{sink_dir}-{path.parent.parent.name}-{path.name[len('part-'):]}"
        os.replace(path, final)
        fsync_path(target)
        recovered.append(final)
    _remove_empty_tree(staging)
    return recovered


def _make_dirs(path: Path) -> None:
    """Create ``path`` and fsync each parent that gained an entry, so the directories survive a power loss."""
    missing: list[Path] = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        d.mkdir(exist_ok=True)
        fsync_path(d.parent)


def _remove_empty_tree(root: Path) -> None:
    """Remove ``root`` and its subdirectories bottom-up where they are empty."""
    if not root.is_dir():
        return
    for dirpath, _, _ in sorted(os.walk(root), key=lambda entry: -len(entry[0])):
        try:
            os.rmdir(dirpath)
        except OSError:
            pass
