"""The SQL of the report: one file per analysis in ``sql/``, cut into named statements.

Theory of operation: a file is a sequence of blocks, each opened by a directive line

- ``-- table: NAME`` — a SELECT whose result is the report table NAME (JSON, CSV and HTML);
- ``-- view: NAME`` / ``-- temp: NAME`` — a SELECT kept as a temporary view / materialised temporary table
  for the blocks after it (``temp`` when many queries read it, so it is computed once);
- ``-- macro: NAME(ARGS)`` — a scalar expression, created as a DuckDB macro.

Everything up to the next directive is the block's body (SQL comments included). ``_prelude.sql`` runs first;
the analyses only read the views of :mod:`tlsmon.report.dataset` and what the prelude defines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources

import duckdb

_DIRECTIVE = re.compile(r"^-- (table|view|temp|macro): (\S.*?)\s*$")

Value = int | float | str | bool | None


@dataclass(frozen=True, slots=True)
class Block:
    kind: str
    name: str
    sql: str


@dataclass(frozen=True, slots=True)
class Table:
    """One result table: column names and rows of plain JSON values (timestamps as ISO 8601 strings)."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Value, ...], ...]

    def records(self) -> list[dict[str, Value]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def column(self, name: str) -> list[Value]:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]


@cache
def sql_text(file: str) -> str:
    return resources.files("tlsmon.report").joinpath("sql", file).read_text(encoding="utf-8")


def parse(text: str) -> list[Block]:
    """The blocks of one SQL file, in order."""
    blocks: list[Block] = []
    kind = name = ""
    body: list[str] = []

    def close() -> None:
        sql = "\n".join(body).strip()
        if kind:
            if not sql:
                raise ValueError(f"empty {kind} block {name!r}")
            blocks.append(Block(kind, name, sql))

    for line in text.splitlines():
        m = _DIRECTIVE.match(line)
        if m:
            close()
            kind, name = m.group(1), m.group(2)
            body = []
        else:
            body.append(line)
    close()
    return blocks


def _plain(value: object) -> Value:
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, int | float | str | bool):
        return value
    return str(value)


def run_file(db: duckdb.DuckDBPyConnection, file: str) -> dict[str, Table]:
    """Define the file's views and macros and return its tables by name, in file order."""
    tables: dict[str, Table] = {}
    for block in parse(sql_text(file)):
        if block.kind == "view":
            db.execute(f"CREATE OR REPLACE TEMP VIEW {block.name} AS {block.sql}")
        elif block.kind == "temp":
            db.execute(f"CREATE OR REPLACE TEMP TABLE {block.name} AS {block.sql}")
        elif block.kind == "macro":
            db.execute(f"CREATE OR REPLACE TEMP MACRO {block.name} AS {block.sql}")
        else:
            rel = db.execute(block.sql)
            columns = tuple(d[0] for d in rel.description or ())
            rows = tuple(tuple(_plain(v) for v in row) for row in rel.fetchall())
            tables[block.name] = Table(block.name, columns, rows)
    return tables
