"""One capture worker: a live source, its own engine, its own rotating files, its own figures.

Theory of operation. The loop reads a batch (waiting at most until the next deadline, and never more than
100 ms), hands it to the engine, then looks at the clock and its flags:

- rotation: at each multiple of ``--rotate`` since the epoch (so 15 m rotates at :00, :15, :30, :45 UTC) and
  on SIGHUP, the sink ends the interval and moves its files into place;
- sweep: every ``sweep_interval_ns`` of wall-clock time the connection table is swept with the current time,
  which ends idle connections and writes interim records even when no packet arrives;
- stats: every ``--stats-interval`` one row of the ``stats`` table and one log line (kernel and interface
  drops, throughput, connections with gaps, missed bytes);
- metrics: about once a second a :class:`~tlsmon.live.metrics.MetricsSnapshot` is published.

On SIGTERM/SIGINT the loop stops reading, the kernel counters are read one last time and the handle closed,
every open connection is written as a record (end_reason ``eof``), a last stats row is written and the files
of the last interval are moved into place.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tlsmon.capture.errors import CaptureError
from tlsmon.capture.live import LiveSource
from tlsmon.engine import Engine
from tlsmon.live.counting import STATS_TABLE, CountingSink, LiveCounters, StatsRecord, sample_run, stats_record
from tlsmon.live.metrics import MetricsSnapshot
from tlsmon.live.signals import SignalFlags
from tlsmon.native_engine import NativeEngine
from tlsmon.output.parquet import ColumnValueError
from tlsmon.output.rotating import RotatingSink
from tlsmon.tcp.tracker_config import TrackerConfig

READ_WAIT_S = 0.1  # the loop regains control at least this often, traffic or not
PUBLISH_INTERVAL_S = 1.0

Publish = Callable[[MetricsSnapshot], None]


@dataclass(slots=True)
class WorkerSettings:
    worker: int
    out_dir: Path
    rotate_s: float
    stats_interval_s: float
    tracker: TrackerConfig
    native: bool = True  # the native engine reads the handle itself (LiveSource(native=True))


def next_boundary(now: float, interval: float) -> float:
    """The first multiple of ``interval`` (seconds since the epoch) after ``now``."""
    return (now // interval + 1) * interval


class Worker:
    """The capture loop of one worker; see the module docstring."""

    __slots__ = (
        "_before",
        "_clock",
        "_flush_last",
        "_flush_total",
        "_flushes",
        "_lag",
        "_last_stats",
        "_log",
        "_publish",
        "counters",
        "engine",
        "settings",
        "signals",
        "sink",
        "source",
    )

    def __init__(
        self,
        settings: WorkerSettings,
        source: LiveSource,
        signals: SignalFlags,
        publish: Publish | None = None,
        log: logging.Logger | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.source = source
        self.signals = signals
        self._publish = publish
        self._log = log or logging.getLogger("tlsmon.live")
        self._clock = clock
        self.counters = LiveCounters()
        self._before = LiveCounters()
        self.sink = RotatingSink(settings.out_dir, settings.worker, {"stats": STATS_TABLE}, now=clock())
        sink = CountingSink(self.sink, self.counters)
        self.engine: Engine | NativeEngine = (
            NativeEngine(sink, settings.tracker) if settings.native else Engine(sink, settings.tracker)
        )
        self.sink.use_certificates(self.engine.certificates.get)
        self._last_stats = self.sink.interval_start
        self._flushes = 0
        self._flush_total = 0.0
        self._flush_last = 0.0
        self._lag = 0.0

    def run(self) -> int:
        """Capture until asked to stop; 0 when everything was written, 1 after an output error."""
        s = self.settings
        clock = self._clock
        now = clock()
        next_rotate = next_boundary(now, s.rotate_s)
        sweep_s = s.tracker.sweep_interval_ns / 1e9
        next_sweep = now + sweep_s
        next_stats = now + s.stats_interval_s
        next_publish = now
        self._log.info("worker %d: started, files go to %s", s.worker, s.out_dir)
        try:
            while not self.signals.stop:
                wait = min(READ_WAIT_S, max(0.0, min(next_rotate, next_sweep, next_stats, next_publish) - now))
                last_ts = self._read(wait)
                now = clock()
                self._lag = max(0.0, now - last_ts / 1e9) if last_ts is not None else 0.0
                if self.signals.take_rotate() or now >= next_rotate:
                    self._rotate(now)
                    next_rotate = next_boundary(now, s.rotate_s)
                if now >= next_sweep:
                    self.engine.sweep(int(now * 1e9))
                    next_sweep = now + sweep_s
                if now >= next_stats:
                    self._stats(now)
                    next_stats = now + s.stats_interval_s
                if now >= next_publish:
                    self._snapshot()
                    next_publish = now + PUBLISH_INTERVAL_S
        except CaptureError as exc:
            self._log.error("worker %d: %s; writing what was captured and stopping", s.worker, exc)
            return max(1, self._shutdown())
        except OSError as exc:
            self._log.error("worker %d: writing output failed (%s); stopping", s.worker, exc)
            self.source.close()
            return 1
        return self._shutdown()

    def _read(self, wait: float) -> int | None:
        """Hand the engine what the handle has ready (waiting up to ``wait``); the last packet's time."""
        engine = self.engine
        try:
            if isinstance(engine, NativeEngine):
                return engine.run_live(self.source, wait)
            batch = self.source.read(wait)
            if batch:
                engine.run(batch)
                return batch[-1][0]
        except ColumnValueError as exc:  # a bug upstream: the row is dropped, the run goes on
            self._log.error("worker %d: %s", self.settings.worker, exc)
        return None

    def _rotate(self, now: float) -> None:
        started = time.perf_counter()
        try:
            files = self.sink.rotate(now)
        except ColumnValueError as exc:
            self._log.error("worker %d: %s", self.settings.worker, exc)
            files = []
        took = time.perf_counter() - started
        self._flushes += 1
        self._flush_total += took
        self._flush_last = took
        if files:
            self._log.info(
                "worker %d: rotated %d file(s) in %.3f s: %s",
                self.settings.worker, len(files), took, ", ".join(str(f) for f in files),
            )

    def _sample(self) -> None:
        c = self.counters
        sample_run(c, self.engine.run_stats(), None, self.sink.fitted, self.sink.dead_letters)
        source = self.source
        c.packets = source.packets
        c.bytes = source.bytes
        k = source.stats()
        c.kernel_received = k.received
        c.kernel_dropped = k.dropped
        c.interface_dropped = k.if_dropped

    def _active(self) -> int:
        return self.engine.active_connections

    def _stats(self, now: float) -> None:
        """Write the stats row for the time since the last one and log it."""
        self._sample()
        before, after = self._before, self.counters.copy()
        row = stats_record(
            int(now * 1e9), self.settings.worker, self.source.interface, now - self._last_stats,
            after, before, self._active(),
        )
        try:
            self.sink.write("stats", row)
        except ColumnValueError as exc:
            self._log.error("worker %d: %s", self.settings.worker, exc)
        self._before = after
        self._last_stats = now
        self._log.info("%s", describe(row))

    def _snapshot(self) -> None:
        if self._publish is None:
            return
        self._sample()
        self._publish(
            MetricsSnapshot(
                worker=self.settings.worker,
                counters=self.counters.copy(),
                active_connections=self._active(),
                flushes=self._flushes,
                flush_seconds=self._flush_total,
                last_flush_seconds=self._flush_last,
                capture_lag_seconds=self._lag,
            )
        )

    def _shutdown(self) -> int:
        self._sample()
        self.source.close()
        self.engine.finish()
        now = self._clock()
        self._stats(now)
        started = time.perf_counter()
        self.engine.close()
        took = time.perf_counter() - started
        self._flushes += 1
        self._flush_total += took
        self._flush_last = took
        self._snapshot()
        c = self.counters
        self._log.info(
            "worker %d: stopped after %d packets, %d connections; %d file(s) written",
            self.settings.worker, c.packets, c.connections, len(self.sink.files),
        )
        return 0


def describe(row: StatsRecord) -> str:
    """The log line of a stats row."""
    offered = row.kernel_received
    ratio = 100.0 * row.kernel_dropped / offered if offered else 0.0
    return (
        f"worker {row.worker} {row.interface}: {row.interval_s:.0f} s: {row.packets:,} packets, "
        f"{row.bytes:,} bytes; kernel dropped {row.kernel_dropped:,} of {offered:,} ({ratio:.3f} %), "
        f"interface dropped {row.interface_dropped:,}; {row.connections:,} connections "
        f"({row.connections_with_gaps:,} with gaps, {row.missed_bytes:,} bytes missed), "
        f"{row.interim_records:,} interim; {row.active_connections:,} active"
    )
