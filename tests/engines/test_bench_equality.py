"""Both engines write the same tables for bench/'s workloads, generated small (real OpenSSL handshakes
replayed over interleaved connections; the bulk one with application data after the handshake)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import generate
from tests.engines.equality import capture_frames, native_tables, python_tables, run_native, run_python

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


@pytest.mark.parametrize("reader_thread", [False, True], ids=["this-thread", "reader-thread"])
def test_tlsmon_read_of_a_bulk_file_of_several_chunks_writes_the_python_engines_tables(
    tmp_path: Path, reader_thread: bool
) -> None:
    """3.4 MB: the reader thread hands over four chunks, records cut at each border (native/src/capture)."""
    frames = list(generate.workload_frames("bulk", connections=60, segments=40))
    path = tmp_path / "bulk.pcap"
    _, size = generate.write_pcap(path, frames)
    assert size > 3 * 1024 * 1024
    expected = python_tables(capture_frames([path]))  # the file's microsecond timestamps
    assert native_tables([path], reader_thread=reader_thread) == expected
