"""Markdown documentation of the Parquet tables, rendered from the same column groups the writer uses.

``docs/schema.md`` is this function's output, committed; a test compares the two, so the documentation
cannot drift from the files. The rendering is deterministic: tables in the order given, columns in group
order, nothing that depends on the time or the machine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tlsmon.columns import Column, ColumnGroup
from tlsmon.records.tables import table_notes

TITLE = "tlsmon Parquet schema"
INTRO = (
    "Generated from the column declarations in the code (`tlsmon.columns`); do not edit by hand.\n"
    "Each table is a directory of Parquet files `OUT/<table>/part-*.parquet`; a row's columns come from\n"
    "one or more column groups, and all columns of a group are null when the row has nothing for it."
)
TYPES = (
    "Types hold every value the wire can carry (a DHE prime's bit length is uint32, an SSLv2 session-id length\n"
    "uint16). Packet times are `timestamp[ns]` (int64 nanoseconds: 1677 to 2262; the capture stage replaces\n"
    "impossible packet times and counts `capture.bad_timestamp`). Certificate validity and OCSP dates are\n"
    "`timestamp[us]`: X.509 GeneralizedTime runs to 9999-12-31 23:59:59, which RFC 5280 §4.1.2.5 gives as\n"
    "\"no well-defined expiration date\", and int64 nanoseconds end on 2262-04-11, while int64 microseconds\n"
    "hold every date from 0001 to 9999. Should a value still not fit its column, the writer clamps integers\n"
    "and nulls (or, in non-nullable columns, clamps) timestamps, and names it on the row's `anomalies` as\n"
    "`<stage>.value_out_of_range` or `<stage>.date_out_of_range`; a row that cannot be written at all is\n"
    "counted in the run's `stats` (`dead_letters`) and named by its uid in a warning."
)
HEADER = "| column | type | nullable | description | example |\n|---|---|---|---|---|"


def render_schema_markdown(
    tables: Mapping[str, Sequence[ColumnGroup]], notes: Mapping[str, str] | None = None
) -> str:
    """One section per table, one table row per column: name, Arrow type, nullable, description, example;
    then the table's note, if ``notes`` (default: :func:`~tlsmon.records.tables.table_notes`) has one."""
    if notes is None:
        notes = table_notes()
    parts = [f"# {TITLE}", INTRO, TYPES]
    parts.append("Tables: " + ", ".join(f"[`{name}`](#{_anchor(name)})" for name in tables))
    for name, groups in tables.items():
        parts.append(_render_table(name, groups))
        if name in notes:
            parts.append(notes[name])
    return "\n\n".join(parts) + "\n"


def _render_table(name: str, groups: Sequence[ColumnGroup]) -> str:
    listing = ", ".join(f"`{g.name}` ({_count(len(g.columns))})" for g in groups)
    lines = [f"## {name}", "", f"Column groups, in order: {listing}.", "", HEADER]
    lines.extend(_render_column(c) for g in groups for c in g.columns)
    return "\n".join(lines)


def _render_column(column: Column) -> str:
    cells = (
        _code(column.name),
        _code(str(column.type)),
        "yes" if column.nullable else "no",
        _cell(column.description),
        _code(column.example) if column.example else "",
    )
    return "| " + " | ".join(cells) + " |"


def _count(n: int) -> str:
    return f"{n} column" if n == 1 else f"{n} columns"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _code(text: str) -> str:
    """A code span that survives backticks in the text (CommonMark: a longer fence than any run inside)."""
    text = _cell(text)
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _anchor(title: str) -> str:
    """The GitHub-style anchor of a heading: lower case, spaces to dashes, other punctuation dropped."""
    kept = "".join(ch for ch in title.lower() if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")
