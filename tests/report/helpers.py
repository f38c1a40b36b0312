"""Running ``tlsmon report`` the way a person does (the console entry point's ``main``) and reading its output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tlsmon.cli import main


def run_report(datasets: list[Path], out: Path, *flags: str) -> dict[str, Any]:
    """Run the command, require exit 0, and return report.json."""
    status = main(["report", *map(str, datasets), "-o", str(out), *flags])
    assert status == 0
    doc: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return doc


def rows(doc: dict[str, Any], table: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = doc["tables"][table]["rows"]
    return result


def row(doc: dict[str, Any], table: str, **key: Any) -> dict[str, Any]:
    """The one row of ``table`` whose columns equal ``key``."""
    found = [r for r in rows(doc, table) if all(r[k] == v for k, v in key.items())]
    assert len(found) == 1, f"{table}: {len(found)} rows match {key}"
    return found[0]
