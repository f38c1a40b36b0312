"""`tlsmon read`: what it writes, and how it tells the user about bad input.

The contract (tlsmon/cli.py): exit 0 on success; 1 on a fatal input error, with exactly one line on stderr
naming the file and the reason, every record produced before it still written; 3 when the run completed but
some input was damaged, each damaged file named in a warning line. Commands run in-process through
``tlsmon.cli.main``; ``-q`` keeps stdout free of the summary table.
"""

from __future__ import annotations

import sys
from pathlib import Path

import certifi
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fixtures import tcpsynth as t
from tests.e2e.captures import FILES, PCAPS
from tlsmon import __version__
from tlsmon.cli import main
from tlsmon.records.tables import SCHEMA_VERSION

SAMPLE = PCAPS / "sample.pcap"
TRUNCATED = PCAPS / "truncated.pcap"
TLS13 = PCAPS / "tls13-basic.pcap"


def read_table(out: Path, table: str) -> pa.Table:
    files = sorted((out / table).glob("*.parquet"))
    assert files, f"no Parquet file in {out / table}"
    return pa.concat_tables(pq.read_table(f) for f in files)


def stderr_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().err.splitlines()


@pytest.fixture
def not_a_capture(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not packets\n")
    return path


# --- success ------------------------------------------------------------------------------------------------


def test_read_exits_zero(tmp_path: Path) -> None:
    assert main(["read", str(SAMPLE), "-o", str(tmp_path / "out"), "-q"]) == 0


def test_read_writes_one_connection_row_per_connection(tmp_path: Path) -> None:
    main(["read", str(SAMPLE), "-o", str(tmp_path), "-q"])
    assert read_table(tmp_path, "connections").num_rows == len(FILES["sample.pcap"]["connections"])


def test_read_writes_one_certificate_row_per_distinct_certificate(tmp_path: Path) -> None:
    main(["read", str(SAMPLE), "-o", str(tmp_path), "-q"])
    clear = [c for c in FILES["sample.pcap"]["connections"] if c.get("certs_in_clear")]
    distinct = {fp for c in clear for fp in c["server_cert_chain_sha256"] + c["client_cert_chain_sha256"]}
    assert sorted(read_table(tmp_path, "certificates").column("fingerprint").to_pylist()) == sorted(distinct)


@pytest.mark.parametrize("table", ["connections", "certificates"])
def test_read_stamps_the_run_metadata(tmp_path: Path, table: str) -> None:
    main(["read", str(SAMPLE), "-o", str(tmp_path), "-q"])
    metadata = read_table(tmp_path, table).schema.metadata
    assert {k: metadata[k] for k in (b"tlsmon_version", b"schema_version", b"certifi_version")} == {
        b"tlsmon_version": __version__.encode(),
        b"schema_version": SCHEMA_VERSION.encode(),
        b"certifi_version": certifi.__version__.encode(),
    }


def test_read_leaves_no_temporary_file(tmp_path: Path) -> None:
    main(["read", str(SAMPLE), "-o", str(tmp_path), "-q"])
    assert [p.name for p in tmp_path.rglob("*") if p.is_file() and not p.name.endswith(".parquet")] == []


def test_quiet_read_prints_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["read", str(SAMPLE), "-o", str(tmp_path), "-q"])
    assert capsys.readouterr() == ("", "")


def test_read_prints_a_summary_unless_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["read", str(SAMPLE), "-o", str(tmp_path)])
    out = capsys.readouterr().out
    assert "TLS connections" in out and "TLSv13" in out


def test_filter_keeps_only_matching_connections(tmp_path: Path) -> None:
    assert main(["read", str(SAMPLE), "-o", str(tmp_path), "-q", "--filter", "tcp port 443"]) == 0
    ports = read_table(tmp_path, "connections").column("resp_p").to_pylist()
    assert (len(ports), set(ports)) == (len(FILES["sample.pcap"]["connections"]) - 1, {443})


def test_connection_rows_carry_the_handshake_values(tmp_path: Path) -> None:
    # A row without TLS (the port-80 connection) has every TLS column null, lists included.
    main(["read", str(SAMPLE), "-o", str(tmp_path), "-q"])
    columns = ["orig_h", "orig_p", "version", "cipher", "server_name", "client_alpn", "resumed"]
    rows = read_table(tmp_path, "connections").select(columns).to_pylist()
    expected = [
        {
            "orig_h": c["client_ip"],
            "orig_p": c["client_port"],
            "version": c.get("version"),
            "cipher": c.get("cipher"),
            "server_name": c.get("sni"),
            "client_alpn": c["client_alpn"] if c["protocol"] == "tls" else None,
            "resumed": c["resumed"] if c["protocol"] == "tls" else None,
        }
        for c in FILES["sample.pcap"]["connections"]
    ]
    assert sorted(rows, key=lambda r: r["orig_p"]) == sorted(expected, key=lambda r: r["orig_p"])


def test_connection_rows_do_not_repeat_certificate_ders(tmp_path: Path) -> None:
    main(["read", str(SAMPLE), "-o", str(tmp_path), "-q"])
    table = read_table(tmp_path, "connections")
    assert [t for t in table.schema.types if t == pa.list_(pa.binary())] == []
    fingerprints = set(read_table(tmp_path, "certificates").column("fingerprint").to_pylist())
    referenced = {fp for chain in table.column("cert_chain_fps").to_pylist() for fp in chain or []}
    assert referenced and referenced <= fingerprints


# --- fatal input errors: exit 1, one line ------------------------------------------------------------------


def test_not_a_capture_exits_one(tmp_path: Path, not_a_capture: Path) -> None:
    assert main(["read", str(not_a_capture), "-o", str(tmp_path / "out"), "-q"]) == 1


def test_not_a_capture_is_one_line_naming_file_and_reason(
    tmp_path: Path, not_a_capture: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["read", str(not_a_capture), "-o", str(tmp_path / "out"), "-q"])
    (line,) = stderr_lines(capsys)
    assert line.startswith(f"tlsmon: {not_a_capture}: not a capture file")


def test_bad_file_after_a_good_one_exits_one(tmp_path: Path, not_a_capture: Path) -> None:
    assert main(["read", str(TLS13), str(not_a_capture), "-o", str(tmp_path / "out"), "-q"]) == 1


def test_bad_file_after_a_good_one_keeps_the_good_rows(
    tmp_path: Path, not_a_capture: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["read", str(TLS13), str(not_a_capture), "-o", str(tmp_path), "-q"])
    rows = read_table(tmp_path, "connections").select(["orig_p", "server_name", "version"]).to_pylist()
    (line,) = stderr_lines(capsys)
    assert (rows, str(not_a_capture) in line) == (
        [{"orig_p": 40000, "server_name": "example.test", "version": "TLSv13"}],
        True,
    )


def test_missing_file_exits_one_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.pcap"
    status = main(["read", str(missing), "-o", str(tmp_path / "out"), "-q"])
    (line,) = stderr_lines(capsys)
    assert (status, line) == (1, f"tlsmon: {missing}: no such file")


def test_unsupported_link_type_exits_one_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "wifi.pcap"
    # One 802.11 data frame header (linktype 105): a link layer tlsmon does not decode.
    path.write_bytes(t.pcap_bytes([(1_700_000_000_000_000_000, bytes.fromhex("0802") + bytes(22))], linktype=105))
    status = main(["read", str(path), "-o", str(tmp_path / "out"), "-q"])
    (line,) = stderr_lines(capsys)
    assert (status, line.startswith(f"tlsmon: {path}: unsupported link type 105")) == (1, True)


def test_invalid_filter_is_a_usage_error_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["read", str(SAMPLE), "-o", str(tmp_path / "out"), "-q", "--filter", "tcp port"])
    (line,) = stderr_lines(capsys)
    assert (status, line) == (
        2,
        "tlsmon read: --filter: invalid BPF filter 'tcp port' for link type 1 (ETHERNET): "
        "can't parse filter expression: syntax error",
    )
    assert not (tmp_path / "out").exists()


def test_output_path_that_is_a_file_exits_one_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    taken = tmp_path / "taken"
    taken.write_text("a file, not a directory\n")
    status = main(["read", str(SAMPLE), "-o", str(taken), "-q"])
    (line,) = stderr_lines(capsys)
    assert (status, line.startswith("tlsmon: ") and str(taken) in line) == (1, True)


# --- damaged input: exit 3, a warning, the rows kept ------------------------------------------------------


def test_truncated_file_exits_three(tmp_path: Path) -> None:
    assert main(["read", str(TRUNCATED), "-o", str(tmp_path), "-q"]) == 3


def test_truncated_file_warns_in_one_line_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["read", str(TRUNCATED), "-o", str(tmp_path), "-q"])
    (line,) = stderr_lines(capsys)
    assert line.startswith(f"warning: {TRUNCATED}: truncated")


def test_truncated_file_keeps_the_complete_packets_rows(tmp_path: Path) -> None:
    main(["read", str(TRUNCATED), "-o", str(tmp_path), "-q"])
    rows = read_table(tmp_path, "connections").select(["orig_pkts", "resp_pkts", "version"]).to_pylist()
    (row,) = rows
    assert (row["orig_pkts"] + row["resp_pkts"], row["version"]) == (FILES["truncated.pcap"]["packets"], "TLSv13")


# --- usage ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["--help"], ["read", "--help"], ["schema", "--help"]], ids=" ".join)
def test_help_exits_zero_and_prints_usage(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert (exited.value.code, capsys.readouterr().out.startswith("usage: tlsmon")) == (0, True)


@pytest.mark.parametrize("argv", [[], ["read", str(SAMPLE)], ["frobnicate"]], ids=["nothing", "no-output", "unknown"])
def test_usage_error_exits_two_with_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    status = main(argv)
    (line,) = stderr_lines(capsys)
    assert (status, line.startswith("tlsmon"), line.endswith("(see tlsmon --help)")) == (2, True, True)


def test_a_read_on_a_terminal_shows_its_progress_bar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The bar is made while the native loop may still be reading ahead (tests/cli/test_progress.py).
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    status = main(["read", str(PCAPS / "sample.pcap"), "-o", str(tmp_path)])
    assert (status, pq.read_table(tmp_path / "connections").num_rows) == (0, 19)
