"""The flow table's configuration (timeouts and bounds of the TCP tracker and its UDP flow table, in one
dataclass both engines take) and its figures. Light to import: a native read makes its tracker before the rest
loads."""

from __future__ import annotations

from dataclasses import dataclass, field

SECOND_NS = 1_000_000_000

#: Zeek's udp_inactivity_timeout
DEFAULT_UDP_IDLE_TIMEOUT_NS = 60 * SECOND_NS


@dataclass(slots=True)
class TrackerConfig:
    idle_timeout_ns: int = 300 * SECOND_NS  # Zeek's tcp_inactivity_timeout is 5 min
    linger_ns: int = 5 * SECOND_NS  # how long a closed connection still absorbs its stray packets
    max_connections: int = 1_000_000
    max_buffered_per_direction: int = 256 * 1024
    max_buffered_total: int = 256 * 2**20  # out-of-order bytes held across all connections
    sweep_interval_ns: int = 10 * SECOND_NS  # packet-time interval between idle sweeps
    check_every_packets: int = 16384  # how often the loop looks at the clock (sweeps, progress)
    interim_interval_ns: int | None = None  # interim record of an open connection at each multiple of its age
    udp_idle_timeout_ns: int = DEFAULT_UDP_IDLE_TIMEOUT_NS  # a UDP flow ends after this long without a datagram


@dataclass(slots=True)
class TrackerStats:
    packets: int = 0  # frames handed to the tracker
    tcp_packets: int = 0  # frames that decoded to a TCP segment
    connections: int = 0  # connections created
    evicted: int = 0  # connections removed early to respect max_connections
    evicted_packets: int = 0  # packets of evicted connections, counted on their tombstones
    buffer_cap_flushes: int = 0  # directions flushed early to respect max_buffered_total
    bypassed_packets: int = 0
    counters: dict[str, int] = field(default_factory=dict)
