"""Named anomalies of the TLS stage: bad traffic becomes one of these strings, never an exception.

Each name is ``tls.snake_case``, is never renamed or reused, and notes the limit or RFC rule it enforces.
"""

from __future__ import annotations

from enum import StrEnum


class TlsAnomaly(StrEnum):
    #: a record longer than 2^14 + 2048 bytes (RFC 5246 §6.2.3, largest TLSCiphertext); direction stops
    RECORD_TOO_LONG = "tls.record_too_long"
    #: a content type outside 20..24 (RFC 8446 §5.1, RFC 6520), or bytes that are no record; direction stops
    UNKNOWN_CONTENT_TYPE = "tls.unknown_content_type"
    #: a record version whose major byte is not 3 (or minor > 4): the stream is out of sync; direction stops
    BAD_RECORD_VERSION = "tls.bad_record_version"
    #: a handshake message longer than MAX_HANDSHAKE_MESSAGE (1 MiB); that direction stops
    HANDSHAKE_TOO_LONG = "tls.handshake_too_long"
    #: TCP reported missing bytes while the direction was still in plaintext handshake; that direction stops
    GAP_IN_HANDSHAKE = "tls.gap_in_handshake"
    #: a ClientHello that does not follow RFC 8446 §4.1.2 / RFC 5246 §7.4.1.2
    MALFORMED_CLIENT_HELLO = "tls.malformed_client_hello"
    #: a ServerHello that does not follow RFC 8446 §4.1.3 / RFC 5246 §7.4.1.3
    MALFORMED_SERVER_HELLO = "tls.malformed_server_hello"
    #: an SSLv2 CLIENT-HELLO whose lengths do not add up (draft-hickman-netscape-ssl-00 §2.5)
    MALFORMED_SSLV2_CLIENT_HELLO = "tls.malformed_sslv2_client_hello"
    #: an SSLv2 SERVER-HELLO whose lengths do not add up (draft-hickman-netscape-ssl-00 §2.6)
    MALFORMED_SSLV2_SERVER_HELLO = "tls.malformed_sslv2_server_hello"
    #: one extension's body does not match its type's syntax; the hello is kept, that extension is not decoded
    MALFORMED_EXTENSION = "tls.malformed_extension"
    #: a ServerHello whose extension block's lengths do not add up; its version and cipher are kept
    MALFORMED_EXTENSION_BLOCK = "tls.malformed_extension_block"
    #: a Certificate message that is not a valid certificate_list (RFC 5246 §7.4.2, RFC 8446 §4.4.2)
    MALFORMED_CERTIFICATE = "tls.malformed_certificate"
    #: a ServerKeyExchange whose DH/EC parameters cannot be read (RFC 5246 §7.4.3, RFC 8422 §5.4)
    MALFORMED_SERVER_KEY_EXCHANGE = "tls.malformed_server_key_exchange"
    #: a CertificateRequest that is not valid (RFC 5246 §7.4.4)
    MALFORMED_CERTIFICATE_REQUEST = "tls.malformed_certificate_request"
    #: a CertificateStatus that is not valid (RFC 6066 §8)
    MALFORMED_CERTIFICATE_STATUS = "tls.malformed_certificate_status"
    #: a NewSessionTicket that is not valid (RFC 5077 §3.3)
    MALFORMED_NEW_SESSION_TICKET = "tls.malformed_new_session_ticket"
    #: an alert record whose length is not a multiple of 2 (RFC 5246 §7.2)
    MALFORMED_ALERT = "tls.malformed_alert"
    #: a ChangeCipherSpec record other than the single byte 1 (RFC 5246 §7.1)
    MALFORMED_CHANGE_CIPHER_SPEC = "tls.malformed_change_cipher_spec"
    #: ssl_history reached Zeek's max_ssl_history_length (100); later letters are dropped
    HISTORY_TOO_LONG = "tls.ssl_history_too_long"
    #: the fingerprint functions raised on this hello; the fingerprint columns stay empty
    FINGERPRINT_FAILED = "tls.fingerprint_failed"
