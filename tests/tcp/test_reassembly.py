"""Specification of per-direction TCP reassembly: exact bytes and gaps handed to the consumer."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlsmon.tcp.reassembly import CHUNK_OVERHEAD, SEQ_MASK, Reassembler

ISN = 1000  # the SYN's sequence number; the first byte of the stream is ISN + 1
# Bytes in front of the payload, as in a real frame: the reassembler must honour ``off``.
HEADER = bytes(range(54))

Event = bytes | int  # bytes: a data() call, int: a gap() call


class Recorder:
    """A StreamConsumer that records each call: data as bytes, gaps as their length."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.directions: set[bool] = set()
        self.finished = False
        self.anomalies: list[str] = []
        self.ended = False

    def data(self, is_orig: bool, data: bytes) -> None:
        self.directions.add(is_orig)
        self.events.append(data)

    def gap(self, is_orig: bool, length: int) -> None:
        self.directions.add(is_orig)
        self.events.append(length)

    def end(self) -> None:
        self.ended = True


def make(max_buffered: int = 256 * 1024, syn: int | None = ISN) -> tuple[Reassembler, Recorder]:
    rec = Recorder()
    r = Reassembler(True, rec, max_buffered=max_buffered)
    if syn is not None:
        r.syn(syn)
    return r, rec


def send(r: Reassembler, seq: int, payload: bytes, fin: bool = False) -> None:
    frame = memoryview(HEADER + payload)
    r.segment(seq & SEQ_MASK, frame, len(HEADER), len(payload), fin)


def at(offset: int) -> int:
    """Sequence number of stream offset ``offset`` after a SYN with ISN."""
    return ISN + 1 + offset


# -- in order -------------------------------------------------------------------------------------------


def test_in_order_segments_are_delivered_one_call_each() -> None:
    r, rec = make()
    send(r, at(0), b"GET ")
    send(r, at(4), b"/ HTTP/1.1")
    assert rec.events == [b"GET ", b"/ HTTP/1.1"]
    assert (r.delivered_bytes, r.missed_bytes, r.buffered_bytes, r.anomalies) == (14, 0, 0, {})


def test_direction_is_passed_to_the_consumer() -> None:
    rec = Recorder()
    r = Reassembler(False, rec)
    r.syn(ISN)
    send(r, at(0), b"220 ")
    assert rec.directions == {False}


def test_payload_is_read_from_offset_and_length_in_the_buffer() -> None:
    r, rec = make()
    r.segment(at(0), b"\x45\x00junk" + b"ABC" + b"trailer", 6, 3)
    assert rec.events == [b"ABC"]


def test_zero_length_segments_are_ignored() -> None:
    r, rec = make()
    send(r, at(0), b"")
    send(r, at(5), b"")
    send(r, at(0), b"ok")
    assert rec.events == [b"ok"]


def test_payload_cut_by_the_snaplen_leaves_a_hole_instead_of_splicing() -> None:
    r, rec = make()
    r.segment(at(0), HEADER + b"abc", len(HEADER), 6)  # 6 bytes on the wire, 3 captured
    send(r, at(6), b"ghi")
    assert rec.events == [b"abc"]
    r.flush()
    assert rec.events == [b"abc", 3, b"ghi"]
    assert r.anomalies == {"tcp.truncated_payload": 1}


def test_truncated_tail_is_filled_by_a_complete_retransmission() -> None:
    r, rec = make()
    r.segment(at(0), HEADER + b"abc", len(HEADER), 6)
    send(r, at(0), b"abcdef")
    assert rec.events == [b"abc", b"def"]
    assert r.missed_bytes == 0


# -- out of order ---------------------------------------------------------------------------------------

SEGMENTS = [(0, b"abc"), (3, b"defg"), (7, b"hi")]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ((0, 1, 2), [b"abc", b"defg", b"hi"]),
        ((0, 2, 1), [b"abc", b"defghi"]),
        ((1, 0, 2), [b"abcdefg", b"hi"]),
        ((1, 2, 0), [b"abcdefghi"]),
        ((2, 0, 1), [b"abc", b"defghi"]),
        ((2, 1, 0), [b"abcdefghi"]),
    ],
)
def test_three_segments_in_any_order_deliver_the_contiguous_runs(
    order: tuple[int, int, int], expected: list[bytes]
) -> None:
    r, rec = make()
    for i in order:
        offset, payload = SEGMENTS[i]
        send(r, at(offset), payload)
    assert rec.events == expected
    assert (r.missed_bytes, r.buffered_bytes, r.anomalies) == (0, 0, {})


def test_out_of_order_bytes_are_held_until_the_hole_is_filled() -> None:
    r, rec = make()
    send(r, at(0), b"ab")
    send(r, at(5), b"fgh")
    assert rec.events == [b"ab"]
    assert r.buffered_bytes == 3
    send(r, at(2), b"cde")
    assert rec.events == [b"ab", b"cdefgh"]
    assert r.buffered_bytes == 0


# -- retransmission and overlap -------------------------------------------------------------------------


def test_identical_retransmission_is_not_delivered_again() -> None:
    r, rec = make()
    send(r, at(0), b"hello")
    send(r, at(0), b"hello")
    send(r, at(5), b" world")
    assert rec.events == [b"hello", b" world"]
    assert r.anomalies == {}


def test_retransmission_with_different_bytes_keeps_the_first_and_counts_a_mismatch() -> None:
    r, rec = make()
    send(r, at(0), b"hello")
    send(r, at(0), b"HELLO")
    assert rec.events == [b"hello"]
    assert r.anomalies == {"tcp.overlap_mismatch": 1}


def test_retransmission_of_a_held_segment_with_different_bytes_keeps_the_first() -> None:
    r, rec = make()
    send(r, at(3), b"def")
    send(r, at(3), b"XYZ")
    send(r, at(0), b"abc")
    assert rec.events == [b"abcdef"]
    assert r.anomalies == {"tcp.overlap_mismatch": 1}


def test_segment_starting_before_next_delivers_only_its_new_part() -> None:
    r, rec = make()
    send(r, at(0), b"hello")
    send(r, at(3), b"lo world")
    assert rec.events == [b"hello", b" world"]
    assert r.anomalies == {}


def test_overlap_with_the_front_of_a_held_segment_keeps_the_held_bytes() -> None:
    r, rec = make()
    send(r, at(0), b"hello")
    send(r, at(9), b"WXYZ")
    send(r, at(5), b"abcdQQ")  # offsets 5..11; 9..11 already held as "WX"
    assert rec.events == [b"hello", b"abcdWXYZ"]
    assert r.anomalies == {"tcp.overlap_mismatch": 1}


def test_overlap_with_the_back_of_a_held_segment_adds_only_the_bytes_beyond_it() -> None:
    r, rec = make()
    send(r, at(0), b"hello")
    send(r, at(9), b"WXYZ")
    send(r, at(11), b"YZ!!")
    assert r.buffered_bytes == 6
    send(r, at(5), b"abcd")
    assert rec.events == [b"hello", b"abcdWXYZ!!"]
    assert r.anomalies == {}


def test_segment_spanning_several_held_segments_fills_only_the_holes() -> None:
    r, rec = make()
    send(r, at(0), b"hello")
    send(r, at(7), b"CD")
    send(r, at(11), b"GH")
    send(r, at(5), b"abXXefYYij")
    assert rec.events == [b"hello", b"abCDefGHij"]
    assert r.anomalies == {"tcp.overlap_mismatch": 1}
    assert r.buffered_bytes == 0


def test_in_order_segment_does_not_overwrite_held_bytes_it_overlaps() -> None:
    r, rec = make()
    send(r, at(2), b"cd")
    send(r, at(0), b"abCDe")
    assert rec.events == [b"abcde"]
    assert r.anomalies == {"tcp.overlap_mismatch": 1}


def test_keep_alive_with_a_garbage_byte_is_ignored() -> None:
    r, rec = make()
    send(r, at(0), b"hello")
    send(r, at(4), b"\x00")
    send(r, at(4), b"")
    send(r, at(5), b"!")
    assert rec.events == [b"hello", b"!"]
    assert r.anomalies == {}


# -- sequence numbers -----------------------------------------------------------------------------------


def test_sequence_numbers_wrap_around_two_to_the_32() -> None:
    r, rec = make(syn=0xFFFFFFFD)  # first byte at 0xFFFFFFFE
    send(r, 4, b"gh")
    send(r, 0xFFFFFFFE, b"ab")
    send(r, 0, b"cdef")
    assert rec.events == [b"ab", b"cdefgh"]
    assert (r.missed_bytes, r.buffered_bytes) == (0, 0)


def test_segment_straddling_the_wrap_is_delivered_in_order() -> None:
    r, rec = make(syn=0xFFFFFFFD)
    send(r, 0xFFFFFFFE, b"abcd")
    send(r, 2, b"ef")
    send(r, 0xFFFFFFFF, b"bc")  # retransmission across the wrap
    assert rec.events == [b"abcd", b"ef"]
    assert r.anomalies == {}


def test_syn_at_the_top_of_the_sequence_space_starts_the_stream_at_zero() -> None:
    r, rec = make(syn=0xFFFFFFFF)
    send(r, 0, b"x")
    assert rec.events == [b"x"]


def test_mid_stream_pickup_starts_at_the_first_segment_seen() -> None:
    r, rec = make(syn=None)
    assert not r.started
    send(r, 50_000, b"xyz")
    send(r, 50_003, b"!")
    assert r.started
    assert rec.events == [b"xyz", b"!"]


def test_segment_entirely_before_the_stream_start_is_ignored() -> None:
    r, rec = make(syn=None)
    send(r, 50_010, b"later")
    send(r, 50_000, b"0123456789")
    assert rec.events == [b"later"]
    assert r.anomalies == {}


def test_segment_crossing_the_stream_start_delivers_only_bytes_after_it() -> None:
    r, rec = make(syn=None)
    send(r, 50_000, b"xyz")
    send(r, 49_998, b"..xyz!")
    assert rec.events == [b"xyz", b"!"]


def test_pure_ack_does_not_start_the_stream() -> None:
    r, rec = make(syn=None)
    send(r, 7, b"")
    assert not r.started
    send(r, 9, b"go")
    assert rec.events == [b"go"]


def test_repeated_syn_with_the_same_isn_changes_nothing() -> None:
    r, rec = make()
    r.syn(ISN)
    send(r, at(0), b"a")
    r.syn(ISN)
    assert rec.events == [b"a"]
    assert r.anomalies == {}


def test_syn_with_another_isn_is_an_anomaly_and_is_ignored() -> None:
    r, rec = make()
    r.syn(ISN + 500)
    send(r, at(0), b"a")
    assert rec.events == [b"a"]
    assert r.anomalies == {"tcp.isn_changed": 1}


# -- buffer cap -----------------------------------------------------------------------------------------


def test_buffer_cap_overflow_declares_the_hole_a_gap_and_delivers_the_rest() -> None:
    r, rec = make(max_buffered=8 + 2 * CHUNK_OVERHEAD)
    send(r, at(0), b"ab")
    send(r, at(9), b"12345")
    assert (r.buffered_bytes, r.held_memory) == (5, 5 + CHUNK_OVERHEAD)
    send(r, at(14), b"6789")  # 9 bytes in 2 chunks held > 8 bytes and 2 chunks
    assert rec.events == [b"ab", 7, b"123456789"]
    assert (r.missed_bytes, r.buffered_bytes, r.delivered_bytes) == (7, 0, 11)
    assert r.anomalies == {"tcp.buffer_overflow": 1}


def test_hole_declared_a_gap_ignores_its_late_retransmission() -> None:
    r, rec = make(max_buffered=4)
    send(r, at(3), b"defgh")
    send(r, at(0), b"abc")
    send(r, at(8), b"i")
    assert rec.events == [3, b"defgh", b"i"]
    assert r.missed_bytes == 3


def test_buffer_cap_overflow_gaps_holes_one_by_one_until_under_the_cap() -> None:
    r, rec = make(max_buffered=4 + CHUNK_OVERHEAD)
    send(r, at(2), b"c")
    send(r, at(4), b"e")
    send(r, at(6), b"ghij")  # 6 bytes in 3 chunks held
    assert rec.events == [2, b"c", 1, b"e"]
    assert (r.missed_bytes, r.buffered_bytes) == (3, 4)


def test_each_held_chunk_counts_its_overhead_against_the_cap() -> None:
    r, rec = make(max_buffered=3 * (1 + CHUNK_OVERHEAD))
    for offset in (10, 8, 6, 4):  # one-byte segments, each its own chunk
        send(r, at(offset), b"x")
    assert rec.events == [4, b"x"]
    assert (r.buffered_bytes, r.held_memory) == (3, 3 * (1 + CHUNK_OVERHEAD))
    assert r.anomalies == {"tcp.buffer_overflow": 1}


def test_one_byte_segments_in_reverse_order_are_reassembled() -> None:
    r, rec = make(max_buffered=2**30)
    n = 20_000
    for offset in reversed(range(n)):
        send(r, at(offset), bytes([offset % 251]))
    assert rec.events == [bytes(i % 251 for i in range(n))]


def test_zero_cap_turns_every_hole_into_a_gap_at_once() -> None:
    r, rec = make(max_buffered=0)
    send(r, at(0), b"a")
    send(r, at(3), b"d")
    assert rec.events == [b"a", 2, b"d"]


# -- flush ----------------------------------------------------------------------------------------------


def test_flush_declares_the_holes_gaps_then_delivers_the_held_bytes() -> None:
    r, rec = make()
    send(r, at(0), b"ab")
    send(r, at(5), b"fg")
    send(r, at(10), b"kl")
    r.flush()
    assert rec.events == [b"ab", 3, b"fg", 3, b"kl"]
    assert (r.missed_bytes, r.buffered_bytes) == (6, 0)


def test_flush_with_nothing_held_delivers_nothing() -> None:
    r, rec = make()
    send(r, at(0), b"ab")
    r.flush()
    assert rec.events == [b"ab"]


def test_flush_after_a_syn_with_only_later_bytes_reports_the_missing_start() -> None:
    r, rec = make()
    send(r, at(4), b"tail")
    r.flush()
    assert rec.events == [4, b"tail"]


def test_reassembler_keeps_working_after_flush() -> None:
    r, rec = make()
    send(r, at(2), b"c")
    r.flush()
    send(r, at(3), b"d")
    assert rec.events == [2, b"c", b"d"]


# -- FIN ------------------------------------------------------------------------------------------------


def test_fin_with_data_delivers_it_and_completes_the_stream() -> None:
    r, rec = make()
    send(r, at(0), b"bye", fin=True)
    assert rec.events == [b"bye"]
    assert r.complete


def test_separate_fin_after_data_completes_the_stream() -> None:
    r, rec = make()
    send(r, at(0), b"bye")
    assert not r.complete
    send(r, at(3), b"", fin=True)
    assert r.complete
    assert rec.events == [b"bye"]


def test_data_after_fin_is_dropped_and_counted() -> None:
    r, rec = make()
    send(r, at(0), b"bye", fin=True)
    send(r, at(3), b"more")
    send(r, at(1), b"yeXX")
    assert rec.events == [b"bye"]
    assert r.anomalies == {"tcp.data_after_fin": 2}


def test_fin_trims_held_bytes_beyond_it() -> None:
    r, rec = make()
    send(r, at(0), b"ab")
    send(r, at(4), b"efgh")
    send(r, at(6), b"", fin=True)
    assert r.buffered_bytes == 2
    send(r, at(2), b"cd")
    assert rec.events == [b"ab", b"cdef"]
    assert r.complete
    assert r.anomalies == {"tcp.data_after_fin": 1}


def test_hole_before_the_fin_waits_for_retransmission() -> None:
    r, rec = make()
    send(r, at(0), b"ab")
    send(r, at(5), b"", fin=True)
    send(r, at(2), b"cde")
    assert rec.events == [b"ab", b"cde"]
    assert r.complete


def test_flush_declares_the_unfilled_hole_before_the_fin_a_gap() -> None:
    r, rec = make()
    send(r, at(0), b"ab")
    send(r, at(4), b"ef", fin=True)
    send(r, at(9), b"", fin=True)  # retransmitted FIN at another sequence number
    r.flush()
    assert rec.events == [b"ab", 2, b"ef"]
    assert r.complete
    assert r.anomalies == {"tcp.fin_seq_changed": 1}


def test_flush_declares_missing_bytes_between_data_and_a_bare_fin_a_gap() -> None:
    r, rec = make()
    send(r, at(0), b"ab")
    send(r, at(6), b"", fin=True)
    r.flush()
    assert rec.events == [b"ab", 4]
    assert r.missed_bytes == 4


# -- ack ------------------------------------------------------------------------------------------------


def test_ack_beyond_a_hole_declares_it_a_gap_and_delivers_the_held_bytes() -> None:
    r, rec = make()
    send(r, at(0), b"ab")
    send(r, at(5), b"fg")
    r.ack(at(7))
    assert rec.events == [b"ab", 3, b"fg"]
    assert (r.missed_bytes, r.buffered_bytes) == (3, 0)


def test_ack_of_bytes_never_seen_is_a_trailing_gap() -> None:
    r, rec = make()
    send(r, at(0), b"ab")
    r.ack(at(6))
    send(r, at(2), b"cdef")  # too late: already declared missing
    send(r, at(6), b"g")
    assert rec.events == [b"ab", 4, b"g"]


def test_ack_stops_at_the_first_held_byte_it_does_not_cover() -> None:
    r, rec = make()
    send(r, at(5), b"fg")
    send(r, at(10), b"kl")
    r.ack(at(7))
    assert rec.events == [5, b"fg"]
    assert r.buffered_bytes == 2


def test_old_or_current_acks_change_nothing() -> None:
    r, rec = make()
    send(r, at(0), b"abcd")
    send(r, at(6), b"g")
    r.ack(at(2))
    r.ack(at(4))
    assert rec.events == [b"abcd"]
    assert r.missed_bytes == 0


def test_ack_of_the_fin_does_not_count_the_fin_as_a_missing_byte() -> None:
    r, rec = make()
    send(r, at(0), b"ab", fin=True)
    r.ack(at(3))
    assert rec.events == [b"ab"]
    assert r.missed_bytes == 0


def test_ack_before_the_stream_started_is_ignored() -> None:
    r, rec = make(syn=None)
    r.ack(1234)
    send(r, 2000, b"a")
    assert rec.events == [b"a"]


# -- stop -----------------------------------------------------------------------------------------------


def test_stop_drops_held_bytes_and_delivers_nothing_more() -> None:
    r, rec = make()
    send(r, at(0), b"ab")
    send(r, at(4), b"ef")
    r.stop()
    assert r.buffered_bytes == 0
    send(r, at(2), b"cd")
    send(r, at(6), b"gh", fin=True)
    r.ack(at(20))
    r.flush()
    assert rec.events == [b"ab"]
    assert r.missed_bytes == 0


# -- properties -----------------------------------------------------------------------------------------

isns = st.one_of(st.integers(0, SEQ_MASK), st.integers(SEQ_MASK - 600, SEQ_MASK))


@st.composite
def segmented(draw: st.DrawFn) -> tuple[bytes, list[tuple[int, bytes]]]:
    """A random byte string and its cut into consecutive segments (offset, payload)."""
    data = draw(st.binary(min_size=1, max_size=400))
    cuts = sorted(draw(st.sets(st.integers(1, len(data) - 1), max_size=20))) if len(data) > 1 else []
    bounds = [0, *cuts, len(data)]
    return data, [(a, data[a:b]) for a, b in itertools.pairwise(bounds)]


def replay(events: list[Event]) -> list[int | None]:
    """The stream as the consumer saw it: one int per byte, None for each missing byte."""
    out: list[int | None] = []
    for e in events:
        if isinstance(e, bytes):
            assert e, "data() is never called with empty bytes"
            out.extend(e)
        else:
            assert e > 0, "gap() is never called with a zero length"
            out.extend([None] * e)
    return out


@settings(max_examples=300, deadline=None)
@given(case=segmented(), isn=isns, extra=st.data())
def test_any_permutation_and_duplication_delivers_the_original_bytes(
    case: tuple[bytes, list[tuple[int, bytes]]], isn: int, extra: st.DataObject
) -> None:
    data, segments = case
    sends = list(segments)
    # Duplicates of whole segments and re-packetised retransmissions of arbitrary ranges.
    sends += extra.draw(st.lists(st.sampled_from(segments), max_size=10))
    for _ in range(extra.draw(st.integers(0, 5))):
        a = extra.draw(st.integers(0, len(data) - 1))
        b = extra.draw(st.integers(a + 1, len(data)))
        sends.append((a, data[a:b]))
    sends = extra.draw(st.permutations(sends))
    rec = Recorder()
    r = Reassembler(True, rec)
    r.syn(isn)
    for offset, payload in sends:
        send(r, isn + 1 + offset, payload)
    assert b"".join(e for e in rec.events if isinstance(e, bytes)) == data
    assert all(isinstance(e, bytes) for e in rec.events)
    assert (r.missed_bytes, r.buffered_bytes, r.anomalies) == (0, 0, {})


@settings(max_examples=300, deadline=None)
@given(case=segmented(), isn=isns, extra=st.data())
def test_dropped_segments_become_gaps_of_exactly_their_size(
    case: tuple[bytes, list[tuple[int, bytes]]], isn: int, extra: st.DataObject
) -> None:
    data, segments = case
    dropped = extra.draw(st.sets(st.integers(0, len(segments) - 1)))
    kept = extra.draw(st.permutations([s for i, s in enumerate(segments) if i not in dropped]))
    rec = Recorder()
    r = Reassembler(True, rec)
    r.syn(isn)
    for offset, payload in kept:
        send(r, isn + 1 + offset, payload)
    send(r, isn + 1 + len(data), b"", fin=True)
    r.flush()
    expected: list[int | None] = list(data)
    for i in dropped:
        offset, payload = segments[i]
        expected[offset : offset + len(payload)] = [None] * len(payload)
    assert replay(rec.events) == expected
    dropped_bytes = sum(len(segments[i][1]) for i in dropped)
    assert sum(e for e in rec.events if isinstance(e, int)) == dropped_bytes == r.missed_bytes
    assert r.complete and r.buffered_bytes == 0


def first_wins_model(sends: list[tuple[int, bytes]]) -> list[int | None]:
    """Byte-at-a-time reference: keep the first copy of each byte not yet delivered; flush at the end."""
    nxt = 0
    held: dict[int, int] = {}
    out: list[int | None] = []
    for start, payload in sends:
        for i, byte in enumerate(payload):
            if start + i >= nxt:
                held.setdefault(start + i, byte)
        while nxt in held:
            out.append(held.pop(nxt))
            nxt += 1
    while held:
        first = min(held)
        out.extend([None] * (first - nxt))
        nxt = first
        while nxt in held:
            out.append(held.pop(nxt))
            nxt += 1
    return out


@settings(max_examples=400, deadline=None)
@given(
    sends=st.lists(st.tuples(st.integers(0, 40), st.binary(min_size=2, max_size=12)), max_size=15),
    isn=isns,
)
def test_conflicting_overlaps_match_a_byte_level_first_wins_model(
    sends: list[tuple[int, bytes]], isn: int
) -> None:
    rec = Recorder()
    r = Reassembler(True, rec)
    r.syn(isn)
    for offset, payload in sends:
        send(r, isn + 1 + offset, payload)
    r.flush()
    assert replay(rec.events) == first_wins_model(sends)
    assert r.buffered_bytes == 0
