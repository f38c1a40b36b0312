"""The ``stats`` table of a batch dataset: one row per converted input, what the run did with it."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from tlsmon.columns import Column, ColumnGroup

_TS = pa.timestamp("ns", tz="UTC")


@dataclass(slots=True)
class InputStats:
    input_path: str
    input_id: str
    input_bytes: int
    packets: int
    tcp_packets: int
    connections: int
    tls_connections: int
    certificates: int
    first_ts: int | None
    last_ts: int | None
    warnings: list[str]
    started: int
    duration_s: float
    host: str
    tlsmon_version: str


BATCH_STATS_COLUMNS = ColumnGroup(
    "batch_stats",
    (
        Column("input_path", pa.string(), "Absolute path of the capture file.", "/data/s1/2024-05-01T00.pcap.zst",
               nullable=False),
        Column("input_id", pa.string(), "The input's id, as in its part file names.", "3f2a9c0e11d4b7a85e60",
               nullable=False),
        Column("input_bytes", pa.uint64(), "Size of the file on disk (compressed size for .gz/.zst).", "104857600",
               nullable=False),
        Column("packets", pa.uint64(), "Frames read from the file.", "912345", nullable=False),
        Column("tcp_packets", pa.uint64(), "Frames that decoded to TCP.", "900120", nullable=False),
        Column("connections", pa.uint64(), "Connection rows written for the file (before stitching).", "5210",
               nullable=False),
        Column("tls_connections", pa.uint64(), "Of those, rows with a TLS handshake.", "4012", nullable=False),
        Column("certificates", pa.uint64(), "Certificate rows written for the file.", "310", nullable=False),
        Column("first_ts", _TS, "Earliest ts_start of the file's connections; null without connections.",
               "2024-05-01 00:00:00.001+00:00"),
        Column("last_ts", _TS, "Latest ts_end of the file's connections; null without connections.",
               "2024-05-01 00:59:59.998+00:00"),
        Column("warnings", pa.list_(pa.string()), "Damage found in the file (truncated record, corrupt block), "
               "one line each; the rest of the file after damage is not read.", "[]", nullable=False),
        Column("started", _TS, "When the conversion of this file started (wall clock, UTC).",
               "2024-05-02 01:00:03+00:00", nullable=False),
        Column("duration_s", pa.float64(), "Wall-clock seconds the conversion took.", "12.5", nullable=False),
        Column("host", pa.string(), "Host name and process id of the worker that converted it.", "node7:4121",
               nullable=False),
        Column("tlsmon_version", pa.string(), "tlsmon version that converted it.", "0.1.0", nullable=False),
    ),
)

BATCH_STATS_SCHEMA = pa.schema([c.field() for c in BATCH_STATS_COLUMNS.columns])


def stats_table(row: InputStats, metadata: dict[str, str]) -> pa.Table:
    names = BATCH_STATS_COLUMNS.names()
    columns = [[getattr(row, n)] for n in names]
    return pa.Table.from_arrays(
        [pa.array(v, type=f.type) for v, f in zip(columns, BATCH_STATS_SCHEMA, strict=True)],
        schema=BATCH_STATS_SCHEMA.with_metadata({**metadata, "table": "stats"}),
    )
