"""IPv4 and IPv6 headers (options, extension header chains, lengths) and the TCP header."""

from __future__ import annotations

import struct

import pytest
from scapy.layers.inet import IPOption_NOP, IPOption_Router_Alert
from scapy.layers.inet6 import (
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
)
from scapy.layers.ipsec import AH

from tests.decode.packets import DST4_INT, ETH, PAYLOAD, SRC4_INT, expected4, expected6, ip4, ip6, tcp
from tlsmon.decode import Decoder, format_address
from tlsmon.decode import tcpflags as f
from tlsmon.decode.packet import FLAG_UDP


def test_fast_and_general_paths_agree_on_every_field() -> None:
    frame = bytes(ETH / ip4(tos=0x02, flags="DF") / tcp(flags="SEC", seq=0xFFFFFFFF, ack=0, window=1))
    flags = f.SYN | f.ECE | f.CWR
    expected = (4, SRC4_INT, DST4_INT, 50123, 443, flags, 0xFFFFFFFF, 0, frame, 54, len(PAYLOAD), None)
    decoder = Decoder()
    assert decoder.decode(0, 1, frame) == expected
    assert decoder._decode_link(0, 1, frame) == expected


def test_common_frames_never_leave_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def general_path(*_: object) -> None:
        raise AssertionError("took the general path")

    monkeypatch.setattr(Decoder, "_decode_link", general_path)
    decoder = Decoder()
    for frame in (
        bytes(ETH / ip4() / tcp()),
        bytes(ETH / ip4(tos=0xB8, flags="DF", ttl=1) / tcp(b"", flags="S")),
        bytes(ETH / ip4() / tcp(b"", flags="A")) + b"\x00" * 6,  # Ethernet padding
    ):
        assert decoder.decode(0, 1, frame) is not None


def test_tcp_flag_constants_match_the_header_bits() -> None:
    frame = bytes(ETH / ip4() / tcp(b"", flags="FSRPAUEC"))
    decoded = Decoder().decode(0, 1, frame)
    assert decoded is not None
    assert decoded[5] == f.FIN | f.SYN | f.RST | f.PSH | f.ACK | f.URG | f.ECE | f.CWR == 0xFF


def test_ipv4_options_move_the_tcp_header() -> None:
    frame = bytes(ETH / ip4(options=[IPOption_Router_Alert(), IPOption_NOP(), IPOption_NOP()]) / tcp())
    assert frame[14] == 0x47  # IHL 7
    assert Decoder().decode(0, 1, frame) == expected4(frame, 14 + 28 + 20)


def test_tcp_options_move_the_payload() -> None:
    frame = bytes(ETH / ip4() / tcp(options=[("MSS", 1460), ("SAckOK", b""), ("NOP", None), ("NOP", None)]))
    assert Decoder().decode(0, 1, frame) == expected4(frame, 14 + 20 + 28)


def test_ethernet_padding_is_not_payload() -> None:
    frame = bytes(ETH / ip4() / tcp(b"", flags="A")) + b"\x00" * 6  # padded to the 60-byte minimum
    decoded = Decoder().decode(0, 1, frame)
    assert decoded is not None
    assert (decoded[9], decoded[10]) == (54, 0)


def test_snaplen_cut_payload_is_the_captured_part_and_counted() -> None:
    frame = bytes(ETH / ip4() / tcp())[:-4]
    decoder = Decoder()
    assert decoder.decode(0, 1, frame) == expected4(frame, 54, PAYLOAD[:-4])
    assert decoder.counters == {"decode.snaplen_truncated": 1}


def test_zero_total_length_from_segmentation_offload_uses_the_capture() -> None:
    frame = bytearray(bytes(ETH / ip4() / tcp()))
    frame[16:18] = b"\x00\x00"
    decoder = Decoder()
    assert decoder.decode(0, 1, bytes(frame)) == expected4(bytes(frame), 54)
    assert decoder.counters == {"decode.ip_length_zero": 1}


@pytest.mark.parametrize(
    ("edit", "counter"),
    [
        ((14, 0x65), "decode.bad_ip_header"),  # version 6 in an IPv4 EtherType
        ((14, 0x44), "decode.bad_ip_header"),  # IHL 4
        ((14, 0x4F), "decode.bad_ip_header"),  # IHL 15: header longer than the 50-byte datagram
        ((46, 0x40), "decode.bad_tcp_header"),  # TCP data offset 4
        ((46, 0xF0), "decode.bad_tcp_header"),  # TCP header longer than the IP datagram
    ],
)
def test_malformed_headers_are_counted(edit: tuple[int, int], counter: str) -> None:
    frame = bytearray(bytes(ETH / ip4() / tcp()))
    frame[edit[0]] = edit[1]
    decoder = Decoder()
    assert decoder.decode(0, 1, bytes(frame)) is None
    assert decoder.counters == {counter: 1}


def test_total_length_shorter_than_the_header_is_bad() -> None:
    frame = bytearray(bytes(ETH / ip4() / tcp()))
    frame[16:18] = struct.pack("!H", 19)
    decoder = Decoder()
    assert decoder.decode(0, 1, bytes(frame)) is None
    assert decoder.counters == {"decode.bad_ip_header": 1}


def test_capture_ending_inside_ipv4_options() -> None:
    frame = bytearray(bytes(ETH / ip4() / tcp()))
    frame[14] = 0x4F
    frame[16:18] = struct.pack("!H", 100)
    decoder = Decoder()
    assert decoder.decode(0, 1, bytes(frame[: 14 + 40])) is None
    assert decoder.counters == {"decode.truncated_ip": 1}


def test_ip_datagram_too_short_for_a_tcp_header() -> None:
    frame = bytearray(bytes(ETH / ip4() / tcp()))
    frame[16:18] = struct.pack("!H", 30)
    decoder = Decoder()
    assert decoder.decode(0, 1, bytes(frame)) is None
    assert decoder.counters == {"decode.bad_tcp_header": 1}


@pytest.mark.parametrize(
    ("cut", "counter"), [(14 + 19, "decode.truncated_ip"), (14 + 30, "decode.truncated_tcp")]
)
def test_capture_ending_inside_headers(cut: int, counter: str) -> None:
    frame = bytes(ETH / ip4() / tcp())[:cut]
    decoder = Decoder()
    assert decoder.decode(0, 1, frame) is None
    assert decoder.counters == {counter: 1}


def test_ipv6_extension_header_chain_is_walked() -> None:
    chain = IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / IPv6ExtHdrRouting(addresses=["2001:db8::99"])
    frame = bytes(ETH / ip6() / chain / tcp())
    headers = 8 + 8 + (8 + 16)
    assert Decoder().decode(0, 1, frame) == expected6(frame, 14 + 40 + headers + 20)


def test_ipv6_authentication_header_is_skipped_by_its_length() -> None:
    ah = AH(nh=6, payloadlen=4, spi=0x100, seq=1, icv=b"\x00" * 12)  # (4 + 2) * 4 = 24 octets
    frame = bytes(ETH / ip6(nh=51) / ah / tcp())
    assert Decoder().decode(0, 1, frame) == expected6(frame, 14 + 40 + 24 + 20)


@pytest.mark.parametrize("next_header", [50, 59, 58])
def test_ipv6_esp_no_next_header_icmp_are_not_tcp(next_header: int) -> None:
    frame = bytes(ETH / ip6(nh=next_header) / (b"\x00" * 24))
    decoder = Decoder()
    assert decoder.decode(0, 1, frame) is None
    assert decoder.counters == {"decode.not_tcp": 1}


def test_ipv6_udp_is_a_udp_datagram() -> None:
    frame = bytes(ETH / ip6(nh=17) / (b"\x00" * 24))
    decoder = Decoder()
    d = decoder.decode(0, 1, frame)
    assert d is not None and (d[3], d[4], d[5], d[10]) == (0, 0, FLAG_UDP, 16)
    assert decoder.counters == {}


def test_ipv6_extension_header_beyond_the_payload_length_is_bad() -> None:
    frame = bytearray(bytes(ETH / ip6() / IPv6ExtHdrDestOpt() / tcp()))
    frame[14 + 41] = 200  # hdr ext len: 1608 octets, far beyond the datagram
    decoder = Decoder()
    assert decoder.decode(0, 1, bytes(frame)) is None
    assert decoder.counters == {"decode.bad_ip_header": 1}


def test_ipv6_capture_ending_inside_an_extension_header() -> None:
    frame = bytes(ETH / ip6() / IPv6ExtHdrHopByHop() / tcp())[: 14 + 40 + 1]
    decoder = Decoder()
    assert decoder.decode(0, 1, frame) is None
    assert decoder.counters == {"decode.truncated_ip": 1}


def test_ipv6_zero_payload_length_uses_the_capture() -> None:
    frame = bytearray(bytes(ETH / ip6() / tcp()))
    frame[18:20] = b"\x00\x00"
    decoder = Decoder()
    assert decoder.decode(0, 1, bytes(frame)) == expected6(bytes(frame), 74)
    assert decoder.counters == {"decode.ip_length_zero": 1}


def test_format_address() -> None:
    assert format_address(SRC4_INT) == "192.0.2.1"
    assert format_address(DST4_INT) == "198.51.100.2"
    assert format_address(bytes.fromhex("20010db8000000010000000000000002")) == "2001:db8:0:1::2"
    assert format_address(bytes.fromhex("00000000000000000000ffffc0000201")) == "::ffff:192.0.2.1"
