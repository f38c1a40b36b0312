"""QUIC Initials (RFC 9000/9001, v2 RFC 9369): the TLS handshake of a QUIC connection, sans-IO; see docs/udp.md."""
