"""Reading datasets: which files count, columns that older files lack, and how the SQL files are cut."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from fixtures.report import corpus, expected
from tests.report.helpers import row, run_report
from tlsmon.cli import main
from tlsmon.records.tables import CONNECTIONS
from tlsmon.report.dataset import READ_COLUMNS, table_files
from tlsmon.report.queries import Block, parse


def test_the_sql_reads_only_the_declared_connection_columns() -> None:
    words: set[str] = set()
    for f in resources.files("tlsmon.report").joinpath("sql").iterdir():
        words |= set(re.findall(r"\b[a-z_0-9]+\b", f.read_text(encoding="utf-8")))
    connection_columns = {c.name for g in CONNECTIONS for c in g.columns}
    assert (words & connection_columns) - {"port"} <= set(READ_COLUMNS)


def test_hidden_and_temporary_files_are_not_parts(tmp_path: Path) -> None:
    corpus.write(tmp_path)
    (tmp_path / "connections" / ".part-x.parquet").write_bytes(b"half written")
    (tmp_path / "connections" / ".tmp").mkdir()
    (tmp_path / "connections" / ".tmp" / "part-y.parquet").write_bytes(b"half written")
    (tmp_path / "connections" / "part-z.parquet.tmp-1234").write_bytes(b"half written")
    names = sorted(p.name for p in table_files([tmp_path], "connections"))
    assert names == ["part-corpus-day0.parquet", "part-corpus-day1.parquet"]


def test_a_column_missing_from_older_files_reads_as_null(tmp_path: Path) -> None:
    corpus.write(tmp_path)
    day0 = tmp_path / "connections" / "part-corpus-day0.parquet"
    pq.write_table(pq.read_table(day0).drop_columns(["ocsp_status"]), day0)
    doc = run_report([tmp_path], tmp_path / "out", "--format", "json")
    overall = row(doc, "r8_ocsp", port="all")
    assert (overall["stapled"], overall["good"]) == (190, 0)


def test_sql_file_is_cut_at_directives() -> None:
    text = ("-- about the file\n-- temp: t\nSELECT 1 AS x\n\n-- macro: m(a)\na + 1\n"
            "-- table: out\n-- note\nSELECT m(x) FROM t\n")
    assert parse(text) == [
        Block("temp", "t", "SELECT 1 AS x"),
        Block("macro", "m(a)", "a + 1"),
        Block("table", "out", "-- note\nSELECT m(x) FROM t"),
    ]


def test_an_empty_block_is_an_error() -> None:
    with pytest.raises(ValueError, match="empty table block 'out'"):
        parse("-- table: out\n\n-- table: next\nSELECT 1\n")


def test_a_damaged_parquet_file_is_one_line_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus.write(tmp_path)
    (tmp_path / "connections" / "part-damaged.parquet").write_bytes(b"PAR1 not really parquet")
    assert main(["report", str(tmp_path), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("tlsmon report: ") and err.count("\n") == 1
    assert "part-damaged.parquet" in err


def test_many_small_files_give_the_same_numbers(tmp_path: Path) -> None:
    """Over many small files the columns are copied into memory once; the numbers must not change."""
    corpus.write(tmp_path)
    day0 = tmp_path / "connections" / "part-corpus-day0.parquet"
    table = pq.read_table(day0)
    day0.unlink()
    step = 50
    for i in range(0, table.num_rows, step):
        pq.write_table(table.slice(i, step), tmp_path / "connections" / f"part-small-{i:05d}.parquet")
    assert len(table_files([tmp_path], "connections")) > 8
    doc = run_report([tmp_path], tmp_path / "out", "--format", "json")
    assert {name: t["rows"] for name, t in doc["tables"].items()} == expected.tables()
