"""An address as the rows write it: dotted IPv4, RFC 5952 text for IPv6."""

from __future__ import annotations

import socket


def format_address(addr: int | bytes) -> str:
    """``192.0.2.1`` for an IPv4 int, the compressed text form (RFC 5952) for 16 IPv6 bytes."""
    if isinstance(addr, int):
        return socket.inet_ntoa(addr.to_bytes(4, "big"))
    return socket.inet_ntop(socket.AF_INET6, addr)
