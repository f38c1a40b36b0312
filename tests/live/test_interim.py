"""Interim records: a long connection is written at each multiple of the interval of its age, then once more."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engines.equality import capture_frames
from tests.live.traffic import SECOND, T0, tls_connection
from tlsmon.engine import Engine
from tlsmon.live.counting import CountingSink, LiveCounters
from tlsmon.native_engine import NativeEngine
from tlsmon.recorder import MemorySink
from tlsmon.tcp.tracker_config import TrackerConfig

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pcaps"

HOUR = 3600 * SECOND


@pytest.fixture(params=[Engine, NativeEngine], ids=["python", "native"])
def engine_kind(request: pytest.FixtureRequest) -> type[Engine] | type[NativeEngine]:
    kind: type[Engine] | type[NativeEngine] = request.param
    return kind


def engine_with(
    kind: type[Engine] | type[NativeEngine], sink: MemorySink | CountingSink, interim: int | None
) -> Engine | NativeEngine:
    return kind(sink, TrackerConfig(idle_timeout_ns=10 * HOUR, interim_interval_ns=interim))


def end_reasons(sink: MemorySink) -> list[str]:
    return [r.conn.end_reason for r in sink.records]


def test_open_connection_gets_an_interim_record_at_each_interval_of_its_age(
    engine_kind: type[Engine] | type[NativeEngine],
) -> None:
    sink = MemorySink()
    engine = engine_with(engine_kind, sink, HOUR)
    engine.run(tls_connection(40001, close=None))
    sweep = engine.sweep
    sweep(T0 + 10 * SECOND)
    assert end_reasons(sink) == []
    sweep(T0 + HOUR + 10 * SECOND)
    assert end_reasons(sink) == ["interim"]
    sweep(T0 + HOUR + 20 * SECOND)  # same multiple: nothing new
    assert end_reasons(sink) == ["interim"]
    sweep(T0 + 2 * HOUR + 10 * SECOND)
    engine.close()
    assert end_reasons(sink) == ["interim", "interim", "eof"]


def test_interim_records_carry_the_real_start_and_the_same_endpoints(
    engine_kind: type[Engine] | type[NativeEngine],
) -> None:
    sink = MemorySink()
    engine = engine_with(engine_kind, sink, HOUR)
    frames = tls_connection(40001, close=None)
    engine.run(frames)
    engine.sweep(T0 + SECOND)
    engine.sweep(T0 + HOUR + SECOND)
    engine.close()
    interim, final = (r.conn for r in sink.records)
    assert (interim.ts_start, interim.orig_p, interim.resp_p) == (T0, 40001, 443)
    assert (final.ts_start, final.orig_p, final.resp_p) == (T0, 40001, 443)
    assert interim.orig_pkts == final.orig_pkts
    assert sink.records[0].tls is not None and sink.records[0].tls.version == "TLSv12"


def test_a_sweep_that_skips_several_intervals_writes_one_interim_record(
    engine_kind: type[Engine] | type[NativeEngine],
) -> None:
    sink = MemorySink()
    engine = engine_with(engine_kind, sink, HOUR)
    engine.run(tls_connection(40001, close=None))
    engine.sweep(T0 + SECOND)
    engine.sweep(T0 + 3 * HOUR + SECOND)
    assert end_reasons(sink) == ["interim"]


def test_no_interim_records_without_an_interval(engine_kind: type[Engine] | type[NativeEngine]) -> None:
    sink = MemorySink()
    engine = engine_with(engine_kind, sink, None)
    engine.run(tls_connection(40001, close=None))
    engine.sweep(T0 + SECOND)
    engine.sweep(T0 + 2 * HOUR)
    engine.close()
    assert end_reasons(sink) == ["eof"]


def test_closed_connections_get_no_interim_record(engine_kind: type[Engine] | type[NativeEngine]) -> None:
    sink = MemorySink()
    engine = engine_with(engine_kind, sink, HOUR)
    engine.run(tls_connection(40001))  # FIN both ways: written after its linger
    engine.sweep(T0 + SECOND)
    engine.sweep(T0 + HOUR + SECOND)
    engine.close()
    assert end_reasons(sink) == ["fin"]


def test_counting_sink_counts_interim_and_final_records_apart(engine_kind: type[Engine] | type[NativeEngine]) -> None:
    counters = LiveCounters()
    inner = MemorySink()
    engine = engine_with(engine_kind, CountingSink(inner, counters), HOUR)
    engine.run(tls_connection(40001, close=None))
    engine.sweep(T0 + SECOND)
    engine.sweep(T0 + HOUR + SECOND)
    engine.close()
    assert (counters.interim_records, counters.connections, counters.tls_connections) == (1, 1, 1)
    assert counters.versions == {"TLSv12": 1}
    assert len(inner.records) == 2


def test_interim_and_final_records_share_the_connection_uid(engine_kind: type[Engine] | type[NativeEngine]) -> None:
    sink = MemorySink()
    engine = engine_with(engine_kind, sink, HOUR)
    engine.run(tls_connection(40001, close=None))
    engine.sweep(T0 + SECOND)
    engine.sweep(T0 + HOUR + SECOND)
    engine.close()
    interim, final = (r.conn.uid for r in sink.records)
    assert interim == final


def test_interim_records_do_not_count_the_certificates_again(engine_kind: type[Engine] | type[NativeEngine]) -> None:
    sink = MemorySink()
    engine = engine_with(engine_kind, sink, HOUR)
    engine.run(tls_connection(40001, close=None))
    engine.sweep(T0 + SECOND)
    engine.sweep(T0 + HOUR + SECOND)
    engine.close()
    assert sink.certificates and {c.times_seen for c in sink.certificates} == {1}


def test_an_interim_record_keeps_the_handshake_as_it_stood_then(
    engine_kind: type[Engine] | type[NativeEngine],
) -> None:
    # fixtures/pcaps/tls12-ecdhe-rsa.pcap: ClientHello at 1.01 ms, the server's flight to 3.5 ms, the client's
    # key exchange, CCS and Finished from 4.0 ms, the server's CCS and Finished at 5.0 ms.
    frames = capture_frames([FIXTURES / "tls12-ecdhe-rsa.pcap"])
    config = TrackerConfig(interim_interval_ns=2_000_000, sweep_interval_ns=1_000_000, check_every_packets=1)
    sink = MemorySink()
    engine = engine_kind(sink, config)
    engine.run(frames)
    engine.close()
    seen = [(r.conn.end_reason, r.tls.ssl_history, r.tls.ccs_orig, r.tls.established) for r in sink.records if r.tls]
    assert seen == [
        ("interim", "Csxkn", False, False),
        ("interim", "CsxknGIti", True, True),
        ("fin", "CsxknGIti", True, True),
    ]
