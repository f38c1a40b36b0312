"""The stats row both ``live`` and ``read`` write (issue 8 point 5): engine counters are data or null, never a
made-up zero."""

from __future__ import annotations

from collections import Counter

from tests.live.traffic import SECOND, tls_connection
from tlsmon.engine import Engine
from tlsmon.live.counting import CountingSink, LiveCounters, sample_run, stats_record
from tlsmon.recorder import MemorySink, RunStats
from tlsmon.tcp.tracker_config import TrackerConfig


def test_a_row_without_engine_sample_has_null_engine_counts() -> None:
    row = stats_record(5, 0, "eth1", 60.0, LiveCounters(packets=10), LiveCounters(), 0)
    engine_counts = (row.tcp_packets, row.bypassed_packets, row.buffer_cap_flushes, row.fragments_pending,
                     row.dead_letters, row.values_fitted)
    assert (row.packets, engine_counts) == (10, (None,) * 6)


def test_a_sampled_row_holds_the_differences_and_every_named_counter() -> None:
    before, now = LiveCounters(), LiveCounters()
    sample_run(before, RunStats(tcp_packets=5, evicted=1, decode={"decode.not_tcp": 2}))
    run = RunStats(tcp_packets=50, bypassed_packets=30, evicted=3, buffer_cap_flushes=1, fragments_pending=4,
                   decode={"decode.not_tcp": 7, "ip.fragments_evicted": 2})
    sample_run(now, run, {"capture.bad_timestamp": 1}, Counter({"conn.date_out_of_range": 2}), 1, 1)
    row = stats_record(5, 0, None, 1.0, now, before, 0, "read", ["a.pcap"])
    assert (row.tcp_packets, row.bypassed_packets, row.connections_evicted, row.buffer_cap_flushes,
            row.fragments_pending, row.dead_letters, row.values_fitted, row.files_damaged) == (45, 30, 2, 1, 4, 1, 2, 1)
    assert row.counters == {
        "capture.bad_timestamp": 1, "conn.date_out_of_range": 2, "decode.not_tcp": 5,
        "ip.fragments_evicted": 2, "output.dead_letters": 1, "tcp.buffer_cap_flushes": 1,
        "tcp.connections_evicted": 2,
    }


def test_counting_sink_counts_evicted_connections_from_their_records() -> None:
    counters = LiveCounters()
    engine = Engine(CountingSink(MemorySink(), counters), TrackerConfig(max_connections=1))
    for port in (40001, 40002, 40003):
        engine.run(tls_connection(port, close=None))
    engine.tracker.sweep(tls_connection(40003)[-1][0] + 10 * SECOND)
    evicted = engine.close().evicted
    assert (evicted, counters.connections_evicted, counters.counters["tcp.connections_evicted"]) == (2, 2, 2)
