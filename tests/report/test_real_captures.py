"""``tlsmon read`` over real STARTTLS captures, then ``tlsmon report``: the report's STARTTLS, version and
plaintext-authentication numbers equal what the captures' manifest says each connection is.

The captures (fixtures/pcaps/starttls/, made by fixtures/starttls/capture.py against real servers) are one
connection each, and MANIFEST.json records its protocol, whether STARTTLS was offered, sent and accepted, and
the TLS version; the expected tables are counted from that manifest, not from tlsmon's output.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.report.helpers import row, rows, run_report
from tlsmon.cli import main

STARTTLS = Path(__file__).resolve().parents[2] / "fixtures" / "pcaps" / "starttls"
MAIL_AND_CHAT = ("smtp", "submission", "lmtp", "imap", "pop3", "xmpp", "irc")


def _manifest() -> list[dict[str, Any]]:
    files: list[dict[str, Any]] = json.loads((STARTTLS / "MANIFEST.json").read_text(encoding="utf-8"))["files"]
    return [f for f in files if f["file"].split("-")[0] in MAIL_AND_CHAT]


def _protocol(entry: dict[str, Any]) -> str:
    e = entry["expected"]
    if e["app_proto"] == "smtp" and entry["server_port"] == 587:
        return "submission"
    if e["app_proto"] == "xmpp":
        return f"xmpp-{e['xmpp_stream_type']}"
    return str(e["app_proto"])


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    dataset = tmp_path_factory.mktemp("read")
    assert main(["read", "-q", *(str(STARTTLS / f["file"]) for f in _manifest()), "-o", str(dataset)]) == 0
    return run_report([dataset], tmp_path_factory.mktemp("report"), "--format", "json")


def test_starttls_table_matches_the_manifest(doc: dict[str, Any]) -> None:
    want: dict[str, Counter[str]] = {}
    for f in _manifest():
        e = f["expected"]
        c = want.setdefault(_protocol(f), Counter())
        c["connections"] += 1
        c["connections_offered"] += e["starttls_offered"] is True
        c["connections_command"] += e["starttls_command_seen"] is True
        c["connections_upgraded"] += e["tls_mode"] == "starttls"
        c["upgraded_where_offered"] += e["tls_mode"] == "starttls" and e["starttls_offered"] is True
    assert [r["protocol"] for r in rows(doc, "r2_starttls")] == [
        "smtp", "submission", "imap", "pop3", "xmpp-c2s", "xmpp-s2s", "irc"]
    for protocol, counts in want.items():
        got = row(doc, "r2_starttls", protocol=protocol)
        assert {k: got[k] for k in counts} == dict(counts), protocol
        assert got["upgraded_share_of_all"] == counts["connections_upgraded"] / counts["connections"]


def test_overall_versions_match_the_manifest(doc: dict[str, Any]) -> None:
    versions = Counter(f["tls"]["version"] for f in _manifest() if f["expected"]["tls_mode"] == "starttls")
    overall = row(doc, "r3_versions", port="all")
    assert overall["total"] == sum(versions.values())
    assert {"TLSv12": overall["tlsv12"], "TLSv13": overall["tlsv13"]} == {
        "TLSv12": versions["TLSv12"], "TLSv13": versions["TLSv13"]}


def test_plaintext_authentication_matches_the_manifest(doc: dict[str, Any]) -> None:
    want = Counter((_protocol(f), f["expected"]["plaintext_auth_command"]) for f in _manifest()
                   if f["expected"]["plaintext_auth_command"])
    got = Counter({(r["protocol"], r["command"]): r["connections"] for r in rows(doc, "r10_plaintext_auth")})
    assert got == want


def test_every_connection_is_counted_once(doc: dict[str, Any]) -> None:
    assert rows(doc, "r1_overview")[0]["connections"] == len(_manifest())


def test_a_batch_dataset_gives_the_same_report(doc: dict[str, Any], tmp_path: Path) -> None:
    dataset = tmp_path / "batch"
    files = [str(STARTTLS / f["file"]) for f in _manifest()]
    assert main(["batch", "-q", "--workers", "1", "--sensor", "lab", *files, "-o", str(dataset)]) == 0
    assert any((dataset / "connections" / "sensor=lab").rglob("*.parquet"))
    batch = run_report([dataset], tmp_path / "report", "--format", "json")
    assert batch["tables"] == doc["tables"]
