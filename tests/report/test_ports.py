"""Ports beyond the twentieth: summed as 'other', after the twenty shown one by one in numeric order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fixtures.report.corpus import write_rows
from tests.report.helpers import row, rows, run_report

START = datetime(2024, 5, 1, tzinfo=UTC)


def _rows() -> list[dict[str, Any]]:
    """Port 10000 + i carries i + 1 TLS 1.2 connections, i = 0 … 24 (325 connections in all)."""
    out = []
    for i in range(25):
        for k in range(i + 1):
            t = START + timedelta(seconds=len(out))
            out.append({"uid": f"C{len(out):017d}", "ts_start": t, "ts_end": t, "orig_h": "192.0.2.1",
                        "orig_p": 40000 + k, "resp_h": f"198.51.100.{i}", "resp_p": 10000 + i, "end_reason": "fin",
                        "app_proto": "tls", "tls_mode": "implicit", "anomalies": [], "version": "TLSv12"})
    return out


def test_the_twenty_busiest_ports_in_numeric_order_then_other(tmp_path: Path) -> None:
    write_rows(tmp_path / "data", _rows())
    doc = run_report([tmp_path / "data"], tmp_path / "out", "--format", "json")
    assert [r["port"] for r in rows(doc, "r1_ports")] == [str(10000 + i) for i in range(5, 25)] + ["other"]
    assert row(doc, "r1_ports", port="other")["connections"] == 1 + 2 + 3 + 4 + 5
    assert row(doc, "r1_ports", port="other")["servers"] == 5
    versions = rows(doc, "r3_versions")
    assert [r["port"] for r in versions[-2:]] == ["other", "all"]
    assert (versions[-2]["tlsv12"], versions[-1]["tlsv12"]) == (15, 325)
