"""DTLS 1.0/1.2 (RFC 4347, RFC 6347) and DTLS 1.3's record headers (RFC 9147), sans-IO; see docs/udp.md."""
