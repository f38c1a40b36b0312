"""Run statistics as data: the ``stats`` table that ``tlsmon live`` and ``tlsmon read`` both write.

Theory of operation. :class:`CountingSink` sits between the engine and the file sink and counts what each
connection record says (final or interim, TLS version, gaps, missed bytes, anomalies) into
:class:`LiveCounters`, cumulative since the run started; :func:`sample_run` adds the engine's own counters
(decode errors by name, fragments, evictions, buffer-cap flushes), the capture stage's and the writer's
(dead letters, fitted values). A :class:`StatsRecord` is the difference between two samples, so summing a
column over rows gives the total for any time range. ``live`` writes one row per ``--stats-interval``;
``read`` writes one row for the whole run (``mode`` = ``read``, ``interval_s`` its wall time) to
``OUT/stats/``. The gap figures count final records only (an interim record's gaps are counted again in its
final record). Every named counter, whatever its stage, is also in the ``counters`` map column, so a counter
added to a stage later needs no new column.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tlsmon.recorder import RecordSink, RowChains, RunStats, takes_batches
from tlsmon.records.stats_table import STATS_COLUMNS, STATS_TABLE, StatsRecord
from tlsmon.records.tables import ConnectionRecord
from tlsmon.tcp.connection import END_EVICTED, END_INTERIM
from tlsmon.x509.store import CertificateRecord

if TYPE_CHECKING:
    import pyarrow as pa

    from tlsmon.records.native_rows import RowCounts

__all__ = ["STATS_COLUMNS", "STATS_TABLE", "CountingSink", "LiveCounters", "StatsRecord", "sample_run", "stats_record"]


@dataclass(slots=True)
class LiveCounters:
    """Cumulative since the worker started."""

    packets: int = 0  # frames handed to the engine
    bytes: int = 0  # their captured bytes
    kernel_received: int = 0  # pcap_stats ps_recv (drops included)
    kernel_dropped: int = 0  # ps_drop
    interface_dropped: int = 0  # ps_ifdrop (the interface's figure)
    connections: int = 0  # final records
    interim_records: int = 0
    tls_connections: int = 0  # final records with a TLS handshake
    connections_with_gaps: int = 0  # final records with missed_bytes > 0
    missed_bytes: int = 0
    anomalies: int = 0  # anomaly names on final records
    versions: Counter[str] = field(default_factory=Counter)  # TLS version of final records
    anomaly_names: Counter[str] = field(default_factory=Counter)
    tcp_packets: int = 0  # the engine's and the writer's, copied by sample_run
    bypassed_packets: int = 0
    connections_evicted: int = 0
    buffer_cap_flushes: int = 0
    fragments_pending: int = 0  # a level, not a count: the row holds the value at its end
    dead_letters: int = 0
    values_fitted: int = 0
    files_damaged: int = 0
    counters: Counter[str] = field(default_factory=Counter)  # every named counter of the run
    engine_sampled: bool = False  # sample_run has filled the engine's and the writer's figures

    def copy(self) -> LiveCounters:
        return LiveCounters(
            self.packets,
            self.bytes,
            self.kernel_received,
            self.kernel_dropped,
            self.interface_dropped,
            self.connections,
            self.interim_records,
            self.tls_connections,
            self.connections_with_gaps,
            self.missed_bytes,
            self.anomalies,
            Counter(self.versions),
            Counter(self.anomaly_names),
            self.tcp_packets,
            self.bypassed_packets,
            self.connections_evicted,
            self.buffer_cap_flushes,
            self.fragments_pending,
            self.dead_letters,
            self.values_fitted,
            self.files_damaged,
            Counter(self.counters),
            self.engine_sampled,
        )


def sample_run(
    counters: LiveCounters,
    run: RunStats,
    capture: Mapping[str, int] | None = None,
    fitted: Mapping[str, int] | None = None,
    dead_letters: int = 0,
    files_damaged: int = 0,
) -> None:
    """Copy the engine's figures (``run``, as :meth:`~tlsmon.engine.Engine.close` returns them), the capture
    stage's named counters and the writer's into ``counters`` (all cumulative)."""
    counters.tcp_packets = run.tcp_packets
    counters.bypassed_packets = run.bypassed_packets
    counters.connections_evicted = run.evicted
    counters.buffer_cap_flushes = run.buffer_cap_flushes
    counters.fragments_pending = run.fragments_pending
    counters.dead_letters = dead_letters
    counters.values_fitted = sum((fitted or {}).values())
    counters.files_damaged = files_damaged
    named: Counter[str] = Counter()
    named.update(run.decode)
    named.update(run.tracker_counters)
    named.update(run.x509_counters)
    named.update(capture or {})
    named.update(fitted or {})
    named["tcp.connections_evicted"] = run.evicted
    named["tcp.buffer_cap_flushes"] = run.buffer_cap_flushes
    named["output.dead_letters"] = dead_letters
    counters.counters = +named  # zero counts dropped
    counters.engine_sampled = True


class CountingSink:
    """A :class:`~tlsmon.engine.RecordSink` that counts each record into ``counters`` and passes it on."""

    __slots__ = ("counters", "inner")

    def __init__(self, inner: RecordSink, counters: LiveCounters) -> None:
        self.inner = inner
        self.counters = counters

    def connection(self, record: ConnectionRecord) -> None:
        c = self.counters
        conn = record.conn
        if conn.end_reason == END_INTERIM:
            c.interim_records += 1
        else:
            c.connections += 1
            if conn.end_reason == END_EVICTED:
                c.connections_evicted += 1
                c.counters["tcp.connections_evicted"] += 1
            if conn.missed_bytes:
                c.connections_with_gaps += 1
                c.missed_bytes += conn.missed_bytes
            if conn.anomalies:
                c.anomalies += len(conn.anomalies)
                c.anomaly_names.update(conn.anomalies)
            if record.tls is not None:
                c.tls_connections += 1
                c.versions[record.tls.version or "unknown"] += 1
        self.inner.connection(record)

    @property
    def takes_batches(self) -> bool:
        return takes_batches(self.inner)

    def connection_batch(self, batch: pa.RecordBatch, chains: Sequence[RowChains], counts: RowCounts) -> None:
        """Rows in columns (natively analyzed TLS, never interim): counted from what the core counted."""
        assert takes_batches(self.inner)
        c = self.counters
        c.connections += batch.num_rows
        c.tls_connections += batch.num_rows
        c.connections_evicted += counts.evicted
        if counts.evicted:
            c.counters["tcp.connections_evicted"] += counts.evicted
        c.connections_with_gaps += counts.with_gaps
        c.missed_bytes += counts.missed_bytes
        c.anomalies += sum(counts.anomalies.values())
        c.anomaly_names.update(counts.anomalies)
        c.versions.update(counts.versions)
        self.inner.connection_batch(batch, chains, counts)

    def rows_before_part_end(self) -> int:
        assert takes_batches(self.inner)
        return self.inner.rows_before_part_end()

    def close(self, certificates: Iterator[CertificateRecord]) -> None:
        self.inner.close(certificates)


def stats_record(
    ts_ns: int,
    worker: int,
    interface: str | None,
    interval_s: float,
    now: LiveCounters,
    before: LiveCounters,
    active: int,
    mode: str = "live",
    inputs: list[str] | None = None,
) -> StatsRecord:
    """The row for the interval between two samples of the counters."""
    named = Counter(now.counters)
    named.subtract(before.counters)

    def measured(after: int, earlier: int) -> int | None:
        """The engine's and the writer's figures exist only once sample_run has copied them."""
        return after - earlier if now.engine_sampled else None

    return StatsRecord(
        ts=ts_ns,
        worker=worker,
        interface=interface,
        interval_s=interval_s,
        packets=now.packets - before.packets,
        bytes=now.bytes - before.bytes,
        kernel_received=now.kernel_received - before.kernel_received,
        kernel_dropped=now.kernel_dropped - before.kernel_dropped,
        interface_dropped=now.interface_dropped - before.interface_dropped,
        connections=now.connections - before.connections,
        interim_records=now.interim_records - before.interim_records,
        tls_connections=now.tls_connections - before.tls_connections,
        connections_with_gaps=now.connections_with_gaps - before.connections_with_gaps,
        missed_bytes=now.missed_bytes - before.missed_bytes,
        anomalies=now.anomalies - before.anomalies,
        active_connections=active,
        mode=mode,
        inputs=list(inputs or []),
        tcp_packets=measured(now.tcp_packets, before.tcp_packets),
        bypassed_packets=measured(now.bypassed_packets, before.bypassed_packets),
        connections_evicted=now.connections_evicted - before.connections_evicted,
        buffer_cap_flushes=measured(now.buffer_cap_flushes, before.buffer_cap_flushes),
        fragments_pending=measured(now.fragments_pending, 0),  # a level, not a count
        dead_letters=measured(now.dead_letters, before.dead_letters),
        values_fitted=measured(now.values_fitted, before.values_fitted),
        files_damaged=now.files_damaged - before.files_damaged,
        counters={name: n for name, n in sorted(named.items()) if n > 0},
    )
