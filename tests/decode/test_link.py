"""Every supported link layer leads to the same TCP fields; VLAN tags are skipped, the outer id kept."""

from __future__ import annotations

import pytest
from scapy.contrib.mpls import MPLS
from scapy.layers.inet import UDP
from scapy.layers.l2 import ARP, CookedLinux, CookedLinuxV2, Dot1AD, Dot1Q, Ether
from scapy.layers.ppp import PPP, PPPoE

from tests.decode.packets import ETH, PAYLOAD, bsd_af, expected4, expected6, ip4, ip6, tcp
from tlsmon.decode import Decoder
from tlsmon.decode.packet import FLAG_UDP

SEGMENT4 = bytes(ip4() / tcp())


def ether(etype: int) -> Ether:
    return Ether(dst="00:00:00:00:00:02", src="00:00:00:00:00:01", type=etype)


SEGMENT6 = bytes(ip6() / tcp())


def test_ethernet_ipv4_tcp() -> None:
    frame = bytes(ETH / ip4() / tcp())
    assert Decoder().decode(0, 1, frame) == expected4(frame, 54)


def test_ethernet_ipv6_tcp() -> None:
    frame = bytes(ETH / ip6() / tcp())
    assert Decoder().decode(0, 1, frame) == expected6(frame, 74)


def test_linux_sll() -> None:
    frame = bytes(CookedLinux(pkttype=0, lladdrtype=1, lladdrlen=6, proto=0x0800) / ip4() / tcp())
    assert Decoder().decode(0, 113, frame) == expected4(frame, 16 + 40)


def test_linux_sll2() -> None:
    frame = bytes(CookedLinuxV2(proto=0x86DD, ifindex=2, lladdrtype=1, lladdrlen=6) / ip6() / tcp())
    assert Decoder().decode(0, 276, frame) == expected6(frame, 20 + 60)


@pytest.mark.parametrize("linktype", [101, 12, 14])
def test_raw_ip_picks_the_version_from_the_first_nibble(linktype: int) -> None:
    decoder = Decoder()
    assert decoder.decode(0, linktype, SEGMENT4) == expected4(SEGMENT4, 40)
    assert decoder.decode(0, linktype, SEGMENT6) == expected6(SEGMENT6, 60)


def test_linktype_ipv4_and_ipv6() -> None:
    decoder = Decoder()
    assert decoder.decode(0, 228, SEGMENT4) == expected4(SEGMENT4, 40)
    assert decoder.decode(0, 229, SEGMENT6) == expected6(SEGMENT6, 60)


@pytest.mark.parametrize("order", ["<", ">"])
def test_bsd_null_address_family_in_either_host_order(order: str) -> None:
    frame = bsd_af(2, order) + SEGMENT4
    assert Decoder().decode(0, 0, frame) == expected4(frame, 44)


@pytest.mark.parametrize("family", [24, 28, 30])
def test_bsd_null_ipv6_families(family: int) -> None:
    frame = bsd_af(family, "<") + SEGMENT6
    assert Decoder().decode(0, 0, frame) == expected6(frame, 64)


def test_loop_address_family_is_network_order() -> None:
    frame = bsd_af(30, ">") + SEGMENT6
    assert Decoder().decode(0, 108, frame) == expected6(frame, 64)


def test_unknown_address_family_is_not_ip() -> None:
    decoder = Decoder()
    assert decoder.decode(0, 0, bsd_af(7, "<") + SEGMENT4) is None
    assert decoder.counters == {"decode.not_ip": 1}


def test_vlan_tag_is_stepped_over_and_its_id_kept() -> None:
    frame = bytes(ETH / Dot1Q(vlan=100, prio=5) / ip4() / tcp())
    assert Decoder().decode(0, 1, frame) == expected4(frame, 58, vlan=100)


@pytest.mark.parametrize("outer_tpid", [0x88A8, 0x9100])
def test_qinq_keeps_the_outer_vlan_id(outer_tpid: int) -> None:
    frame = bytes(ETH / Dot1AD(vlan=200) / Dot1Q(vlan=100) / ip4() / tcp())
    frame = frame[:12] + outer_tpid.to_bytes(2, "big") + frame[14:]
    assert Decoder().decode(0, 1, frame) == expected4(frame, 62, vlan=200)


def test_vlan_tagged_ipv6_in_sll() -> None:
    frame = bytes(CookedLinux(pkttype=0, lladdrtype=1, lladdrlen=6, proto=0x8100) / Dot1Q(vlan=7) / ip6() / tcp())
    assert Decoder().decode(0, 113, frame) == expected6(frame, 16 + 4 + 60, vlan=7)


def test_arp_is_not_ip() -> None:
    decoder = Decoder()
    assert decoder.decode(0, 1, bytes(ETH / ARP())) is None
    assert decoder.counters == {"decode.not_ip": 1}


def test_udp_is_a_udp_datagram() -> None:
    decoder = Decoder()
    d = decoder.decode(0, 1, bytes(ETH / ip4() / UDP(sport=53, dport=53) / PAYLOAD))
    assert d is not None and (d[3], d[4], d[5], d[10]) == (53, 53, FLAG_UDP, len(PAYLOAD))
    assert decoder.counters == {}


@pytest.mark.parametrize(("linktype", "length"), [(1, 13), (113, 15), (276, 19), (0, 3), (108, 2)])
def test_frame_shorter_than_its_link_header(linktype: int, length: int) -> None:
    decoder = Decoder()
    assert decoder.decode(0, linktype, b"\x00" * length) is None
    assert decoder.counters == {"decode.truncated_link": 1}


def test_frame_ending_inside_a_vlan_tag() -> None:
    decoder = Decoder()
    assert decoder.decode(0, 1, bytes(ETH)[:12] + b"\x81\x00\x00") is None
    assert decoder.counters == {"decode.truncated_link": 1}


def test_unsupported_link_type_is_counted() -> None:
    decoder = Decoder()
    assert decoder.decode(0, 105, SEGMENT4) is None
    assert decoder.counters == {"decode.unsupported_link_type": 1}


def test_pppoe_session_carries_ipv4() -> None:
    frame = bytes(ether(0x8864) / PPPoE(sessionid=0x11) / PPP(proto=0x0021) / ip4() / tcp())
    assert Decoder().decode(0, 1, frame) == expected4(frame, 14 + 8 + 40)


def test_pppoe_inside_qinq_keeps_the_outer_vlan() -> None:
    frame = bytes(
        ether(0x88A8)
        / Dot1AD(vlan=100)
        / Dot1Q(vlan=7, type=0x8864)
        / PPPoE(sessionid=1)
        / PPP(proto=0x0057)
        / ip6()
        / tcp()
    )
    decoded = Decoder().decode(0, 1, frame)
    assert decoded is not None
    assert decoded[11] == 100
    assert decoded[:9] == expected6(frame, 14 + 8 + 8 + 60)[:9]


def test_mpls_label_stack_then_ipv4() -> None:
    frame = bytes(ether(0x8847) / MPLS(label=16, s=0) / MPLS(label=17, s=1) / ip4() / tcp())
    assert Decoder().decode(0, 1, frame) == expected4(frame, 14 + 8 + 40)


def test_pppoe_carrying_lcp_is_not_ip() -> None:
    decoder = Decoder()
    frame = bytes(ether(0x8864) / PPPoE() / PPP(proto=0xC021) / b"\x01\x01\x00\x04")
    assert decoder.decode(0, 1, frame) is None
    assert decoder.counters["decode.not_ip"] == 1
