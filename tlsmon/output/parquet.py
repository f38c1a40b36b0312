"""Streaming Parquet writer for one table, generic over :class:`~tlsmon.columns.ColumnGroup`.

A row is made of one record object per group, given to :meth:`TableWriter.append` in group order; the value
of each column is read from the record attribute of the same name (``None`` instead of a record makes all of
that group's columns null). Values accumulate in one Python list per column. Every ``batch_rows`` rows the
lists are converted to Arrow arrays of the declared types and cleared; converted batches are buffered until
they fill a row group (``row_group_rows``) and then written, so memory is bounded by one row group whatever
the run length.

Files are ``OUT/<table>/part-<run_id>-<NNNNN>.parquet``. Each is written as ``.part-…parquet.tmp`` in the
same directory, fsynced, and renamed into place only when complete, so a reader globbing ``*.parquet`` never
sees a half-written file. ``file_rows`` rotates to a new file after that many rows. A table without rows still
gets one valid file holding the schema, so readers can always rely on one being there.

A value from the wire that does not fit its column type (a timestamp past 2262 in a timestamp[ns] column) is
fitted by :mod:`tlsmon.output.fit` (clamped or nulled), named on the row's ``anomalies`` and counted in
:attr:`TableWriter.fitted`. A row that still cannot be written (a value of the wrong kind: a bug upstream)
is a *dead letter*: it is dropped, the others are written, :attr:`TableWriter.dead_letters` counts it and the
``on_dead_letter`` callback names it (table, uid, reason); without a callback :class:`ColumnValueError` names
the first one after the batch is written (the writer stays usable).

:meth:`TableWriter.finish_file` ends the current file early, so a long run can leave complete, renamed
files behind as it goes.

``pyarrow.parquet`` is imported when the first file is opened, not with this module: commands that only
declare tables (``schema``, ``--help``) do not pay its import.
"""

from __future__ import annotations

import os
import secrets
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from itertools import chain
from operator import attrgetter
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import pyarrow as pa

from tlsmon.columns import ColumnGroup
from tlsmon.output.fit import UnfittableError, anomaly_suffix, fit_value

if TYPE_CHECKING:
    import pyarrow.parquet as pq

COMPRESSION = "zstd"
DEFAULT_BATCH_ROWS = 1024
DEFAULT_ROW_GROUP_ROWS = 16384

#: Called once per row that could not be written: (table, the row's first column, e.g. its uid, reason).
DeadLetter = Callable[[str, str, str], None]

_CONVERSION_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError)


class ColumnValueError(ValueError):
    """Values of a batch did not fit their column; the offending rows were dropped, the others written."""

    def __init__(
        self, table: str, column: str, type_: pa.DataType, value: object, reason: str, dropped: int
    ) -> None:
        self.table = table
        self.column = column
        self.value = value
        self.dropped = dropped
        super().__init__(
            f"table {table!r}: column {column!r} ({type_}) cannot hold {value!r}: {reason} "
            f"({dropped} row(s) dropped)"
        )


def _array(field: pa.Field, values: list[object]) -> pa.Array | pa.ChunkedArray | None:
    """The values as an array of the field's type, or None when they do not all fit."""
    try:
        array = pa.array(values, type=field.type)
    except _CONVERSION_ERRORS:
        return None
    if not field.nullable and array.null_count:
        return None
    return array


def new_run_id() -> str:
    """A UTC timestamp plus pid and random bits: unique across concurrent and successive runs."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return f"{stamp}-{os.getpid()}-{secrets.token_hex(3)}"


def _getter(names: list[str]) -> Callable[[object], tuple[object, ...]]:
    """The named attributes as a tuple (``attrgetter`` alone returns a bare value for one name)."""
    get = attrgetter(*names)
    if len(names) == 1:
        return lambda rec: (get(rec),)
    return get


class _BadRows:
    """The first conversion failure found in a batch, and the rows to drop because of it."""

    __slots__ = ("column", "reason", "rows", "value")

    def __init__(self, column: int, rows: list[int], value: object, reason: str) -> None:
        self.column = column
        self.rows = rows
        self.value = value
        self.reason = reason


class TableWriter:
    """Writes rows of one table to rotating, atomically renamed, zstd-compressed Parquet files."""

    __slots__ = (
        "_anomalies_column",
        "_anomaly_names",
        "_dictionary",
        "_dir",
        "_file_rows",
        "_file_written",
        "_flush_at",
        "_getters",
        "_group_nulls",
        "_index",
        "_max_file_rows",
        "_on_dead_letter",
        "_paths",
        "_pending",
        "_row_group_rows",
        "_rows",
        "_run_id",
        "_schema",
        "_table",
        "_tables",
        "_tmp_path",
        "_writer",
        "batch_rows",
        "closed",
        "dead_letters",
        "fitted",
        "rows",
    )

    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        table: str,
        groups: Sequence[ColumnGroup],
        metadata: Mapping[str, str],
        batch_rows: int = DEFAULT_BATCH_ROWS,
        file_rows: int | None = None,
        row_group_rows: int = DEFAULT_ROW_GROUP_ROWS,
        on_dead_letter: DeadLetter | None = None,
        run_id: str | None = None,
    ) -> None:
        if batch_rows < 1 or row_group_rows < 1 or (file_rows is not None and file_rows < 1):
            raise ValueError("batch_rows, row_group_rows and file_rows must be positive")
        names = [c.name for g in groups for c in g.columns]
        if not names:
            raise ValueError(f"table {table!r}: no columns")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"table {table!r}: duplicate column names {duplicates}")
        self._table = table
        self._dir = Path(out_dir) / table
        self._dir.mkdir(parents=True, exist_ok=True)
        self._schema = pa.schema(
            [c.field() for g in groups for c in g.columns], metadata={**metadata, "table": table}
        )
        self._dictionary = dictionary_columns(groups)
        # Pending rows as tuples (one attrgetter call per group); transposed into columns in C at conversion.
        self._rows: list[tuple[object, ...]] = []
        self._getters = [_getter(g.names()) for g in groups]
        self._group_nulls = [(None,) * len(g.columns) for g in groups]
        self.batch_rows = batch_rows
        self._row_group_rows = row_group_rows
        self._max_file_rows = file_rows
        self._run_id = run_id or new_run_id()
        self._on_dead_letter = on_dead_letter
        self._anomaly_names = [
            g.anomaly(anomaly_suffix(c.type)) for g in groups for c in g.columns
        ]
        anomalies = [
            i for i, f in enumerate(self._schema) if f.name == "anomalies" and f.type == pa.list_(pa.string())
        ]
        self._anomalies_column = anomalies[0] if anomalies else None
        self.fitted: Counter[str] = Counter()  # values changed to fit, by anomaly name
        self.dead_letters = 0  # rows that could not be written at all
        self._index = 0
        self._pending = 0  # rows in the column lists
        self._tables: list[pa.Table] = []  # converted batches not yet written
        self._file_rows = 0  # rows converted for the current file (written or buffered)
        self._file_written = 0
        self._flush_at = self._rows_before_flush()
        self._writer: pq.ParquetWriter | None = None
        self._tmp_path: Path | None = None
        self._paths: list[Path] = []
        self.rows = 0
        self.closed = False

    @property
    def schema(self) -> pa.Schema:
        return self._schema

    @property
    def paths(self) -> list[Path]:
        """Files completed (renamed into place) so far."""
        return list(self._paths)

    def append(self, *records: object | None) -> None:
        """Add one row: one record per group, in group order; ``None`` makes that group's columns null."""
        if self.closed:
            raise ValueError(f"table {self._table!r}: append after close")
        if len(records) != len(self._getters):
            expected = len(self._getters)
            raise TypeError(f"table {self._table!r}: expected {expected} records, got {len(records)}")
        # Read every group before appending any value, so a wrong record type cannot misalign the columns.
        parts = [
            nulls if rec is None else get(rec)
            for rec, get, nulls in zip(records, self._getters, self._group_nulls, strict=True)
        ]
        self._rows.append(tuple(chain.from_iterable(parts)))
        self.rows += 1
        self._pending += 1
        if self._pending >= self._flush_at:
            self._flush_batch()

    def append_batch(self, batch: pa.RecordBatch) -> None:
        """Add rows already in columns (the native core's): after the rows appended so far, which are converted
        first to keep the order. The batch has this table's columns; its values fit them (the core sends rows
        that would need fitting as objects)."""
        if self.closed:
            raise ValueError(f"table {self._table!r}: append after close")
        if batch.schema != self._schema:
            raise TypeError(f"table {self._table!r}: a batch of another schema")
        self._flush_batch()
        start = 0
        while start < batch.num_rows:
            take = batch.num_rows - start
            if self._max_file_rows is not None:
                take = min(take, self._max_file_rows - self._file_rows)
            self._tables.append(pa.Table.from_batches([batch.slice(start, take)]))
            start += take
            self.rows += take
            self._file_rows += take
            if self._max_file_rows is not None and self._file_rows >= self._max_file_rows:
                self._finish_file()
            elif self._file_rows - self._file_written >= self._row_group_rows:
                self._write_buffered()
        self._flush_at = self._rows_before_flush()

    def close(self) -> list[Path]:
        """Write what is left, finish the current file (or an empty one) and return all final paths."""
        if self.closed:
            return self.paths
        self.closed = True
        try:
            self._flush_batch()
        finally:
            if self._tables or self._writer is not None or not self._paths:
                self._finish_file()
        return self.paths

    def finish_file(self, empty: bool = False) -> Path | None:
        """Write the rows so far and rename the current file into place now. Without rows: None, unless
        ``empty``, which writes a file holding only the schema (to keep file numbers paired across tables)."""
        if self.closed:
            raise ValueError(f"table {self._table!r}: finish_file after close")
        self._flush_batch()
        if not self._tables and self._writer is None:
            if not empty:
                return None
            self._open_file()
        self._finish_file()
        self._flush_at = self._rows_before_flush()
        return self._paths[-1]

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- batches -------------------------------------------------------------------------------------------

    def _flush_batch(self) -> None:
        """Convert the column lists to an Arrow table, buffer it, and write/rotate as the limits say."""
        if not self._pending:
            return
        table, bad, dropped = self._convert()
        self._rows.clear()
        self._pending = 0
        self.rows -= dropped
        if table is not None and table.num_rows:
            self._tables.append(table)
            self._file_rows += table.num_rows
            if self._max_file_rows is not None and self._file_rows >= self._max_file_rows:
                self._finish_file()
            elif self._file_rows - self._file_written >= self._row_group_rows:
                self._write_buffered()
        self._flush_at = self._rows_before_flush()
        if bad is not None and self._on_dead_letter is None:
            field = self._schema.field(bad.column)
            raise ColumnValueError(self._table, field.name, field.type, bad.value, bad.reason, dropped)

    def _rows_before_flush(self) -> int:
        """A batch ends at ``batch_rows`` or where the file reaches ``file_rows``, whichever comes first."""
        if self._max_file_rows is None:
            return self.batch_rows
        return min(self.batch_rows, self._max_file_rows - self._file_rows)

    def _convert(self) -> tuple[pa.Table | None, _BadRows | None, int]:
        """The pending rows as a table; the first row that could not be written; how many were dropped.

        Fast path: every column converts as it is. Otherwise the failing columns' values are fitted
        (:mod:`tlsmon.output.fit`), each change named on the row's ``anomalies``; rows holding a value that
        cannot be fitted are dead letters, dropped and reported one by one.
        """
        cols: list[list[object]] = [list(col) for col in zip(*self._rows, strict=True)]
        if not cols:
            return None, None, 0
        arrays = [_array(f, values) for f, values in zip(self._schema, cols, strict=True)]
        failing = [i for i, array in enumerate(arrays) if array is None]
        if not failing:
            return pa.Table.from_arrays(arrays, schema=self._schema), None, 0
        dead: dict[int, tuple[int, object, str]] = {}  # row → (column, value, reason)
        notes: dict[int, list[str]] = {}
        for i in failing:
            field = self._schema.field(i)
            values = cols[i]
            for r, value in enumerate(values):
                try:
                    fitted, changed = fit_value(field.type, value, field.nullable)
                except UnfittableError as exc:
                    dead.setdefault(r, (i, value, str(exc)))
                    continue
                if changed:
                    values[r] = fitted
                    name = self._anomaly_names[i]
                    notes.setdefault(r, []).append(name)
                    self.fitted[name] += 1
        anomalies = self._anomalies_column
        if anomalies is not None:
            col = cols[anomalies]
            for r, names in notes.items():
                old = col[r]
                col[r] = [*old, *names] if isinstance(old, list) else names
        rows = [r for r in range(len(cols[0])) if r not in dead]
        if dead:
            cols = [[col[r] for r in rows] for col in cols]
        if not all(_array(f, values) is not None for f, values in zip(self._schema, cols, strict=True)):
            # Every value fits on its own but not together (or fitting missed a case): row by row.
            keep: list[int] = []
            for j, r in enumerate(rows):
                try:
                    self._table_of([[col[j]] for col in cols])
                except _CONVERSION_ERRORS as exc:
                    dead[r] = (0, "<row>", f"{type(exc).__name__}: {exc}")
                else:
                    keep.append(j)
            cols = [[col[j] for j in keep] for col in cols]
        first: _BadRows | None = None
        for r in sorted(dead):
            column, value, reason = dead[r]
            key = self._rows[r][0]
            self.dead_letters += 1
            if first is None:
                first = _BadRows(column, [r], value, reason)
            if self._on_dead_letter is not None:
                field = self._schema.field(column)
                self._on_dead_letter(
                    self._table, str(key), f"column {field.name!r} ({field.type}) cannot hold {value!r}: {reason}"
                )
        return self._table_of(cols), first, len(dead)

    def _table_of(self, cols: list[list[object]]) -> pa.Table | None:
        if not cols or not cols[0]:
            return None
        arrays = [pa.array(values, type=f.type) for f, values in zip(self._schema, cols, strict=True)]
        # (raises for a row that does not fit: the row-by-row fallback of _convert relies on it)
        for f, array in zip(self._schema, arrays, strict=True):
            if not f.nullable and array.null_count:
                raise pa.ArrowInvalid(f"null in non-nullable column {f.name!r}")
        return pa.Table.from_arrays(arrays, schema=self._schema)

    # --- files ---------------------------------------------------------------------------------------------

    def _open_file(self) -> pq.ParquetWriter:
        import pyarrow.parquet as pq  # at the first file: see the module docstring

        name = f"part-{self._run_id}-{self._index:05d}.parquet"
        self._tmp_path = self._dir / f".{name}.tmp"
        self._writer = pq.ParquetWriter(
            self._tmp_path, self._schema, compression=COMPRESSION, use_dictionary=self._dictionary
        )
        return self._writer

    def _write_buffered(self, final: bool = False) -> None:
        """Write the buffered batches as whole row groups; the remainder stays buffered unless ``final``."""
        writer = self._writer or self._open_file()
        if not self._tables:
            return
        table = pa.concat_tables(self._tables)
        size = self._row_group_rows
        count = table.num_rows if final else table.num_rows - table.num_rows % size
        self._tables = [table.slice(count)] if count < table.num_rows else []
        if count:
            writer.write_table(table.slice(0, count), row_group_size=size)
            self._file_written += count

    def _finish_file(self) -> None:
        """Write the buffered rows, close and fsync the temporary file, rename it into place."""
        self._write_buffered(final=True)
        assert self._writer is not None and self._tmp_path is not None
        self._writer.close()
        tmp = self._tmp_path
        final = tmp.with_name(tmp.name[1 : -len(".tmp")])
        fsync_path(tmp)
        os.replace(tmp, final)
        fsync_path(self._dir)
        self._paths.append(final)
        self._writer = None
        self._tmp_path = None
        self._index += 1
        self._file_rows = 0
        self._file_written = 0


def dictionary_columns(groups: Sequence[ColumnGroup]) -> list[str]:
    """The columns written with dictionary encoding: text and lists of text, where values repeat (a version, a
    cipher, a server name, a chain's fingerprints), but not a column whose values all differ (a uid, a Community
    ID), whose dictionary would only cost time before Parquet gives it up. Numbers go plain: zstd takes their
    repeats. On bench/'s large workload: 15-18 % less time writing the connections table, 7-9 % smaller files."""
    columns = [c for g in groups for c in g.columns if not c.distinct]
    # Parquet names a list's values by their path (pyarrow writes lists as Parquet's LIST of `element`).
    return [c.name for c in columns if c.type == pa.string()] + [
        f"{c.name}.list.element" for c in columns if c.type == pa.list_(pa.string())
    ]


def fsync_path(path: Path) -> None:
    """Flush a file's or a directory's entry to disk (a rename is durable only once its directory is)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
