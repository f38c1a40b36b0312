"""Prometheus metrics of ``tlsmon live``, served by the process that started the workers.

Theory of operation. Each worker sends a :class:`MetricsSnapshot` of its cumulative figures about once a
second: with one worker it is handed to the collector in the same process; with several, each worker writes
it to a pipe that the parent reads (``multiprocessing`` connections, pickled), so no metric state is shared
between processes and prometheus_client's multiprocess mode (files in a shared directory, cleanup on restart)
is not needed. :class:`LiveCollector` keeps the latest snapshot of each worker and turns them into metric
families at scrape time, one series per worker (label ``worker``); sum them in PromQL for the whole monitor.
Kernel interface drops are the interface's figure in every worker (see ``capture/live.py``): take ``max``,
not ``sum``.

The HTTP socket is bound by :meth:`MetricsServer.__init__` (before privileges are dropped, so a port below
1024 works) and served by a thread started later with :meth:`MetricsServer.start` (after the workers are
forked: no thread is running when a process forks).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.exposition import ThreadingWSGIServer, make_wsgi_app
from prometheus_client.registry import Collector, CollectorRegistry

from tlsmon.live.counting import LiveCounters


@dataclass(slots=True)
class MetricsSnapshot:
    """A worker's cumulative figures at one moment (all counters since the worker started)."""

    worker: int
    counters: LiveCounters = field(default_factory=LiveCounters)
    active_connections: int = 0
    flushes: int = 0  # file rotations (each writes the interval's files)
    flush_seconds: float = 0.0  # time spent in them
    last_flush_seconds: float = 0.0
    capture_lag_seconds: float = 0.0  # wall clock minus the newest packet's timestamp after the last batch


class LiveCollector(Collector):
    """The latest snapshot of each worker, as Prometheus metric families."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshots: dict[int, MetricsSnapshot] = {}

    def update(self, snapshot: MetricsSnapshot) -> None:
        with self._lock:
            self._snapshots[snapshot.worker] = snapshot

    def snapshots(self) -> list[MetricsSnapshot]:
        with self._lock:
            return [self._snapshots[w] for w in sorted(self._snapshots)]

    def collect(self) -> Iterator[Metric]:
        snaps = self.snapshots()
        counters: list[tuple[str, str, str]] = [
            ("tlsmon_packets", "Frames read from the interface and analysed", "packets"),
            ("tlsmon_bytes", "Captured bytes of those frames", "bytes"),
            ("tlsmon_kernel_received_packets", "pcap_stats ps_recv: packets passed to the socket, drops included",
             "kernel_received"),
            ("tlsmon_kernel_dropped_packets", "pcap_stats ps_drop: packets dropped for lack of buffer space",
             "kernel_dropped"),
            ("tlsmon_interface_dropped_packets", "pcap_stats ps_ifdrop: the interface's drops (same in every "
             "worker: use max, not sum)", "interface_dropped"),
            ("tlsmon_connections", "Final connection records written", "connections"),
            ("tlsmon_interim_records", "Interim records written for connections still open", "interim_records"),
            ("tlsmon_tls_connections", "Final connection records with a TLS handshake", "tls_connections"),
            ("tlsmon_connections_with_gaps", "Final records with missed bytes", "connections_with_gaps"),
            ("tlsmon_missed_bytes", "Stream bytes never seen, summed over final records", "missed_bytes"),
        ]
        for name, doc, attr in counters:
            family = CounterMetricFamily(name, doc, labels=["worker"])
            for s in snaps:
                family.add_metric([str(s.worker)], getattr(s.counters, attr))
            yield family
        versions = CounterMetricFamily(
            "tlsmon_tls_handshakes", "Final records with a TLS handshake, by negotiated version",
            labels=["worker", "version"],
        )
        anomalies = CounterMetricFamily(
            "tlsmon_anomalies", "Named anomalies on final records", labels=["worker", "name"]
        )
        for s in snaps:
            for version, n in sorted(s.counters.versions.items()):
                versions.add_metric([str(s.worker), version], n)
            for name, n in sorted(s.counters.anomaly_names.items()):
                anomalies.add_metric([str(s.worker), name], n)
        yield versions
        yield anomalies
        active = GaugeMetricFamily("tlsmon_active_connections", "Connections in the table", labels=["worker"])
        lag = GaugeMetricFamily(
            "tlsmon_capture_lag_seconds", "Wall clock minus the newest analysed packet's timestamp after the "
            "last batch (how far analysis runs behind the wire)", labels=["worker"],
        )
        last_flush = GaugeMetricFamily(
            "tlsmon_last_flush_seconds", "Duration of the last file rotation", labels=["worker"]
        )
        flush = SummaryMetricFamily("tlsmon_flush_seconds", "File rotations and their duration", labels=["worker"])
        for s in snaps:
            w = [str(s.worker)]
            active.add_metric(w, s.active_connections)
            lag.add_metric(w, s.capture_lag_seconds)
            last_flush.add_metric(w, s.last_flush_seconds)
            flush.add_metric(w, count_value=s.flushes, sum_value=s.flush_seconds)
        yield active
        yield lag
        yield last_flush
        yield flush


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Scrapes are not logged."""


class MetricsServer:
    """An HTTP endpoint for one collector; bound at construction, served after :meth:`start`."""

    def __init__(self, address: str, port: int, collector: Collector) -> None:
        registry = CollectorRegistry()
        registry.register(collector)
        self._server = make_server(
            address, port, make_wsgi_app(registry), ThreadingWSGIServer, handler_class=_QuietHandler
        )
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics", daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
