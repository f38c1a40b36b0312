"""DTLS records of one datagram (RFC 6347 §4.1, RFC 9147 §4): a datagram -> its records, nothing decrypted.

Theory of operation: a datagram holds whole records, never part of one (RFC 6347 §4.1.1), so records are
read straight from it with no buffering. A DTLS 1.0/1.2 header is 13 bytes: content type, version (major
0xfe), epoch (16 bits), sequence number (48 bits) and length. DTLS 1.3 protects its records with a *unified
header* (RFC 9147 §4, first byte ``001CSLEE``): a connection ID whose length only the peers know (C), an 8- or
16-bit sequence number (S), an optional length (L) and the epoch's low bits (EE); such a record is returned as
:data:`UNIFIED` with the epoch bits, and one without a length, or with a connection ID, runs to the
datagram's end. A DTLS 1.2 record of content type 25 (tls12_cid, RFC 9146) also has a connection ID of
unknown length: it too takes the rest of the datagram. Damage (a header or body past the datagram's end, a
version that is not DTLS) ends the walk with the records read so far and a named anomaly.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from tlsmon.dtls.anomalies import DtlsAnomaly

HEADER_LEN = 13
#: pseudo content type of a DTLS 1.3 unified-header record (outside the one-byte range)
UNIFIED = 0x100
CT_TLS12_CID = 25
CT_ACK = 26
_CONTENT_TYPES = frozenset({20, 21, 22, 23, 24, CT_TLS12_CID, CT_ACK})
_DTLS_VERSIONS = frozenset({0xFEFF, 0xFEFD, 0xFEFC, 0x0100})  # 0x0100: OpenSSL's pre-RFC DTLS 1.0 (DTLS1_BAD_VER)
_HEADER = struct.Struct(">BHHHIH")


@dataclass(slots=True)
class DtlsRecord:
    content_type: int
    version: int
    epoch: int
    sequence: int
    body: bytes


def split_records(datagram: bytes) -> tuple[list[DtlsRecord], DtlsAnomaly | None]:
    """The datagram's records in order, and the anomaly that stopped the walk (None if it reached the end)."""
    records: list[DtlsRecord] = []
    pos = 0
    end = len(datagram)
    while pos < end:
        first = datagram[pos]
        if first & 0xE0 == 0x20:
            record, pos = _unified(datagram, pos, end)
            if record is None:
                return records, DtlsAnomaly.MALFORMED_RECORD
            records.append(record)
            continue
        if pos + HEADER_LEN > end:
            return records, DtlsAnomaly.MALFORMED_RECORD
        content_type, version, epoch, seq_high, seq_low, length = _HEADER.unpack_from(datagram, pos)
        if content_type not in _CONTENT_TYPES or version not in _DTLS_VERSIONS:
            return records, DtlsAnomaly.BAD_RECORD
        start = pos + HEADER_LEN
        if content_type == CT_TLS12_CID:
            records.append(DtlsRecord(content_type, version, epoch, (seq_high << 32) | seq_low, datagram[start:end]))
            break
        pos = start + length
        if pos > end:
            return records, DtlsAnomaly.MALFORMED_RECORD
        records.append(DtlsRecord(content_type, version, epoch, (seq_high << 32) | seq_low, datagram[start:pos]))
    return records, None


def _unified(datagram: bytes, pos: int, end: int) -> tuple[DtlsRecord | None, int]:
    first = datagram[pos]
    epoch_bits = first & 0x03
    off = pos + 1
    if first & 0x10:  # C: a connection ID of a length only the peers know: the rest is this record
        return DtlsRecord(UNIFIED, 0xFEFC, epoch_bits, -1, datagram[off:end]), end
    seq_len = 2 if first & 0x08 else 1
    if off + seq_len > end:
        return None, end
    sequence = int.from_bytes(datagram[off : off + seq_len], "big")  # still encrypted (RFC 9147 §4.2.3)
    off += seq_len
    if first & 0x04:
        if off + 2 > end:
            return None, end
        length = int.from_bytes(datagram[off : off + 2], "big")
        off += 2
        if off + length > end:
            return None, end
        return DtlsRecord(UNIFIED, 0xFEFC, epoch_bits, sequence, datagram[off : off + length]), off + length
    return DtlsRecord(UNIFIED, 0xFEFC, epoch_bits, sequence, datagram[off:end]), end
