"""The frames of a decrypted Initial packet (RFC 9000 §19, §12.4): CRYPTO data out, the rest read and dropped.

Theory of operation: :func:`initial_frames` walks the plaintext once. An Initial may carry only PADDING, PING,
ACK, CRYPTO and CONNECTION_CLOSE (type 0x1c; RFC 9000 §12.4, Table 3); any other type stops the walk (its
length is unknown without its grammar) with :data:`~tlsmon.quic.anomalies.QuicAnomaly.UNEXPECTED_FRAME`, and a
frame that runs past the payload stops it with ``MALFORMED_FRAME``; what was read before stays. Runs of PADDING
are skipped in one step, since a client pads every Initial datagram to 1200 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tlsmon.quic.anomalies import QuicAnomaly
from tlsmon.quic.packet import read_varint

PADDING = 0x00
PING = 0x01
ACK = 0x02
ACK_ECN = 0x03
CRYPTO = 0x06
CONNECTION_CLOSE = 0x1C
CONNECTION_CLOSE_APP = 0x1D


@dataclass(slots=True)
class InitialFrames:
    #: (offset, data) of each CRYPTO frame, in packet order
    crypto: list[tuple[int, bytes]] = field(default_factory=list)
    #: error code of a CONNECTION_CLOSE frame (0x0100 + a TLS alert for a handshake failure, RFC 9001 §4.8)
    close_error_code: int | None = None
    ack_eliciting: bool = False
    anomaly: QuicAnomaly | None = None


def initial_frames(payload: bytes) -> InitialFrames:
    """The frames of one Initial packet's plaintext payload; never raises."""
    out = InitialFrames()
    pos = 0
    end = len(payload)
    try:
        while pos < end:
            frame_type = payload[pos]
            if frame_type == PADDING:
                stripped = len(payload[pos:].lstrip(b"\x00"))
                pos = end - stripped
                continue
            frame_type, pos = read_varint(payload, pos, end)
            if frame_type == PING:
                out.ack_eliciting = True
            elif frame_type in (ACK, ACK_ECN):
                pos = _skip_ack(payload, pos, end, frame_type == ACK_ECN)
            elif frame_type == CRYPTO:
                offset, pos = read_varint(payload, pos, end)
                length, pos = read_varint(payload, pos, end)
                if pos + length > end:
                    raise ValueError("CRYPTO data out of bounds")
                out.crypto.append((offset, payload[pos : pos + length]))
                pos += length
                out.ack_eliciting = True
            elif frame_type in (CONNECTION_CLOSE, CONNECTION_CLOSE_APP):
                code, pos = read_varint(payload, pos, end)
                if frame_type == CONNECTION_CLOSE:
                    _, pos = read_varint(payload, pos, end)  # the frame type that caused it
                reason_length, pos = read_varint(payload, pos, end)
                if pos + reason_length > end:
                    raise ValueError("reason phrase out of bounds")
                pos += reason_length  # the reason phrase is free text: not kept
                out.close_error_code = code
            else:
                out.anomaly = QuicAnomaly.UNEXPECTED_FRAME
                return out
    except ValueError:
        out.anomaly = QuicAnomaly.MALFORMED_FRAME
    return out


def _skip_ack(payload: bytes, pos: int, end: int, ecn: bool) -> int:
    _, pos = read_varint(payload, pos, end)  # largest acknowledged
    _, pos = read_varint(payload, pos, end)  # ack delay
    ranges, pos = read_varint(payload, pos, end)
    _, pos = read_varint(payload, pos, end)  # first range
    if ranges > end - pos:  # each range is at least two bytes: a count past that is damage, not a long walk
        raise ValueError("ACK range count out of bounds")
    for _ in range(2 * ranges):
        _, pos = read_varint(payload, pos, end)
    if ecn:
        for _ in range(3):
            _, pos = read_varint(payload, pos, end)
    return pos
