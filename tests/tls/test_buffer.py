"""wire/buffer.py: big-endian pulls, exact-length blocks and TLS vectors."""

from __future__ import annotations

import pytest

from tlsmon.wire.buffer import (
    Buffer,
    BufferReadError,
    pull_list,
    pull_opaque,
    pull_uint8_vector,
    pull_uint16_vector,
)


def test_pulls_big_endian_integers_of_each_width() -> None:
    buf = Buffer(bytes.fromhex("01 0203 040506 0708090a".replace(" ", "")))
    assert (buf.pull_uint8(), buf.pull_uint16(), buf.pull_uint24(), buf.pull_uint32()) == (
        0x01,
        0x0203,
        0x040506,
        0x0708090A,
    )
    assert buf.eof()
    assert buf.tell() == 10


def test_reading_past_the_end_raises() -> None:
    buf = Buffer(b"\x01")
    with pytest.raises(BufferReadError):
        buf.pull_uint16()


def test_pull_bytes_returns_exactly_the_requested_slice() -> None:
    buf = Buffer(b"abcdef")
    buf.pull_bytes(2)
    assert buf.pull_bytes(3) == b"cde"
    assert buf.remaining() == 1


def test_block_confines_reads_to_its_declared_length() -> None:
    buf = Buffer(b"\x01\xaa\xbb")
    with pytest.raises(BufferReadError), buf.pull_block(1):
        buf.pull_uint16()


def test_block_not_fully_consumed_raises() -> None:
    buf = Buffer(b"\x02\xaa\xbb")
    with pytest.raises(BufferReadError), buf.pull_block(1):
        buf.pull_uint8()


def test_block_longer_than_the_data_raises() -> None:
    buf = Buffer(b"\x05\xaa")
    with pytest.raises(BufferReadError), buf.pull_block(1):
        pass


def test_block_restores_the_outer_end_after_use() -> None:
    buf = Buffer(b"\x01\xaa\xbb\xcc")
    with buf.pull_block(1) as length:
        assert length == 1
        assert buf.pull_uint8() == 0xAA
    assert buf.pull_uint16() == 0xBBCC


def test_pull_opaque_reads_a_length_prefixed_vector() -> None:
    assert pull_opaque(Buffer(b"\x00\x03xyz"), 2) == b"xyz"


def test_pull_list_reads_items_until_the_vector_ends() -> None:
    buf = Buffer(b"\x00\x06\x00\x1d\x00\x17\x00\x18\xff")
    assert pull_list(buf, 2, buf.pull_uint16) == [0x1D, 0x17, 0x18]
    assert buf.pull_uint8() == 0xFF


def test_pull_list_with_a_partial_item_raises() -> None:
    buf = Buffer(b"\x03\x00\x1d\x00")
    with pytest.raises(BufferReadError):
        pull_list(buf, 1, buf.pull_uint16)


def test_uint16_vector_in_one_read() -> None:
    buf = Buffer(b"\x00\x04\x13\x01\x13\x02")
    assert pull_uint16_vector(buf, 2) == [0x1301, 0x1302]
    assert buf.eof()


def test_uint16_vector_of_odd_length_raises() -> None:
    with pytest.raises(BufferReadError):
        pull_uint16_vector(Buffer(b"\x03\x00\x1d\x00"), 1)


def test_uint8_vector_in_one_read() -> None:
    assert pull_uint8_vector(Buffer(b"\x03\x00\x01\x02"), 1) == [0, 1, 2]


def test_opaque_longer_than_the_data_raises() -> None:
    with pytest.raises(BufferReadError):
        pull_opaque(Buffer(b"\x05ab"), 1)
