"""The ``stats`` table, shared by ``tlsmon live`` (one row per interval and worker) and ``tlsmon read`` (one
row per run): every counter of a run as data. How the rows are computed is in :mod:`tlsmon.live.counting`."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from tlsmon.columns import Column, ColumnGroup

_TS = pa.timestamp("ns", tz="UTC")


@dataclass(slots=True)
class StatsRecord:
    ts: int
    worker: int
    interface: str | None
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
    mode: str = "live"
    inputs: list[str] = field(default_factory=list)
    tcp_packets: int | None = None  # None: not measured by this run
    bypassed_packets: int | None = None  # None: not measured by this run
    connections_evicted: int = 0
    buffer_cap_flushes: int | None = None  # None: not measured by this run
    fragments_pending: int | None = None  # None: not measured by this run
    dead_letters: int | None = None  # None: not measured by this run
    values_fitted: int | None = None  # None: not measured by this run
    files_damaged: int = 0
    counters: dict[str, int] = field(default_factory=dict)



def _count(name: str, description: str, example: str) -> Column:
    return Column(name, pa.uint64(), description, example, nullable=False)


def _measured(name: str, description: str, example: str) -> Column:
    """A count of the engine or the writer: null in a row whose run did not sample it."""
    return Column(name, pa.uint64(), f"{description} Null when the run did not sample it.", example)


STATS_COLUMNS = ColumnGroup(
    "stats",
    (
        Column("ts", _TS, "End of the interval this row covers (UTC, ns).", "2024-05-01 12:01:00+00:00", False),
        Column("worker", pa.uint16(), "Capture worker (0 … --workers-1); 0 for read.", "0", nullable=False),
        Column("interface", pa.string(), "Interface captured (live); null for read.", "eth1"),
        Column("interval_s", pa.float64(), "Length of the interval in seconds (read: the run's wall time).",
               "60.0", nullable=False),
        _count("packets", "Frames the worker read and analysed in the interval.", "1250000"),
        _count("bytes", "Captured bytes of those frames (live); bytes of the input files read (read).",
               "1187500000"),
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
        _count("active_connections", "Connections in the worker's table at the end of the interval (read: "
               "those the end of the run wrote: still open, or lingering after their FINs).", "1830"),
        Column("mode", pa.string(), "'live' (one row per --stats-interval and worker) or 'read' (one row "
               "for the whole run).", "live", nullable=False),
        Column("inputs", pa.list_(pa.string()), "read: the capture files, in the order read; empty for live.",
               "['day1.pcap.zst']", nullable=False),
        _measured("tcp_packets", "Frames that decoded to a TCP segment.", "1249000"),
        _measured("bypassed_packets", "TCP segments of connections already analysed, counted and skipped.",
               "1100000"),
        _count("connections_evicted", "Connections ended early to respect --max-connections "
               "(end_reason evicted).", "0"),
        _measured("buffer_cap_flushes", "Directions whose out-of-order bytes were given up early to respect "
               "the global reassembly buffer cap.", "0"),
        _measured("fragments_pending", "IP datagrams with fragments held at the end of the interval (a level).",
               "0"),
        _measured("dead_letters", "Rows that could not be written at all (each named in a warning with its uid).",
               "0"),
        _measured("values_fitted", "Values clamped or nulled to fit their column (each named on its row as "
               "<stage>.value_out_of_range or <stage>.date_out_of_range).", "0"),
        _count("files_damaged", "Input files with damage (truncated or corrupt), each named in a warning.", "0"),
        Column("counters", pa.map_(pa.string(), pa.uint64()), "Every named counter of the interval by name: "
               "decode errors (decode.*, ip.*), capture (capture.*), TCP (tcp.*), output (output.*, and the "
               "fitted-value anomalies), x509 (x509.*); zero counts left out.",
               "{'decode.not_tcp': 12, 'ip.fragments_evicted': 0}", nullable=False),
    ),
)

STATS_TABLE: tuple[ColumnGroup, ...] = (STATS_COLUMNS,)
