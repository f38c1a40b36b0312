"""Property: no frame, however malformed, makes the decoder raise; results always point inside ``buf``."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet6 import IPv6ExtHdrDestOpt, IPv6ExtHdrFragment
from scapy.layers.l2 import Dot1Q

from tests.decode.packets import ETH, ip4, ip6, tcp
from tlsmon.decode import Decoder

LINKTYPES = st.sampled_from([0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 105])
TEMPLATES = [
    bytes(ETH / ip4() / tcp()),
    bytes(ETH / Dot1Q(vlan=5) / ip6() / IPv6ExtHdrDestOpt() / tcp()),
    bytes(ETH / ip4(flags="MF", frag=0) / tcp()),
    bytes(ETH / ip6() / IPv6ExtHdrFragment(m=1, id=3) / tcp()),
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
