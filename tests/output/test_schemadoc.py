"""render_schema_markdown: the text of docs/schema.md, from column groups."""

from __future__ import annotations

import pyarrow as pa

from tlsmon.columns import Column, ColumnGroup
from tlsmon.output.schemadoc import TYPES, render_schema_markdown

CONN = ColumnGroup(
    "conn",
    (
        Column("uid", pa.string(), "Connection id", "CHhAvVGS1DHFjwGM9", nullable=False),
        Column("ts", pa.timestamp("ns", tz="UTC"), "First packet", "2024-01-01 00:00:00+00:00"),
    ),
)
TLS = ColumnGroup(
    "tls",
    (Column("ciphers", pa.list_(pa.uint16()), "Offered cipher suites", "[4865, 4866]"),),
)
CERT = ColumnGroup("cert", (Column("der", pa.binary(), "Certificate", "3082…", nullable=False),))


def column_line(group: ColumnGroup, index: int = 0) -> str:
    """The table row rendered for one column (the document has exactly one line per column)."""
    text = render_schema_markdown({"t": [group]})
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    return rows[index]


def test_renders_one_section_per_table_and_one_row_per_column() -> None:
    assert render_schema_markdown({"connections": [CONN, TLS], "certificates": [CERT]}) == (
        "# tlsmon Parquet schema\n"
        "\n"
        "Generated from the column declarations in the code (`tlsmon.columns`); do not edit by hand.\n"
        "Each table is a directory of Parquet files `OUT/<table>/part-*.parquet`; a row's columns come from\n"
        "one or more column groups, and all columns of a group are null when the row has nothing for it.\n"
        "\n"
        f"{TYPES}\n"
        "\n"
        "Tables: [`connections`](#connections), [`certificates`](#certificates)\n"
        "\n"
        "## connections\n"
        "\n"
        "Column groups, in order: `conn` (2 columns), `tls` (1 column).\n"
        "\n"
        "| column | type | nullable | description | example |\n"
        "|---|---|---|---|---|\n"
        "| `uid` | `string` | no | Connection id | `CHhAvVGS1DHFjwGM9` |\n"
        "| `ts` | `timestamp[ns, tz=UTC]` | yes | First packet | `2024-01-01 00:00:00+00:00` |\n"
        "| `ciphers` | `list<item: uint16>` | yes | Offered cipher suites | `[4865, 4866]` |\n"
        "\n"
        "## certificates\n"
        "\n"
        "Column groups, in order: `cert` (1 column).\n"
        "\n"
        "| column | type | nullable | description | example |\n"
        "|---|---|---|---|---|\n"
        "| `der` | `binary` | no | Certificate | `3082…` |\n"
    )


def test_type_is_the_arrow_type_string() -> None:
    ext = pa.list_(pa.struct([pa.field("code", pa.uint16()), pa.field("length", pa.uint32())]))
    group = ColumnGroup("g", (Column("extensions", ext, "Extensions", "[]"),))
    assert column_line(group) == (
        "| `extensions` | `list<item: struct<code: uint16, length: uint32>>` | yes | Extensions | `[]` |"
    )


def test_pipes_in_text_are_escaped_and_newlines_folded() -> None:
    group = ColumnGroup("g", (Column("alpn", pa.string(), "Protocol a|b,\nfirst offered", "h2|http/1.1"),))
    assert (
        column_line(group) == r"| `alpn` | `string` | yes | Protocol a\|b, first offered | `h2\|http/1.1` |"
    )


def test_example_with_backticks_gets_a_longer_fence() -> None:
    group = ColumnGroup("g", (Column("cmd", pa.string(), "Command", "`STARTTLS`"),))
    assert column_line(group) == "| `cmd` | `string` | yes | Command | `` `STARTTLS` `` |"


def test_empty_example_leaves_the_cell_empty() -> None:
    group = ColumnGroup("g", (Column("note", pa.string(), "Free text", ""),))
    assert column_line(group) == "| `note` | `string` | yes | Free text |  |"
