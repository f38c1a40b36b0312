"""DTLS handshake fragment reassembly (RFC 6347 §4.2.2-4.2.3)."""

from __future__ import annotations

from tlsmon.dtls.anomalies import DtlsAnomaly
from tlsmon.dtls.handshake import DtlsHandshakeReassembler


def _fragment(msg_type: int, length: int, seq: int, offset: int, data: bytes) -> bytes:
    return (
        bytes([msg_type])
        + length.to_bytes(3, "big")
        + seq.to_bytes(2, "big")
        + offset.to_bytes(3, "big")
        + len(data).to_bytes(3, "big")
        + data
    )


def _reassembler() -> DtlsHandshakeReassembler:
    return DtlsHandshakeReassembler(max_bytes=1000, max_pending=2)


def test_an_unfragmented_message_is_delivered_at_once() -> None:
    assert _reassembler().feed(_fragment(1, 5, 0, 0, b"hello")) == ([(1, b"hello")], [])


def test_two_messages_in_one_record() -> None:
    body = _fragment(2, 2, 1, 0, b"sh") + _fragment(14, 0, 2, 0, b"")
    assert _reassembler().feed(body) == ([(2, b"sh"), (14, b"")], [])


def test_fragments_out_of_order_and_overlapping_complete_the_message_once() -> None:
    r = _reassembler()
    assert r.feed(_fragment(11, 10, 2, 6, b"ghij")) == ([], [])
    assert r.feed(_fragment(11, 10, 2, 2, b"cdXX")) == ([], [])
    assert r.pending() == 10
    assert r.feed(_fragment(11, 10, 2, 0, b"abcdef")) == ([(11, b"abcdXXghij")], [])
    assert r.pending() == 0


def test_a_retransmitted_message_is_delivered_again_as_zeek_does() -> None:
    r = _reassembler()
    fragment = _fragment(1, 3, 0, 0, b"abc")
    assert r.feed(fragment + fragment) == ([(1, b"abc"), (1, b"abc")], [])


def test_a_fragment_past_its_message_length_is_malformed() -> None:
    assert _reassembler().feed(_fragment(1, 3, 0, 2, b"xy")) == ([], [DtlsAnomaly.MALFORMED_FRAGMENT])


def test_a_truncated_fragment_header_is_malformed() -> None:
    assert _reassembler().feed(b"\x01\x00\x00") == ([], [DtlsAnomaly.MALFORMED_FRAGMENT])


def test_fragments_disagreeing_on_length_are_inconsistent() -> None:
    r = _reassembler()
    r.feed(_fragment(11, 10, 2, 0, b"ab"))
    assert r.feed(_fragment(11, 12, 2, 2, b"cd")) == ([], [DtlsAnomaly.INCONSISTENT_FRAGMENT])


def test_a_message_longer_than_the_limit_is_not_reassembled() -> None:
    assert _reassembler().feed(_fragment(11, 5000, 2, 0, b"ab")) == ([], [DtlsAnomaly.HANDSHAKE_TOO_LONG])


def test_pending_bytes_are_bounded_across_messages() -> None:
    r = _reassembler()
    r.feed(_fragment(11, 600, 1, 0, b"a"))
    assert r.feed(_fragment(11, 600, 2, 0, b"b")) == ([], [DtlsAnomaly.REASSEMBLY_BUFFER_FULL])
    assert r.pending() == 600


def test_a_completed_message_frees_its_bytes() -> None:
    r = _reassembler()
    r.feed(_fragment(11, 4, 1, 0, b"ab"))
    assert r.feed(_fragment(11, 4, 1, 2, b"cd")) == ([(11, b"abcd")], [])
    assert r.pending() == 0


def test_pending_messages_are_bounded() -> None:
    r = _reassembler()
    r.feed(_fragment(11, 10, 1, 0, b"a") + _fragment(11, 10, 2, 0, b"b"))
    assert r.feed(_fragment(11, 10, 3, 0, b"c")) == ([], [DtlsAnomaly.TOO_MANY_PENDING_MESSAGES])
