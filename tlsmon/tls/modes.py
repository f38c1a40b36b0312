"""How a connection carried TLS: the values of the ``tls_mode`` column, one set for every dispatcher."""

from __future__ import annotations

TLS_MODE_NONE = "none"  # no TLS seen
TLS_MODE_IMPLICIT = "implicit"  # TLS from the first byte (or QUIC, DTLS)
TLS_MODE_STARTTLS = "starttls"  # after a plaintext protocol's upgrade
