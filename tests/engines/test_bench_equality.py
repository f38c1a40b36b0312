"""Both engines write the same tables for bench/'s workloads, generated small (real OpenSSL handshakes
replayed over interleaved connections; the bulk one with application data after the handshake)."""

from __future__ import annotations

import pytest

from bench import generate
from tests.engines.equality import run_native, run_python

LINKTYPE_ETHERNET = 1


@pytest.mark.parametrize(("workload", "connections", "segments"), [("handshake", 60, 0), ("bulk", 40, 12)])
def test_engines_agree_on_a_small_bench_workload(workload: str, connections: int, segments: int) -> None:
    frames = [
        (ts, LINKTYPE_ETHERNET, frame)
        for ts, frame in generate.workload_frames(workload, connections=connections, segments=segments)
    ]
    expected = run_python(frames)
    assert len(expected[0]) == connections
    assert run_native(frames) == expected
    assert run_native(frames, batch=1) == expected
