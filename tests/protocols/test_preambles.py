"""TLS after a preamble, on the captures of fixtures/make_preamble_captures.py: each row has, column by column,
the values its MANIFEST.json states (PROXY protocol headers, unknown plaintext before a ClientHello, GridFTP's
TLS handshake in ADAT commands)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tlsmon.capture import CaptureSource
from tlsmon.engine import Engine
from tlsmon.protocols.proxy import PREAMBLE_COLUMNS
from tlsmon.recorder import MemorySink
from tlsmon.records.tables import ConnectionRecord

PREAMBLES = Path(__file__).resolve().parents[2] / "fixtures" / "pcaps" / "preambles"
MANIFEST: dict[str, Any] = json.loads((PREAMBLES / "MANIFEST.json").read_text())
ENTRIES: dict[str, dict[str, Any]] = {entry["file"]: entry for entry in MANIFEST["files"]}
FILES = sorted(ENTRIES)
TLS_FILES = sorted(name for name, entry in ENTRIES.items() if entry["expected"]["tls"] is not None)
STARTTLS_FILES = sorted(name for name, entry in ENTRIES.items() if entry["expected"]["starttls"] is not None)


@cache
def record(name: str) -> ConnectionRecord:
    sink = MemorySink()
    engine = Engine(sink)
    engine.run(CaptureSource([PREAMBLES / name]))
    engine.close()
    (only,) = sink.records
    return only


def test_every_capture_on_disk_is_in_the_manifest() -> None:
    assert sorted(p.name for p in PREAMBLES.glob("*.pcap")) == FILES


@pytest.mark.parametrize("name", FILES)
def test_endpoints_are_the_manifests(name: str) -> None:
    entry, conn = ENTRIES[name], record(name).conn
    assert (conn.orig_h, conn.orig_p, conn.resp_h, conn.resp_p) == (
        entry["client_ip"],
        entry["client_port"],
        entry["server_ip"],
        entry["server_port"],
    )


@pytest.mark.parametrize("name", FILES)
def test_app_proto_and_tls_mode_are_the_manifests(name: str) -> None:
    expected, conn = ENTRIES[name]["expected"], record(name).conn
    assert (conn.app_proto, conn.tls_mode) == (expected["app_proto"], expected["tls_mode"])


@pytest.mark.parametrize("name", FILES)
def test_anomalies_are_the_manifests(name: str) -> None:
    assert record(name).conn.anomalies == ENTRIES[name]["expected"]["anomalies"]


@pytest.mark.parametrize("name", FILES)
def test_preamble_columns_are_the_manifests(name: str) -> None:
    preamble = record(name).preamble
    actual = None if preamble is None else {c: getattr(preamble, c) for c in PREAMBLE_COLUMNS.names()}
    assert actual == ENTRIES[name]["expected"]["preamble"]


@pytest.mark.parametrize("name", TLS_FILES)
def test_tls_columns_are_the_manifests(name: str) -> None:
    expected = ENTRIES[name]["expected"]["tls"]
    tls = record(name).tls
    assert tls is not None
    actual = {key: getattr(tls, key) for key in expected}
    actual["cert_chain_fps"] = list(actual["cert_chain_fps"] or [])
    actual["client_cert_chain_fps"] = list(actual["client_cert_chain_fps"] or [])
    assert actual == expected


@pytest.mark.parametrize("name", sorted(set(FILES) - set(TLS_FILES)))
def test_no_tls_where_the_manifest_has_none(name: str) -> None:
    assert record(name).tls is None


@pytest.mark.parametrize("name", STARTTLS_FILES)
def test_starttls_columns_are_the_manifests(name: str) -> None:
    expected = ENTRIES[name]["expected"]["starttls"]
    starttls = record(name).starttls
    assert starttls is not None
    assert {key: getattr(starttls, key) for key in expected} == expected
