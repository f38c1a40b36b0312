"""Tunnels are opened and the inner TCP segment returned: Geneve, VXLAN, GTP-U, IP-in-IP, GRE (with ERSPAN and
PPTP); other traffic on the tunnels' UDP ports is left alone; depth, truncation and bad headers are counted."""

from __future__ import annotations

import struct

import pytest
from scapy.contrib.erspan import ERSPAN_II, ERSPAN_III, ERSPAN_PlatformSpecific
from scapy.contrib.geneve import GENEVE, GeneveOptions
from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import GRE, Dot1Q, Ether
from scapy.layers.vxlan import VXLAN
from scapy.packet import Packet, Raw

from tests.decode.packets import ETH, PAYLOAD, expected4, expected6, ip4, ip6, tcp
from tlsmon.decode import Decoder
from tlsmon.decode.packet import FLAG_UDP

OUTER4 = IP(src="203.0.113.1", dst="203.0.113.2")
OUTER6 = IPv6(src="2001:db8:ffff::1", dst="2001:db8:ffff::2")
INNER_ETH = Ether(src="02:00:00:00:01:01", dst="02:00:00:00:01:02")
SEGMENT4 = ip4() / tcp()
ETH4, IP4, IP6, UDP8, TCP20 = 14, 20, 40, 8, 20


def decode(frame: bytes) -> tuple[tuple[object, ...] | None, dict[str, int]]:
    decoder = Decoder()
    return decoder.decode(0, 1, frame), dict(decoder.counters)


def is_plain_udp(frame: bytes) -> bool:
    """The frame decodes to a UDP datagram of its own (no tunnel opened), nothing counted."""
    d, counters = decode(frame)
    return d is not None and d[5] == FLAG_UDP and counters == {}


def udp(dport: int, sport: int = 40000) -> Packet:
    return UDP(sport=sport, dport=dport)


def gre_frame(gre_header: bytes, inner: bytes) -> bytes:
    return bytes(ETH / IP(src="203.0.113.1", dst="203.0.113.2", proto=47) / Raw(gre_header + inner))


# -- Geneve (RFC 8926) -----------------------------------------------------------------------------------
def test_geneve_with_an_ethernet_payload() -> None:
    frame = bytes(ETH / OUTER4 / udp(6081, 47101) / GENEVE(proto=0x6558, vni=7) / INNER_ETH / SEGMENT4)
    result, counters = decode(frame)
    assert result == expected4(frame, ETH4 + IP4 + UDP8 + 8 + ETH4 + IP4 + TCP20)
    assert counters == {"decode.tunnel_geneve": 1}


def test_geneve_options_are_skipped_and_an_ipv6_payload_decoded() -> None:
    option = GeneveOptions(classid=0x0102, type=0x80, data=b"\x00" * 4)  # 8 octets: Opt Len 2
    frame = bytes(ETH / OUTER4 / udp(6081) / GENEVE(proto=0x86DD, options=[option]) / ip6() / tcp())
    assert frame[ETH4 + IP4 + UDP8] & 0x3F == 2
    result, counters = decode(frame)
    assert result == expected6(frame, ETH4 + IP4 + UDP8 + 8 + 8 + IP6 + TCP20)
    assert counters == {"decode.tunnel_geneve": 1}


def test_geneve_with_an_ipv4_payload() -> None:
    frame = bytes(ETH / OUTER4 / udp(6081) / GENEVE(proto=0x0800) / SEGMENT4)
    assert decode(frame) == (expected4(frame, ETH4 + IP4 + UDP8 + 8 + IP4 + TCP20), {"decode.tunnel_geneve": 1})


@pytest.mark.parametrize(
    ("first_octet", "protocol_type"), [(0x40, 0x6558), (0x80, 0x0800), (0x00, 0x0806), (0x00, 0x1234)]
)
def test_udp_to_6081_that_is_not_geneve_version_0_with_a_known_payload_is_plain_udp(
    first_octet: int, protocol_type: int
) -> None:
    header = struct.pack("!BBHI", first_octet, 0, protocol_type, 7 << 8)
    frame = bytes(ETH / OUTER4 / udp(6081) / Raw(header + bytes(SEGMENT4)))
    assert is_plain_udp(frame)


def test_geneve_options_longer_than_the_datagram_are_truncated() -> None:
    header = struct.pack("!BBHI", 0x3F, 0, 0x0800, 0)  # 252 octets of options announced
    frame = bytes(ETH / OUTER4 / udp(6081) / Raw(header + bytes(SEGMENT4)))
    assert decode(frame) == (None, {"decode.truncated_tunnel": 1})


# -- VXLAN (RFC 7348) ------------------------------------------------------------------------------------
def test_vxlan_carries_an_ethernet_frame() -> None:
    frame = bytes(ETH / OUTER4 / udp(4789) / VXLAN(flags=0x08, vni=4242) / INNER_ETH / ip6() / tcp())
    result, counters = decode(frame)
    assert result == expected6(frame, ETH4 + IP4 + UDP8 + 8 + ETH4 + IP6 + TCP20)
    assert counters == {"decode.tunnel_vxlan": 1}


def test_vxlan_over_ipv6() -> None:
    frame = bytes(ETH / OUTER6 / udp(4789) / VXLAN(flags=0x08, vni=1) / INNER_ETH / SEGMENT4)
    result, counters = decode(frame)
    assert result == expected4(frame, ETH4 + IP6 + UDP8 + 8 + ETH4 + IP4 + TCP20)
    assert counters == {"decode.tunnel_vxlan": 1}


def test_udp_to_4789_without_the_vxlan_i_flag_is_plain_udp() -> None:
    frame = bytes(ETH / OUTER4 / udp(4789) / Raw(b"\x00" * 8 + bytes(INNER_ETH / SEGMENT4)))
    assert is_plain_udp(frame)


def test_udp_to_4789_with_a_nonzero_last_reserved_octet_is_plain_udp() -> None:
    frame = bytes(ETH / OUTER4 / udp(4789) / Raw(b"\x08\x00\x00\x00\x00\x00\x01\x01" + bytes(INNER_ETH)))
    assert is_plain_udp(frame)


def test_udp_from_a_tunnel_port_to_another_port_is_plain_udp() -> None:
    frame = bytes(ETH / OUTER4 / udp(53, sport=4789) / VXLAN(flags=0x08, vni=1) / INNER_ETH / SEGMENT4)
    assert is_plain_udp(frame)


def test_vxlan_cut_inside_the_inner_ethernet_header() -> None:
    frame = bytes(ETH / OUTER4 / udp(4789) / VXLAN(flags=0x08, vni=1) / Raw(bytes(INNER_ETH)[:10]))
    assert decode(frame) == (None, {"decode.tunnel_vxlan": 1, "decode.truncated_link": 1})


# -- GTP-U (3GPP TS 29.281) ------------------------------------------------------------------------------
def test_gtpu_g_pdu_with_an_ipv4_user_packet() -> None:
    frame = bytes(ETH / OUTER4 / udp(2152, 2152) / GTP_U_Header(teid=0x760D3D30) / SEGMENT4)
    assert frame[ETH4 + IP4 + UDP8] == 0x30
    result, counters = decode(frame)
    assert result == expected4(frame, ETH4 + IP4 + UDP8 + 8 + IP4 + TCP20)
    assert counters == {"decode.tunnel_gtpu": 1}


def test_gtpu_sequence_number_adds_four_octets() -> None:
    frame = bytes(ETH / OUTER4 / udp(2152) / GTP_U_Header(teid=159098, S=1, seq=3) / SEGMENT4)
    assert frame[ETH4 + IP4 + UDP8] == 0x32  # as in Zeek's gtp6_gtp_0x32.pcap
    assert decode(frame) == (expected4(frame, ETH4 + IP4 + UDP8 + 12 + IP4 + TCP20), {"decode.tunnel_gtpu": 1})


def test_gtpu_extension_headers_are_walked_to_the_ipv6_user_packet() -> None:
    container = GTPPDUSessionContainer(type=1, QFI=9)  # 4 octets, next extension type 0
    frame = bytes(ETH / OUTER4 / udp(2152) / GTP_U_Header(teid=1, E=1, next_ex=0x85) / container / ip6() / tcp())
    result, counters = decode(frame)
    assert result == expected6(frame, ETH4 + IP4 + UDP8 + 12 + 4 + IP6 + TCP20)
    assert counters == {"decode.tunnel_gtpu": 1}


def test_gtpu_chain_of_two_extension_headers() -> None:
    # UDP port (0x40) of length 1 naming PDCP PDU number (0xC0) next, which has length 1 and ends the chain.
    header = struct.pack("!BBHIHBB", 0x34, 0xFF, 12 + 40, 1, 0, 0, 0x40)
    extensions = bytes([1, 0x08, 0x68, 0xC0]) + bytes([1, 0x00, 0x01, 0x00])
    frame = bytes(ETH / OUTER4 / udp(2152) / Raw(header + extensions + bytes(SEGMENT4)))
    assert decode(frame) == (expected4(frame, ETH4 + IP4 + UDP8 + 12 + 8 + IP4 + TCP20), {"decode.tunnel_gtpu": 1})


def test_gtpu_extension_header_of_length_zero_is_bad() -> None:
    header = struct.pack("!BBHIHBB", 0x34, 0xFF, 8 + 40, 1, 0, 0, 0x85)
    frame = bytes(ETH / OUTER4 / udp(2152) / Raw(header + b"\x00\x00\x00\x00" + bytes(SEGMENT4)))
    assert decode(frame) == (None, {"decode.bad_tunnel_header": 1})


def test_gtpu_extension_header_beyond_the_capture_is_truncated() -> None:
    header = struct.pack("!BBHIHBB", 0x34, 0xFF, 4 + 40, 1, 0, 0, 0x85)
    frame = bytes(ETH / OUTER4 / udp(2152) / Raw(header + b"\x10\x00"))
    assert decode(frame) == (None, {"decode.truncated_tunnel": 1})


@pytest.mark.parametrize(
    ("flags", "message_type"),
    [(0x32, 0x01), (0x32, 0x1A), (0x30, 0xFE), (0x20, 0xFF), (0x48, 0xFF), (0x10, 0xFF)],
    ids=["echo-request", "error-indication", "end-marker", "gtp-prime", "gtpv2", "version-0"],
)
def test_udp_to_2152_that_is_not_a_gtpu_g_pdu_is_plain_udp(flags: int, message_type: int) -> None:
    header = struct.pack("!BBHI", flags, message_type, 40, 1)
    frame = bytes(ETH / OUTER4 / udp(2152) / Raw(header + bytes(SEGMENT4)))
    assert is_plain_udp(frame)


def test_gtpu_user_packet_that_is_not_ip_is_counted_as_not_ip() -> None:
    frame = bytes(ETH / OUTER4 / udp(2152) / GTP_U_Header(teid=1, gtp_type=255) / Raw(b"\x00" * 40))
    assert decode(frame) == (None, {"decode.tunnel_gtpu": 1, "decode.not_ip": 1})


# -- IP in IP (RFC 2003, RFC 4213) -----------------------------------------------------------------------
def test_ipv4_in_ipv4() -> None:
    frame = bytes(ETH / IP(src="203.0.113.1", dst="203.0.113.2", proto=4) / SEGMENT4)
    assert decode(frame) == (expected4(frame, ETH4 + IP4 + IP4 + TCP20), {"decode.tunnel_ip_in_ip": 1})


def test_ipv6_in_ipv4() -> None:
    frame = bytes(ETH / IP(src="203.0.113.1", dst="203.0.113.2", proto=41) / ip6() / tcp())
    assert decode(frame) == (expected6(frame, ETH4 + IP4 + IP6 + TCP20), {"decode.tunnel_ip_in_ip": 1})


def test_ipv4_in_ipv6() -> None:
    frame = bytes(ETH / IPv6(src="2001:db8:ffff::1", dst="2001:db8:ffff::2", nh=4) / SEGMENT4)
    assert decode(frame) == (expected4(frame, ETH4 + IP6 + IP4 + TCP20), {"decode.tunnel_ip_in_ip": 1})


def test_padding_after_the_outer_datagram_is_not_read_as_inner_bytes() -> None:
    # The inner IPv4 header claims 64 more octets than the outer datagram holds; the Ethernet trailer
    # behind it must not be taken for them.
    inner = bytearray(bytes(ip4() / tcp(payload=b"")))
    inner[2:4] = (40 + 64).to_bytes(2, "big")
    datagram = bytes(IP(src="203.0.113.1", dst="203.0.113.2", proto=4) / Raw(bytes(inner)))
    frame = bytes(Ether(src=ETH.src, dst=ETH.dst, type=0x0800)) + datagram + b"\xee" * 64
    decoder = Decoder()
    result = decoder.decode(0, 1, frame)
    assert result == expected4(frame[: ETH4 + len(datagram)], ETH4 + IP4 + IP4 + TCP20, payload=b"")
    assert dict(decoder.counters) == {"decode.tunnel_ip_in_ip": 1, "decode.snaplen_truncated": 1}


# -- GRE (RFC 2784, RFC 2890), ERSPAN, PPTP --------------------------------------------------------------
def test_gre_carrying_ipv4() -> None:
    frame = bytes(ETH / OUTER4 / GRE(proto=0x0800) / SEGMENT4)
    assert decode(frame) == (expected4(frame, ETH4 + IP4 + 4 + IP4 + TCP20), {"decode.tunnel_gre": 1})


def test_gre_checksum_key_and_sequence_number_are_skipped() -> None:
    gre = GRE(proto=0x86DD, chksum_present=1, key_present=1, key=9, seqnum_present=1, sequence_number=5)
    frame = bytes(ETH / OUTER4 / gre / ip6() / tcp())
    assert decode(frame) == (expected6(frame, ETH4 + IP4 + 16 + IP6 + TCP20), {"decode.tunnel_gre": 1})


def test_gre_transparent_ethernet_bridging_over_ipv6() -> None:
    frame = bytes(ETH / OUTER6 / GRE(proto=0x6558, key_present=1, key=3) / INNER_ETH / SEGMENT4)
    assert decode(frame) == (expected4(frame, ETH4 + IP6 + 8 + ETH4 + IP4 + TCP20), {"decode.tunnel_gre": 1})


def test_erspan_type_1_is_ethernet_right_after_gre() -> None:
    frame = gre_frame(struct.pack("!HH", 0x0000, 0x88BE), bytes(INNER_ETH / SEGMENT4))
    assert decode(frame) == (expected4(frame, ETH4 + IP4 + 4 + ETH4 + IP4 + TCP20), {"decode.tunnel_gre": 1})


def test_erspan_type_2_header_follows_the_gre_sequence_number() -> None:
    frame = bytes(ETH / OUTER4 / GRE(seqnum_present=1, sequence_number=1) / ERSPAN_II(vlan=10, session_id=3)
                  / INNER_ETH / SEGMENT4)
    assert decode(frame) == (expected4(frame, ETH4 + IP4 + 8 + 8 + ETH4 + IP4 + TCP20), {"decode.tunnel_gre": 1})


def test_erspan_type_3_with_its_platform_specific_subheader() -> None:
    erspan = ERSPAN_III(session_id=3, o=1) / ERSPAN_PlatformSpecific(platf_id=3)
    frame = bytes(ETH / OUTER4 / GRE() / erspan / INNER_ETH / SEGMENT4)
    assert frame[ETH4 + IP4 + 2 : ETH4 + IP4 + 4] == b"\x22\xeb"
    assert decode(frame) == (expected4(frame, ETH4 + IP4 + 4 + 20 + ETH4 + IP4 + TCP20), {"decode.tunnel_gre": 1})


def test_erspan_type_3_cut_inside_its_header_is_truncated() -> None:
    frame = gre_frame(struct.pack("!HH", 0x0000, 0x22EB), b"\x20\x00\x00\x00\x00\x00")
    assert decode(frame) == (None, {"decode.truncated_tunnel": 1})


def test_pptp_enhanced_gre_with_ppp_address_control_and_protocol() -> None:
    # version 1, key (payload length, call id) and sequence number present; PPP FF 03 00 21
    header = struct.pack("!HHHHI", 0x3001, 0x880B, len(bytes(SEGMENT4)) + 4, 7, 1)
    frame = gre_frame(header, b"\xff\x03\x00\x21" + bytes(SEGMENT4))
    assert decode(frame) == (expected4(frame, ETH4 + IP4 + 12 + 4 + IP4 + TCP20), {"decode.tunnel_gre": 1})


def test_pptp_with_compressed_ppp_address_control_and_protocol_field() -> None:
    header = struct.pack("!HHHHII", 0x3081, 0x880B, 41, 7, 2, 1)  # acknowledgment number present too
    frame = gre_frame(header, b"\x57" + bytes(ip6() / tcp()))
    assert decode(frame) == (expected6(frame, ETH4 + IP4 + 16 + 1 + IP6 + TCP20), {"decode.tunnel_gre": 1})


def test_pptp_acknowledgment_without_payload_carries_no_ip() -> None:
    frame = gre_frame(struct.pack("!HHHHI", 0x2081, 0x880B, 0, 7, 1), b"")
    assert decode(frame) == (None, {"decode.tunnel_gre": 1, "decode.not_ip": 1})


def test_pptp_header_cut_by_the_capture_is_truncated() -> None:
    frame = gre_frame(struct.pack("!HHHHI", 0x3081, 0x880B, 40, 7, 1), b"")
    assert decode(frame) == (None, {"decode.truncated_tunnel": 1})


@pytest.mark.parametrize(
    ("flags_version", "protocol_type"),
    [(0x4000, 0x0800), (0x0008, 0x0800), (0x0002, 0x0800), (0x2001, 0x0800)],
    ids=["routing", "reserved-flag", "version-2", "version-1-not-ppp"],
)
def test_gre_headers_not_decoded_are_bad(flags_version: int, protocol_type: int) -> None:
    frame = gre_frame(struct.pack("!HHI", flags_version, protocol_type, 0), bytes(SEGMENT4))
    assert decode(frame) == (None, {"decode.bad_tunnel_header": 1})


def test_gre_header_cut_by_the_capture_is_truncated() -> None:
    frame = gre_frame(struct.pack("!HH", 0xB000, 0x0800), bytes(SEGMENT4))[: ETH4 + IP4 + 10]
    assert decode(frame) == (None, {"decode.truncated_tunnel": 1})


def test_gre_carrying_something_other_than_ip_is_not_ip() -> None:
    frame = gre_frame(struct.pack("!HH", 0x0000, 0x0806), b"\x00" * 28)
    assert decode(frame) == (None, {"decode.tunnel_gre": 1, "decode.not_ip": 1})


def test_fragmented_gre_datagram_is_reassembled_then_opened() -> None:
    datagram = bytes(GRE(proto=0x0800) / SEGMENT4)
    first = bytes(ETH / IP(src="203.0.113.1", dst="203.0.113.2", proto=47, id=9, flags="MF") / datagram[:24])
    last = bytes(ETH / IP(src="203.0.113.1", dst="203.0.113.2", proto=47, id=9, frag=3) / datagram[24:])
    decoder = Decoder()
    assert decoder.decode(0, 1, first) is None
    result = decoder.decode(1, 1, last)
    assert result is not None
    assert result[:8] == expected4(None, 0)[:8]
    assert result[8][result[9] : result[9] + result[10]] == PAYLOAD
    assert dict(decoder.counters) == {"ip.fragment_reassembled": 1, "decode.tunnel_gre": 1}


# -- nesting and VLANs -----------------------------------------------------------------------------------
def test_three_nested_tunnels_are_opened() -> None:
    inner = INNER_ETH / IP(src="10.0.0.1", dst="10.0.0.2", proto=47) / GRE(proto=0x0800) / SEGMENT4
    frame = bytes(ETH / OUTER4 / udp(6081) / GENEVE(proto=0x6558) / Ether() / IP() / udp(4789)
                  / VXLAN(flags=0x08, vni=1) / inner)
    decoder = Decoder()
    result = decoder.decode(0, 1, frame)
    assert result == expected4(frame, len(frame) - len(PAYLOAD))
    assert dict(decoder.counters) == {
        "decode.tunnel_geneve": 1, "decode.tunnel_vxlan": 1, "decode.tunnel_gre": 1
    }


def test_a_fourth_nested_tunnel_is_too_deep() -> None:
    frame = bytes(ETH / OUTER4 / udp(6081) / GENEVE(proto=0x0800) / IP(proto=4) / IP(proto=41)
                  / IPv6(nh=4) / SEGMENT4)
    decoder = Decoder()
    assert decoder.decode(0, 1, frame) is None
    assert dict(decoder.counters) == {
        "decode.tunnel_geneve": 1, "decode.tunnel_ip_in_ip": 2, "decode.tunnel_too_deep": 1
    }


def test_depth_is_counted_per_frame() -> None:
    frame = bytes(ETH / OUTER4 / udp(6081) / GENEVE(proto=0x0800) / IP(proto=4) / IP(proto=41) / ip6() / tcp())
    decoder = Decoder()
    results = [decoder.decode(ts, 1, frame) for ts in range(3)]
    assert results == [expected6(frame, len(frame) - len(PAYLOAD))] * 3


def test_the_outer_vlan_wins_over_a_tag_inside_the_tunnel() -> None:
    frame = bytes(ETH / Dot1Q(vlan=100) / OUTER4 / udp(4789) / VXLAN(flags=0x08, vni=1) / INNER_ETH
                  / Dot1Q(vlan=200) / SEGMENT4)
    assert decode(frame)[0] == expected4(frame, len(frame) - len(PAYLOAD), vlan=100)


def test_an_inner_vlan_tag_is_used_when_the_outer_frame_has_none() -> None:
    frame = bytes(ETH / OUTER4 / udp(4789) / VXLAN(flags=0x08, vni=1) / INNER_ETH / Dot1Q(vlan=200) / SEGMENT4)
    assert decode(frame)[0] == expected4(frame, len(frame) - len(PAYLOAD), vlan=200)


def test_plain_tcp_in_ipv6_is_unchanged_by_tunnel_support() -> None:
    frame = bytes(ETH / ip6() / tcp())
    assert decode(frame) == (expected6(frame, ETH4 + IP6 + TCP20), {})


def test_ordinary_udp_is_a_plain_udp_datagram() -> None:
    frame = bytes(ETH / OUTER4 / udp(443) / Raw(bytes(VXLAN(flags=0x08)) + bytes(INNER_ETH / SEGMENT4)))
    assert is_plain_udp(frame)


def test_udp_header_cut_by_the_capture_is_not_tcp() -> None:
    frame = bytes(ETH / OUTER4 / udp(4789) / VXLAN(flags=0x08))[: ETH4 + IP4 + 6]
    assert decode(frame) == (None, {"decode.not_tcp": 1})


def test_ipv4_in_ipv4_reads_the_outer_payload_as_a_new_ip_header() -> None:
    frame = bytes(ETH / IP(src="203.0.113.1", dst="203.0.113.2", proto=4) / Raw(b"\x60" + b"\x00" * 39))
    assert decode(frame) == (None, {"decode.tunnel_ip_in_ip": 1, "decode.bad_ip_header": 1})


def test_results_point_at_the_inner_payload_bytes() -> None:
    frame = bytes(ETH / OUTER4 / udp(2152) / GTP_U_Header(teid=1) / ip4() / tcp(payload=b"inner-tls"))
    result = Decoder().decode(0, 1, frame)
    assert result is not None
    buf, poff, plen = result[8], result[9], result[10]
    assert buf is frame
    assert buf[poff : poff + plen] == b"inner-tls"
