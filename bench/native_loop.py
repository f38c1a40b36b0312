"""The native packet loop alone, in-process: read, decode, flow table, reassembly, TLS and bypass, on a capture.

The tracker runs as the native engine runs it: connections TLS from their first byte are analyzed natively and
bypassed once their handshake is over (native/src/dispatch.rs), their rows kept natively and taken as Arrow
batches (native/src/records; without certificate columns, which are Python's). Python does no analysis of the
others: each is
declared finished at its first event, so the tracker bypasses it from the next crossing on. What remains per
packet is the native path the issue measures (issue 9: >= 5 M packets/s on the bulk workload); ``--no-tls``
sends every connection to Python instead (each bypassed at its first crossing), the loop before issue 10;
``--reader-thread`` reads the file on a thread of its own (native/src/capture/reader_thread.rs), as `read`
does when it has a CPU for it. Prints one line per run.

    .venv/bin/python bench/native_loop.py bench/work/bulk.pcap [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tlsmon import _native
from tlsmon.engines import settle_heap
from tlsmon.limits import DEFAULT_LIMITS
from tlsmon.native_engine import MAX_FRAMES
from tlsmon.native_tracker import DEFAULT_MAX_EVENTS, OPEN, TLS_ROW, tls_limits
from tlsmon.tcp.ports import SERVICE_PORTS
from tlsmon.tcp.tracker_config import TrackerConfig


def native_loop(
    path: Path, max_events: int = DEFAULT_MAX_EVENTS, native_tls: bool = True, reader_thread: bool = False
) -> tuple[float, int, int]:
    """Seconds, packets and bypassed packets for one pass over ``path`` (read on a reader thread if asked)."""
    c = TrackerConfig()
    tracker = _native.Tracker(
        c.idle_timeout_ns, c.linger_ns, c.max_connections, c.max_buffered_per_direction, c.max_buffered_total,
        c.sweep_interval_ns, c.check_every_packets, sorted(SERVICE_PORTS), None, c.udp_idle_timeout_ns,
        tls_limits(DEFAULT_LIMITS) if native_tls else None, native_rows=native_tls,
    )  # fmt: skip
    started = time.perf_counter()
    source = _native.CaptureSource([str(path)])
    if reader_thread:
        source.use_reader_thread()
    done = False
    rows = 0
    while not done:
        events, done = tracker.run_capture(source, max_events, MAX_FRAMES)
        opened = [conn for conn, _, kind, _, _ in events if kind == OPEN]
        if opened:
            tracker.bypass(opened)
        rows = _take_rows(tracker, events, rows)
    tracker.finish("eof")
    _take_rows(tracker, tracker.take_events(), rows)
    elapsed = time.perf_counter() - started
    packets, _, _, _, _, _, bypassed = tracker.stats
    return elapsed, packets, bypassed


def _take_rows(tracker: _native.Tracker, events: list[tuple[int, int, int, bool, object]], rows: int) -> int:
    """The rows the events marked, as one Arrow batch (numbered as Python would); the rows numbered so far."""
    marked = sum(1 for _, _, kind, _, _ in events if kind == TLS_ROW)
    if marked:
        import pyarrow as pa  # after tlsmon, as `read` loads it: numpy hidden, no spinning OpenBLAS threads

        tracker.build_rows(list(range(rows + 1, rows + marked + 1)))
        schema, array, _ = tracker.take_rows([])
        pa.RecordBatch._import_from_c_capsule(schema, array)
    return rows + marked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("capture", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--max-events", type=int, default=DEFAULT_MAX_EVENTS)
    parser.add_argument("--no-tls", action="store_true", help="no native TLS: every connection crosses to Python")
    parser.add_argument("--reader-thread", action="store_true",
                        help="read the file on a thread of its own, beside the decoding (as `read` with >= 3 CPUs)")
    args = parser.parse_args()
    settle_heap()  # as `tlsmon read` does before its run
    for _ in range(args.repeat):
        elapsed, packets, bypassed = native_loop(args.capture, args.max_events, not args.no_tls, args.reader_thread)
        print(f"{args.capture.name}: {packets:,} packets in {elapsed:.3f} s = {packets / elapsed / 1e6:.2f} M "
              f"packets/s; {bypassed:,} bypassed")


if __name__ == "__main__":
    main()
