"""What a batch tells its user: the stats table, failure and warning lines, the summary, the progress line."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from rich.console import Console

from tests.batch.helpers import SAMPLE, TRUNCATED, batch
from tlsmon import __version__
from tlsmon.batch.inputs import identify
from tlsmon.batch.progress_line import BatchProgress
from tlsmon.batch.task import TaskResult, TaskSpec
from tlsmon.cli import main


def test_the_stats_part_holds_one_row_of_run_figures_per_input(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    assert batch(SAMPLE, "-o", ds, "--workers", "1") == 0
    (part,) = (ds / "stats").rglob("*.parquet")
    table = pq.read_table(part)
    for name in ("first_ts", "last_ts", "started"):
        table = table.set_column(table.schema.get_field_index(name), name, table[name].cast("int64"))
    (row,) = table.to_pylist()
    assert {k: row[k] for k in ("input_path", "input_id", "input_bytes", "packets", "tcp_packets", "connections",
                                "tls_connections", "certificates", "warnings", "tlsmon_version")} == {
        "input_path": str(SAMPLE), "input_id": identify(str(SAMPLE)).input_id,
        "input_bytes": SAMPLE.stat().st_size, "packets": 276, "tcp_packets": 276, "connections": 19,
        "tls_connections": 18, "certificates": 4, "warnings": [], "tlsmon_version": __version__,
    }
    assert (row["first_ts"], row["last_ts"]) == (1_700_000_000_000_000_000, 1_700_000_000_066_020_000)
    assert row["duration_s"] > 0


def test_off_a_terminal_stderr_has_only_failure_and_warning_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "empty.pcap"
    bad.write_bytes(b"")
    assert main(["batch", str(bad), str(TRUNCATED), "-o", str(tmp_path / "ds"), "--workers", "1"]) == 1
    captured = capsys.readouterr()
    assert sorted(captured.err.splitlines()) == [
        f"failed: {bad}: not a capture file (empty)",
        f"warning: {TRUNCATED}: truncated record at byte 3232 after 10 packets; rest of file skipped",
    ]
    summary = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in captured.out.splitlines()
               if line.count("│") == 3}
    assert {k: summary[k] for k in ("inputs", "converted", "failed", "damaged (converted up to the damage)",
                                    "connection rows (before stitching)", "packets")} == {
        "inputs": "2", "converted": "1", "failed": "1", "damaged (converted up to the damage)": "1",
        "connection rows (before stitching)": "1", "packets": "10",
    }


def test_the_progress_line_counts_files_bytes_and_failures() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=200)
    found = identify(str(SAMPLE))
    spec = TaskSpec(found, "/nowhere", "default")
    with BatchProgress(console, show_bar=True) as progress:
        progress.planned([spec, spec], unchanged=0, skipped=0)
        progress.finished(TaskResult(found, "default", "done", packets=276))
        progress.finished(TaskResult(found, "default", "failed", reason="x: not a capture file (empty)"))
        assert progress._progress is not None
        (task,) = progress._progress.tasks
        assert (task.fields["files"], task.completed, task.total) == ("2/2 files", 2 * found.size, 2 * found.size)
        assert task.fields["failures"] == "[red]1 failed"
        assert task.fields["pps"].endswith(" pkt/s")
    assert "\x1b[31mfailed:\x1b[0m x: not a capture file (empty)\n" in out.getvalue()
