"""The bounded BER reader under the LDAP analyzer: length forms, framing, and values that must be whole."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tlsmon.protocols.ber import BerError, BerReader, element_length, read_header


@pytest.mark.parametrize(
    ("data", "header"),
    [
        (b"\x30\x0c", (0x30, 2, 12)),  # short form
        (b"\x30\x81\xc8", (0x30, 3, 200)),  # long form, one length byte
        (b"\x04\x84\x00\x01\x00\x00", (0x04, 6, 65536)),  # long form, four length bytes
    ],
)
def test_definite_length_forms(data: bytes, header: tuple[int, int, int]) -> None:
    assert read_header(data, 0, len(data)) == header


@pytest.mark.parametrize("data", [b"", b"\x30", b"\x30\x82\x01"])
def test_incomplete_header_is_none(data: bytes) -> None:
    assert read_header(data, 0, len(data)) is None


@pytest.mark.parametrize(
    "data",
    [
        b"\x30\x80",  # indefinite length: RFC 4511 §5.1 forbids it
        b"\x30\x85\x00\x00\x00\x00\x01",  # more than four length bytes
        b"\x1f\x81\x00",  # a multi-byte tag number
    ],
)
def test_forms_ldap_does_not_allow_raise(data: bytes) -> None:
    with pytest.raises(BerError):
        read_header(data, 0, len(data))


def test_element_length_counts_header_and_contents() -> None:
    assert element_length(b"\x30\x81\xc8\x02") == 203
    assert element_length(b"\x30") is None


def test_reader_walks_a_sequence() -> None:
    reader = BerReader(bytes.fromhex("300c02010178070a010004000400"))
    _, envelope = reader.enter(0x30)
    assert envelope.integer() == 1
    op, body = envelope.enter()
    assert op == 0x78
    assert body.integer(0x0A) == 0
    assert (body.value(0x04), body.value(0x04), body.eof()) == (b"", b"", True)
    assert envelope.eof() and reader.eof()


def test_constructed_element_may_run_past_a_prefix_but_values_may_not() -> None:
    prefix = b"\x30\x20\x04\x03abc\x04\x10" + b"x" * 4  # a 34-byte element cut after 13 bytes
    _, inner = BerReader(prefix).enter(0x30)
    assert inner.value(0x04) == b"abc"
    with pytest.raises(BerError):
        inner.value(0x04)


@pytest.mark.parametrize("raw", [b"", b"\x80", b"\x01\x02\x03\x04\x05"])
def test_integers_outside_ldap_maxint_raise(raw: bytes) -> None:
    with pytest.raises(BerError):
        BerReader(bytes((0x02, len(raw))) + raw).integer()


def test_wrong_tag_raises() -> None:
    with pytest.raises(BerError):
        BerReader(b"\x04\x01\x00").integer()


@given(st.binary(max_size=64))
def test_arbitrary_bytes_only_ever_raise_ber_error(data: bytes) -> None:
    reader = BerReader(data)
    try:
        while not reader.eof():
            reader.skip()
    except BerError:
        pass
