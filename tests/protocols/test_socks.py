"""SOCKS 4/4a/5: a granted CONNECT opens the tunnel at the next byte; RFC 1929 login reported by method only."""

from __future__ import annotations

import pytest

from tests.protocols.captured import engine_records, payloads, requires_corpus
from tests.protocols.dialogue import CLIENT_HELLO, SERVER_HELLO, AnalyzerContract, C, S, feed
from tlsmon.protocols.events import (
    Anomaly,
    AuthMechanismsOffered,
    PlaintextAuth,
    StartTlsAccepted,
    StartTlsRejected,
    StartTlsRequested,
)
from tlsmon.protocols.identification import identify
from tlsmon.protocols.registry import PROTOCOLS, Protocol
from tlsmon.protocols.socks import SocksAnalyzer, probe

# Zeek's socks-with-ssl trace: SOCKS 5 without authentication, CONNECT www.google.com:443 by name.
GREETING = (C, b"\x05\x01\x00")  # VER 5, one method: 0 (no authentication)
NO_AUTH = (S, b"\x05\x00")
REQUEST_DOMAIN = (C, b"\x05\x01\x00\x03\x0ewww.google.com\x01\xbb")  # CONNECT, ATYP 3, port 443
SUCCEEDED_V4 = (S, b"\x05\x00\x00\x01\x00\x00\x00\x00\x01\xbb")  # REP 0, BND 0.0.0.0:443
SOCKS5 = [GREETING, NO_AUTH, REQUEST_DOMAIN, SUCCEEDED_V4, (C, CLIENT_HELLO), (S, SERVER_HELLO)]

# RFC 1929: methods 0 and 2 offered, 2 selected, user "user" password "s3cret", status 0; CONNECT 192.0.2.1:443.
GREETING_AUTH = (C, b"\x05\x02\x00\x02")
USERNAME_PASSWORD = (S, b"\x05\x02")
LOGIN = (C, b"\x01\x04user\x06s3cret")
LOGIN_OK = (S, b"\x01\x00")
REQUEST_V4 = (C, b"\x05\x01\x00\x01\xc0\x00\x02\x01\x01\xbb")
SUCCEEDED_V6 = (S, b"\x05\x00\x00\x04" + bytes(15) + b"\x01" + b"\x9c\x40")  # BND [::1]:40000
SOCKS5_LOGIN = [GREETING_AUTH, USERNAME_PASSWORD, LOGIN, LOGIN_OK, REQUEST_V4, SUCCEEDED_V6, (C, CLIENT_HELLO)]

# The JA4 repository's socks-https-example: SOCKS 4, CONNECT 93.184.216.119:443, empty USERID; granted (90).
REQUEST4 = (C, b"\x04\x01\x01\xbb\x5d\xb8\xd8\x77\x00")
GRANTED4 = (S, b"\x00\x5a\x99\xb4\x0a\xb4\x9c\xf9")
SOCKS4 = [REQUEST4, GRANTED4, (C, CLIENT_HELLO), (S, SERVER_HELLO)]
# SOCKS 4a: DSTIP 0.0.0.1, USERID "fred", host name "www.example.com".
REQUEST4A = (C, b"\x04\x01\x01\xbb\x00\x00\x00\x01fred\x00www.example.com\x00")
SOCKS4A = [REQUEST4A, GRANTED4, (C, CLIENT_HELLO)]

ACCEPTED = [StartTlsRequested("CONNECT"), StartTlsAccepted("0")]


class TestContract(AnalyzerContract):
    analyzer = SocksAnalyzer
    dialogues = (SOCKS5, SOCKS5_LOGIN, SOCKS4, SOCKS4A)


def test_socks5_connect_succeeded_switches_at_the_next_byte_of_each_direction() -> None:
    out = feed(SocksAnalyzer, SOCKS5)
    assert out.events == ACCEPTED
    assert (out.switched, out.trailing_client, out.trailing_server) == (True, CLIENT_HELLO, SERVER_HELLO)


def test_tls_bytes_in_the_same_segment_as_the_reply_are_trailing() -> None:
    out = feed(SocksAnalyzer, [GREETING, NO_AUTH, REQUEST_DOMAIN, (S, SUCCEEDED_V4[1] + SERVER_HELLO)])
    assert out.trailing_server == SERVER_HELLO


def test_username_password_login_is_reported_by_method_never_by_value() -> None:
    out = feed(SocksAnalyzer, SOCKS5_LOGIN)
    assert out.events == [
        AuthMechanismsOffered(("USERNAME/PASSWORD",)),
        PlaintextAuth("USERNAME/PASSWORD"),
        *ACCEPTED,
    ]
    assert (out.switched, out.trailing_client) == (True, CLIENT_HELLO)
    assert "s3cret" not in repr(out.events) and "user'" not in repr(out.events)


def test_failed_login_ends_the_session() -> None:
    out = feed(SocksAnalyzer, [GREETING_AUTH, USERNAME_PASSWORD, LOGIN, (S, b"\x01\x01")])
    assert out.events == [AuthMechanismsOffered(("USERNAME/PASSWORD",)), PlaintextAuth("USERNAME/PASSWORD")]
    assert (out.switched, out.done) == (False, True)


def test_no_acceptable_methods_ends_the_session() -> None:
    out = feed(SocksAnalyzer, [GREETING_AUTH, (S, b"\x05\xff")])
    assert (out.events, out.done) == ([], True)


def test_gssapi_is_offered_and_ends_the_analysis() -> None:
    # RFC 1961: what follows GSSAPI may be encapsulated, so it is not followed.
    out = feed(SocksAnalyzer, [(C, b"\x05\x02\x00\x01"), (S, b"\x05\x01")])
    assert (out.events, out.done) == ([AuthMechanismsOffered(("GSSAPI",))], True)


@pytest.mark.parametrize("rep", [1, 2, 5, 8])
def test_failure_reply_is_a_refusal_with_its_code(rep: int) -> None:
    out = feed(SocksAnalyzer, [GREETING, NO_AUTH, REQUEST_DOMAIN, (S, bytes((5, rep, 0, 1, 0, 0, 0, 0, 0, 0)))])
    assert out.events == [StartTlsRequested("CONNECT"), StartTlsRejected(str(rep))]
    assert (out.switched, out.done) == (False, True)


def test_socks4_connect_granted_switches() -> None:
    out = feed(SocksAnalyzer, SOCKS4)
    assert out.events == [StartTlsRequested("CONNECT"), StartTlsAccepted("90")]
    assert (out.switched, out.trailing_client, out.trailing_server) == (True, CLIENT_HELLO, SERVER_HELLO)


def test_socks4a_host_name_after_the_userid_is_skipped() -> None:
    out = feed(SocksAnalyzer, SOCKS4A)
    assert out.events == [StartTlsRequested("CONNECT"), StartTlsAccepted("90")]
    assert out.trailing_client == CLIENT_HELLO
    assert "fred" not in repr(out.events)


@pytest.mark.parametrize("code", [91, 92, 93])
def test_socks4_rejection_is_a_refusal(code: int) -> None:
    out = feed(SocksAnalyzer, [REQUEST4, (S, bytes((0, code)) + bytes(6))])
    assert out.events == [StartTlsRequested("CONNECT"), StartTlsRejected(str(code))]
    assert out.done


def test_bind_opens_the_tunnel_at_its_second_reply() -> None:
    bind = (C, b"\x05\x02\x00\x01\xc0\x00\x02\x01\x00\x15")  # BIND, expected peer 192.0.2.1:21
    listening = (S, b"\x05\x00\x00\x01\xc0\x00\x02\x02\x9c\x40")
    connected = (S, b"\x05\x00\x00\x01\xc0\x00\x02\x01\x00\x14")
    out = feed(SocksAnalyzer, [GREETING, NO_AUTH, bind, listening, connected, (S, SERVER_HELLO)])
    assert out.events == [StartTlsRequested("BIND"), StartTlsAccepted("0")]
    assert (out.switched, out.trailing_server) == (True, SERVER_HELLO)


def test_udp_associate_ends_the_analysis_without_an_upgrade_command() -> None:
    associate = (C, b"\x05\x03\x00\x01\x00\x00\x00\x00\x00\x00")
    out = feed(SocksAnalyzer, [GREETING, NO_AUTH, associate, SUCCEEDED_V4])
    assert (out.events, out.switched, out.done) == ([], False, True)


def test_optimistic_client_sending_everything_at_once_is_parsed_in_order() -> None:
    client = (C, GREETING[1] + REQUEST_DOMAIN[1])
    out = feed(SocksAnalyzer, [client, (S, NO_AUTH[1] + SUCCEEDED_V4[1]), (C, CLIENT_HELLO)])
    assert out.events == ACCEPTED
    assert out.trailing_client == CLIENT_HELLO


def test_tunnel_bytes_sent_before_the_reply_are_named_and_trailing() -> None:
    out = feed(SocksAnalyzer, [GREETING, NO_AUTH, (C, REQUEST_DOMAIN[1] + CLIENT_HELLO), SUCCEEDED_V4])
    assert out.events == [*ACCEPTED, Anomaly("socks.data_before_reply")]
    assert out.trailing_client == CLIENT_HELLO


def test_request_without_reply_holds_the_client() -> None:
    out = feed(SocksAnalyzer, [GREETING, NO_AUTH, REQUEST_DOMAIN, (C, CLIENT_HELLO)])
    assert out.events == [StartTlsRequested("CONNECT")]
    assert (out.switched, out.done) == (False, False)


def test_method_the_client_did_not_offer_is_named() -> None:
    out = feed(SocksAnalyzer, [GREETING, (S, b"\x05\x02")])
    assert out.events[0] == Anomaly("socks.method_not_offered")


@pytest.mark.parametrize(
    ("chunks", "anomaly"),
    [
        ([(C, b"\x06\x01\x00")], "socks.malformed_request"),
        ([(C, b"\x05\x00")], "socks.malformed_request"),  # no methods
        ([(C, b"\x04\x07\x01\xbb\x01\x02\x03\x04\x00")], "socks.malformed_request"),  # command 7
        ([(C, b"\x04\x01\x01\xbb\x01\x02\x03\x04us\x01er\x00")], "socks.malformed_request"),  # control octet
        ([(C, b"\x04\x01\x01\xbb\x01\x02\x03\x04" + b"u" * 300)], "socks.malformed_request"),  # USERID too long
        ([GREETING, NO_AUTH, (C, b"\x05\x09\x00\x01")], "socks.malformed_request"),  # command 9
        ([GREETING, (S, b"\x04\x00")], "socks.malformed_reply"),
        ([REQUEST4, (S, b"\x00\x10" + bytes(6))], "socks.malformed_reply"),  # no SOCKS 4 code
        ([GREETING, NO_AUTH, REQUEST_DOMAIN, (S, b"\x05\x0a\x00\x01")], "socks.malformed_reply"),  # REP 10
        ([GREETING, NO_AUTH, (C, b"\x05\x01\x00\x02\x00")], "socks.bad_address_type"),
        ([GREETING, NO_AUTH, REQUEST_DOMAIN, (S, b"\x05\x00\x00\x07")], "socks.bad_address_type"),
        ([(S, b"\x05\x00")], "socks.reply_without_request"),
    ],
)
def test_malformed_messages_are_named_and_end_the_analysis(chunks: list[tuple[bool, bytes]], anomaly: str) -> None:
    out = feed(SocksAnalyzer, chunks)
    assert (out.events[-1], out.done) == (Anomaly(anomaly), True)


def test_gap_ends_the_analysis() -> None:
    analyzer = SocksAnalyzer()
    analyzer.feed(*GREETING)
    assert analyzer.gap(False, 2) == [Anomaly("socks.gap")]
    assert analyzer.done


def test_registry_identifies_the_greeting_on_any_port() -> None:
    found = identify(True, GREETING[1], 9050).protocol
    assert found is not None and found.name == "socks"


OTHERS = [
    (True, CLIENT_HELLO),
    (False, SERVER_HELLO),
    (True, b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"),
    (True, b"CONNECT example.com:443 HTTP/1.1\r\n\r\n"),
    (False, b"220 mx.example.org ESMTP Postfix\r\n"),
    (True, b"EHLO client.example.net\r\n"),
    (True, bytes.fromhex("0000000804d2162f")),
    (True, bytes.fromhex("030000130ee000000000000100080003000000")),
]


@pytest.mark.parametrize(
    ("is_orig", "data", "port", "verdict"),
    [
        (True, GREETING[1], 1080, True),
        (True, GREETING[1], 9050, True),  # content decides, any port
        (True, GREETING_AUTH[1], 1080, True),
        (True, GREETING[1] + REQUEST_DOMAIN[1], 443, True),  # an optimistic client's greeting and request
        (True, GREETING[1] + b"\xaa", 1080, True),  # something else after it: only the port says SOCKS
        (True, GREETING[1] + b"\xaa", 443, False),
        (True, b"\x05", 1080, None),
        (True, b"\x05\x02\x00", 1080, None),
        (True, b"\x05\x00", 1080, False),  # no methods
        (True, b"\x05\x02\x00\x00", 1080, False),  # a method listed twice
        (True, b"\x05\x01\xff", 1080, False),  # 0xFF is the "no acceptable methods" answer, never offered
        (True, b"\x05\x01\x20", 1080, False),  # an unassigned method
        (True, REQUEST4[1], 1080, True),
        (True, REQUEST4[1], 8000, True),
        (True, REQUEST4A[1], 8000, True),
        (True, REQUEST4A[1][:20], 8000, None),  # inside the host name
        (True, b"\x04\x01\x01\xbb\x00\x00\x00\x01\x00\x00", 1080, False),  # SOCKS 4a with an empty host name
        (True, b"\x04\x01\x00\x00\x01\x02\x03\x04\x00", 1080, False),  # CONNECT to port 0
        (True, b"\x04\x03", 1080, False),  # no SOCKS 4 command 3
        (True, REQUEST4[1] + b"\x16", 8000, False),
        (False, NO_AUTH[1], 1080, False),  # the server never speaks first
        (True, b"", 1080, None),
        *[(is_orig, data, 1080, False) for is_orig, data in OTHERS],
    ],
)
def test_probe_decides_by_structure(is_orig: bool, data: bytes, port: int, verdict: bool | None) -> None:
    assert probe(is_orig, data, port) is verdict


@pytest.mark.parametrize("proto", [p for p in PROTOCOLS if p.name != "socks"], ids=lambda p: p.name)
@pytest.mark.parametrize("first", [GREETING[1], REQUEST4[1], REQUEST4A[1]])
def test_no_other_probe_claims_a_socks_request(proto: Protocol, first: bytes) -> None:
    assert not proto.probe(True, first, 1080)


# -- the corpus: Zeek's socks-with-ssl (SOCKS 5) and the JA4 repository's socks-https-example (4 and 5) ------


@requires_corpus
def test_socks5_dialogue_from_the_corpus() -> None:
    chunks = payloads("zeek/Traces/socks-with-ssl.pcap", 1080, 5)
    assert chunks[:4] == [GREETING, NO_AUTH, REQUEST_DOMAIN, SUCCEEDED_V4]
    out = feed(SocksAnalyzer, chunks)
    assert out.events == ACCEPTED
    assert out.trailing_client == chunks[4][1]


@requires_corpus
def test_engine_row_of_zeeks_socks5_capture() -> None:
    (record,) = engine_records("zeek/Traces/socks-with-ssl.pcap")
    assert (record.conn.resp_p, record.conn.app_proto, record.conn.tls_mode) == (1080, "socks", "starttls")
    st_ = record.starttls
    assert st_ is not None
    assert (st_.starttls_command_seen, st_.starttls_command, st_.starttls_reply, st_.starttls_result) == (
        True,
        "CONNECT",
        "0",
        "accepted",
    )
    assert (st_.auth_mechs_offered, st_.plaintext_auth_command, st_.anomalies) == ([], None, [])
    tls = record.tls
    assert tls is not None
    assert (tls.server_name, tls.version, tls.cipher, tls.established) == (
        "www.google.com",
        "TLSv10",
        "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
        True,
    )


@requires_corpus
def test_engine_rows_of_the_ja4_socks_capture() -> None:
    records = sorted(engine_records("ja4/pcap/socks-https-example.pcap"), key=lambda r: r.conn.orig_p)
    replies = []
    for record in records:
        assert (record.conn.app_proto, record.conn.tls_mode) == ("socks", "starttls")
        assert record.starttls is not None and record.tls is not None
        replies.append((record.conn.orig_p, record.starttls.starttls_command, record.starttls.starttls_reply))
        # FoxIO's goldens: the same client and server on all three tunnels.
        assert (record.tls.server_name, record.tls.ja4) == ("www.example.com", "t10d230100_6a57a6f57151_000000000000")
    assert replies == [(53554, "CONNECT", "90"), (53555, "CONNECT", "90"), (53556, "CONNECT", "0")]
