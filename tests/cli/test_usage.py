"""Usage errors and output folders (issue 8 point 6): one line on stderr, exit 2, nothing written.

One value parser for every numeric option (durations like ``5m`` everywhere, limits at least 1), an output
folder that already holds tlsmon tables refused unless ``--overwrite`` or ``--append``, a bad BPF filter and an
unknown interface caught before anything starts.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.e2e.captures import FILES, PCAPS
from tlsmon.cli import duration, main, positive_int

SAMPLE = PCAPS / "sample.pcap"
SAMPLE_CONNECTIONS = len(FILES["sample.pcap"]["connections"])


def rows(out: Path, table: str) -> int:
    return sum(pq.read_table(p).num_rows for p in (out / table).glob("*.parquet"))


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    (line,) = capsys.readouterr().err.splitlines()
    return line


@pytest.mark.parametrize(
    ("text", "seconds"), [("300", 300.0), ("2.5", 2.5), ("90s", 90.0), ("5m", 300.0), ("1h", 3600.0), ("1d", 86400.0)]
)
def test_durations_take_seconds_or_a_unit(text: str, seconds: float) -> None:
    assert duration(text) == seconds


@pytest.mark.parametrize("text", ["0", "-5", "5x", "", "m5"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        duration(text)


@pytest.mark.parametrize(("text", "number"), [("1", 1), ("1000000", 1_000_000), ("1_000", 1000)])
def test_limits_are_integers_of_at_least_one(text: str, number: int) -> None:
    assert positive_int(text) == number


@pytest.mark.parametrize("text", ["0", "-1", "1.5", "lots"])
def test_bad_limits_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        positive_int(text)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--max-connections", "0", "tlsmon read: --max-connections: must be at least 1, got '0'"),
        ("--idle-timeout", "-3", "tlsmon read: --idle-timeout: not a duration: '-3'"),
        ("--idle-timeout", "0", "tlsmon read: --idle-timeout: duration must be positive: '0'"),
        ("--part-rows", "0", "tlsmon read: --part-rows: must be at least 1, got '0'"),
        ("--part-interval", "soon", "tlsmon read: --part-interval: not a duration: 'soon'"),
        ("-o", "", "tlsmon read: --output: the output directory must not be empty"),
    ],
)
def test_bad_read_option_is_one_line_and_exit_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    argv = ["read", str(SAMPLE), "-o", str(tmp_path / "out"), option, value]
    status = main(argv)
    assert (status, one_line(capsys).startswith(message), (tmp_path / "out").exists()) == (2, True, False)


def test_idle_timeout_takes_minutes(tmp_path: Path) -> None:
    assert main(["read", str(SAMPLE), "-o", str(tmp_path), "-q", "--idle-timeout", "5m"]) == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--workers", "0"], "tlsmon live: --workers: must be at least 1, got '0'"),
        (["--max-connections", "0"], "tlsmon live: --max-connections: must be at least 1, got '0'"),
        (["--rotate", "0"], "tlsmon live: --rotate: duration must be positive: '0'"),
        (["--metrics-port", "70000"], "tlsmon live: --metrics-port: not a port (1-65535): '70000'"),
    ],
)
def test_bad_live_option_is_one_line_and_exit_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status = main(["live", "-i", "lo", "-o", str(tmp_path / "out"), *argv])
    assert (status, one_line(capsys).startswith(message)) == (2, True)


def test_unknown_interface_is_one_clean_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["live", "-i", "nosuch0", "-o", str(tmp_path / "out")])
    line = one_line(capsys)
    assert (status, line.startswith("tlsmon live: nosuch0: no such interface (available: "), "b'" in line) == (
        2, True, False
    )


def test_folder_with_tlsmon_tables_is_refused_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["read", str(SAMPLE), "-o", str(tmp_path), "-q"]) == 0
    status = main(["read", str(SAMPLE), "-o", str(tmp_path), "-q"])
    assert (status, one_line(capsys), rows(tmp_path, "connections")) == (
        2,
        f"tlsmon: {tmp_path} already holds tlsmon tables (connections, certificates, stats, registries): give "
        "--overwrite to replace them or --append to add to them",
        SAMPLE_CONNECTIONS,
    )


def test_overwrite_replaces_the_tables(tmp_path: Path) -> None:
    main(["read", str(SAMPLE), "-o", str(tmp_path), "-q"])
    status = main(["read", str(SAMPLE), "-o", str(tmp_path), "-q", "--overwrite"])
    assert (status, rows(tmp_path, "connections"), rows(tmp_path, "stats")) == (0, SAMPLE_CONNECTIONS, 1)


def test_append_adds_to_the_tables(tmp_path: Path) -> None:
    main(["read", str(SAMPLE), "-o", str(tmp_path), "-q"])
    status = main(["read", str(SAMPLE), "-o", str(tmp_path), "-q", "--append"])
    assert (status, rows(tmp_path, "connections"), rows(tmp_path, "stats")) == (0, 2 * SAMPLE_CONNECTIONS, 2)


def test_overwrite_and_append_together_are_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["read", str(SAMPLE), "-o", str(tmp_path), "--overwrite", "--append"])
    assert (status, one_line(capsys).startswith("tlsmon read: --append: not allowed with argument --overwrite")) == (
        2, True
    )


def test_folder_with_other_files_is_not_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a table\n")
    assert main(["read", str(SAMPLE), "-o", str(tmp_path), "-q"]) == 0


def test_internal_error_is_one_line_and_exit_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(args: argparse.Namespace) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr("tlsmon.cli._cmd_schema", broken)
    monkeypatch.delenv("TLSMON_TRACEBACK", raising=False)
    status = main(["schema"])
    assert (status, one_line(capsys)) == (
        1, "tlsmon: internal error: RuntimeError: a bug (a bug: please report it; TLSMON_TRACEBACK=1 shows where)"
    )
