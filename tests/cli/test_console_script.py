"""The installed `tlsmon` console script: the exit status reaches the shell, and output lands on disk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from tests.e2e.captures import FILES, PCAPS


def _command() -> list[str]:
    script = Path(sys.executable).parent / "tlsmon"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "tlsmon.cli"]


def test_console_script_reports_damaged_input_with_status_three(tmp_path: Path) -> None:
    truncated = PCAPS / "truncated.pcap"
    done = subprocess.run(
        [*_command(), "read", str(truncated), "-o", str(tmp_path), "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    (written,) = (tmp_path / "connections").glob("*.parquet")
    (warning,) = done.stderr.splitlines()
    assert (done.returncode, warning.startswith(f"warning: {truncated}: "), pq.read_table(written).num_rows) == (
        3,
        True,
        len(FILES["truncated.pcap"]["connections"]),
    )
