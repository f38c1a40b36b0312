"""Both engines agree on any layout of real TLS connections, under any limits.

Hypothesis lays out the TLS 1.2 and 1.3 fixture connections again (fixtures.tcpsynth) with drawn MSS, ISNs
(wrapping included), mid-stream pickups, FIN/RST/no close, neighbour swaps, retransmissions and lost segments,
interleaves several of them in time, and runs both engines with drawn limits that make every rare path common:
a connection cap of 1 to 3 (eviction), millisecond idle timeouts, lingers and interim intervals, tiny
per-direction and global reassembly caps, periodic checks every few packets, and a batch size of 1 to 64
frames for the native engine. Every row and certificate must be equal.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures import tcpsynth as t
from tests.e2e.captures import TLS12_BASE, TLS13_BASE
from tests.e2e.test_resegmentation import messages
from tests.engines.equality import run_native, run_python
from tlsmon.tcp.tracker_config import TrackerConfig

LINKTYPE_RAW = 101
MS = 1_000_000
START = 1_700_000_000_000_000_000


@st.composite
def connection(draw: st.DrawFn, index: int) -> list[t.Packet]:
    name = draw(st.sampled_from([TLS12_BASE, TLS13_BASE]))
    packets = t.tcp_conversation(
        messages(name),
        client=("10.0.0.1", 40000 + index),
        start_ns=START + draw(st.integers(0, 50)) * MS,
        mss=draw(st.one_of(st.integers(1, 60), st.integers(61, 1460))),
        handshake=draw(st.booleans()),
        close=draw(st.sampled_from(["fin", "rst", None])),
        isn_client=draw(st.sampled_from([1000, 2**32 - 300, draw(st.integers(0, 2**32 - 1))])),
        isn_server=draw(st.integers(0, 2**32 - 1)),
    )
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(packets) - 2))
        packets = t.reorder(packets, i, i + 1)
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(packets) - 1))
        packets = t.duplicate(packets, i, at=min(len(packets), i + draw(st.integers(1, 5))))
    for _ in range(draw(st.integers(0, 3))):
        if len(packets) > 1:
            packets = t.drop(packets, draw(st.integers(0, len(packets) - 1)))
    return packets


@st.composite
def traffic(draw: st.DrawFn) -> list[tuple[int, int, bytes]]:
    count = draw(st.integers(1, 4))
    packets = [p for i in range(count) for p in draw(connection(i))]
    packets.sort(key=lambda p: p.ts_ns)  # stable: each connection keeps its own order at equal times
    return [(p.ts_ns, LINKTYPE_RAW, p.ip) for p in packets]


@st.composite
def limits(draw: st.DrawFn) -> TrackerConfig:
    return TrackerConfig(
        idle_timeout_ns=draw(st.integers(1, 80)) * MS,
        linger_ns=draw(st.integers(0, 20)) * MS,
        max_connections=draw(st.integers(1, 3)),
        max_buffered_per_direction=draw(st.sampled_from([1, 100, 3000, 256 * 1024])),
        max_buffered_total=draw(st.sampled_from([50, 2000, 256 * 2**20])),
        sweep_interval_ns=draw(st.integers(1, 30)) * MS,
        check_every_packets=draw(st.integers(1, 12)),
        interim_interval_ns=draw(st.one_of(st.none(), st.integers(1, 40).map(lambda n: n * MS))),
    )


@settings(max_examples=150, deadline=None)
@given(frames=traffic(), config=limits(), batch=st.integers(1, 64))
def test_engines_agree_on_any_layout_under_any_limits(
    frames: list[tuple[int, int, bytes]], config: TrackerConfig, batch: int
) -> None:
    assert run_native(frames, config, batch) == run_python(frames, config)


@settings(max_examples=50, deadline=None)
@given(frames=traffic(), batch=st.integers(1, 64))
def test_engines_agree_on_any_layout_with_default_limits(frames: list[tuple[int, int, bytes]], batch: int) -> None:
    assert run_native(frames, None, batch) == run_python(frames)
