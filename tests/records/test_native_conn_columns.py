"""The columns the native core computes for the rows it writes (native/src/records/conn.rs) are Python's, for
every address, port, time and sequence number: the addresses' text, the uid, the Community ID."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from tlsmon import _native
from tlsmon.decode.addresses import format_address
from tlsmon.decode.numbers import IPPROTO_TCP, IPPROTO_UDP
from tlsmon.records.conn import community_id, make_uid

ipv4 = st.integers(0, 2**32 - 1)
# IPv6 addresses with long zero runs, IPv4-mapped and -compatible forms, and quotes and backslashes in their
# bytes (Python's repr of them, which the uid hashes, changes its quoting).
ipv6_words = st.lists(
    st.one_of(st.just(0), st.just(0xFFFF), st.integers(0, 0xFFFF), st.sampled_from([0x2722, 0x5C27, 0x0A0D])),
    min_size=8,
    max_size=8,
)
ipv6 = ipv6_words.map(lambda words: b"".join(w.to_bytes(2, "big") for w in words))
ports = st.integers(0, 65535)


@given(st.one_of(ipv4, ipv6))
def test_address_text_is_format_addresss(address: int | bytes) -> None:
    assert _native.address_text(address) == format_address(address)


def test_address_text_of_ipv4_mapped_and_compatible_addresses() -> None:
    assert _native.address_text(bytes(10) + b"\xff\xff\xc0\x00\x02\x01") == "::ffff:192.0.2.1"
    assert _native.address_text(bytes(12) + b"\xc0\x00\x02\x01") == "::192.0.2.1"
    assert _native.address_text(bytes(15) + b"\x01") == "::1"


@given(
    st.integers(1, 2**63 - 1),
    st.integers(-(2**63), 2**63 - 1),
    st.one_of(st.tuples(ipv4, ipv4), st.tuples(ipv6, ipv6)),
    ports,
    ports,
)
def test_uid_is_make_uids(
    sequence: int, start_ts: int, addresses: tuple[int, int] | tuple[bytes, bytes], orig_p: int, resp_p: int
) -> None:
    orig_h, resp_h = addresses
    facts = SimpleNamespace(start_ts=start_ts, orig_h=orig_h, orig_p=orig_p, resp_h=resp_h, resp_p=resp_p)
    expected = make_uid(sequence, facts)
    assert _native.conn_uid(sequence, start_ts, orig_h, orig_p, resp_h, resp_p) == expected


@given(
    st.one_of(st.tuples(ipv4, ipv4), st.tuples(ipv6, ipv6)),
    ports,
    ports,
    st.sampled_from([IPPROTO_TCP, IPPROTO_UDP]),
)
def test_community_id_is_pythons(
    addresses: tuple[int, int] | tuple[bytes, bytes], orig_p: int, resp_p: int, proto: int
) -> None:
    orig_h, resp_h = addresses
    expected = community_id(orig_h, orig_p, resp_h, resp_p, proto=proto)
    assert _native.community_id(orig_h, orig_p, resp_h, resp_p, proto) == expected


def test_community_id_orders_equal_addresses_by_port() -> None:
    one = _native.community_id(0x0A000001, 443, 0x0A000001, 52000, IPPROTO_TCP)
    assert one == _native.community_id(0x0A000001, 52000, 0x0A000001, 443, IPPROTO_TCP)
    assert one == community_id(0x0A000001, 443, 0x0A000001, 52000)
