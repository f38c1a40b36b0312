"""Property: no frame, however malformed, makes the decoder raise; results always point inside ``buf``."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.contrib.erspan import ERSPAN_III, ERSPAN_PlatformSpecific
from scapy.contrib.geneve import GENEVE, GeneveOptions
from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6ExtHdrDestOpt, IPv6ExtHdrFragment
from scapy.layers.l2 import GRE, Dot1Q, Ether
from scapy.layers.vxlan import VXLAN

from tests.decode.packets import ETH, ip4, ip6, tcp
from tlsmon.decode import Decoder

LINKTYPES = st.sampled_from([0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 105])
TEMPLATES = [
    bytes(ETH / ip4() / tcp()),
    bytes(ETH / Dot1Q(vlan=5) / ip6() / IPv6ExtHdrDestOpt() / tcp()),
    bytes(ETH / ip4(flags="MF", frag=0) / tcp()),
    bytes(ETH / ip6() / IPv6ExtHdrFragment(m=1, id=3) / tcp()),
    # tunnels: every header the decoder opens, and a nesting of three
    bytes(ETH / IP() / UDP(dport=6081) / GENEVE(proto=0x6558, options=[GeneveOptions(data=b"1234")])
          / Ether() / ip4() / tcp()),
    bytes(ETH / IP() / UDP(dport=4789) / VXLAN(flags=0x08) / Ether() / Dot1Q(vlan=3) / ip6() / tcp()),
    bytes(ETH / IP() / UDP(dport=2152) / GTP_U_Header(E=1, next_ex=0x85) / GTPPDUSessionContainer()
          / ip4() / tcp()),
    bytes(ETH / IP() / GRE(key_present=1, seqnum_present=1) / ip6() / tcp()),
    bytes(ETH / IP() / GRE() / ERSPAN_III(o=1) / ERSPAN_PlatformSpecific() / Ether() / ip4() / tcp()),
    bytes(ETH / IP(proto=47) / b"\x30\x81\x88\x0b\x00\x28\x00\x07\x00\x00\x00\x01\x00\x00\x00\x01\xff\x03\x00\x21"
          / ip4() / tcp()),
    bytes(ETH / IP() / UDP(dport=6081) / GENEVE(proto=0x0800) / IP(proto=4) / IP(proto=41) / ip6() / tcp()),
]


def check(decoder: Decoder, ts: int, linktype: int, frame: bytes) -> None:
    result = decoder.decode(ts, linktype, frame)
    if result is not None:
        buf, poff, plen = result[8], result[9], result[10]
        assert 0 <= poff and 0 <= plen and poff + plen <= len(buf)


@settings(max_examples=300)
@given(linktype=LINKTYPES, frame=st.binary(max_size=200))
def test_random_bytes_never_raise(linktype: int, frame: bytes) -> None:
    check(Decoder(), 0, linktype, frame)


@settings(max_examples=300)
@given(
    template=st.sampled_from(TEMPLATES),
    edits=st.lists(st.tuples(st.integers(0, 120), st.integers(0, 255)), max_size=6),
    cut=st.integers(0, 140),
)
def test_mutated_real_frames_never_raise(template: bytes, edits: list[tuple[int, int]], cut: int) -> None:
    frame = bytearray(template)
    for pos, value in edits:
        if pos < len(frame):
            frame[pos] = value
    check(Decoder(), 0, 1, bytes(frame[: len(frame) - cut % (len(frame) + 1)]))


@settings(max_examples=100)
@given(
    frames=st.lists(
        st.tuples(st.sampled_from(TEMPLATES), st.integers(0, 120), st.integers(0, 255)), max_size=30
    )
)
def test_a_stream_of_mutated_fragments_never_raises(frames: list[tuple[bytes, int, int]]) -> None:
    decoder = Decoder(frag_timeout_ns=5, max_frag_bytes=500)
    for ts, (template, pos, value) in enumerate(frames):
        frame = bytearray(template)
        frame[pos % len(frame)] = value
        check(decoder, ts, 1, bytes(frame))


@settings(max_examples=300)
@given(
    port=st.sampled_from([6081, 4789, 2152]),
    body=st.binary(max_size=120),
    header=st.sampled_from([b"\x00\x00\x65\x58", b"\x08\x00\x00\x00", b"\x36\xff\x00\x10", b"\x02\x00\x08\x00"]),
)
def test_random_bytes_inside_a_udp_tunnel_never_raise(port: int, body: bytes, header: bytes) -> None:
    payload = header + body
    frame = bytes(ETH / IP(src="203.0.113.1", dst="203.0.113.2") / UDP(sport=1, dport=port) / payload)
    check(Decoder(), 0, 1, frame)


@settings(max_examples=300)
@given(proto=st.sampled_from([4, 41, 47]), body=st.binary(max_size=160))
def test_random_bytes_inside_an_ip_tunnel_never_raise(proto: int, body: bytes) -> None:
    check(Decoder(), 0, 1, bytes(ETH / IP(src="203.0.113.1", dst="203.0.113.2", proto=proto) / body))
