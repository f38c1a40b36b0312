"""The stats row of an interval, its log line, and the Prometheus exposition of worker snapshots."""

from __future__ import annotations

from collections import Counter

from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry

from tlsmon.live.counting import LiveCounters, StatsRecord, stats_record
from tlsmon.live.metrics import LiveCollector, MetricsSnapshot
from tlsmon.live.worker import describe, next_boundary

BEFORE = LiveCounters(packets=100, bytes=10_000, kernel_received=110, kernel_dropped=10, interface_dropped=1,
                      connections=3, tls_connections=2, connections_with_gaps=1, missed_bytes=1448)
AFTER = LiveCounters(packets=1100, bytes=910_000, kernel_received=1130, kernel_dropped=30, interface_dropped=1,
                     connections=13, interim_records=2, tls_connections=10, connections_with_gaps=2,
                     missed_bytes=2896, anomalies=4)


def test_stats_row_holds_the_differences_since_the_previous_sample() -> None:
    row = stats_record(5, 1, "eth1", 60.0, AFTER, BEFORE, 42)
    assert row == StatsRecord(
        ts=5, worker=1, interface="eth1", interval_s=60.0, packets=1000, bytes=900_000, kernel_received=1020,
        kernel_dropped=20, interface_dropped=0, connections=10, interim_records=2, tls_connections=8,
        connections_with_gaps=1, missed_bytes=1448, anomalies=4, active_connections=42,
    )


def test_log_line_gives_the_drop_ratio_of_what_the_kernel_saw() -> None:
    assert describe(stats_record(5, 1, "eth1", 60.0, AFTER, BEFORE, 42)) == (
        "worker 1 eth1: 60 s: 1,000 packets, 900,000 bytes; kernel dropped 20 of 1,020 (1.961 %), "
        "interface dropped 0; 10 connections (1 with gaps, 1,448 bytes missed), 2 interim; 42 active"
    )


def test_rotation_boundaries_are_multiples_of_the_interval() -> None:
    assert next_boundary(1_714_566_896.0, 900) == 1_714_567_500.0  # 12:34:56 → 12:45:00
    assert next_boundary(1_714_567_500.0, 900) == 1_714_568_400.0  # on a boundary → the next one


def exposition(*snapshots: MetricsSnapshot) -> list[str]:
    collector = LiveCollector()
    registry = CollectorRegistry()
    registry.register(collector)
    for snapshot in snapshots:
        collector.update(snapshot)
    text = generate_latest(registry).decode()
    return [line for line in text.splitlines() if not line.startswith("#") and "_created" not in line]


def test_metrics_have_one_series_per_worker() -> None:
    lines = exposition(
        MetricsSnapshot(0, LiveCounters(packets=7, kernel_dropped=2, versions=Counter({"TLSv13": 3})),
                        active_connections=5),
        MetricsSnapshot(1, LiveCounters(packets=9, anomaly_names=Counter({"tls.record_too_long": 1})),
                        flushes=2, flush_seconds=0.5, last_flush_seconds=0.2),
    )
    for expected in (
        'tlsmon_packets_total{worker="0"} 7.0',
        'tlsmon_packets_total{worker="1"} 9.0',
        'tlsmon_kernel_dropped_packets_total{worker="0"} 2.0',
        'tlsmon_tls_handshakes_total{version="TLSv13",worker="0"} 3.0',
        'tlsmon_anomalies_total{name="tls.record_too_long",worker="1"} 1.0',
        'tlsmon_active_connections{worker="0"} 5.0',
        'tlsmon_flush_seconds_count{worker="1"} 2.0',
        'tlsmon_flush_seconds_sum{worker="1"} 0.5',
        'tlsmon_last_flush_seconds{worker="1"} 0.2',
    ):
        assert expected in lines


def test_a_newer_snapshot_replaces_the_worker_s_previous_one() -> None:
    lines = exposition(MetricsSnapshot(0, LiveCounters(packets=7)), MetricsSnapshot(0, LiveCounters(packets=70)))
    assert [line for line in lines if line.startswith("tlsmon_packets_total")] == [
        'tlsmon_packets_total{worker="0"} 70.0'
    ]
