"""Variants of one connection must read like the base capture they were made from.

Link and file-format variants (IPv6, VLAN, QinQ, SLL, SLL2, NULL, RAW, pcapng, nanosecond, gzip, zstd) carry
the tls13-basic handshake; reassembly variants (segments swapped, retransmitted, overlapping, tiny, no SYN)
carry the tls12-ecdhe-rsa one. Same client configuration and same certificates give the same TLS summary,
field for field. gap.pcap and truncated.pcap lose bytes on purpose and are checked for what survives.
"""

from __future__ import annotations

import pytest

from tests.e2e.captures import FILES, LINK_VARIANTS, PCAPS, REASSEMBLY_VARIANTS, TLS12_BASE, TLS13_BASE, Case, run
from tlsmon.tls.summary import TlsSummary


def _only_tls(name: str) -> TlsSummary:
    ((_, tls),) = run(name).rows
    assert tls is not None
    return tls


def _files(variants: frozenset[str]) -> list[str]:
    return [name for name, entry in FILES.items() if entry["variant"] in variants]


def test_every_variant_is_present() -> None:
    present = {entry["variant"] for entry in FILES.values()}
    assert LINK_VARIANTS | REASSEMBLY_VARIANTS | {"gap", "truncated"} <= present


@pytest.mark.parametrize("name", _files(LINK_VARIANTS))
def test_link_and_format_variant_gives_the_base_tls_summary(name: str) -> None:
    assert _only_tls(name) == _only_tls(TLS13_BASE)


@pytest.mark.parametrize("name", _files(REASSEMBLY_VARIANTS))
def test_reassembly_variant_gives_the_base_tls_summary(name: str) -> None:
    assert _only_tls(name) == _only_tls(TLS12_BASE)


@pytest.mark.parametrize("name", _files(LINK_VARIANTS | REASSEMBLY_VARIANTS))
def test_variant_has_no_anomalies(name: str) -> None:
    ((conn, _),) = run(name).rows
    assert conn.anomalies == []


def test_midstream_connection_has_no_handshake_in_history() -> None:
    ((conn, _),) = run("midstream.pcap").rows
    # The client's pure ACK comes after the handshake was analysed; it still counts (A), as in Zeek.
    assert conn.history == "DdAFf"


# --- gap.pcap: one server segment inside the Certificate record never reached the capture -------------------

GAP = Case("gap.pcap", 0)


def test_gap_bytes_are_missed_on_the_server_side() -> None:
    conn = GAP.conn()
    gap = GAP.expected["gap_bytes"]
    assert (conn.orig_missed_bytes, conn.resp_missed_bytes, conn.missed_bytes) == (0, gap, gap)


def test_gap_server_payload_is_what_arrived() -> None:
    conn = GAP.conn()
    assert conn.resp_payload_bytes == GAP.expected["server_bytes"] - GAP.expected["gap_bytes"]


def test_gap_server_bytes_by_sequence_space_count_the_lost_segment() -> None:
    assert GAP.conn().resp_bytes == GAP.expected["server_bytes"]


def test_gap_is_a_named_anomaly() -> None:
    assert GAP.conn().anomalies == ["tls.gap_in_handshake"]


def test_gap_history_marks_the_responder_gap() -> None:
    assert GAP.conn().history == "ShADdFfg"


def test_gap_keeps_the_hellos_seen_before_it() -> None:
    tls, base = GAP.tls(), _only_tls(TLS12_BASE)
    hello_fields = (
        "version",
        "version_code",
        "cipher",
        "cipher_code",
        "server_name",
        "client_alpn",
        "client_ciphers",
        "client_extensions",
        "server_extensions",
        "ja3",
        "ja3s",
        "ja4",
        "ja4_r",
    )
    assert {f: getattr(tls, f) for f in hello_fields} == {f: getattr(base, f) for f in hello_fields}


# --- truncated.pcap: the file ends halfway through its 11th packet -----------------------------------------

TRUNCATED = Case("truncated.pcap", 0)


def test_truncated_file_warns_once_naming_the_file() -> None:
    (warning,) = run("truncated.pcap").warnings
    prefix = f"{PCAPS / 'truncated.pcap'}: "
    assert warning.startswith(prefix) and "truncated" in warning.removeprefix(prefix)


def test_truncated_file_keeps_the_complete_packets() -> None:
    conn = TRUNCATED.conn()
    wire = TRUNCATED.wire()
    assert (conn.orig_pkts, conn.resp_pkts, conn.orig_payload_bytes, conn.resp_payload_bytes) == (
        wire.client.packets,
        wire.server.packets,
        wire.client.payload_bytes,
        wire.server.payload_bytes,
    )


def test_truncated_connection_ends_at_end_of_input() -> None:
    assert TRUNCATED.conn().end_reason == "eof"


def test_truncated_connection_keeps_its_handshake() -> None:
    tls, base = TRUNCATED.tls(), _only_tls(TLS13_BASE)
    assert (tls.version, tls.cipher, tls.server_name, tls.client_alpn, tls.ja4, tls.established) == (
        base.version,
        base.cipher,
        base.server_name,
        base.client_alpn,
        base.ja4,
        True,
    )
