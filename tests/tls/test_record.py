"""tls/record.py: records out of arbitrary segmentation, header checks become anomalies, SSLv2 framing."""

from __future__ import annotations

from tlsmon.tls.anomalies import TlsAnomaly
from tlsmon.tls.record import CT_SSLV2, MAX_RECORD_LENGTH, MODE_TLS, MODE_V2_HELLO, Record, RecordReader

HANDSHAKE = bytes.fromhex("16030100050102030405")  # type 22, version 3.1, 5-byte body
ALERT = bytes.fromhex("15030300020228")  # fatal handshake_failure


def drain(reader: RecordReader) -> list[Record]:
    records = []
    while (record := reader.next_record()) is not None:
        records.append(record)
    return records


def test_one_whole_record() -> None:
    reader = RecordReader(True)
    reader.feed(HANDSHAKE)
    assert drain(reader) == [(22, 0x0301, bytes.fromhex("0102030405"))]


def test_record_split_across_segments_byte_by_byte() -> None:
    reader = RecordReader(True)
    records: list[Record] = []
    for i in range(len(HANDSHAKE)):
        reader.feed(HANDSHAKE[i : i + 1])
        records += drain(reader)
    assert records == [(22, 0x0301, bytes.fromhex("0102030405"))]


def test_several_records_in_one_segment() -> None:
    reader = RecordReader(False)
    reader.feed(HANDSHAKE + ALERT)
    assert drain(reader) == [(22, 0x0301, bytes.fromhex("0102030405")), (21, 0x0303, b"\x02\x28")]


def test_record_at_the_length_limit_is_accepted() -> None:
    reader = RecordReader(False)
    reader.feed(b"\x17\x03\x03" + MAX_RECORD_LENGTH.to_bytes(2, "big") + bytes(MAX_RECORD_LENGTH))
    assert [(t, len(body)) for t, _, body in drain(reader)] == [(23, MAX_RECORD_LENGTH)]


def test_record_over_the_length_limit_stops_the_direction() -> None:
    reader = RecordReader(False)
    reader.feed(b"\x17\x03\x03" + (MAX_RECORD_LENGTH + 1).to_bytes(2, "big"))
    assert drain(reader) == []
    assert reader.error == TlsAnomaly.RECORD_TOO_LONG
    reader.feed(HANDSHAKE)
    assert drain(reader) == []


def test_unknown_content_type_stops_the_direction() -> None:
    reader = RecordReader(True)
    reader.feed(b"GET / HTTP/1.1\r\n")
    assert drain(reader) == []
    assert reader.error == TlsAnomaly.UNKNOWN_CONTENT_TYPE


def test_bad_record_version_stops_the_direction() -> None:
    reader = RecordReader(True)
    reader.feed(HANDSHAKE + bytes.fromhex("1604010000"))
    assert drain(reader) == [(22, 0x0301, bytes.fromhex("0102030405"))]
    assert reader.error == TlsAnomaly.BAD_RECORD_VERSION


def test_without_bodies_records_are_delimited_and_skipped() -> None:
    reader = RecordReader(False)
    reader.keep_bodies = False
    big = b"\x17\x03\x03\x01\x00" + bytes(256)
    reader.feed(big[:100])
    assert drain(reader) == [(23, 0x0303, b"")]
    reader.feed(big[100:] + ALERT)
    assert drain(reader) == [(21, 0x0303, b"")]
    assert reader.buffered() == 0


def test_sslv2_client_hello_is_recognised_as_the_first_client_record() -> None:
    body = bytes.fromhex("01 0002 0003 0000 0010 0700c0".replace(" ", "")) + bytes(16)
    reader = RecordReader(True)
    reader.feed(bytes([0x80 | (len(body) >> 8), len(body) & 0xFF]) + body)
    assert drain(reader) == [(CT_SSLV2, 0x0002, body)]
    assert reader.mode == MODE_V2_HELLO


def test_client_switches_to_tls_records_after_an_sslv2_hello() -> None:
    body = bytes.fromhex("01 0301 0003 0000 0010 00002f".replace(" ", "")) + bytes(16)
    reader = RecordReader(True)
    reader.feed(bytes([0x80, len(body)]) + body + HANDSHAKE)
    assert [t for t, _, _ in drain(reader)] == [CT_SSLV2, 22]
    assert reader.mode == MODE_TLS


def test_sslv2_framing_from_a_server_is_only_a_server_hello() -> None:
    reader = RecordReader(False)
    reader.feed(bytes.fromhex("8003010002"))  # a CLIENT-HELLO type from the server
    assert drain(reader) == []
    assert reader.error == TlsAnomaly.UNKNOWN_CONTENT_TYPE


def test_sslv2_three_byte_header_in_an_sslv2_session() -> None:
    reader = RecordReader(False)
    hello = bytes.fromhex("04 00 01 0002 0000 0000 0000".replace(" ", ""))
    reader.feed(bytes([0x80, len(hello)]) + hello + bytes([0x00, 0x04, 0x02]) + b"abcd")
    assert drain(reader) == [(CT_SSLV2, 0x0002, hello), (CT_SSLV2, 0x0002, b"abcd")]
