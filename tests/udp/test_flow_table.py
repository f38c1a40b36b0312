"""The UDP flow table (tlsmon/udp/flows.py, native/src/udp/flows.rs): which UDP flows get a row, when a flow
ends, and that both engines agree — on the project's QUIC/DTLS captures and on crafted datagrams."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tests.engines.equality import capture_frames, run_native, run_native_capture, run_python
from tlsmon.engine import Engine
from tlsmon.native_engine import NativeEngine
from tlsmon.recorder import UDP_FLOWS_EVICTED, UDP_FLOWS_IGNORED, MemorySink, RunStats
from tlsmon.tcp.tracker_config import TrackerConfig

UDP_PCAPS = Path(__file__).resolve().parents[2] / "fixtures" / "pcaps" / "udp"
LINKTYPE_RAW = 101
T0 = 1_700_000_000_000_000_000
SECOND = 1_000_000_000
DNS_QUERY = bytes.fromhex("12340100000100000000000003777777076578616d706c6503636f6d0000010001")

Frames = list[tuple[int, int, bytes]]


def udp_frame(ts: int, src: str, sport: int, dst: str, dport: int, payload: bytes) -> tuple[int, int, bytes]:
    """A raw-IP (link type 101) IPv4/UDP frame."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, _a(src), _a(dst))
    return ts, LINKTYPE_RAW, ip + udp


def _a(addr: str) -> bytes:
    return bytes(int(x) for x in addr.split("."))


def run(frames: Frames, config: TrackerConfig | None = None, native: bool = False) -> tuple[MemorySink, RunStats]:
    sink = MemorySink()
    engine = NativeEngine(sink, config) if native else Engine(sink, config)
    engine.run(frames)
    return sink, engine.close()


def test_a_quic_handshake_is_one_row_of_the_quic_app_proto() -> None:
    sink, _ = run(capture_frames([UDP_PCAPS / "quic-v1.pcap"]))
    ((conn, tls),) = sink.rows
    assert (conn.app_proto, conn.tls_mode, conn.conn_state, conn.history) == ("quic", "implicit", "SF", "Dd")
    assert tls is not None and tls.version == "TLSv13"


def test_a_quic_row_says_udp_and_quic() -> None:
    sink, _ = run(capture_frames([UDP_PCAPS / "quic-v1.pcap"]))
    ((conn, _),) = sink.rows
    assert (conn.proto, conn.transport, conn.service) == ("udp", "quic", "quic,ssl")  # Zeek's spelling


def test_a_dtls_handshake_is_one_row_of_the_dtls_app_proto() -> None:
    sink, _ = run(capture_frames([UDP_PCAPS / "dtls-1.2.pcap"]))
    ((conn, tls),) = sink.rows
    assert (conn.app_proto, conn.tls_mode, conn.proto, conn.transport, conn.service) == (
        "dtls", "implicit", "udp", "dtls", "dtls"
    )
    assert tls is not None and tls.version == "DTLSv12"


def test_udp_that_is_neither_quic_nor_dtls_gets_no_row_and_is_counted() -> None:
    frames = [udp_frame(T0, "10.0.0.1", 5353, "10.0.0.2", 53, DNS_QUERY)]
    sink, stats = run(frames)
    assert (sink.rows, stats.tracker_counters[UDP_FLOWS_IGNORED]) == ([], 1)


def test_a_flow_idle_longer_than_the_udp_timeout_ends_and_the_next_datagram_starts_another() -> None:
    frames = [
        udp_frame(T0, "10.0.0.1", 40000, "10.0.0.2", 53, DNS_QUERY),
        udp_frame(T0 + 61 * SECOND, "10.0.0.1", 40000, "10.0.0.2", 53, DNS_QUERY),
    ]
    config = TrackerConfig(sweep_interval_ns=SECOND, check_every_packets=1)
    _, stats = run(frames, config)
    assert stats.tracker_counters[UDP_FLOWS_IGNORED] == 2


def test_a_flow_within_the_udp_timeout_is_one_flow() -> None:
    frames = [
        udp_frame(T0, "10.0.0.1", 40000, "10.0.0.2", 53, DNS_QUERY),
        udp_frame(T0 + 59 * SECOND, "10.0.0.1", 40000, "10.0.0.2", 53, DNS_QUERY),
    ]
    config = TrackerConfig(sweep_interval_ns=SECOND, check_every_packets=1)
    _, stats = run(frames, config)
    assert stats.tracker_counters[UDP_FLOWS_IGNORED] == 1


def test_past_the_flow_cap_the_oldest_flow_is_evicted() -> None:
    frames = [udp_frame(T0 + i, "10.0.0.1", 40000 + i, "10.0.0.2", 53, DNS_QUERY) for i in range(3)]
    _, stats = run(frames, TrackerConfig(max_connections=2))
    assert stats.tracker_counters[UDP_FLOWS_EVICTED] == 1


def test_the_originator_is_the_side_away_from_the_well_known_port() -> None:
    frames = capture_frames([UDP_PCAPS / "quic-v1.pcap"])
    server_first = [frames[1], frames[0], *frames[2:]]
    sink, _ = run(server_first)
    ((conn, _),) = sink.rows
    assert conn.resp_p == 443


@pytest.mark.parametrize("name", sorted(p.name for p in UDP_PCAPS.glob("*.pcap")))
def test_both_engines_agree_on_the_udp_captures(name: str) -> None:
    frames = capture_frames([UDP_PCAPS / name])
    assert run_native(frames) == run_python(frames)
    assert run_native(frames, batch=1) == run_python(frames)
    assert run_native_capture([UDP_PCAPS / name]) == run_python(frames)


def test_both_engines_count_the_same_ignored_and_evicted_flows() -> None:
    frames = [udp_frame(T0 + i * SECOND, "10.0.0.1", 40000 + i % 3, "10.0.0.2", 53, DNS_QUERY) for i in range(9)]
    frames += capture_frames([UDP_PCAPS / "quic-v1.pcap"])
    frames.sort(key=lambda f: f[0])
    config = TrackerConfig(max_connections=2, sweep_interval_ns=SECOND, check_every_packets=1)
    python_sink, python_stats = run(frames, config)
    native_sink, native_stats = run(frames, config, native=True)
    assert native_stats.tracker_counters == python_stats.tracker_counters
    assert [repr(r) for r in native_sink.rows] == [repr(r) for r in python_sink.rows]
