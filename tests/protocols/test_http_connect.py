"""HTTP CONNECT: a 2xx answer opens the tunnel at the next byte; a refusal's body is skipped and a second
CONNECT may follow; other methods are plain HTTP and not followed."""

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
from tlsmon.protocols.http_connect import HttpConnectAnalyzer, probe
from tlsmon.protocols.identification import identify
from tlsmon.protocols.registry import PROTOCOLS, Protocol

# Suricata-verify bug-2430: a CONNECT through a proxy on 8080 and its 200 answer, as captured.
CONNECT = (C, b"CONNECT qagpublic.qg1.apps.qualys.com:443 HTTP/1.1\r\nHost: qagpublic.qg1.apps.qualys.com:443\r\n\r\n")
ESTABLISHED = (S, b"HTTP/1.1 200 Connection established\r\n\r\n")
ACCEPTED = [CONNECT, ESTABLISHED, (C, CLIENT_HELLO), (S, SERVER_HELLO)]

# RFC 9110 §11.7.1 / §11.3: a 407 challenge, then the CONNECT again with credentials ("user:s3cret").
CHALLENGE = (
    S,
    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
    b'Proxy-Authenticate: Basic realm="proxy"\r\n'
    b"Proxy-Authenticate: NTLM\r\n"
    b"Content-Length: 19\r\n\r\n"
    b"HTTP/1.1 200 OK\r\n\r\n",  # a body that looks like a status line: it is skipped, not parsed
)
CONNECT_WITH_CREDENTIALS = (
    C,
    b"CONNECT server.example.com:443 HTTP/1.1\r\nHost: server.example.com:443\r\n"
    b"Proxy-Authorization: Basic dXNlcjpzM2NyZXQ=\r\n\r\n",
)
AUTHENTICATED = [
    CONNECT,
    CHALLENGE,
    CONNECT_WITH_CREDENTIALS,
    ESTABLISHED,
    (C, CLIENT_HELLO),
    (S, SERVER_HELLO),
]
AUTHENTICATED_EVENTS = [
    StartTlsRequested("CONNECT"),
    AuthMechanismsOffered(("BASIC",)),
    AuthMechanismsOffered(("NTLM",)),
    StartTlsRejected("407"),
    PlaintextAuth("Proxy-Authorization BASIC"),
    StartTlsRequested("CONNECT"),
    StartTlsAccepted("200"),
]
CHUNKED_REFUSAL = (
    S,
    b"HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"7;ext=1\r\nDenied.\r\n11\r\nHTTP/1.1 200 OK\r\n\r\n0\r\nX-Trailer: 1\r\n\r\n",
)
GET = (C, b"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n")


class TestContract(AnalyzerContract):
    analyzer = HttpConnectAnalyzer
    dialogues = (ACCEPTED, AUTHENTICATED, [CONNECT, CHUNKED_REFUSAL, CONNECT_WITH_CREDENTIALS, ESTABLISHED])


def test_2xx_answer_switches_at_the_next_byte_of_each_direction() -> None:
    out = feed(HttpConnectAnalyzer, ACCEPTED)
    assert out.events == [StartTlsRequested("CONNECT"), StartTlsAccepted("200")]
    assert (out.switched, out.trailing_client, out.trailing_server) == (True, CLIENT_HELLO, SERVER_HELLO)


def test_tls_bytes_in_the_same_segment_as_the_answer_are_trailing() -> None:
    out = feed(HttpConnectAnalyzer, [CONNECT, (S, ESTABLISHED[1] + SERVER_HELLO)])
    assert out.trailing_server == SERVER_HELLO


def test_content_length_of_a_2xx_answer_is_ignored() -> None:
    # RFC 9110 §9.3.6: a client MUST ignore Content-Length and Transfer-Encoding in a 2xx answer to CONNECT.
    answer = (S, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" + SERVER_HELLO)
    out = feed(HttpConnectAnalyzer, [CONNECT, answer])
    assert (out.switched, out.trailing_server) == (True, SERVER_HELLO)


def test_http_1_0_connect_and_status_are_read_alike() -> None:
    out = feed(HttpConnectAnalyzer, [(C, b"CONNECT a.example:443 HTTP/1.0\r\n\r\n"), (S, b"HTTP/1.0 200\r\n\r\n")])
    assert out.events == [StartTlsRequested("CONNECT"), StartTlsAccepted("200")]


def test_407_then_connect_with_credentials_reports_the_scheme_never_the_credentials() -> None:
    out = feed(HttpConnectAnalyzer, AUTHENTICATED)
    assert out.events == AUTHENTICATED_EVENTS
    assert (out.switched, out.trailing_client, out.trailing_server) == (True, CLIENT_HELLO, SERVER_HELLO)
    assert "dXNlcjpzM2NyZXQ" not in repr(out.events)


def test_chunked_refusal_body_is_skipped_up_to_its_trailers() -> None:
    out = feed(HttpConnectAnalyzer, [CONNECT, CHUNKED_REFUSAL, CONNECT_WITH_CREDENTIALS, ESTABLISHED])
    assert out.events[1:] == [
        StartTlsRejected("403"),
        PlaintextAuth("Proxy-Authorization BASIC"),
        StartTlsRequested("CONNECT"),
        StartTlsAccepted("200"),
    ]


def test_refusal_without_length_lasts_until_close_and_ends_the_analysis() -> None:
    out = feed(HttpConnectAnalyzer, [CONNECT, (S, b"HTTP/1.0 502 Bad Gateway\r\n\r\n<html>HTTP/1.1 200 OK\r\n")])
    assert out.events == [StartTlsRequested("CONNECT"), StartTlsRejected("502")]
    assert (out.switched, out.done) == (False, True)


def test_interim_1xx_response_is_not_the_answer() -> None:
    out = feed(HttpConnectAnalyzer, [CONNECT, (S, b"HTTP/1.1 100 Continue\r\n\r\n"), ESTABLISHED])
    assert out.events == [StartTlsRequested("CONNECT"), StartTlsAccepted("200")]


def test_other_methods_are_plain_http_and_not_followed() -> None:
    out = feed(HttpConnectAnalyzer, [GET, (S, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")])
    assert (out.events, out.done) == ([], True)


def test_a_get_after_a_refused_connect_ends_the_analysis() -> None:
    refusal = (S, b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
    out = feed(HttpConnectAnalyzer, [CONNECT, refusal, GET])
    assert out.events == [StartTlsRequested("CONNECT"), StartTlsRejected("403")]
    assert out.done


def test_tunnel_bytes_sent_before_the_answer_are_named_and_trailing() -> None:
    out = feed(HttpConnectAnalyzer, [(C, CONNECT[1] + CLIENT_HELLO), ESTABLISHED])
    assert out.events == [
        StartTlsRequested("CONNECT"),
        StartTlsAccepted("200"),
        Anomaly("http-proxy.data_before_reply"),
    ]
    assert out.trailing_client == CLIENT_HELLO


def test_connect_without_answer_holds_the_client() -> None:
    out = feed(HttpConnectAnalyzer, [CONNECT, (C, CLIENT_HELLO)])
    assert out.events == [StartTlsRequested("CONNECT")]
    assert (out.switched, out.done) == (False, False)


@pytest.mark.parametrize(
    ("chunks", "anomaly"),
    [
        ([(C, b"\x16\x03\x01 junk\r\n")], "http-proxy.malformed_request"),
        ([CONNECT, (S, b"SSH-2.0-OpenSSH_9.6\r\n")], "http-proxy.malformed_status"),
        (
            [(C, b"CONNECT a:1 HTTP/1.1\r\n"), (S, b"HTTP/1.1 400 Bad Request\r\n")],
            "http-proxy.response_without_request",
        ),
        (
            [CONNECT, (S, b"HTTP/1.1 407 x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n")],
            "http-proxy.bad_content_length",
        ),
        ([CONNECT, (S, b"HTTP/1.1 407 x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")], "http-proxy.malformed_chunk"),
    ],
)
def test_malformed_messages_are_named_and_end_the_analysis(chunks: list[tuple[bool, bytes]], anomaly: str) -> None:
    out = feed(HttpConnectAnalyzer, chunks)
    assert Anomaly(anomaly) in out.events
    assert (out.switched, out.done) == (False, True)


def test_header_line_without_a_name_is_named_and_skipped() -> None:
    out = feed(HttpConnectAnalyzer, [(C, b"CONNECT a:443 HTTP/1.1\r\nno colon here\r\n\r\n"), ESTABLISHED])
    assert out.events == [
        Anomaly("http-proxy.malformed_header"),
        StartTlsRequested("CONNECT"),
        StartTlsAccepted("200"),
    ]


def test_gap_while_waiting_for_the_answer_ends_the_analysis() -> None:
    analyzer = HttpConnectAnalyzer()
    analyzer.feed(*CONNECT)
    assert analyzer.gap(False, 100) == [Anomaly("http-proxy.gap")]
    assert analyzer.done


def test_gap_inside_a_skipped_refusal_body_keeps_the_framing() -> None:
    analyzer = HttpConnectAnalyzer()
    analyzer.feed(*CONNECT)
    analyzer.feed(False, b"HTTP/1.1 407 x\r\nContent-Length: 1000\r\n\r\n")
    assert analyzer.gap(False, 999) == [Anomaly("http-proxy.gap")]
    assert not analyzer.done
    analyzer.feed(False, b"x")  # the body's last octet
    analyzer.feed(*CONNECT_WITH_CREDENTIALS)
    assert analyzer.feed(*ESTABLISHED) == [StartTlsAccepted("200")]
    assert analyzer.switched


def test_registry_identifies_the_connect_request_on_any_port() -> None:
    found = identify(True, CONNECT[1], 8080).protocol
    assert found is not None and found.name == "http-proxy"


OTHERS = [
    (True, CLIENT_HELLO),
    (False, SERVER_HELLO),
    (True, GET[1]),
    (False, ESTABLISHED[1]),
    (False, b"220 mx.example.org ESMTP Postfix\r\n"),
    (True, b"EHLO client.example.net\r\n"),
    (True, b"\x05\x01\x00"),
    (True, bytes.fromhex("0000000804d2162f")),
    (True, bytes.fromhex("030000130ee000000000000100080003000000")),
]


@pytest.mark.parametrize(
    ("is_orig", "data", "port", "verdict"),
    [
        (True, CONNECT[1], 8080, True),
        (True, CONNECT[1], 443, True),  # content decides, any port
        (True, b"CONNECT [2001:db8::1]:443 HTTP/1.1\r\n", 3128, True),
        (True, b"CONN", 8080, None),
        (True, b"CONNECT example.com:443 HTT", 8080, None),
        (True, b"CONNECT example.com:443 HTTP/1.1\r", 8080, None),
        (True, b"CONNECT example.com:443 FTP/1.1", 8080, False),
        (True, b"CONNECT example.com:443 HTTP/2.0\r\n", 8080, False),  # HTTP/2 CONNECT is not a byte stream
        (True, b"connect example.com:443 HTTP/1.1\r\n", 8080, False),  # methods are case-sensitive
        (True, b"CONNECTION: close\r\n", 8080, False),
        *[(is_orig, data, 8080, False) for is_orig, data in OTHERS],
    ],
)
def test_probe_decides_by_content(is_orig: bool, data: bytes, port: int, verdict: bool | None) -> None:
    assert probe(is_orig, data, port) is verdict


@pytest.mark.parametrize("proto", [p for p in PROTOCOLS if p.name != "http-proxy"], ids=lambda p: p.name)
def test_no_other_probe_claims_a_connect_request(proto: Protocol) -> None:
    assert proto.probe(True, CONNECT[1], 8080) is False


# -- the corpus: CONNECT tunnels from the JA4, Suricata and Zeek traces --------------------------------------


@requires_corpus
def test_connect_dialogue_from_the_corpus() -> None:
    chunks = payloads("suricata-verify/tests/bug-2430/backwards.pcap", 8080, 3)
    assert chunks[:2] == [CONNECT, ESTABLISHED]
    out = feed(HttpConnectAnalyzer, chunks)
    assert out.events == [StartTlsRequested("CONNECT"), StartTlsAccepted("200")]
    assert out.trailing_client == chunks[2][1]


@requires_corpus
@pytest.mark.parametrize(
    ("rel", "port", "server_name", "version", "cipher"),
    [
        ("ja4/pcap/https-connect.pcap", 8080, None, "TLSv12", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
        (
            "suricata-verify/tests/bug-2430/backwards.pcap",
            8080,
            "qagpublic.qg1.apps.qualys.com",
            "TLSv12",
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        ),
        (
            "suricata-verify/tests/bug-2769/issue_no_icmp.pcap",
            8080,
            "supportingfunctions.us.newsweaver.com",
            "TLSv12",
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        ),
        (
            "zeek/Traces/http/connect-with-header.pcap",
            80,
            "secure.newegg.com",
            "TLSv12",
            "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
        ),
    ],
)
def test_engine_row_of_a_corpus_tunnel(
    rel: str, port: int, server_name: str | None, version: str, cipher: str
) -> None:
    (record,) = engine_records(rel)
    assert (record.conn.resp_p, record.conn.app_proto, record.conn.tls_mode) == (port, "http-proxy", "starttls")
    st_ = record.starttls
    assert st_ is not None
    assert (st_.starttls_command_seen, st_.starttls_command, st_.starttls_reply, st_.starttls_result) == (
        True,
        "CONNECT",
        "200",
        "accepted",
    )
    assert (st_.starttls_offered, st_.server_capabilities, st_.plaintext_auth_command, st_.anomalies) == (
        None,
        [],
        None,
        [],
    )
    tls = record.tls
    assert tls is not None
    assert (tls.server_name, tls.version, tls.cipher, tls.established) == (server_name, version, cipher, True)


@requires_corpus
def test_engine_row_of_the_ja4_connect_capture_has_the_rust_tools_ja4() -> None:
    (record,) = engine_records("ja4/pcap/https-connect.pcap")
    assert record.tls is not None
    assert record.tls.ja4 == "t12i860500_e18388e7f3a3_a1e935682795"
