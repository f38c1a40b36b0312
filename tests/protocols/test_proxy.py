"""The PROXY protocol header reader (HAProxy's proxy-protocol.txt): what it records of version 1 and version 2
headers, the bytes it hands back, and the named anomalies of headers it cannot read."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures.make_preamble_captures import (
    PP2_TYPE_ALPN,
    PP2_TYPE_AUTHORITY,
    PP2_TYPE_AWS,
    RELAYED4,
    RELAYED6,
    TCP4,
    TCP6,
    UNIX_STREAM,
    UNSPEC,
    V2_LOCAL,
    V2_PROXY,
    V2_SIGNATURE,
    inet_block,
    ssl_tlv,
    tlv,
    unix_block,
    v1_header,
    v2_header,
)
from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.protocols.proxy import PreambleSummary, ProxyAnomaly, ProxyHeaderReader

AFTER = b"\x16\x03\x01\x02\x00\x01"  # the first bytes of the ClientHello that follows


def read(*chunks: bytes, limits: Limits = DEFAULT_LIMITS) -> tuple[ProxyHeaderReader, bytes | None]:
    reader = ProxyHeaderReader(limits)
    rest = None
    for chunk in chunks:
        rest = reader.feed(chunk)
    return reader, rest


def relayed(version: int, family: str, addresses: tuple[str, str, int, int]) -> PreambleSummary:
    src, dst, sport, dport = addresses
    return PreambleSummary(version, "PROXY", family, src, dst, sport, dport)


def test_v1_tcp4_line_gives_the_addresses_and_the_next_byte() -> None:
    reader, rest = read(v1_header("TCP4", RELAYED4) + AFTER)
    assert (reader.summary, reader.anomaly, rest) == (relayed(1, "TCP4", RELAYED4), None, AFTER)


def test_v1_tcp6_line_gives_the_ipv6_addresses() -> None:
    reader, rest = read(v1_header("TCP6", RELAYED6) + AFTER)
    assert (reader.summary, rest) == (relayed(1, "TCP6", RELAYED6), AFTER)


def test_v1_line_sent_byte_by_byte_is_undecided_until_its_crlf() -> None:
    line = v1_header("TCP4", RELAYED4)
    reader = ProxyHeaderReader()
    assert [reader.feed(line[i : i + 1]) for i in range(len(line) - 1)] == [None] * (len(line) - 1)
    assert reader.feed(line[-1:] + AFTER) == AFTER
    assert reader.summary == relayed(1, "TCP4", RELAYED4)


def test_v1_unknown_ignores_what_follows_the_word_up_to_the_crlf() -> None:
    reader, rest = read(b"PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n" + AFTER)
    assert (reader.summary, reader.anomaly, rest) == (PreambleSummary(1, "PROXY", "UNKNOWN"), None, AFTER)


@pytest.mark.parametrize(
    "line",
    [
        b"PROXY TCP4 203.0.113.300 192.0.2.1 51234 443\r\n",  # not an IPv4 address
        b"PROXY TCP4 2001:db8::7 192.0.2.1 51234 443\r\n",  # IPv6 under TCP4
        b"PROXY TCP4 203.0.113.7 192.0.2.1 65536 443\r\n",  # port out of range
        b"PROXY TCP4 203.0.113.7 192.0.2.1 051234 443\r\n",  # leading zero
        b"PROXY TCP4 203.0.113.7  192.0.2.1 51234 443\r\n",  # two spaces
        b"PROXY UDP4 203.0.113.7 192.0.2.1 51234 443\r\n",  # no such protocol in version 1
    ],
)
def test_malformed_v1_line_is_named_and_every_byte_goes_back(line: bytes) -> None:
    reader, rest = read(line + AFTER)
    assert (reader.anomaly, rest) == (ProxyAnomaly.MALFORMED_HEADER, line + AFTER)
    assert reader.summary == PreambleSummary(1, "PROXY")


def test_v1_without_crlf_in_107_bytes_is_too_long() -> None:
    line = b"PROXY TCP6 " + b"f" * 200
    reader, rest = read(line)
    assert (reader.anomaly, rest) == (ProxyAnomaly.HEADER_TOO_LONG, line)


def test_v2_tcp4_with_tlvs_names_the_types_present_not_their_values() -> None:
    tlvs = tlv(PP2_TYPE_ALPN, b"h2") + tlv(PP2_TYPE_AUTHORITY, b"a.example") + ssl_tlv("TLSv1.3", "cn")
    tlvs += tlv(PP2_TYPE_ALPN, b"h2") + tlv(PP2_TYPE_AWS, b"\x01vpce-1")
    reader, rest = read(v2_header(V2_PROXY, TCP4, inet_block(RELAYED4), tlvs) + AFTER)
    expected = relayed(2, "TCP4", RELAYED4)
    expected.proxy_tlvs = ["ALPN", "AUTHORITY", "SSL", "unknown-234"]
    assert (reader.summary, reader.anomaly, rest) == (expected, None, AFTER)


def test_v2_tcp6_gives_the_ipv6_addresses() -> None:
    reader, rest = read(v2_header(V2_PROXY, TCP6, inet_block(RELAYED6)) + AFTER)
    assert (reader.summary, rest) == (relayed(2, "TCP6", RELAYED6), AFTER)


def test_v2_unix_stream_gives_the_socket_paths_and_no_ports() -> None:
    reader, rest = read(v2_header(V2_PROXY, UNIX_STREAM, unix_block("/run/a.sock", "/run/b.sock")) + AFTER)
    expected = PreambleSummary(2, "PROXY", "UNIX_STREAM", "/run/a.sock", "/run/b.sock")
    assert (reader.summary, rest) == (expected, AFTER)


def test_v2_local_keeps_no_address_even_when_a_block_is_present() -> None:
    reader, rest = read(v2_header(V2_LOCAL, TCP4, inet_block(RELAYED4)) + AFTER)
    assert (reader.summary, reader.anomaly, rest) == (PreambleSummary(2, "LOCAL", "TCP4"), None, AFTER)


def test_v2_unspec_is_accepted_without_addresses() -> None:
    reader, rest = read(v2_header(V2_PROXY, UNSPEC, b"") + AFTER)
    assert (reader.summary, reader.anomaly, rest) == (PreambleSummary(2, "PROXY", "UNKNOWN"), None, AFTER)


def test_v2_header_split_across_chunks_waits_for_its_stated_length() -> None:
    header = v2_header(V2_PROXY, TCP4, inet_block(RELAYED4), tlv(PP2_TYPE_ALPN, b"h2"))
    reader = ProxyHeaderReader()
    assert (reader.feed(header[:5]), reader.feed(header[5:20]), reader.feed(header[20:-1])) == (None, None, None)
    assert reader.feed(header[-1:] + AFTER) == AFTER


@pytest.mark.parametrize(
    "header",
    [
        v2_header(0x11, TCP4, inet_block(RELAYED4)),  # version 1 in the binary form
        v2_header(0x22, TCP4, inet_block(RELAYED4)),  # command 2 is undefined
        v2_header(V2_PROXY, 0x13, inet_block(RELAYED4)),  # transport 3 is undefined
        v2_header(V2_PROXY, 0x41, inet_block(RELAYED4)),  # family 4 is undefined
        v2_header(V2_PROXY, TCP6, inet_block(RELAYED4)),  # 12 bytes where IPv6 needs 36
    ],
)
def test_malformed_v2_header_is_named_and_every_byte_goes_back(header: bytes) -> None:
    reader, rest = read(header + AFTER)
    assert (reader.anomaly, rest) == (ProxyAnomaly.MALFORMED_HEADER, header + AFTER)


def test_v2_tlv_running_past_the_header_is_named_and_the_header_still_skipped() -> None:
    header = v2_header(V2_PROXY, TCP4, inet_block(RELAYED4), tlv(PP2_TYPE_ALPN, b"h2") + b"\x02\x00\x40ab")
    reader, rest = read(header + AFTER)
    assert (reader.anomaly, rest) == (ProxyAnomaly.MALFORMED_TLV, AFTER)
    assert reader.summary is not None and reader.summary.proxy_tlvs == ["ALPN"]


def test_v2_longer_than_the_limit_is_refused_from_its_first_16_bytes() -> None:
    header = v2_header(V2_PROXY, TCP4, inet_block(RELAYED4), tlv(PP2_TYPE_AWS, bytes(100)))
    reader, rest = read(header[:16], limits=Limits(max_proxy_header=64))
    assert (reader.anomaly, rest) == (ProxyAnomaly.HEADER_TOO_LONG, header[:16])
    assert reader.summary == PreambleSummary(2, "PROXY", "TCP4")


def test_a_header_cut_by_the_end_of_the_stream_is_truncated() -> None:
    reader, rest = read(v2_header(V2_PROXY, TCP4, inet_block(RELAYED4))[:20])
    assert rest is None
    assert reader.cut() == v2_header(V2_PROXY, TCP4, inet_block(RELAYED4))[:20]
    assert reader.anomaly == ProxyAnomaly.TRUNCATED_HEADER


def test_bytes_that_only_began_like_a_header_are_handed_back_unnamed() -> None:
    reader, rest = read(b"PR")
    assert rest is None
    assert (reader.cut(), reader.anomaly, reader.summary) == (b"PR", None, None)


@pytest.mark.parametrize("first", [b"PASV\r\n", b"PROXZ", b"\r\n\r\n\x00\r\nQUIZ\n", b"\r\nHELLO"])
def test_bytes_that_are_no_header_are_handed_back_at_the_first_differing_byte(first: bytes) -> None:
    reader, rest = read(first)
    assert (rest, reader.summary, reader.anomaly) == (first, None, None)


def test_v2_local_discards_its_block_tlvs_included() -> None:
    header = v2_header(V2_LOCAL, UNSPEC, b"", tlv(PP2_TYPE_ALPN, b"h2") + b"\x02\x00")
    reader, rest = read(header + AFTER)
    assert (reader.summary, reader.anomaly, rest) == (PreambleSummary(2, "LOCAL", "UNKNOWN"), None, AFTER)


_HEADS = st.sampled_from([b"PROXY ", b"PROXY TCP4 ", b"PROXY UNKNOWN", V2_SIGNATURE, V2_SIGNATURE + b"\x21\x11\x00"])


@settings(max_examples=300, deadline=None)
@given(head=_HEADS, tail=st.binary(max_size=300), cuts=st.lists(st.integers(0, 400), max_size=6))
def test_any_bytes_in_any_segmentation_give_the_same_verdict_and_a_suffix_back(
    head: bytes, tail: bytes, cuts: list[int]
) -> None:
    data = head + tail
    whole = ProxyHeaderReader(Limits(max_proxy_header=128))
    expected = whole.feed(data)
    if expected is None:
        expected = whole.cut()
    pieces = [data[a:b] for a, b in itertools.pairwise(sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)}))]
    split = ProxyHeaderReader(Limits(max_proxy_header=128))
    out = None
    for index, piece in enumerate(pieces):
        out = split.feed(piece)
        if out is not None:  # the verdict: the dispatcher feeds nothing more to the reader
            out += b"".join(pieces[index + 1 :])
            break
    if out is None:
        out = split.cut()
    assert (out, split.summary, split.anomaly) == (expected, whole.summary, whole.anomaly)
    assert data.endswith(out)
