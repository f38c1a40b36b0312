"""Shared packets for the decode tests, built with scapy (tests only) so the bytes are real."""

from __future__ import annotations

import socket
import struct
from typing import Any

from scapy.layers.inet import IP, TCP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Packet

SRC4 = "192.0.2.1"
DST4 = "198.51.100.2"
SRC4_INT = 0xC0000201
DST4_INT = 0xC6336402
SRC6 = "2001:db8::1"
DST6 = "2001:db8:0:1::2"
SRC6_BYTES = socket.inet_pton(socket.AF_INET6, SRC6)
DST6_BYTES = socket.inet_pton(socket.AF_INET6, DST6)
PAYLOAD = b"\x16\x03\x01\x00\x05hello"
ETH = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def tcp(payload: bytes = PAYLOAD, **fields: Any) -> Packet:
    """A client → server TLS-port segment; PSH|ACK with seq 1000, ack 2000 unless overridden."""
    values: dict[str, Any] = {"sport": 50123, "dport": 443, "flags": "PA", "seq": 1000, "ack": 2000}
    values.update(fields)
    return TCP(**values) / payload


def ip4(**fields: Any) -> Packet:
    return IP(src=SRC4, dst=DST4, **fields)


def ip6(**fields: Any) -> Packet:
    return IPv6(src=SRC6, dst=DST6, **fields)


def expected4(
    frame: bytes | None, poff: int, payload: bytes = PAYLOAD, vlan: int | None = None
) -> tuple[object, ...]:
    """The Decoded tuple of tcp() over ip4(), with the payload at ``poff`` of ``frame``."""
    return (4, SRC4_INT, DST4_INT, 50123, 443, 0x18, 1000, 2000, frame, poff, len(payload), vlan)


def expected6(
    frame: bytes | None, poff: int, payload: bytes = PAYLOAD, vlan: int | None = None
) -> tuple[object, ...]:
    return (6, SRC6_BYTES, DST6_BYTES, 50123, 443, 0x18, 1000, 2000, frame, poff, len(payload), vlan)


def bsd_af(family: int, order: str) -> bytes:
    return struct.pack(order + "I", family)
