"""PPP link-layer frames (link type 9) and Cisco MetaData (EtherType 0x8909) decode to the TCP segment inside,
in both decoders (issue 14 point 5)."""

from __future__ import annotations

import struct

import pytest

from tests.decode.native_compare import assert_same_decoding
from tests.decode.packets import expected4, expected6, ip4, ip6, tcp
from tlsmon.decode import Decoder

LINKTYPE_PPP = 9
SEGMENT4 = bytes(ip4() / tcp())
SEGMENT6 = bytes(ip6() / tcp())
MAC = bytes.fromhex("000000000002") + bytes.fromhex("000000000001")


def cisco_metadata(sgt: int, next_type: int) -> bytes:
    """EtherType 0x8909's header: version 1, length 1, option (SGT, length 1), the SGT, the next EtherType."""
    return struct.pack("!HBBHHH", 0x8909, 1, 1, 0x0001, sgt, next_type)


@pytest.mark.parametrize(
    ("prefix", "offset"),
    [
        (b"\xff\x03\x00\x21", 4),  # RFC 1662 HDLC-like framing, two-byte protocol
        (b"\x00\x21", 2),  # no framing
        (b"\xff\x03\x21", 3),  # protocol field compressed to one byte (RFC 1661 §6.5)
        (b"\x21", 1),
    ],
)
def test_ppp_carries_ipv4(prefix: bytes, offset: int) -> None:
    frame = prefix + SEGMENT4
    assert Decoder().decode(0, LINKTYPE_PPP, frame) == expected4(frame, offset + 40)


def test_ppp_carries_ipv6() -> None:
    frame = b"\xff\x03\x00\x57" + SEGMENT6
    assert Decoder().decode(0, LINKTYPE_PPP, frame) == expected6(frame, 4 + 60)


def test_ppp_control_protocols_are_not_ip() -> None:
    decoder = Decoder()
    assert decoder.decode(0, LINKTYPE_PPP, b"\xff\x03\xc0\x21\x01\x01\x00\x04") is None  # LCP
    assert decoder.counters == {"decode.not_ip": 1}


@pytest.mark.parametrize("frame", [b"", b"\xff\x03", b"\xff\x03\x00"])
def test_a_ppp_frame_cut_in_its_header_is_truncated(frame: bytes) -> None:
    decoder = Decoder()
    assert decoder.decode(0, LINKTYPE_PPP, frame) is None
    assert decoder.counters == {"decode.truncated_link": 1}


def test_cisco_metadata_is_stepped_over() -> None:
    frame = MAC + cisco_metadata(sgt=17, next_type=0x0800) + SEGMENT4
    assert Decoder().decode(0, 1, frame) == expected4(frame, 14 + 8 + 40)


def test_cisco_metadata_before_a_vlan_tag_keeps_the_vlan() -> None:
    frame = MAC + cisco_metadata(sgt=17, next_type=0x8100) + struct.pack("!HH", 42, 0x86DD) + SEGMENT6
    assert Decoder().decode(0, 1, frame) == expected6(frame, 14 + 8 + 4 + 60, vlan=42)


def test_a_cut_cisco_metadata_header_is_truncated() -> None:
    decoder = Decoder()
    assert decoder.decode(0, 1, MAC + cisco_metadata(17, 0x0800)[:6]) is None
    assert decoder.counters == {"decode.truncated_link": 1}


def test_the_native_decoder_agrees_on_every_case() -> None:
    frames = [
        (0, LINKTYPE_PPP, b"\xff\x03\x00\x21" + SEGMENT4),
        (0, LINKTYPE_PPP, b"\x21" + SEGMENT4),
        (0, LINKTYPE_PPP, b"\xff\x03\x00\x57" + SEGMENT6),
        (0, LINKTYPE_PPP, b"\xff\x03\xc0\x21\x01\x01\x00\x04"),
        (0, LINKTYPE_PPP, b"\xff\x03\x00"),
        (0, 1, MAC + cisco_metadata(17, 0x0800) + SEGMENT4),
        (0, 1, MAC + cisco_metadata(17, 0x8100) + struct.pack("!HH", 42, 0x86DD) + SEGMENT6),
        (0, 1, MAC + cisco_metadata(17, 0x0800)[:6]),
    ]
    assert assert_same_decoding(frames) == 5
