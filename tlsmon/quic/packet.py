"""QUIC long headers (RFC 9000 §17.2, RFC 9369 §3.2): one datagram -> its coalesced packets, nothing decrypted.

Theory of operation: a datagram holds one or more packets (RFC 9000 §12.2). A long header's first byte says
long form (0x80) and type; the version decides what the type bits mean (v2 rotates them: RFC 9369 §3.2). Initial,
0-RTT and Handshake packets carry a Length field, so the next coalesced packet starts right after; a Retry, a
Version Negotiation packet (version 0) or a short-header packet runs to the end of the datagram. The header
fields that header protection covers (the low bits of the first byte and the packet number) are left to
``protection.py``; :func:`split_datagram` only delimits packets and reads the clear fields, in one pass over
the datagram, with each length checked against the datagram's end.

Connection IDs (what a flow table keys QUIC on besides addresses): every long header carries both the
Destination and the Source Connection ID with their lengths; a short header carries only the Destination
Connection ID, with no length (its length is the one its receiver chose, i.e. the SCID that endpoint put in
its long headers). :func:`connection_ids` returns the IDs of a datagram's long headers; docs/udp.md says how a
flow table uses them.
"""

from __future__ import annotations

from dataclasses import dataclass

from tlsmon.quic.anomalies import QuicAnomaly

VERSION_NEGOTIATION = 0x00000000
QUIC_V1 = 0x00000001
QUIC_V2 = 0x6B3343CF
#: IETF drafts 29..32 share draft-29's salt and labels (draft-ietf-quic-tls-29 §5.2)
QUIC_DRAFTS = frozenset(range(0xFF00001D, 0xFF000021))

# packet types, named as in RFC 9000 §17.2 (the values are tlsmon's; the wire bits depend on the version)
INITIAL = "initial"
ZERO_RTT = "0rtt"
HANDSHAKE = "handshake"
RETRY = "retry"
VERSION_NEG = "version_negotiation"
SHORT = "short"
UNKNOWN = "unknown"

_V1_TYPES = (INITIAL, ZERO_RTT, HANDSHAKE, RETRY)
_V2_TYPES = (RETRY, INITIAL, ZERO_RTT, HANDSHAKE)  # RFC 9369 §3.2
#: RFC 9000 §17.2: a v1 connection ID is at most 20 bytes (a future version may allow 255)
MAX_CID_LENGTH = 20


def read_varint(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """RFC 9000 §16 variable-length integer at ``pos``: (value, next position); ValueError past ``end``."""
    if pos >= end:
        raise ValueError("varint out of bounds")
    first = data[pos]
    size = 1 << (first >> 6)
    stop = pos + size
    if stop > end:
        raise ValueError("varint out of bounds")
    value = first & 0x3F
    for i in range(pos + 1, stop):
        value = (value << 8) | data[i]
    return value, stop


@dataclass(slots=True)
class Packet:
    """One packet of a datagram. ``start``/``end`` delimit it in the datagram; ``pn_offset`` is where the
    (protected) packet number starts in Initial, 0-RTT and Handshake packets, else -1."""

    kind: str
    version: int
    dcid: bytes
    scid: bytes
    start: int
    end: int
    pn_offset: int = -1
    token: bytes = b""
    #: Version Negotiation: the versions the server lists (RFC 9000 §17.2.1)
    supported_versions: tuple[int, ...] = ()


def packet_kind(first: int, version: int) -> str:
    """The type of a long-header packet from its first byte and version."""
    if version == VERSION_NEGOTIATION:
        return VERSION_NEG
    bits = (first >> 4) & 0x03
    if version == QUIC_V2:
        return _V2_TYPES[bits]
    if version == QUIC_V1 or version in QUIC_DRAFTS:
        return _V1_TYPES[bits]
    return UNKNOWN


def split_datagram(datagram: bytes) -> tuple[list[Packet], QuicAnomaly | None]:
    """The datagram's packets in order, and the anomaly that stopped the walk (None if it reached the end).

    A short-header packet ends the walk as one :data:`SHORT` packet (its DCID is unknown here: empty).
    """
    packets: list[Packet] = []
    pos = 0
    end = len(datagram)
    while pos < end:
        first = datagram[pos]
        if not first & 0x80:
            packets.append(Packet(SHORT, 0, b"", b"", pos, end))
            return packets, None
        try:
            packet = _long_header(datagram, pos, end)
        except ValueError:
            return packets, QuicAnomaly.MALFORMED_PACKET
        if packet is None:
            return packets, QuicAnomaly.CONNECTION_ID_TOO_LONG
        packets.append(packet)
        pos = packet.end
        if pos < end and not any(datagram[pos:end]):
            break  # zero bytes after the last packet: padding added by the sender (RFC 9000 §14.1), not a packet
    return packets, None


def _long_header(data: bytes, pos: int, end: int) -> Packet | None:
    if pos + 7 > end:
        raise ValueError("long header out of bounds")
    first = data[pos]
    version = int.from_bytes(data[pos + 1 : pos + 5], "big")
    dcil = data[pos + 5]
    off = pos + 6
    if version != VERSION_NEGOTIATION and dcil > MAX_CID_LENGTH and packet_kind(first, version) != UNKNOWN:
        return None
    if off + dcil + 1 > end:
        raise ValueError("dcid out of bounds")
    dcid = data[off : off + dcil]
    off += dcil
    scil = data[off]
    off += 1
    if version != VERSION_NEGOTIATION and scil > MAX_CID_LENGTH and packet_kind(first, version) != UNKNOWN:
        return None
    if off + scil > end:
        raise ValueError("scid out of bounds")
    scid = data[off : off + scil]
    off += scil
    kind = packet_kind(first, version)
    if kind == VERSION_NEG:
        count = (end - off) // 4
        versions = tuple(int.from_bytes(data[off + 4 * i : off + 4 * i + 4], "big") for i in range(count))
        return Packet(kind, version, dcid, scid, pos, end, supported_versions=versions)
    if kind in (RETRY, UNKNOWN):
        # a Retry's token runs to the 16-byte integrity tag at the datagram's end (RFC 9000 §17.2.5); an unknown
        # version's layout is unknown, so it takes the rest of the datagram too
        token = data[off : max(off, end - 16)] if kind == RETRY else b""
        return Packet(kind, version, dcid, scid, pos, end, token=token)
    token = b""
    if kind == INITIAL:
        token_length, off = read_varint(data, off, end)
        if off + token_length > end:
            raise ValueError("token out of bounds")
        token = data[off : off + token_length]
        off += token_length
    length, off = read_varint(data, off, end)
    if off + length > end or length < 1:
        raise ValueError("payload out of bounds")
    return Packet(kind, version, dcid, scid, pos, off + length, pn_offset=off, token=token)


def connection_ids(datagram: bytes) -> list[bytes]:
    """The Destination and Source Connection IDs of the datagram's long-header packets, each once, in order.

    Empty for a datagram that starts with a short header (its DCID has no length on the wire). Never raises.
    """
    packets, _ = split_datagram(datagram)
    seen: list[bytes] = []
    for packet in packets:
        for cid in (packet.dcid, packet.scid):
            if cid and cid not in seen:
                seen.append(cid)
    return seen


def short_header_dcid(datagram: bytes, length: int) -> bytes | None:
    """The DCID of a short-header datagram whose receiver chose ``length``-byte IDs, or None if it is not one."""
    if not datagram or datagram[0] & 0x80 or len(datagram) < 1 + length:
        return None
    return datagram[1 : 1 + length]
