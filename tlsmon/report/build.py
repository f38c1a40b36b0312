"""Running every analysis over a dataset and writing the chosen outputs (the body of ``tlsmon report``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tlsmon import __version__
from tlsmon.report import render
from tlsmon.report.command import FORMATS
from tlsmon.report.dataset import Window, describe, open_dataset
from tlsmon.report.queries import Table, run_file
from tlsmon.report.sections import SECTIONS


@dataclass(frozen=True, slots=True)
class Report:
    tables: dict[str, Table]
    files: list[Path]


def compute(datasets: Sequence[Path], window: Window) -> dict[str, Table]:
    """Every table of every section, by name, in section order."""
    db = open_dataset(datasets, window)
    try:
        db.execute(f"CREATE TEMP VIEW settings AS SELECT {str(window.exclude_tor).lower()} AS exclude_tor")
        run_file(db, "_prelude.sql")
        tables: dict[str, Table] = {}
        for section in SECTIONS:
            result = run_file(db, section.sql)
            for spec in section.tables:
                tables[spec.name] = result[spec.name]
        return tables
    finally:
        db.close()


def build(datasets: Sequence[Path], out: Path, window: Window, formats: Sequence[str] = FORMATS) -> Report:
    tables = compute(datasets, window)
    out.mkdir(parents=True, exist_ok=True)
    meta: dict[str, object] = {
        "generated_by": "tlsmon report",
        "tlsmon_version": __version__,
        "generated_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "dataset": describe(datasets, window),
    }
    files: list[Path] = []
    if "json" in formats:
        render.write_json(out / "report.json", meta, SECTIONS, tables)
        files.append(out / "report.json")
    if "csv" in formats:
        render.write_csv(out / "tables", tables)
        files.extend(out / "tables" / f"{name}.csv" for name in tables)
    if "html" in formats:
        charts = {s.id: (s.plot(tables) if s.plot else None) for s in SECTIONS}
        render.write_html(out / "report.html", meta, SECTIONS, tables, charts)
        files.append(out / "report.html")
    return Report(tables, files)
