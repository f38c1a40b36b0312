"""Named anomalies of the QUIC stage: bad or unreadable packets become one of these strings, never an exception.

Each name is ``quic.snake_case``, is never renamed or reused, and notes the RFC rule or limit it enforces.
"""

from __future__ import annotations

from enum import StrEnum


class QuicAnomaly(StrEnum):
    #: a long-header packet whose fields run past the datagram (RFC 9000 §17.2); the rest of the datagram is skipped
    MALFORMED_PACKET = "quic.malformed_packet"
    #: a connection ID longer than 20 bytes in a QUIC v1/v2 long header (RFC 9000 §17.2)
    CONNECTION_ID_TOO_LONG = "quic.connection_id_too_long"
    #: an Initial whose header protection or AEAD did not verify with the Initial keys (RFC 9001 §5.2, §5.3)
    UNDECRYPTABLE_INITIAL = "quic.undecryptable_initial"
    #: a decrypted Initial whose frames do not parse (RFC 9000 §19); the frames before the damage are kept
    MALFORMED_FRAME = "quic.malformed_frame"
    #: a frame type not allowed in an Initial packet (RFC 9000 §12.4, Table 3); the rest of the packet is skipped
    UNEXPECTED_FRAME = "quic.unexpected_frame"
    #: CRYPTO data past Limits.max_quic_crypto_bytes of stream offset; that part of the frame is dropped
    CRYPTO_BUFFER_FULL = "quic.crypto_buffer_full"
    #: a long-header version this parser has no Initial salt for; the packet is counted, not decrypted
    UNKNOWN_VERSION = "quic.unknown_version"
    #: more than Limits.max_anomalies anomalies on the flow; later ones are counted, not listed
    TOO_MANY_ANOMALIES = "quic.too_many_anomalies"
