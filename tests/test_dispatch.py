"""The dispatcher: protocol by content, and the hand-over to TLS only when TLS is what follows."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.make_preamble_captures import RELAYED4, TCP4, V2_PROXY, inet_block, v1_header, v2_header
from fixtures.tlsgen import handshake
from tlsmon.dispatch import Dispatcher
from tlsmon.limits import DEFAULT_LIMITS, Limits

C, S = True, False


@pytest.fixture(scope="module")
def tls_bytes() -> list[tuple[bool, bytes]]:
    """A real TLS 1.2 handshake and a little application data, as (from client, bytes)."""
    return handshake(max_version="TLSv1.2", app_data=[(True, b"ping"), (False, b"pong")]).messages


def run(chunks: list[tuple[bool, bytes]], server_port: int, limits: Limits = DEFAULT_LIMITS) -> Dispatcher:
    dispatcher = Dispatcher(server_port, limits)
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


# --- preambles: a PROXY protocol header, unknown plaintext before a ClientHello ------------------------------

PROXY_V1 = v1_header("TCP4", RELAYED4)
JUNK = bytes.fromhex("deadbeef") * 8


def test_tls_behind_a_proxy_v1_header_starts_at_the_next_byte(tls_bytes: list[tuple[bool, bytes]]) -> None:
    d = run([(C, PROXY_V1), *tls_bytes], 443)
    assert (d.app_proto, d.tls_mode, d.anomalies) == ("tls", "implicit", [])
    assert d.preamble is not None and (d.preamble.proxy_src_addr, d.preamble.proxy_src_port) == ("203.0.113.7", 51234)
    assert d.tls is not None and d.tls.summary.established


def test_a_proxy_header_and_the_client_hello_in_one_segment_are_told_apart(
    tls_bytes: list[tuple[bool, bytes]],
) -> None:
    d = run([(C, PROXY_V1 + tls_bytes[0][1]), *tls_bytes[1:]], 443)
    assert (d.app_proto, d.anomalies) == ("tls", [])
    assert d.tls is not None and d.tls.summary.established


def test_a_proxy_header_sent_byte_by_byte_then_tls(tls_bytes: list[tuple[bool, bytes]]) -> None:
    header = v2_header(V2_PROXY, TCP4, inet_block(RELAYED4))
    d = run([*((C, header[i : i + 1]) for i in range(len(header))), *tls_bytes], 443)
    assert d.preamble is not None and d.preamble.proxy_version == 2
    assert d.tls is not None and d.tls.summary.established


def test_a_server_greeting_while_the_proxy_header_is_incomplete_still_makes_smtp(
    tls_bytes: list[tuple[bool, bytes]],
) -> None:
    d = run([(C, PROXY_V1[:10]), SMTP_UPGRADE[0], (C, PROXY_V1[10:]), *SMTP_UPGRADE[1:], *tls_bytes], 25)
    assert (d.app_proto, d.tls_mode, d.anomalies) == ("smtp", "starttls", [])
    assert d.preamble is not None and d.preamble.proxy_family == "TCP4"


def test_a_gap_inside_a_proxy_header_is_a_truncated_header() -> None:
    d = run([(C, PROXY_V1[:10])], 443)
    d.gap(C, 20)
    assert (d.anomalies, d.finished, d.tls) == (["proxy.truncated_header"], True, None)


def test_client_hello_after_junk_in_the_same_segment_is_found(tls_bytes: list[tuple[bool, bytes]]) -> None:
    d = run([(C, JUNK + tls_bytes[0][1]), *tls_bytes[1:]], 443)
    assert (d.app_proto, d.tls_mode, d.anomalies) == ("tls", "implicit", ["tls.preamble_skipped"])
    assert d.preamble is not None and (d.preamble.preamble_orig_bytes, d.preamble.preamble_resp_bytes) == (32, 0)
    assert d.tls is not None and d.tls.summary.established


def test_a_record_header_split_across_segments_is_found_once_whole(tls_bytes: list[tuple[bool, bytes]]) -> None:
    stream = JUNK + tls_bytes[0][1]
    d = run([(C, stream[:34]), (C, stream[34:38]), (C, stream[38:]), *tls_bytes[1:]], 443)
    assert d.anomalies == ["tls.preamble_skipped"]
    assert d.tls is not None and d.tls.summary.established


def test_the_server_answer_to_a_preamble_is_skipped_and_counted(tls_bytes: list[tuple[bool, bytes]]) -> None:
    d = run([(C, b"HELLO x\r\n"), (S, b"OK\r\n"), *tls_bytes], 7443)
    assert d.preamble is not None and (d.preamble.preamble_orig_bytes, d.preamble.preamble_resp_bytes) == (9, 4)
    assert d.tls is not None and d.tls.summary.established


def test_a_client_hello_starting_past_the_bound_is_not_searched_for(tls_bytes: list[tuple[bool, bytes]]) -> None:
    d = run([(C, JUNK), (C, tls_bytes[0][1])], 443, Limits(max_preamble_search=32))
    assert (d.app_proto, d.tls, d.finished, d.preamble) == (None, None, True, None)


def test_a_client_hello_starting_just_inside_the_bound_is_found(tls_bytes: list[tuple[bool, bytes]]) -> None:
    d = run([(C, JUNK), (C, tls_bytes[0][1])], 443, Limits(max_preamble_search=33))
    assert d.anomalies == ["tls.preamble_skipped"]


def test_a_record_header_whose_lengths_disagree_is_no_client_hello() -> None:
    # handshake length 0x50 + 4 is less than the record's 0x60: something would follow the ClientHello
    fake = b"\x16\x03\x01\x00\x60\x01\x00\x00\x50\x03\x03" + bytes(0x5B)
    d = run([(C, JUNK + fake)], 443, Limits(max_preamble_search=64))
    assert (d.tls, d.finished) == (None, True)


def test_a_server_greeting_a_probe_claims_wins_over_the_search() -> None:
    d = run([(C, JUNK), SMTP_UPGRADE[0]], 25)
    assert (d.app_proto, d.tls, d.anomalies) == ("smtp", None, [])


def test_a_plaintext_protocol_claims_its_bytes_before_any_search(tls_bytes: list[tuple[bool, bytes]]) -> None:
    d = run([*SMTP_UPGRADE, *tls_bytes], 25)
    assert d.anomalies == [] and d.preamble is None


@pytest.mark.parametrize("preamble", [PROXY_V1, v2_header(V2_PROXY, TCP4, inet_block(RELAYED4)), JUNK])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(0, 4000), max_size=8))
def test_any_segmentation_of_a_preamble_and_client_hello_gives_the_same_row(
    tls_bytes: list[tuple[bool, bytes]], preamble: bytes, cuts: list[int]
) -> None:
    client = preamble + tls_bytes[0][1]
    points = sorted({0, len(client), *(c % len(client) for c in cuts)})
    pieces = [(C, client[a:b]) for a, b in itertools.pairwise(points)]
    whole, split = run([(C, client), *tls_bytes[1:]], 443), run([*pieces, *tls_bytes[1:]], 443)
    assert (split.anomalies, split.preamble, split.app_proto) == (whole.anomalies, whole.preamble, whole.app_proto)
    assert split.tls is not None and whole.tls is not None
    assert split.tls.summary == whole.tls.summary and split.tls.summary.established
