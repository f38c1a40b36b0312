"""Long headers, coalesced packets and connection IDs (RFC 9000 §17.2, §12.2, RFC 9369 §3.2)."""

from __future__ import annotations

import pytest

from tests.quic.rfc_vectors import V1_CLIENT_INITIAL, V1_SERVER_INITIAL, V2_CLIENT_INITIAL
from tlsmon.quic.anomalies import QuicAnomaly
from tlsmon.quic.packet import (
    HANDSHAKE,
    INITIAL,
    RETRY,
    SHORT,
    UNKNOWN,
    VERSION_NEG,
    connection_ids,
    packet_kind,
    read_varint,
    short_header_dcid,
    split_datagram,
)


@pytest.mark.parametrize(
    ("encoded", "value"),
    [
        ("c2197c5eff14e88c", 151288809941952652),
        ("9d7f3e7d", 494878333),
        ("7bbd", 15293),
        ("25", 37),
        ("4025", 37),
    ],
)
def test_varint_examples_of_rfc_9000_appendix_a1(encoded: str, value: int) -> None:
    data = bytes.fromhex(encoded)
    assert read_varint(data, 0, len(data)) == (value, len(data))


def test_varint_past_the_end_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        read_varint(bytes.fromhex("c2197c"), 0, 3)


def test_v2_rotates_the_packet_type_bits() -> None:
    assert [packet_kind(0xC0 | bits << 4, 0x6B3343CF) for bits in range(4)] == ["retry", "initial", "0rtt", "handshake"]
    assert [packet_kind(0xC0 | bits << 4, 1) for bits in range(4)] == ["initial", "0rtt", "handshake", "retry"]


def test_client_initial_header_fields() -> None:
    packets, anomaly = split_datagram(V1_CLIENT_INITIAL)
    assert anomaly is None
    (packet,) = packets
    assert (packet.kind, packet.version, packet.dcid.hex(), packet.scid, packet.token) == (
        INITIAL,
        1,
        "8394c8f03e515708",
        b"",
        b"",
    )
    assert (packet.start, packet.pn_offset, packet.end) == (0, 18, 1200)


def test_coalesced_initial_and_handshake_packets_are_split_at_the_length_field() -> None:
    handshake = bytes.fromhex("e000000001") + b"\x00" + b"\x04" + b"\xaa\xbb\xcc\xdd" + b"\x05" + bytes(5)
    packets, anomaly = split_datagram(V1_SERVER_INITIAL + handshake)
    assert anomaly is None
    assert [(p.kind, p.start, p.end) for p in packets] == [(INITIAL, 0, 135), (HANDSHAKE, 135, 135 + len(handshake))]
    assert packets[1].scid.hex() == "aabbccdd"


def test_trailing_zero_bytes_after_a_packet_are_padding() -> None:
    packets, anomaly = split_datagram(V1_SERVER_INITIAL + bytes(40))
    assert anomaly is None and [p.kind for p in packets] == [INITIAL]


def test_a_short_header_packet_runs_to_the_end_of_the_datagram() -> None:
    packets, anomaly = split_datagram(V1_SERVER_INITIAL + b"\x41" + bytes(30))
    assert anomaly is None
    assert [(p.kind, p.start, p.end) for p in packets] == [(INITIAL, 0, 135), (SHORT, 135, 166)]


def test_version_negotiation_lists_the_server_versions() -> None:
    datagram = bytes.fromhex("80000000000401020304081122334455667788000000016b3343cf")
    (packet,), anomaly = split_datagram(datagram)
    assert anomaly is None
    assert (packet.kind, packet.supported_versions, packet.scid.hex()) == (
        VERSION_NEG,
        (1, 0x6B3343CF),
        "1122334455667788",
    )


def test_retry_token_stops_before_the_integrity_tag() -> None:
    datagram = bytes.fromhex("f0000000010004fc674735") + b"token" + bytes(16)
    (packet,), anomaly = split_datagram(datagram)
    assert anomaly is None
    assert (packet.kind, packet.scid.hex(), packet.token) == (RETRY, "fc674735", b"token")


def test_unknown_version_takes_the_rest_of_the_datagram() -> None:
    datagram = bytes.fromhex("c05130353008010203040506070800") + bytes(50)
    (packet,), anomaly = split_datagram(datagram)
    assert anomaly is None and (packet.kind, packet.version, packet.end) == (UNKNOWN, 0x51303530, len(datagram))


def test_a_length_past_the_datagram_is_malformed() -> None:
    packets, anomaly = split_datagram(V1_CLIENT_INITIAL[:600])
    assert (packets, anomaly) == ([], QuicAnomaly.MALFORMED_PACKET)


def test_a_21_byte_connection_id_in_v1_is_named() -> None:
    datagram = bytes.fromhex("c00000000115") + bytes(21) + b"\x00\x00\x01\x00"
    assert split_datagram(datagram) == ([], QuicAnomaly.CONNECTION_ID_TOO_LONG)


def test_connection_ids_of_a_datagram_are_its_long_headers_dcids_and_scids() -> None:
    assert [cid.hex() for cid in connection_ids(V1_CLIENT_INITIAL)] == ["8394c8f03e515708"]
    assert [cid.hex() for cid in connection_ids(V1_SERVER_INITIAL)] == ["f067a5502a4262b5"]
    assert [cid.hex() for cid in connection_ids(V2_CLIENT_INITIAL)] == ["8394c8f03e515708"]
    assert connection_ids(b"\x41" + bytes(30)) == []


def test_short_header_dcid_takes_the_length_the_receiver_chose() -> None:
    assert short_header_dcid(b"\x41\xf0\x67\xa5\x50" + bytes(20), 4) == bytes.fromhex("f067a550")
    assert short_header_dcid(V1_CLIENT_INITIAL, 8) is None
