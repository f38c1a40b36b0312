"""Wires the stages for any packet source: frames → decode → TCP → dispatcher/TLS → records → a sink.

The engine is a library: the CLI's ``read``, live capture and batch conversion all build one and feed it
``(ts_ns, linktype, frame)`` tuples. It owns no files: records go to a :class:`RecordSink` (Parquet for the
CLI, memory for tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from tlsmon.consumer import StreamConsumer
from tlsmon.decode.packet import Decoder
from tlsmon.dispatch import Dispatcher
from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.recorder import Recorder, RecordSink, RunStats
from tlsmon.tcp.connection import END_EOF, Connection
from tlsmon.tcp.tracker import TcpTracker
from tlsmon.tcp.tracker_config import TrackerConfig
from tlsmon.udp.dispatcher import UdpDispatcher
from tlsmon.udp.flows import UdpFlow, UdpTracker

if TYPE_CHECKING:
    from tlsmon.x509.validate import Validator


class Engine(Recorder):
    """The pure-Python engine: the executable specification the native one is held equal to."""

    def __init__(
        self,
        sink: RecordSink,
        config: TrackerConfig | None = None,
        on_progress: Callable[[], None] | None = None,
        validator: Validator | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        super().__init__(sink, validator, limits)
        self.decoder = Decoder()
        config = config or TrackerConfig()
        self.udp = UdpTracker(
            self._new_udp_dispatcher, self._on_udp_close, config.max_connections, config.udp_idle_timeout_ns
        )
        self.tracker = TcpTracker(self.decoder, self._new_dispatcher, self._on_close, config, on_progress, self.udp)

    def run(self, frames: Iterable[tuple[int, int, bytes]]) -> None:
        self.tracker.process(frames)

    def sweep(self, now: int) -> None:
        """End idle connections and write due interim records at ``now`` (live capture sweeps on its clock)."""
        self.tracker.sweep(now)

    @property
    def active_connections(self) -> int:
        """Connections in the table (open, or lingering after their close)."""
        return len(self.tracker.table) // 2

    def finish(self, reason: str = END_EOF) -> None:
        """End every connection still in the table (``end_reason`` = ``reason`` for those still open)."""
        self.tracker.finish(reason)

    def close(self, reason: str = END_EOF) -> RunStats:
        """End every open connection (``end_reason`` = ``reason``), hand the sink the certificates, and return
        the run's figures."""
        self.tracker.finish(reason)
        self.sink.close(self.certificates.records())
        return self.run_stats()

    def run_stats(self) -> RunStats:
        """The run's figures so far (live capture samples them while the run goes on)."""
        stats = self.fill_stats(self.tracker.stats, dict(self.decoder.counters), self.decoder.pending_fragments)
        stats.tracker_counters.update(self.udp_counters(self.udp.evicted))
        return stats

    def _on_close(self, conn: Connection) -> None:
        dispatcher = conn.consumer
        assert isinstance(dispatcher, Dispatcher)
        first_record = conn.uid is None  # a connection with interim records keeps one uid for all of them
        if conn.uid is None:
            conn.uid = self.next_uid(conn)
        anomalies = list(conn.anomalies)
        for reasm in (conn.reasm_orig, conn.reasm_resp):
            if reasm is not None:
                anomalies.extend(reasm.anomalies)
        self.record(conn, conn.uid, dispatcher, anomalies, first_record)


    def _new_dispatcher(self, conn: Connection) -> StreamConsumer:
        return Dispatcher(conn.resp_p, self.limits)

    def _new_udp_dispatcher(self, flow: UdpFlow) -> UdpDispatcher:
        return UdpDispatcher(self.limits)

    def _on_udp_close(self, flow: UdpFlow) -> None:
        dispatcher = flow.consumer
        assert isinstance(dispatcher, UdpDispatcher)
        self.record_udp(flow, dispatcher)
