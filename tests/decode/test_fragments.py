"""IPv4 and IPv6 fragment reassembly: any order, first copy wins on overlap, timeouts and the memory cap."""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP, UDP, fragment
from scapy.layers.inet6 import IPv6ExtHdrFragment, fragment6
from scapy.packet import Raw

from tests.decode.packets import DST6_BYTES, ETH, PAYLOAD, SRC4_INT, SRC6_BYTES, ip4, ip6, tcp
from tlsmon.decode import Decoded, Decoder
from tlsmon.decode.fragments import DATAGRAM_COST, PIECE_COST
from tlsmon.decode.packet import FLAG_UDP

BIG = b"A" * 16 + b"B" * 16 + bytes(range(64))  # 96-byte payload: several 24-byte fragments
SEGMENT = bytes(ip4() / tcp(BIG))[20:]  # the TCP header and payload the fragments carry
SEGMENT6 = bytes(ip6() / tcp(BIG))[40:]  # the same with its IPv6 checksum
S = 1_000_000_000


def frag4(data: bytes, offset: int, more: bool, ident: int = 7, proto: int = 6) -> bytes:
    ip = ip4(id=ident, proto=proto, frag=offset // 8, flags="MF" if more else 0)
    return bytes(ETH / ip / Raw(data))


def frag6(data: bytes, offset: int, more: bool, ident: int = 7, nh: int = 6) -> bytes:
    return bytes(
        ETH / ip6() / IPv6ExtHdrFragment(nh=nh, offset=offset // 8, m=int(more), id=ident) / Raw(data)
    )


def fragments4() -> list[bytes]:
    return [bytes(ETH / f) for f in fragment(IP(src="192.0.2.1", dst="198.51.100.2", id=7) / tcp(BIG), 24)]


def fragments6() -> list[bytes]:
    pkt = ETH / ip6() / IPv6ExtHdrFragment(id=9) / tcp(BIG)
    return [bytes(f) for f in fragment6(pkt, 14 + 40 + 8 + 32)]


def feed(decoder: Decoder, frames: list[bytes], step_ns: int = 1000) -> list[Decoded | None]:
    return [decoder.decode(i * step_ns, 1, frame) for i, frame in enumerate(frames)]


@pytest.mark.parametrize("reverse", [False, True])
def test_ipv4_fragments_in_either_order_give_one_segment(reverse: bool) -> None:
    frames = fragments4()
    assert len(frames) == 5
    decoder = Decoder()
    results = feed(decoder, frames[::-1] if reverse else frames)
    assert results[:-1] == [None] * 4
    assert results[-1] == (4, SRC4_INT, 0xC6336402, 50123, 443, 0x18, 1000, 2000, SEGMENT, 20, 96, None)
    assert decoder.counters == {"ip.fragment_reassembled": 1}
    assert decoder.pending_fragments == 0


@pytest.mark.parametrize("reverse", [False, True])
def test_ipv6_fragments_in_either_order_give_one_segment(reverse: bool) -> None:
    frames = fragments6()
    assert len(frames) == 4
    decoder = Decoder()
    results = feed(decoder, frames[::-1] if reverse else frames)
    assert results[:-1] == [None] * 3
    last = results[-1]
    assert last is not None
    assert last[0] == 6
    assert last[3:] == (50123, 443, 0x18, 1000, 2000, SEGMENT6, 20, 96, None)
    assert decoder.counters == {"ip.fragment_reassembled": 1}


def test_overlapping_fragments_keep_the_first_copy() -> None:
    frames = [
        frag4(SEGMENT[:24], 0, True),
        frag4(b"X" * 16, 16, True),  # rewrites 16..24 (ignored) and fills 24..32 first
        frag4(SEGMENT[24:], 24, False),  # its 24..32 come too late
    ]
    decoder = Decoder()
    result = feed(decoder, frames)[-1]
    assert result is not None
    buf, poff, plen = result[8], result[9], result[10]
    assert buf[poff : poff + plen] == SEGMENT[20:24] + b"X" * 8 + SEGMENT[32:]
    assert decoder.counters == {"ip.fragment_overlap": 2, "ip.fragment_reassembled": 1}


def test_duplicate_fragment_counts_an_overlap_and_changes_nothing() -> None:
    first, *rest = fragments4()
    decoder = Decoder()
    result = feed(decoder, [first, first, *rest])[-1]
    assert result is not None and result[8] == SEGMENT
    assert decoder.counters == {"ip.fragment_overlap": 1, "ip.fragment_reassembled": 1}


def test_second_last_fragment_with_another_end_is_inconsistent_and_dropped() -> None:
    frames = [
        frag4(SEGMENT[48:], 48, False),
        frag4(SEGMENT[24:48], 24, False),  # claims the datagram ends at 48: dropped
        frag4(SEGMENT[:24], 0, True),
        frag4(SEGMENT[24:48], 24, True),
    ]
    decoder = Decoder()
    results = feed(decoder, frames)
    assert results[:3] == [None, None, None]
    assert results[3] is not None and results[3][8] == SEGMENT
    assert decoder.counters == {"ip.fragment_inconsistent": 1, "ip.fragment_reassembled": 1}


def test_interleaved_datagrams_are_kept_apart_by_id() -> None:
    a = [frag4(SEGMENT[:24], 0, True, ident=1), frag4(SEGMENT[24:], 24, False, ident=1)]
    b = [frag4(SEGMENT[:24], 0, True, ident=2), frag4(SEGMENT[24:], 24, False, ident=2)]
    decoder = Decoder()
    results = feed(decoder, [a[0], b[0], b[1], a[1]])
    assert [r is not None for r in results] == [False, False, True, True]
    assert decoder.counters == {"ip.fragment_reassembled": 2}


def test_fragments_older_than_the_timeout_expire() -> None:
    first, second, *_ = fragments4()
    decoder = Decoder(frag_timeout_ns=30 * S)
    assert decoder.decode(0, 1, first) is None
    assert decoder.decode(31 * S, 1, second) is None
    assert decoder.counters == {"ip.fragments_expired": 1}
    assert decoder.pending_fragments == 1  # the second fragment started a new datagram


def test_memory_cap_evicts_the_oldest_datagram() -> None:
    # two datagrams of one piece each are charged their bookkeeping, plus 100 bytes for payload
    decoder = Decoder(max_frag_bytes=2 * (DATAGRAM_COST + PIECE_COST) + 100)
    assert decoder.decode(0, 1, frag4(SEGMENT[:24], 0, True, ident=1)) is None
    assert decoder.decode(1, 1, frag4(SEGMENT[24:], 24, False, ident=2)) is None  # 24 + 92 bytes > 100
    assert decoder.counters == {"ip.fragments_evicted": 1}
    assert decoder.pending_fragments == 1
    result = decoder.decode(2, 1, frag4(SEGMENT[:24], 0, True, ident=2))
    assert result is not None and result[8] == SEGMENT
    assert decoder.pending_fragments == 0


def test_a_flood_of_empty_fragments_is_bounded_by_the_memory_cap() -> None:
    # Each empty fragment with its own id opens a datagram that holds no payload; the bookkeeping charge
    # makes the cap bound how many are held.
    decoder = Decoder(max_frag_bytes=100 * DATAGRAM_COST)
    for ident in range(1000):
        assert decoder.decode(ident, 1, frag4(b"", 0, True, ident=ident)) is None
    assert decoder.pending_fragments == 100
    assert decoder.counters == {"ip.fragments_evicted": 900}


def test_the_ipv6_protocol_is_the_one_the_first_byte_came_with() -> None:
    # An empty offset-0 fragment names no protocol, and a later copy of the first fragment changes neither
    # the bytes (first copy wins) nor the protocol they came with.
    data = bytes(tcp(PAYLOAD))
    frames = [
        frag6(b"", 0, True, nh=58),
        frag6(data[:24], 0, True, nh=6),
        frag6(bytes(UDP(sport=1, dport=2) / (b"u" * 16)), 0, True, nh=17),
        frag6(data[24:], 24, False, nh=17),
    ]
    decoder = Decoder()
    results = feed(decoder, frames)
    assert results[:3] == [None, None, None]
    assert results[3] is not None and results[3][:8] == (6, SRC6_BYTES, DST6_BYTES, 50123, 443, 0x18, 1000, 2000)
    assert decoder.counters == {"ip.fragment_overlap": 1, "ip.fragment_reassembled": 1}


def test_fragment_beyond_65535_bytes_is_dropped_with_its_datagram() -> None:
    decoder = Decoder()
    assert decoder.decode(0, 1, frag4(SEGMENT[:24], 0, True)) is None
    assert decoder.decode(1, 1, frag4(b"\x00" * 32, 65512, False)) is None
    assert decoder.counters == {"ip.fragment_too_large": 1}
    assert decoder.pending_fragments == 0


def test_non_tcp_ipv4_fragments_are_not_held() -> None:
    decoder = Decoder()
    assert decoder.decode(0, 1, frag4(bytes(UDP() / PAYLOAD)[:16], 0, True, proto=17)) is None
    assert decoder.counters == {"decode.not_tcp": 1}
    assert decoder.pending_fragments == 0


def test_fragment_cut_by_the_snaplen_is_dropped() -> None:
    decoder = Decoder()
    assert decoder.decode(0, 1, frag4(SEGMENT[:24], 0, True)[:-4]) is None
    assert decoder.counters == {"ip.fragment_truncated": 1}


def test_ipv6_atomic_fragment_is_decoded_directly() -> None:
    frame = frag6(bytes(tcp()), 0, False)
    result = Decoder().decode(0, 1, frame)
    assert result is not None
    assert result[8:11] == (frame, 14 + 40 + 8 + 20, len(PAYLOAD))


def test_a_reassembled_ipv6_udp_datagram_is_decoded_whole() -> None:
    data = bytes(UDP(sport=1, dport=2) / (b"u" * 40))
    decoder = Decoder()
    frames = [frag6(data[:24], 0, True, nh=17), frag6(data[24:], 24, False, nh=17)]
    first, last = feed(decoder, frames)
    assert first is None and last is not None
    assert (last[3], last[4], last[5], last[10]) == (1, 2, FLAG_UDP, 40)
    assert decoder.counters == {"ip.fragment_reassembled": 1}
