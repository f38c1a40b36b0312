"""CRYPTO stream reassembly: order, duplicates, overlaps, bounds."""

from __future__ import annotations

from tlsmon.quic.crypto import CryptoStream


def test_in_order_pieces_are_delivered_at_once() -> None:
    stream = CryptoStream(1000)
    assert stream.add(0, b"abc") == (b"abc", False)
    assert stream.add(3, b"def") == (b"def", False)
    assert stream.delivered == 6


def test_out_of_order_pieces_wait_for_the_hole() -> None:
    stream = CryptoStream(1000)
    assert stream.add(6, b"ghi") == (b"", False)
    assert stream.add(3, b"def") == (b"", False)
    assert stream.add(0, b"abc") == (b"abcdefghi", False)
    assert stream.pending_bytes() == 0


def test_repeated_and_overlapping_pieces_deliver_each_byte_once_first_copy_wins() -> None:
    stream = CryptoStream(1000)
    stream.add(0, b"abcd")
    assert stream.add(0, b"abcd") == (b"", False)
    assert stream.add(2, b"XXef") == (b"ef", False)
    stream.add(8, b"ij")
    stream.add(7, b"hZ")
    assert stream.add(6, b"g") == (b"ghij", False)


def test_bytes_past_max_bytes_are_dropped_and_reported() -> None:
    stream = CryptoStream(8)
    assert stream.add(0, b"0123456789") == (b"01234567", True)
    assert stream.add(9, b"x") == (b"", True)
    assert stream.dropped == 2


def test_pending_bytes_count_what_waits_past_a_hole() -> None:
    stream = CryptoStream(1000)
    stream.add(10, b"abc")
    stream.add(12, b"cde")
    assert (stream.delivered, stream.pending_bytes()) == (0, 5)
