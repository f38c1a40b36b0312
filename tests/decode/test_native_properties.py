"""Property tests: the native decoder and the Python decoder agree on generated and damaged frames —
every result, every counter, the fragments held — and neither raises nor panics."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.decode import stacks
from tests.decode.native_compare import assert_same_decoding
from tests.decode.test_robustness import LINKTYPES, TEMPLATES

ALL_LINKTYPES = st.one_of(LINKTYPES, st.integers(0, 300), st.just(2**32 - 1))


@settings(max_examples=500)
@given(linktype=ALL_LINKTYPES, frame=st.binary(max_size=200))
def test_random_bytes(linktype: int, frame: bytes) -> None:
    assert_same_decoding([(0, linktype, frame)])


def mutate(template: bytes, edits: list[tuple[int, int]], cut: int) -> bytes:
    frame = bytearray(template)
    for pos, value in edits:
        if frame:
            frame[pos % len(frame)] = value
    return bytes(frame[: len(frame) - cut % (len(frame) + 1)])


EDITS = st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=6)


@settings(max_examples=600)
@given(template=st.sampled_from(TEMPLATES), edits=EDITS, cut=st.integers(0, 200), linktype=LINKTYPES)
def test_mutated_and_truncated_real_frames(
    template: bytes, edits: list[tuple[int, int]], cut: int, linktype: int
) -> None:
    # Other link types read the Ethernet frame's bytes their own way: as much damage to them.
    assert_same_decoding([(0, linktype, mutate(template, edits, cut))])


@settings(max_examples=200)
@given(
    frames=st.lists(st.tuples(st.sampled_from(TEMPLATES), EDITS, st.integers(0, 3), st.integers(-2, 6)), max_size=40),
    timeout=st.sampled_from([5, 1000, 30_000_000_000]),
    cap=st.sampled_from([0, 500, 2000, 16 * 2**20]),
)
def test_a_stream_of_mutated_fragments(
    frames: list[tuple[bytes, list[tuple[int, int]], int, int]], timeout: int, cap: int
) -> None:
    stream = []
    ts = 0
    for template, edits, cut, step in frames:
        ts += step  # time may stand still or step back, as in merged captures
        stream.append((ts, 1, mutate(template, edits, cut)))
    assert_same_decoding(stream, timeout, cap)


@st.composite
def stacked_frames(draw: st.DrawFn, damage: bool = True) -> list[tuple[int, int, bytes]]:
    """A TCP segment in 0-4 nested tunnels, maybe fragmented inside, between and outside them (so a
    reassembled datagram can hold fragments of another), maybe reordered, duplicated, overlapping, damaged or
    cut; framed by a random link layer. Without ``damage``: at most 3 tunnels, no fragments, nothing changed."""
    packet = draw(stacks.ip_packet(draw(st.sampled_from(["ip4", "ip6"]))))
    depth = draw(st.integers(0, 4 if damage else 3))
    datagrams = [packet[0]]
    kind = packet[1]
    for level in range(depth + 1):
        if damage and kind != "eth" and draw(st.integers(0, 2)) == 0:
            cuts = draw(st.lists(st.integers(1, 12).map(lambda u: u * 8), max_size=4))
            ident = draw(st.integers(0, 60000))
            fragmented = []
            for i, data in enumerate(datagrams):
                fragmented += stacks.fragment((data, kind), cuts, ident + i)
            if len(fragmented) > 1 and draw(st.booleans()):  # an overlapping copy, maybe different bytes
                extra = stacks.fragment((packet[0], kind) if level == 0 else (datagrams[0], kind), [8], ident)
                fragmented.insert(draw(st.integers(0, len(fragmented))), extra[0])
            datagrams = fragmented
        if level == depth:
            break
        name, outer = draw(stacks.tunnel_kinds(kind))
        datagrams = [draw(stacks.tunnel((data, kind), name, outer))[0] for data in datagrams]
        kind = outer
    order = draw(st.permutations(range(len(datagrams))))
    frames = []
    ts = 0
    for i in order:
        linktype, frame = draw(stacks.framed(datagrams[i], kind))
        if damage and draw(st.integers(0, 9)) == 0:
            frame = mutate(frame, draw(EDITS), draw(st.integers(0, 60)))
        repeat = draw(st.integers(1, 2)) if damage else 1
        for _ in range(repeat):
            ts += draw(st.integers(0, 3))
            frames.append((ts, linktype, frame))
    return frames


@settings(max_examples=300)
@given(frames=stacked_frames(), timeout=st.sampled_from([2, 30_000_000_000]), cap=st.sampled_from([1000, 16 * 2**20]))
def test_generated_tunnel_and_fragment_stacks(frames: list[tuple[int, int, bytes]], timeout: int, cap: int) -> None:
    assert_same_decoding(frames, timeout, cap)


@settings(max_examples=200)
@given(frames=stacked_frames(damage=False))
def test_generated_stacks_without_damage_decode_to_their_segment(frames: list[tuple[int, int, bytes]]) -> None:
    assert assert_same_decoding(frames) == 1
