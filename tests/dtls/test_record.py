"""DTLS records of one datagram (RFC 6347 §4.1, RFC 9147 §4, RFC 9146)."""

from __future__ import annotations

from tlsmon.dtls.anomalies import DtlsAnomaly
from tlsmon.dtls.record import UNIFIED, split_records


def _record(content_type: int, epoch: int, sequence: int, body: bytes, version: int = 0xFEFD) -> bytes:
    return (
        bytes([content_type])
        + version.to_bytes(2, "big")
        + epoch.to_bytes(2, "big")
        + sequence.to_bytes(6, "big")
        + len(body).to_bytes(2, "big")
        + body
    )


def test_several_records_in_one_datagram_with_epoch_and_48_bit_sequence() -> None:
    datagram = _record(22, 0, 5, b"hello") + _record(20, 0, 6, b"\x01") + _record(23, 1, 0xABCDEF012345, b"xyz")
    records, anomaly = split_records(datagram)
    assert anomaly is None
    assert [(r.content_type, r.version, r.epoch, r.sequence, r.body) for r in records] == [
        (22, 0xFEFD, 0, 5, b"hello"),
        (20, 0xFEFD, 0, 6, b"\x01"),
        (23, 0xFEFD, 1, 0xABCDEF012345, b"xyz"),
    ]


def test_a_record_longer_than_the_datagram_is_malformed_and_ends_the_walk() -> None:
    records, anomaly = split_records(_record(22, 0, 0, b"abc") + _record(22, 0, 1, b"defg")[:-1])
    assert ([r.body for r in records], anomaly) == ([b"abc"], DtlsAnomaly.MALFORMED_RECORD)


def test_a_tls_version_or_unknown_content_type_is_a_bad_record() -> None:
    assert split_records(_record(22, 0, 0, b"x", version=0x0303)) == ([], DtlsAnomaly.BAD_RECORD)
    assert split_records(_record(99, 0, 0, b"x")) == ([], DtlsAnomaly.BAD_RECORD)


def test_unified_header_with_16_bit_sequence_and_length() -> None:
    # 001 C=0 S=1 L=1 EE=11: epoch 3, sequence 0x1234, length 2
    datagram = bytes.fromhex("2f12340002aabb") + _record(21, 0, 1, b"\x01\x00")
    records, anomaly = split_records(datagram)
    assert anomaly is None
    assert [(r.content_type, r.epoch, r.sequence, r.body.hex()) for r in records] == [
        (UNIFIED, 3, 0x1234, "aabb"),
        (21, 0, 1, "0100"),
    ]


def test_unified_header_without_length_runs_to_the_end() -> None:
    (record,), anomaly = split_records(bytes.fromhex("2207deadbeef"))
    assert anomaly is None and (record.epoch, record.sequence, record.body.hex()) == (2, 7, "deadbeef")


def test_unified_header_with_a_connection_id_runs_to_the_end() -> None:
    (record,), anomaly = split_records(bytes.fromhex("3e0102030405"))
    assert anomaly is None and (record.content_type, record.sequence, record.body.hex()) == (UNIFIED, -1, "0102030405")


def test_a_tls12_cid_record_takes_the_rest_of_the_datagram() -> None:
    (record,), anomaly = split_records(_record(25, 1, 9, b"") + b"cid-and-ciphertext")
    assert anomaly is None and (record.content_type, record.epoch, record.body) == (25, 1, b"cid-and-ciphertext")
