"""Start-up and exit of ``read``: it imports no terminal library when its output is not a terminal, and the
console script leaves without tearing the heap down, after every file is in place, with main()'s status."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from tests.e2e.captures import PCAPS

RUN = "import sys; from tlsmon.cli import run; sys.argv = ['tlsmon', *sys.argv[1:]]; run()"


def _tlsmon(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True, check=False)


def test_read_exits_zero_with_every_table_written(tmp_path: Path) -> None:
    result = _tlsmon("read", str(PCAPS / "sample.pcap"), "-o", str(tmp_path), "-q")
    assert result.returncode == 0
    assert pq.read_table(tmp_path / "connections").num_rows == 19
    assert not list(tmp_path.rglob("*.tmp"))


def test_read_keeps_its_error_status(tmp_path: Path) -> None:
    result = _tlsmon("read", str(tmp_path / "missing.pcap"), "-o", str(tmp_path / "out"), "-q")
    assert (result.returncode, result.stderr.count("\n")) == (1, 1)


def test_other_commands_exit_normally() -> None:
    result = _tlsmon("schema")
    assert (result.returncode, result.stdout.startswith("#")) == (0, True)


def test_a_read_whose_output_is_not_a_terminal_imports_no_rich(tmp_path: Path) -> None:
    code = (
        "import sys; from tlsmon.cli import main; "
        f"main(['read', {str(PCAPS / 'sample.pcap')!r}, '-o', {str(tmp_path)!r}]); "
        "print('rich loaded' if any(m.split('.')[0] == 'rich' for m in sys.modules) else 'no rich')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines()[-1] == "no rich"
    assert "  TLS connections" in result.stdout  # the summary, as plain text
