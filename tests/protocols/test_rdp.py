"""RDP: the X.224 Connection Confirm selecting a TLS-based security protocol starts TLS at the next byte."""

from __future__ import annotations

import pytest

from tests.protocols.captured import engine_records, payloads, requires_corpus
from tests.protocols.dialogue import CLIENT_HELLO, SERVER_HELLO, AnalyzerContract, C, S, feed
from tlsmon.protocols.events import (
    Anomaly,
    CapabilitiesOffered,
    StartTlsAccepted,
    StartTlsOffered,
    StartTlsRejected,
    StartTlsRequested,
)
from tlsmon.protocols.identification import identify
from tlsmon.protocols.rdp import RdpAnalyzer, probe, protocol_names
from tlsmon.protocols.registry import PROTOCOLS, Protocol


def confirm(kind: int, value: int) -> tuple[bool, bytes]:
    """A Connection Confirm carrying an RDP_NEG_RSP (kind 2) or RDP_NEG_FAILURE (kind 3), as Windows sends it."""
    return S, b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00" + bytes((kind, 0, 8, 0)) + value.to_bytes(4, "little")


def request(protocols: int) -> tuple[bool, bytes]:
    """A Connection Request without cookie carrying an RDP_NEG_REQ for ``protocols``."""
    return C, b"\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00" + protocols.to_bytes(4, "little")


# Zeek's rdp-to-ssl trace: cookie "mstshash=AWAKECODI", requestedProtocols SSL|HYBRID; HYBRID selected.
REQUEST_COOKIE = (
    C,
    b"\x03\x00\x00\x2f\x2a\xe0\x00\x00\x00\x00\x00Cookie: mstshash=AWAKECODI\r\n\x01\x00\x08\x00\x03\x00\x00\x00",
)
CONFIRM_HYBRID = (S, b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x01\x08\x00\x02\x00\x00\x00")
HYBRID = [REQUEST_COOKIE, CONFIRM_HYBRID, (C, CLIENT_HELLO), (S, SERVER_HELLO)]
# Zeek's rdp-no-cookie-mstshash trace: no cookie, SSL|HYBRID|HYBRID_EX requested, HYBRID_EX selected.
REQUEST_NO_COOKIE = (C, b"\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x0b\x00\x00\x00")
CONFIRM_HYBRID_EX = (S, b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x1f\x08\x00\x08\x00\x00\x00")
# MS-RDPBCGR 4.1.1 / 4.1.2: cookie "mstshash=eltons", standard RDP security requested and selected.
REQUEST_RDP = (
    C,
    b"\x03\x00\x00\x2c\x27\xe0\x00\x00\x00\x00\x00Cookie: mstshash=eltons\r\n\x01\x00\x08\x00\x00\x00\x00\x00",
)
CONFIRM_RDP = (S, b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x00\x08\x00\x00\x00\x00\x00")
# A client and server predating negotiation: nothing after the fixed X.224 part.
LEGACY_REQUEST = (C, b"\x03\x00\x00\x0b\x06\xe0\x00\x00\x00\x00\x00")
LEGACY_CONFIRM = (S, b"\x03\x00\x00\x0b\x06\xd0\x00\x00\x12\x34\x00")

TLS_REQUEST = [CapabilitiesOffered(("SSL", "HYBRID")), StartTlsOffered(), StartTlsRequested("RDP_NEG_REQ")]


class TestContract(AnalyzerContract):
    analyzer = RdpAnalyzer
    dialogues = (HYBRID, [REQUEST_NO_COOKIE, CONFIRM_HYBRID_EX, (C, CLIENT_HELLO)], [REQUEST_RDP, CONFIRM_RDP])


def test_confirm_selecting_hybrid_switches_at_the_next_byte_of_each_direction() -> None:
    out = feed(RdpAnalyzer, HYBRID)
    assert out.events == [*TLS_REQUEST, StartTlsAccepted("HYBRID")]
    assert (out.switched, out.trailing_client, out.trailing_server) == (True, CLIENT_HELLO, SERVER_HELLO)
    assert "AWAKECODI" not in repr(out.events)


def test_tls_bytes_in_the_same_segment_as_the_confirm_are_trailing() -> None:
    out = feed(RdpAnalyzer, [REQUEST_COOKIE, (S, CONFIRM_HYBRID[1] + SERVER_HELLO)])
    assert out.trailing_server == SERVER_HELLO


def test_request_without_cookie_selecting_hybrid_ex() -> None:
    out = feed(RdpAnalyzer, [REQUEST_NO_COOKIE, CONFIRM_HYBRID_EX, (C, CLIENT_HELLO)])
    assert out.events == [
        CapabilitiesOffered(("SSL", "HYBRID", "HYBRID_EX")),
        StartTlsOffered(),
        StartTlsRequested("RDP_NEG_REQ"),
        StartTlsAccepted("HYBRID_EX"),
    ]
    assert out.trailing_client == CLIENT_HELLO


@pytest.mark.parametrize(("selected", "name"), [(1, "SSL"), (4, "RDSTLS"), (0x10, "RDSAAD")])
def test_every_tls_based_protocol_switches(selected: int, name: str) -> None:
    out = feed(RdpAnalyzer, [request(0x1F), confirm(2, selected)])
    assert (out.events[-1], out.switched) == (StartTlsAccepted(name), True)


def test_standard_rdp_security_requested_and_selected_has_no_tls() -> None:
    out = feed(RdpAnalyzer, [REQUEST_RDP, CONFIRM_RDP])
    assert out.events == [CapabilitiesOffered(("RDP",))]
    assert (out.switched, out.done) == (False, True)


def test_server_selecting_standard_rdp_security_refuses_tls() -> None:
    out = feed(RdpAnalyzer, [REQUEST_COOKIE, CONFIRM_RDP])
    assert out.events == [*TLS_REQUEST, StartTlsRejected("RDP")]
    assert (out.switched, out.done) == (False, True)


def test_negotiation_failure_refuses_with_its_code_name() -> None:
    out = feed(RdpAnalyzer, [REQUEST_COOKIE, confirm(3, 2)])
    assert out.events == [*TLS_REQUEST, StartTlsRejected("SSL_NOT_ALLOWED_BY_SERVER")]
    assert out.done


def test_server_requiring_tls_from_a_client_that_did_not_ask_marks_it_required() -> None:
    out = feed(RdpAnalyzer, [REQUEST_RDP, confirm(3, 1)])
    assert out.events == [CapabilitiesOffered(("RDP",)), StartTlsOffered(required=True)]
    assert out.done


def test_confirm_without_negotiation_response_is_standard_rdp_security() -> None:
    out = feed(RdpAnalyzer, [REQUEST_COOKIE, LEGACY_CONFIRM])
    assert out.events == [*TLS_REQUEST, StartTlsRejected("RDP")]


def test_legacy_request_and_confirm_report_nothing_and_end_the_analysis() -> None:
    out = feed(RdpAnalyzer, [LEGACY_REQUEST, LEGACY_CONFIRM])
    assert (out.events, out.done) == ([], True)


def test_selected_protocol_that_was_not_requested_is_named() -> None:
    out = feed(RdpAnalyzer, [request(1), confirm(2, 2)])
    assert out.events[3:] == [Anomaly("rdp.unrequested_protocol"), StartTlsAccepted("HYBRID")]


def test_client_bytes_before_the_confirm_are_named_and_trailing() -> None:
    out = feed(RdpAnalyzer, [(C, REQUEST_NO_COOKIE[1] + CLIENT_HELLO), CONFIRM_HYBRID_EX])
    assert out.events[-1] == Anomaly("rdp.data_before_confirm")
    assert out.trailing_client == CLIENT_HELLO


def test_request_without_confirm_holds_the_client() -> None:
    out = feed(RdpAnalyzer, [REQUEST_COOKIE, (C, CLIENT_HELLO)])
    assert out.events == TLS_REQUEST
    assert (out.switched, out.done) == (False, False)


@pytest.mark.parametrize(
    ("chunks", "anomaly"),
    [
        ([(C, b"\x04\x00\x00\x13")], "rdp.bad_tpkt"),
        ([(C, b"\x03\x00\x00\x08")], "rdp.bad_tpkt"),
        ([(C, b"\x03\x00\x00\x0b\x06\xf0\x80\x00\x00\x00\x00")], "rdp.unexpected_tpdu"),  # data TPDU first
        ([REQUEST_COOKIE, (S, b"\x03\x00\x00\x0b\x06\x80\x00\x00\x12\x34\x00")], "rdp.unexpected_tpdu"),  # DR
        ([(C, b"\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x09\x00\x01\x00\x00\x00")],
         "rdp.malformed_negotiation"),
        ([REQUEST_COOKIE, confirm(1, 1)], "rdp.malformed_negotiation"),  # a request type in a confirm
        ([CONFIRM_RDP], "rdp.reply_without_request"),
    ],
)
def test_malformed_pdus_are_named_and_end_the_analysis(chunks: list[tuple[bool, bytes]], anomaly: str) -> None:
    out = feed(RdpAnalyzer, chunks)
    assert (out.events[-1], out.done) == (Anomaly(anomaly), True)


def test_gap_ends_the_analysis() -> None:
    analyzer = RdpAnalyzer()
    analyzer.feed(*REQUEST_COOKIE)
    assert analyzer.gap(False, 19) == [Anomaly("rdp.gap")]
    assert analyzer.done


@pytest.mark.parametrize(
    ("flags", "names"),
    [(0, ("RDP",)), (3, ("SSL", "HYBRID")), (0x1F, ("SSL", "HYBRID", "RDSTLS", "HYBRID_EX", "RDSAAD")),
     (0x21, ("SSL", "unknown-32"))],
)
def test_requested_protocol_names(flags: int, names: tuple[str, ...]) -> None:
    assert protocol_names(flags) == names


def test_registry_identifies_the_connection_request_on_any_port() -> None:
    found = identify(True, REQUEST_NO_COOKIE[1], 13389).protocol
    assert found is not None and found.name == "rdp"


# S7comm's ISO-on-TCP Connection Request: TPKT + X.224 CR with COTP parameters (TSAPs, TPDU size).
S7_REQUEST = bytes.fromhex("0300001611e00000000100c0010ac1020100c2020102")
OTHERS = [
    (True, CLIENT_HELLO),
    (False, SERVER_HELLO),
    (True, b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"),
    (True, b"CONNECT example.com:443 HTTP/1.1\r\n\r\n"),
    (False, b"220 mx.example.org ESMTP Postfix\r\n"),
    (True, b"EHLO client.example.net\r\n"),
    (True, b"\x05\x01\x00"),
    (True, bytes.fromhex("0000000804d2162f")),
]


@pytest.mark.parametrize(
    ("is_orig", "data", "port", "verdict"),
    [
        (True, REQUEST_COOKIE[1], 3389, True),
        (True, REQUEST_NO_COOKIE[1], 3389, True),
        (True, REQUEST_NO_COOKIE[1], 13389, True),  # content decides, any port
        (True, REQUEST_RDP[1], 3389, True),
        (True, LEGACY_REQUEST[1], 3389, True),
        (True, REQUEST_COOKIE[1][:15], 3389, None),  # inside "Cookie: "
        (True, REQUEST_NO_COOKIE[1][:12], 3389, None),
        (True, b"\x03\x00", 3389, None),
        (True, b"", 3389, None),
        (True, b"\x03\x00\x00\x1b\x16\xe0\x00\x00\x00\x00\x00tsv://MS Terminal\r\n", 3389, True),  # token: port
        (True, b"\x03\x00\x00\x1b\x16\xe0\x00\x00\x00\x00\x00tsv://MS Terminal\r\n", 102, False),
        (True, S7_REQUEST, 102, False),
        (True, S7_REQUEST, 3389, False),
        (True, b"\x03\x00\x00\x13\x0f\xe0", 3389, False),  # length indicator disagrees with the TPKT length
        (True, b"\x03\x00\x00\x13\x0e\xd0", 3389, False),  # a confirm from the client
        (True, b"\x03\x00\x00\x13\x0e\xe0\x00\x01", 3389, False),  # DST-REF not 0
        (False, CONFIRM_HYBRID[1], 3389, False),  # the server never speaks first
        *[(is_orig, data, 3389, False) for is_orig, data in OTHERS],
    ],
)
def test_probe_decides_by_structure(is_orig: bool, data: bytes, port: int, verdict: bool | None) -> None:
    assert probe(is_orig, data, port) is verdict


@pytest.mark.parametrize("proto", [p for p in PROTOCOLS if p.name != "rdp"], ids=lambda p: p.name)
@pytest.mark.parametrize("first", [REQUEST_COOKIE[1], REQUEST_NO_COOKIE[1], LEGACY_REQUEST[1]])
def test_no_other_probe_claims_a_connection_request(proto: Protocol, first: bytes) -> None:
    assert not proto.probe(True, first, 3389)


# -- the corpus: Zeek's RDP traces, against Zeek's rdp.log and ssl.log --------------------------------------------


@requires_corpus
def test_negotiation_from_the_corpus() -> None:
    chunks = payloads("zeek/Traces/rdp/rdp-to-ssl.pcap", 3389, 3)
    assert chunks[:2] == [REQUEST_COOKIE, CONFIRM_HYBRID]
    out = feed(RdpAnalyzer, chunks)
    assert out.events == [*TLS_REQUEST, StartTlsAccepted("HYBRID")]
    assert out.trailing_client == chunks[2][1]


@requires_corpus
def test_engine_rows_of_rdp_to_ssl_equal_zeeks_logs() -> None:
    records = sorted(engine_records("zeek/Traces/rdp/rdp-to-ssl.pcap"), key=lambda r: r.conn.orig_p)
    assert [r.conn.orig_p for r in records] == [49206, 49207]
    for record in records:
        assert (record.conn.app_proto, record.conn.tls_mode) == ("rdp", "starttls")
        st_ = record.starttls
        assert st_ is not None
        # rdp.log: security_protocol HYBRID
        assert (st_.starttls_offered, st_.starttls_command, st_.starttls_reply, st_.starttls_result) == (
            True,
            "RDP_NEG_REQ",
            "HYBRID",
            "accepted",
        )
        assert (st_.server_capabilities, st_.anomalies) == (["SSL", "HYBRID"], [])
        tls = record.tls
        assert tls is not None
        # ssl.log
        assert (tls.version, tls.cipher, tls.server_name, tls.resumed, tls.established, tls.ssl_history) == (
            "TLSv10",
            "TLS_RSA_WITH_AES_128_CBC_SHA",
            "192.168.1.150",
            False,
            True,
            "CsxnGIi",
        )
        assert tls.cert_chain_fps == ["a5b05d2ae076130aa41060f53ecd72bdf864ea0179250e927549c94d5ab2499a"]


@requires_corpus
def test_engine_row_of_rdp_without_cookie_equals_zeeks_logs() -> None:
    (record,) = engine_records("zeek/Traces/rdp/rdp-no-cookie-mstshash.pcap")
    assert (record.conn.app_proto, record.conn.tls_mode) == ("rdp", "starttls")
    st_ = record.starttls
    assert st_ is not None
    # rdp.log: security_protocol HYBRID_EX
    assert (st_.starttls_reply, st_.starttls_result, st_.server_capabilities) == (
        "HYBRID_EX",
        "accepted",
        ["SSL", "HYBRID", "HYBRID_EX"],
    )
    tls = record.tls
    assert tls is not None
    # ssl.log
    assert (tls.version, tls.cipher, tls.server_name, tls.established, tls.ssl_history) == (
        "TLSv12",
        "TLS_RSA_WITH_AES_256_GCM_SHA384",
        None,
        True,
        "CsxnGIi",
    )
    assert tls.cert_chain_fps == ["2f24fa5efe1c62447b32aa41af38c4176d03a62ca9c3c8d491946ed283b86cca"]


@requires_corpus
def test_engine_row_of_standard_rdp_security_has_no_tls() -> None:
    # rdp.log: security_protocol RDP, certificates in RDP's own Server Security Data; Zeek has no ssl.log.
    (record,) = engine_records("zeek/Traces/rdp/rdp-x509.pcap")
    assert (record.conn.app_proto, record.conn.tls_mode, record.tls) == ("rdp", "none", None)
    st_ = record.starttls
    assert st_ is not None
    assert (st_.starttls_offered, st_.starttls_command_seen, st_.starttls_result, st_.server_capabilities) == (
        False,
        False,
        None,
        ["RDP"],
    )
