"""`tlsmon live` end to end: real TLS and STARTTLS connections across a veth pair, captured on one end.

Each test runs in two namespaces of its own (see lab.py); the monitor captures on the client side with a BPF
filter on the test ports, and each client reports what it negotiated, which its row must say.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from fixtures import tlsgen
from tests.live.lab import (
    SMTP_PORT,
    SNI,
    TLS_PORT,
    Lab,
    Monitor,
    read_table,
    visible_files,
    wait_until,
)

ZEEK_VERSION = {"TLSv1.2": "TLSv12", "TLSv1.3": "TLSv13"}


def rows_by_port(out: Path) -> dict[int, dict[str, object]]:
    table = read_table(out, "connections").select(
        ["orig_p", "resp_p", "version", "cipher", "cipher_code", "server_name", "cert_chain_fps", "tls_mode",
         "app_proto", "end_reason", "history"]
    )
    rows = table.to_pylist()
    assert len({r["orig_p"] for r in rows}) == len(rows), "a connection was written more than once"
    return {int(r["orig_p"]): r for r in rows}


def assert_row_matches(row: dict[str, object], client: dict[str, object], mode: str) -> None:
    assert row["resp_p"] == (TLS_PORT if mode == "tls" else SMTP_PORT)
    assert row["version"] == ZEEK_VERSION[str(client["version"])]
    assert row["cipher_code"] == client["cipher_code"]
    assert row["cipher"] == tlsgen.cipher_iana_name(int(str(client["cipher_code"])))
    assert row["server_name"] == SNI
    assert row["tls_mode"] == ("implicit" if mode == "tls" else "starttls")
    assert row["app_proto"] == ("tls" if mode == "tls" else "smtp")
    assert row["end_reason"] == "fin"
    if client["version"] == "TLSv1.2":  # TLS 1.3 encrypts the Certificate message
        assert row["cert_chain_fps"][0] == client["cert_sha256"]  # type: ignore[index]
    else:
        assert row["cert_chain_fps"] == []


def test_each_connection_is_one_row_with_its_version_cipher_sni_and_certificate(lab: Lab, tmp_path: Path) -> None:
    monitor = Monitor(lab, tmp_path / "out")
    clients = [
        ("tls", lab.connect(tmp_path, "tls", "1.3")),
        ("tls", lab.connect(tmp_path, "tls", "1.2")),
        ("smtp", lab.connect(tmp_path, "smtp", "1.3")),
        ("smtp", lab.connect(tmp_path, "smtp", "1.2")),
    ]
    time.sleep(0.5)  # the last packets reach the monitor within its 100 ms buffer timeout
    assert monitor.stop() == 0
    rows = rows_by_port(tmp_path / "out")
    assert sorted(rows) == sorted(int(str(c["orig_p"])) for _, c in clients)
    for mode, client in clients:
        assert_row_matches(rows[int(str(client["orig_p"]))], client, mode)


def test_certificates_table_holds_the_server_chain_once(lab: Lab, tmp_path: Path) -> None:
    monitor = Monitor(lab, tmp_path / "out")
    first = lab.connect(tmp_path, "tls", "1.2")
    lab.connect(tmp_path, "smtp", "1.2")
    time.sleep(0.5)
    assert monitor.stop() == 0
    certs = read_table(tmp_path / "out", "certificates").select(["fingerprint", "times_seen", "host_cert"])
    chain = tlsgen.server_chain(cn="example.test").sha256s
    assert sorted(certs.to_pylist(), key=lambda r: str(r["fingerprint"])) == sorted(
        [
            {"fingerprint": chain[0], "times_seen": 2, "host_cert": True},
            {"fingerprint": chain[1], "times_seen": 2, "host_cert": False},
        ],
        key=lambda r: str(r["fingerprint"]),
    )
    assert first["cert_sha256"] == chain[0]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl command not installed")
def test_openssl_s_client_connection_is_recorded(lab: Lab, tmp_path: Path) -> None:
    monitor = Monitor(lab, tmp_path / "out")
    lab.openssl_connect(tmp_path)
    time.sleep(0.5)
    assert monitor.stop() == 0
    rows = list(rows_by_port(tmp_path / "out").values())
    assert len(rows) == 1
    assert rows[0]["server_name"] == SNI
    assert rows[0]["resp_p"] == TLS_PORT
    assert rows[0]["version"] == "TLSv13"
    assert rows[0]["tls_mode"] == "implicit"


def test_sigterm_writes_open_connections_and_exits_zero_within_seconds(lab: Lab, tmp_path: Path) -> None:
    monitor = Monitor(lab, tmp_path / "out")
    client = lab.connect(tmp_path, "tls", "1.2")
    time.sleep(0.5)
    started = time.monotonic()
    assert monitor.stop(timeout=10) == 0
    assert time.monotonic() - started < 5
    assert "stopped after" in monitor.text()
    assert list(rows_by_port(tmp_path / "out")) == [client["orig_p"]]
    assert not (tmp_path / "out" / ".staging").exists()


def test_two_workers_write_each_connection_exactly_once(lab: Lab, tmp_path: Path) -> None:
    monitor = Monitor(lab, tmp_path / "out", "--workers", "2")
    clients = [lab.connect(tmp_path, "tls" if i % 2 else "smtp", "1.2") for i in range(10)]
    time.sleep(0.5)
    assert monitor.stop() == 0
    table = read_table(tmp_path / "out", "connections")
    ports = Counter(table.column("orig_p").to_pylist())
    assert ports == Counter(int(str(c["orig_p"])) for c in clients)
    # Both directions of each connection reached the same worker: SYN and SYN-ACK are in one row.
    assert all("S" in h and "h" in h for h in table.column("history").to_pylist())
    workers = sorted(set(read_table(tmp_path / "out", "stats").column("worker").to_pylist()))
    assert workers == [0, 1]
    names = [p.name for p in visible_files(tmp_path / "out", "stats")]
    assert any("-w0-" in n for n in names) and any("-w1-" in n for n in names)


def test_sighup_rotates_now(lab: Lab, tmp_path: Path) -> None:
    out = tmp_path / "out"
    monitor = Monitor(lab, out, "--rotate", "1h", "--stats-interval", "0.5")
    monitor.wait_for_log("worker 0 vmon:", 10)  # a stats row is pending in the current interval
    assert visible_files(out, "stats") == []
    monitor.signal(signal.SIGHUP)
    wait_until(lambda: len(visible_files(out, "stats")) == 1, 5, "a stats file after SIGHUP")
    assert "rotated 1 file(s)" in monitor.text()
    assert monitor.stop() == 0
    files = visible_files(out, "stats")
    assert len(files) == 2
    assert [f.name.rsplit("-", 1)[1] for f in files] == ["00000.parquet", "00001.parquet"]


def test_sigkill_leaves_only_complete_files_and_a_restart_recovers(lab: Lab, tmp_path: Path) -> None:
    out = tmp_path / "out"
    monitor = Monitor(lab, out, "--rotate", "1", "--stats-interval", "0.2")
    for i in range(6):
        lab.connect(tmp_path, "tls" if i % 2 else "smtp", "1.2")
        time.sleep(0.3)
    monitor.kill()
    visible = [p for table in ("connections", "certificates", "stats") for p in visible_files(out, table)]
    assert visible, "no file was rotated into place before the kill"
    for path in visible:
        table = pq.read_table(path)
        assert table.num_rows == pq.ParquetFile(path).metadata.num_rows > 0
    for table in ("connections", "stats"):
        if visible_files(out, table):
            read_table(out, table)  # the whole Hive dataset reads
            glob = str(out / table / "**" / "*.parquet")
            query = f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning = true)"
            counted = duckdb.execute(query).fetchall()
            assert counted[0][0] == sum(pq.ParquetFile(p).metadata.num_rows for p in visible_files(out, table))
    restarted = Monitor(lab, out, "--rotate", "1h")
    assert restarted.stop() == 0
    assert not (out / ".staging").exists()
    for table in ("connections", "stats"):
        for path in visible_files(out, table):
            pq.read_table(path)


def test_metrics_endpoint_answers_with_the_counters_of_every_worker(lab: Lab, tmp_path: Path) -> None:
    port = 19000 + lab.subnet
    monitor = Monitor(
        lab, tmp_path / "out", "--workers", "2", "--metrics-port", str(port), "--metrics-address", "127.0.0.1"
    )
    lab.connect(tmp_path, "tls", "1.2")
    lab.connect(tmp_path, "smtp", "1.3")
    url = f"http://127.0.0.1:{port}/metrics"

    def scrape() -> Counter[str]:
        """Each series summed over the worker label."""
        # The endpoint is inside the client namespace: fetch it from there.
        text = subprocess.run(
            ["ip", "netns", "exec", lab.client_ns, sys.executable, "-c",
             f"import urllib.request; print(urllib.request.urlopen({url!r}, timeout=5).read().decode())"],
            capture_output=True, timeout=20, check=True, text=True,
        ).stdout
        totals: Counter[str] = Counter()
        for line in text.splitlines():
            if line and not line.startswith("#"):
                series, _, value = line.rpartition(" ")
                series = re.sub(r',?worker="\d+"', "", series).replace("{}", "").replace("{,", "{")
                totals[series] += float(value)
        return totals

    # Records are written when the connections are swept after their 5 s linger (sweep every 10 s).
    wait_until(lambda: scrape()["tlsmon_connections_total"] == 2, 30, "2 connection records")
    values = scrape()
    assert monitor.stop() == 0
    assert values["tlsmon_packets_total"] > 0
    assert values["tlsmon_bytes_total"] > 0
    assert values["tlsmon_kernel_received_packets_total"] >= values["tlsmon_packets_total"]
    assert values["tlsmon_kernel_dropped_packets_total"] == 0
    assert values['tlsmon_tls_handshakes_total{version="TLSv12"}'] == 1
    assert values['tlsmon_tls_handshakes_total{version="TLSv13"}'] == 1
    assert values["tlsmon_active_connections"] == 0
    assert values["tlsmon_connections_with_gaps_total"] == 0
    assert "tlsmon_flush_seconds_count" in values


def test_interface_removed_writes_what_was_captured_and_exits_1(lab: Lab, tmp_path: Path) -> None:
    monitor = Monitor(lab, tmp_path / "out")
    client = lab.connect(tmp_path, "tls", "1.2")
    time.sleep(0.5)
    subprocess.run(["ip", "-n", lab.client_ns, "link", "del", "vmon"], check=True, timeout=10)
    assert monitor.proc.wait(timeout=10) == 1
    assert "capture failed" in monitor.text()
    assert list(rows_by_port(tmp_path / "out")) == [client["orig_p"]]


def test_stats_rows_carry_the_engine_figures(lab: Lab, tmp_path: Path) -> None:
    """Live rows hold the engine's counters (TCP packets, evictions, fragments …), not nulls."""
    monitor = Monitor(lab, tmp_path / "out")
    clients = [lab.connect(tmp_path, "tls", "1.2") for _ in range(3)]
    time.sleep(0.5)
    assert monitor.stop() == 0
    rows = read_table(tmp_path / "out", "stats").drop_columns(["ts"]).to_pylist()
    assert sum(int(r["tcp_packets"]) for r in rows) >= 3 * 6  # handshake, data and close of each client
    assert all(r["dead_letters"] == 0 and r["buffer_cap_flushes"] == 0 for r in rows)
    assert sum(int(r["connections"]) for r in rows) == len(clients)
