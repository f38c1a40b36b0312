"""The compiled core's flow table as the native engine uses it: how it is made from the run's configuration,
and the kinds of event it returns (native/src/python/tcp.rs). Light to import: a native ``read`` makes its
tracker before pyarrow and the engine load (:mod:`tlsmon.readahead`)."""

from __future__ import annotations

from tlsmon import _native
from tlsmon.limits import Limits
from tlsmon.tcp.ports import SERVICE_PORTS
from tlsmon.tcp.tracker_config import TrackerConfig

#: Reading natively, a crossing returns once this many events wait: the fewer, the sooner Python's verdict
#: "finished" stops the tracker reassembling a connection (measured on bench/'s bulk workload: see
#: docs/performance.md).
DEFAULT_MAX_EVENTS = 64

#: An event: ``(connection id, epoch, kind, is_orig, value)``.
Event = tuple[int, int, int, bool, object]

# Event kinds.
DATA = 0
GAP = 1
ANOMALY = 2
CONN_ANOMALY = 3
END = 4
OPEN = 5
INTERIM = 6
OPEN_UDP = 7  # value: the responder's port
DATAGRAM = 8  # value: (ts, payload) of one whole UDP datagram
# A natively analyzed TLS connection's end / interim record. Value: (facts, TLS summary fields, transport
# anomalies, TLS anomalies, originator's missed bytes, responder's missed bytes).
TLS_END = 9
TLS_INTERIM = 10
# The row of a natively analyzed connection stays native (the sink takes Arrow batches): the marker says where
# it is numbered. Value: None, or what its certificate columns need (tlsmon.records.native_rows.X509Inputs).
TLS_ROW = 11


def tls_limits(limits: Limits) -> tuple[int, int, int, int]:
    """The TLS fields of ``limits``, as the tracker takes them."""
    return (
        limits.max_certificates_per_chain,
        limits.max_certificates_per_connection,
        limits.max_alerts,
        limits.max_anomalies,
    )


def make_tracker(config: TrackerConfig, limits: Limits, native_tls: bool, native_rows: bool) -> _native.Tracker:
    """The tracker of a run: TLS analyzed natively (``native_tls``), its rows kept as columns (``native_rows``,
    for a sink that takes Arrow batches)."""
    c = config
    return _native.Tracker(
        c.idle_timeout_ns,
        c.linger_ns,
        c.max_connections,
        c.max_buffered_per_direction,
        c.max_buffered_total,
        c.sweep_interval_ns,
        c.check_every_packets,
        sorted(SERVICE_PORTS),
        c.interim_interval_ns,
        c.udp_idle_timeout_ns,
        tls_limits(limits) if native_tls else None,
        native_rows=native_rows,
    )
