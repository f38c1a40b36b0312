"""Named anomalies of the UDP flow table: what it notes about a flow's paths, never an exception.

Each name is ``udp.snake_case``, is never renamed or reused, and says what was seen.
"""

from __future__ import annotations

from enum import StrEnum


class UdpAnomaly(StrEnum):
    #: a QUIC flow followed by connection ID to a 4-tuple whose addresses (not only ports) differ from its first
    #: one's: a client that moved networks, a NAT that changed its public address, or a server's preferred address
    QUIC_ADDRESS_CHANGED = "udp.quic_address_changed"
