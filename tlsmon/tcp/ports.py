"""Ports whose owner is taken to be the server when a connection is picked up without its SYN."""

from __future__ import annotations

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
