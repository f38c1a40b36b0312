"""Every fixture capture, connection by connection, against fixtures/pcaps/MANIFEST.json.

The manifest holds what OpenSSL (Python's ssl module) concluded for each handshake; tlsmon, reading only the
packets, must report the same under its own column names. Two things a passive monitor cannot see are
expected as absent: in TLS 1.3 the certificates (``certs_in_clear`` false) and the server's ALPN choice
(EncryptedExtensions, RFC 8446 §4.3.1) are encrypted. gap.pcap loses a segment inside the Certificate
message, so only what precedes the gap is compared here; test_variants.py covers the rest of it.
"""

from __future__ import annotations

import ssl

import pytest

from tests.e2e.captures import FILES, TLS13, VLANS, Case, cases, is_tls, run


def _complete(case: Case) -> bool:
    """A TLS connection whose handshake tlsmon saw whole."""
    return is_tls(case) and case.variant != "gap"


def _bytes_as_sent(case: Case) -> bool:
    """The TCP payload counters equal the manifest's stream sizes: no byte sent twice, lost or cut off."""
    return case.variant not in {"retrans", "overlap", "gap", "truncated"}


def _alert_name(description: int) -> str:
    return ssl.AlertDescription(description).name.removeprefix("ALERT_DESCRIPTION_").lower()


# --- files ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(FILES))
def test_one_row_per_manifest_connection(name: str) -> None:
    assert len(run(name).rows) == len(FILES[name]["connections"])


@pytest.mark.parametrize("name", [n for n, f in FILES.items() if not f["truncated_last_packet"]])
def test_complete_file_reads_without_warnings(name: str) -> None:
    assert run(name).warnings == []


@pytest.mark.parametrize("name", list(FILES))
def test_every_packet_is_counted(name: str) -> None:
    assert run(name).stats.packets == FILES[name]["packets"]


# --- the TCP connection -------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", cases())
def test_originator_is_the_client(case: Case) -> None:
    conn = case.conn()
    assert (conn.orig_h, conn.orig_p, conn.resp_h, conn.resp_p) == case.endpoints


@pytest.mark.parametrize("case", cases())
def test_packet_count(case: Case) -> None:
    conn = case.conn()
    assert conn.orig_pkts + conn.resp_pkts == case.expected["packets"]


@pytest.mark.parametrize("case", cases())
def test_packets_per_direction(case: Case) -> None:
    conn, wire = case.conn(), case.wire()
    assert (conn.orig_pkts, conn.resp_pkts) == (wire.client.packets, wire.server.packets)


@pytest.mark.parametrize("case", cases())
def test_payload_bytes_per_direction_as_on_the_wire(case: Case) -> None:
    conn, wire = case.conn(), case.wire()
    assert (conn.orig_payload_bytes, conn.resp_payload_bytes) == (wire.client.payload_bytes, wire.server.payload_bytes)


@pytest.mark.parametrize("case", cases(lambda c: is_tls(c) and _bytes_as_sent(c)))
def test_payload_bytes_equal_the_tls_streams(case: Case) -> None:
    conn = case.conn()
    assert (conn.orig_payload_bytes, conn.resp_payload_bytes) == (
        case.expected["client_bytes"],
        case.expected["server_bytes"],
    )


@pytest.mark.parametrize("case", cases(lambda c: is_tls(c) and c.variant != "truncated"))
def test_bytes_by_sequence_space_equal_the_tls_streams_whatever_was_resent_or_lost(case: Case) -> None:
    conn = case.conn()
    assert (conn.orig_bytes, conn.resp_bytes) == (case.expected["client_bytes"], case.expected["server_bytes"])


@pytest.mark.parametrize("case", cases(lambda c: c.variant != "gap"))
def test_no_missed_bytes(case: Case) -> None:
    conn = case.conn()
    assert (conn.orig_missed_bytes, conn.resp_missed_bytes, conn.missed_bytes) == (0, 0, 0)


@pytest.mark.parametrize("case", cases())
def test_ts_start_is_the_first_packet(case: Case) -> None:
    assert case.conn().ts_start == case.wire().first_ts_ns


@pytest.mark.parametrize("case", cases())
def test_ts_end_is_the_last_packet(case: Case) -> None:
    assert case.conn().ts_end == case.wire().last_ts_ns


@pytest.mark.parametrize("case", cases())
def test_ip_version(case: Case) -> None:
    assert case.conn().ip_version == (6 if ":" in case.expected["client_ip"] else 4)


@pytest.mark.parametrize("case", cases())
def test_vlan(case: Case) -> None:
    assert case.conn().vlan == VLANS.get(case.file)


@pytest.mark.parametrize("case", cases(is_tls))
def test_tls_is_detected_at_the_first_byte(case: Case) -> None:
    conn = case.conn()
    assert (conn.app_proto, conn.tls_mode) == ("tls", "implicit")


@pytest.mark.parametrize("case", cases(lambda c: not is_tls(c)))
def test_plaintext_connection_has_no_tls(case: Case) -> None:
    conn, tls = case.row()
    assert (conn.app_proto, conn.tls_mode, tls) == (None, "none", None)


@pytest.mark.parametrize("case", cases(_complete))
def test_no_anomalies(case: Case) -> None:
    assert case.conn().anomalies == []


# --- the TLS handshake --------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", cases(is_tls))
def test_version(case: Case) -> None:
    tls = case.tls()
    assert (tls.version, tls.version_code) == (case.expected["version"], case.expected["version_code"])


@pytest.mark.parametrize("case", cases(is_tls))
def test_cipher(case: Case) -> None:
    tls = case.tls()
    assert (tls.cipher, tls.cipher_code) == (case.expected["cipher"], case.expected["cipher_code"])


@pytest.mark.parametrize("case", cases(is_tls))
def test_server_name(case: Case) -> None:
    assert case.tls().server_name == case.expected["sni"]


@pytest.mark.parametrize("case", cases(is_tls))
def test_client_alpn(case: Case) -> None:
    assert case.tls().client_alpn == case.expected["client_alpn"]


@pytest.mark.parametrize("case", cases(_complete))
def test_server_alpn_visible_before_tls13(case: Case) -> None:
    visible = case.expected["version_code"] != TLS13
    assert case.tls().next_protocol == (case.expected["server_alpn"] if visible else None)


@pytest.mark.parametrize("case", cases(_complete))
def test_resumed(case: Case) -> None:
    assert case.tls().resumed is case.expected["resumed"]


@pytest.mark.parametrize("case", cases(is_tls))
def test_hello_retry_request(case: Case) -> None:
    assert case.tls().hrr is case.expected["hrr"]


@pytest.mark.parametrize("case", cases(_complete))
def test_established(case: Case) -> None:
    assert case.tls().established is case.expected["established"]


@pytest.mark.parametrize("case", cases(_complete))
def test_server_chain_only_when_in_clear(case: Case) -> None:
    expected = case.expected["server_cert_chain_sha256"] if case.expected["certs_in_clear"] else []
    assert case.tls().cert_chain_fps == expected


@pytest.mark.parametrize("case", cases(_complete))
def test_client_chain_only_when_in_clear(case: Case) -> None:
    expected = case.expected["client_cert_chain_sha256"] if case.expected["certs_in_clear"] else []
    assert case.tls().client_cert_chain_fps == expected


@pytest.mark.parametrize("case", cases(_complete))
def test_plaintext_alerts(case: Case) -> None:
    alert = case.expected["alert"]
    expected = (
        []
        if alert is None
        else [
            {
                "direction": "orig" if alert["from"] == "client" else "resp",
                "level": alert["level"],
                "description": alert["description"],
                "name": _alert_name(alert["description"]),
            }
        ]
    )
    assert case.tls().alerts == expected


@pytest.mark.parametrize("case", cases(_complete))
def test_last_alert(case: Case) -> None:
    alert = case.expected["alert"]
    assert case.tls().last_alert == (None if alert is None else _alert_name(alert["description"]))
