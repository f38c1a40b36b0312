"""Real STARTTLS sessions captured on loopback give, column by column, the values their MANIFEST.json states.

The captures in fixtures/pcaps/starttls are made by ``fixtures.starttls.capture``: openssl s_client or a
scripted client against Postfix, Dovecot, Prosody, slapd, vsftpd, PostgreSQL or a scripted server (the
manifest says which). Each holds one TCP connection; each is run once through ``Engine(MemorySink())`` and
every expected column of the manifest is one test, so a failure names the capture and the column.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from _pytest.mark.structures import ParameterSet

from tlsmon.capture import CaptureSource
from tlsmon.engine import Engine
from tlsmon.recorder import MemorySink
from tlsmon.records.tables import ConnectionRecord

STARTTLS_PCAPS = Path(__file__).resolve().parents[2] / "fixtures" / "pcaps" / "starttls"
MANIFEST: dict[str, Any] = json.loads((STARTTLS_PCAPS / "MANIFEST.json").read_text())
ENTRIES: dict[str, dict[str, Any]] = {entry["file"]: entry for entry in MANIFEST["files"]}

CONN_COLUMNS = ("app_proto", "tls_mode")
STARTTLS_COLUMNS = (
    "starttls_offered",
    "starttls_required",
    "starttls_command_seen",
    "starttls_command",
    "starttls_reply",
    "starttls_result",
    "server_capabilities",
    "auth_mechs_offered",
    "plaintext_auth_command",
    "xmpp_stream_type",
    "imap_logindisabled",
    "pop3_apop",
)
TLS_COLUMNS = ("version", "cipher", "server_name", "established", "cert_chain_fps")


@cache
def record(name: str) -> ConnectionRecord:
    """The one row tlsmon writes for the capture (which holds exactly one TCP connection)."""
    sink = MemorySink()
    engine = Engine(sink)
    engine.run(CaptureSource([STARTTLS_PCAPS / name]))
    engine.close()
    assert len(sink.records) == 1, f"{name}: {len(sink.records)} rows"
    return sink.records[0]


def _params(columns: tuple[str, ...], *, tls: bool | None = None) -> list[ParameterSet]:
    out = []
    for name, entry in ENTRIES.items():
        if tls is not None and (entry["tls"] is not None) != tls:
            continue
        for column in columns:
            out.append(pytest.param(name, column, id=f"{name.removesuffix('.pcap')}:{column}"))
    return out


def test_manifest_lists_every_capture() -> None:
    assert sorted(ENTRIES) == sorted(p.name for p in STARTTLS_PCAPS.glob("*.pcap"))


@pytest.mark.parametrize("name", list(ENTRIES))
def test_endpoints(name: str) -> None:
    entry = ENTRIES[name]
    conn = record(name).conn
    assert (conn.orig_h, conn.orig_p, conn.resp_h, conn.resp_p) == (
        entry["client_ip"],
        entry["client_port"],
        entry["server_ip"],
        entry["server_port"],
    )


@pytest.mark.parametrize(("name", "column"), _params(CONN_COLUMNS))
def test_conn_column(name: str, column: str) -> None:
    assert getattr(record(name).conn, column) == ENTRIES[name]["expected"][column]


@pytest.mark.parametrize(("name", "column"), _params(STARTTLS_COLUMNS))
def test_starttls_column(name: str, column: str) -> None:
    starttls = record(name).starttls
    assert starttls is not None, f"{name}: no STARTTLS part (app_proto {record(name).conn.app_proto!r})"
    assert getattr(starttls, column) == ENTRIES[name]["expected"][column]


@pytest.mark.parametrize(("name", "column"), _params(TLS_COLUMNS, tls=True))
def test_tls_column(name: str, column: str) -> None:
    tls = record(name).tls
    assert tls is not None, f"{name}: no TLS part after the upgrade"
    assert getattr(tls, column) == ENTRIES[name]["tls"][column]


@pytest.mark.parametrize("name", [n for n, e in ENTRIES.items() if e["tls"] is None])
def test_no_tls_without_an_accepted_upgrade(name: str) -> None:
    assert record(name).tls is None
