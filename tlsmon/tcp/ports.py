"""Ports whose owner is taken to be the server when a connection is picked up without its SYN."""

from __future__ import annotations

_SYN = 0x02
_ACK = 0x10

# Well-known ports (< 1024) plus registered service ports the study's protocols and TLS use above 1023.
_SERVICE_PORTS_ABOVE_1023 = frozenset(
    {
        1433,
        1521,
        2049,
        2083,
        2087,
        3128,
        3306,
        3389,
        4190,
        5060,
        5061,
        5222,
        5223,
        5269,
        5270,
        5432,
        5671,
        5672,
        6379,
        6443,
        6667,
        6697,
        8008,
        8080,
        8443,
        8883,
        9000,
        9090,
        9200,
        9443,
        27017,
    }
)


# Every service port, for the native tracker (which takes them as a list once).
SERVICE_PORTS = frozenset(range(1024)) | _SERVICE_PORTS_ABOVE_1023


def is_service_port(port: int) -> bool:
    return port < 1024 or port in _SERVICE_PORTS_ABOVE_1023


def sender_is_originator(flags: int, sport: int, dport: int) -> bool:
    """Is a new connection's first packet from its originator? The sender of a SYN without ACK is, the sender of
    a SYN-ACK is not; otherwise (picked up mid-stream, or UDP: ``flags`` 0) the side sending to the service port
    is, and on a tie the sender (as Zeek guesses)."""
    syn_ack = flags & (_SYN | _ACK)
    if syn_ack == _SYN:
        return True
    if syn_ack == _SYN | _ACK:
        return False
    dport_service = is_service_port(dport)
    sport_service = is_service_port(sport)
    if dport_service != sport_service:
        return dport_service
    return True
