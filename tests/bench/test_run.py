"""The benchmark runner's arithmetic: counting pcap records and judging ratios against the targets."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

from bench.run import Tool, ToolResult, count_pcap_records, measure, ratios


def ok(tool: str, packets_per_s: float) -> ToolResult:
    return ToolResult(tool, "ok", packets_per_s=packets_per_s)


def pcap(records: list[bytes], magic: int = 0xA1B2C3D4, order: str = "<") -> bytes:
    out = struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 65535, 1)
    for data in records:
        out += struct.pack(order + "IIII", 1, 2, len(data), len(data)) + data
    return out


def test_counts_records_of_a_little_endian_pcap(tmp_path: Path) -> None:
    path = tmp_path / "a.pcap"
    path.write_bytes(pcap([b"x" * 60, b"", b"y" * 1514]))
    assert count_pcap_records(path) == 3


def test_counts_records_of_a_big_endian_nanosecond_pcap(tmp_path: Path) -> None:
    path = tmp_path / "b.pcap"
    path.write_bytes(pcap([b"x" * 54, b"z" * 70], magic=0xA1B23C4D, order=">"))
    assert count_pcap_records(path) == 2


def test_rejects_a_file_that_is_not_classic_pcap(tmp_path: Path) -> None:
    path = tmp_path / "c.pcapng"
    path.write_bytes(bytes.fromhex("0a0d0d0a") + bytes(40))
    with pytest.raises(ValueError, match="not a classic pcap"):
        count_pcap_records(path)


def test_bulk_ratio_meets_its_target_at_one_and_a_fifth_times_suricata() -> None:
    found = ratios("bulk", {"tlsmon": ok("tlsmon", 480_000), "suricata": ok("suricata", 400_000)})
    assert found["suricata"] == {"ratio": 1.2, "target": 1.2, "met": True}


def test_large_ratio_target_is_one_and_a_half_times_suricata() -> None:
    found = ratios("large", {"tlsmon": ok("tlsmon", 400_000), "suricata": ok("suricata", 400_000)})
    assert found["suricata"] == {"ratio": 1.0, "target": 1.5, "met": False}


def test_handshake_ratio_below_target_is_not_met() -> None:
    found = ratios("handshake", {"tlsmon": ok("tlsmon", 100_000), "tshark": ok("tshark", 10_000)})
    assert found["tshark"] == {"ratio": 10.0, "target": 20.0, "met": False}


def test_ratio_is_unknown_when_tlsmon_did_not_run() -> None:
    found = ratios("bulk", {"tlsmon": ToolResult("tlsmon", "not available"), "suricata": ok("suricata", 1.0)})
    assert found["suricata"] == {"ratio": None, "target": 1.2, "met": None}


def _appending(log: Path, name: str) -> Tool:
    """A tool whose every run appends its name to ``log``."""
    code = f"open({str(log)!r}, 'a').write({name!r} + ' ')"
    return Tool(name, lambda: None, lambda pcap, out: [sys.executable, "-c", code], lambda out, stdout: 0)


def test_runs_go_in_rounds_each_tool_once_per_round(tmp_path: Path) -> None:
    log = tmp_path / "order"
    tools = [_appending(log, "a"), _appending(log, "b")]
    results = measure(tools, tmp_path / "any.pcap", 1, 3)
    assert log.read_text().split() == ["a", "b", "a", "b", "a", "b"]
    assert [(r.tool, r.status, len(r.walls_s)) for r in results.values()] == [("a", "ok", 3), ("b", "ok", 3)]
