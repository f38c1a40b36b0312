"""Named anomalies of the DTLS stage: bad datagrams become one of these strings, never an exception.

Each name is ``dtls.snake_case``, is never renamed or reused, and notes the RFC rule or limit it enforces.
"""

from __future__ import annotations

from enum import StrEnum


class DtlsAnomaly(StrEnum):
    #: a record header or body that runs past the datagram (RFC 6347 §4.1); the rest of the datagram is skipped
    MALFORMED_RECORD = "dtls.malformed_record"
    #: a record whose version's major byte is not 0xfe, or whose content type is unknown; rest of datagram skipped
    BAD_RECORD = "dtls.bad_record"
    #: a handshake fragment shorter than its 12-byte header, or whose offset + length exceed the message length
    #: (RFC 6347 §4.2.2); the fragment is dropped
    MALFORMED_FRAGMENT = "dtls.malformed_fragment"
    #: fragments of one message_seq disagree on type or length (RFC 6347 §4.2.3); the fragment is dropped
    INCONSISTENT_FRAGMENT = "dtls.inconsistent_fragment"
    #: a fragmented handshake message longer than Limits.max_dtls_reassembly_bytes; it is not reassembled
    HANDSHAKE_TOO_LONG = "dtls.handshake_too_long"
    #: a fragmented message that does not fit in Limits.max_dtls_reassembly_bytes beside the messages already
    #: waiting for fragments; its fragment is dropped
    REASSEMBLY_BUFFER_FULL = "dtls.reassembly_buffer_full"
    #: more than Limits.max_dtls_pending_messages messages of one direction incomplete at once; the new one is
    #: dropped
    TOO_MANY_PENDING_MESSAGES = "dtls.too_many_pending_messages"
    #: more than Limits.max_anomalies anomalies on the flow; later ones are counted, not listed
    TOO_MANY_ANOMALIES = "dtls.too_many_anomalies"
