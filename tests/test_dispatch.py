"""The dispatcher: protocol by content, and the hand-over to TLS only when TLS is what follows."""

from __future__ import annotations

import pytest

from fixtures.tlsgen import handshake
from tlsmon.dispatch import Dispatcher

C, S = True, False


@pytest.fixture(scope="module")
def tls_bytes() -> list[tuple[bool, bytes]]:
    """A real TLS 1.2 handshake and a little application data, as (from client, bytes)."""
    return handshake(max_version="TLSv1.2", app_data=[(True, b"ping"), (False, b"pong")]).messages


def run(chunks: list[tuple[bool, bytes]], server_port: int) -> Dispatcher:
    dispatcher = Dispatcher(server_port)
    for is_orig, data in chunks:
        dispatcher.data(is_orig, data)
    return dispatcher


SMTP_UPGRADE = [
    (S, b"220 mx.example.org ESMTP\r\n"),
    (C, b"EHLO c\r\n"),
    (S, b"250-mx\r\n250 STARTTLS\r\n"),
    (C, b"STARTTLS\r\n"),
    (S, b"220 Ready\r\n"),
]
CONNECT = [(C, b"CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n"), (S, b"HTTP/1.1 200 OK\r\n\r\n")]


def test_tls_from_the_first_byte_is_implicit_tls(tls_bytes: list[tuple[bool, bytes]]) -> None:
    d = run(tls_bytes, 8443)
    assert (d.app_proto, d.tls_mode, d.tls is not None, d.anomalies) == ("tls", "implicit", True, [])
    assert d.tls is not None and d.tls.summary.established


def test_accepted_starttls_followed_by_tls_is_starttls(tls_bytes: list[tuple[bool, bytes]]) -> None:
    d = run(SMTP_UPGRADE + tls_bytes, 25)
    assert (d.app_proto, d.tls_mode, d.anomalies) == ("smtp", "starttls", [])
    assert d.tls is not None and d.tls.summary.version == "TLSv12"
    assert d.starttls is not None and d.starttls.starttls_result == "accepted"


def test_accepted_starttls_followed_by_plaintext_is_not_tls_and_is_named() -> None:
    d = run([*SMTP_UPGRADE, (C, b"MAIL FROM:<a@b.example>\r\n")], 25)
    assert (d.app_proto, d.tls_mode, d.tls, d.finished) == ("smtp", "none", None, True)
    assert d.anomalies == ["starttls.not_tls_after_upgrade"]


def test_connect_tunnel_carrying_tls_is_tls(tls_bytes: list[tuple[bool, bytes]]) -> None:
    d = run(CONNECT + tls_bytes, 3128)
    assert (d.app_proto, d.tls_mode, d.anomalies) == ("http-proxy", "starttls", [])
    assert d.tls is not None and d.tls.summary.established


def test_connect_tunnel_carrying_plain_http_is_not_tls_and_not_an_anomaly() -> None:
    d = run([*CONNECT, (C, b"GET / HTTP/1.1\r\nHost: example.org\r\n\r\n")], 3128)
    assert (d.app_proto, d.tls_mode, d.tls, d.anomalies, d.finished) == ("http-proxy", "none", None, [], True)


def test_tls_client_on_a_plaintext_smtp_port_keeps_its_client_hello(tls_bytes: list[tuple[bool, bytes]]) -> None:
    client_hello = tls_bytes[0]
    assert client_hello[0] is C
    d = run([(S, b"220 mx.example.org ESMTP\r\n"), client_hello], 465)
    assert (d.app_proto, d.tls_mode) == ("smtp", "implicit")
    assert d.anomalies == ["starttls.client_tls_without_upgrade"]
    assert d.tls is not None and d.tls.summary.client_version_code == 0x0303


HTTP_GET = (C, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")


def test_unrecognised_protocol_is_given_up_once_the_server_answered_a_kib() -> None:
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n" + b"x" * 1024
    d = run([HTTP_GET, (S, response[:1000])], 80)
    assert (d.app_proto, d.finished) == (None, False)
    d.data(S, response[1000:])
    assert (d.app_proto, d.tls_mode, d.finished, d.preamble) == (None, "none", True, None)


def test_unrecognised_protocol_is_given_up_past_the_client_search_bound() -> None:
    d = run([(C, b"SSH-2.0-OpenSSH_9.2p1\r\n" + bytes(range(256)) * 15)], 22)
    assert d.finished is False
    d.data(C, bytes(range(256)))
    assert (d.app_proto, d.tls_mode, d.finished, d.anomalies) == (None, "none", True, [])
