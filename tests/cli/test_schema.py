"""`tlsmon schema` and the committed docs/schema.md, which must be its output byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from tlsmon.cli import main
from tlsmon.records.tables import TABLES

SCHEMA_MD = Path(__file__).resolve().parents[2] / "docs" / "schema.md"
REGENERATE = ".venv/bin/tlsmon schema > docs/schema.md"


def schema_output(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["schema"]) == 0
    return capsys.readouterr().out


def test_schema_exits_zero_and_prints_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    assert schema_output(capsys).startswith("# tlsmon Parquet schema\n")


@pytest.mark.parametrize("table", list(TABLES))
def test_schema_has_a_section_per_table(table: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert f"\n## {table}\n" in schema_output(capsys)


@pytest.mark.parametrize(
    ("table", "column"),
    [(table, c.name) for table, groups in TABLES.items() for g in groups for c in g.columns],
    ids=lambda v: str(v),
)
def test_schema_lists_every_column(table: str, column: str, capsys: pytest.CaptureFixture[str]) -> None:
    section = schema_output(capsys).split(f"\n## {table}\n", 1)[1].split("\n## ", 1)[0]
    assert f"\n| `{column}` |" in section


def test_docs_schema_md_is_the_schema_output(capsys: pytest.CaptureFixture[str]) -> None:
    expected = schema_output(capsys)
    assert SCHEMA_MD.is_file(), f"docs/schema.md is missing; run `{REGENERATE}`"
    assert SCHEMA_MD.read_text() == expected, f"docs/schema.md is out of date; run `{REGENERATE}`"
