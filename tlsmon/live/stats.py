"""Loss and throughput figures of a live worker: counted from its records, sampled into the ``stats`` table.

Theory of operation. :class:`CountingSink` sits between the engine and the file sink and counts what each
connection record says (final or interim, TLS version, gaps, missed bytes, anomalies) into
:class:`LiveCounters`, cumulative since the worker started. Every ``--stats-interval`` the worker turns the
counters and libpcap's kernel counters into one :class:`StatsRecord`: the difference since the previous row,
so summing a column over rows gives the total for any time range. The gap figures count final records only
(an interim record's gaps are counted again in its final record).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa

from tlsmon.columns import Column, ColumnGroup
from tlsmon.engine import RecordSink
from tlsmon.records.tables import ConnectionRecord
from tlsmon.tcp.tracker import END_INTERIM
from tlsmon.x509.store import CertificateRecord

_TS = pa.timestamp("ns", tz="UTC")


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
        )


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

    def close(self, certificates: Iterator[CertificateRecord]) -> None:
        self.inner.close(certificates)


@dataclass(slots=True)
class StatsRecord:
    ts: int
    worker: int
    interface: str
    interval_s: float
    packets: int
    bytes: int
    kernel_received: int
    kernel_dropped: int
    interface_dropped: int
    connections: int
    interim_records: int
    tls_connections: int
    connections_with_gaps: int
    missed_bytes: int
    anomalies: int
    active_connections: int


def stats_record(
    ts_ns: int, worker: int, interface: str, interval_s: float, now: LiveCounters, before: LiveCounters, active: int
) -> StatsRecord:
    """The row for the interval between two samples of the counters."""
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
    )


def _count(name: str, description: str, example: str) -> Column:
    return Column(name, pa.uint64(), description, example, nullable=False)


STATS_COLUMNS = ColumnGroup(
    "stats",
    (
        Column("ts", _TS, "End of the interval this row covers (UTC, ns).", "2024-05-01 12:01:00+00:00", False),
        Column("worker", pa.uint16(), "Capture worker (0 … --workers-1).", "0", nullable=False),
        Column("interface", pa.string(), "Interface captured.", "eth1", nullable=False),
        Column("interval_s", pa.float64(), "Length of the interval in seconds.", "60.0", nullable=False),
        _count("packets", "Frames the worker read and analysed in the interval.", "1250000"),
        _count("bytes", "Captured bytes of those frames.", "1187500000"),
        _count(
            "kernel_received",
            "Packets the kernel passed to this worker's socket (pcap_stats ps_recv), dropped ones included.",
            "1250310",
        ),
        _count(
            "kernel_dropped",
            "Packets the kernel dropped for lack of room in this worker's capture buffer (ps_drop).",
            "310",
        ),
        _count(
            "interface_dropped",
            "Packets the interface dropped (ps_ifdrop, the interface's rx_dropped): the same figure in "
            "every worker's row, do not sum it over workers.",
            "0",
        ),
        _count("connections", "Final connection records written.", "5210"),
        _count("interim_records", "Interim records written for connections still open.", "3"),
        _count("tls_connections", "Final records with a TLS handshake.", "4800"),
        _count("connections_with_gaps", "Final records with missed_bytes > 0.", "12"),
        _count("missed_bytes", "Sum of missed_bytes over the final records.", "17376"),
        _count("anomalies", "Anomaly names on the final records.", "40"),
        _count("active_connections", "Connections in the worker's table at the end of the interval.", "1830"),
    ),
)

STATS_TABLE: tuple[ColumnGroup, ...] = (STATS_COLUMNS,)
