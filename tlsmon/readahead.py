"""Reading ahead: a native ``read`` runs the native loop while the rest of it loads.

Theory of operation. The native loop reads without the GIL (native/src/python/capture.rs), and a ``read``
spends ~0.1 s importing pyarrow, the schema, the engine and the writer before it can take a row. So ``tlsmon
read`` opens the capture and makes the tracker with little more than the core loaded, and a thread calls
``Tracker.read_ahead``, which reads, decodes and tracks without the GIL until it is told to stop: it needs the
GIL neither between frames nor to keep its events (the main thread's imports hold the GIL for tens of
milliseconds at a time, in extension modules' initialisation). The engine, once made, stops it
(:meth:`ReadAhead.take`), applies its events as one crossing, and reads on. Applied late, they change nothing
in the rows: a connection that Python's analysis would have let go sooner gets its later events dropped by
their epoch (:mod:`tlsmon.native_engine`), and a row kept natively is numbered where its marker is applied.

What is held is bounded: reading ahead stops, and waits for the engine, once :data:`READ_AHEAD_EVENTS` events,
:data:`READ_AHEAD_BYTES` of stream data or :data:`READ_AHEAD_ROWS` rows wait. A signal (SIGINT, SIGTERM) is
honoured once they are applied, as after any crossing.
"""

from __future__ import annotations

import threading

from tlsmon import _native
from tlsmon.limits import Limits
from tlsmon.native_tracker import DEFAULT_MAX_EVENTS, Event, make_tracker
from tlsmon.tcp.tracker_config import TrackerConfig

READ_AHEAD_EVENTS = 1 << 18  # events waiting (~40 bytes each natively, before their payload)
READ_AHEAD_BYTES = 32 << 20  # stream data the events carry
# Rows of natively analyzed connections: one batch's worth (the engine's ROW_BATCH). A signal is honoured
# after the events read ahead are applied, so this also bounds how far a run interrupted during start-up reads.
READ_AHEAD_ROWS = 4096

#: A crossing: its events, and whether the capture has been read to its end.
Crossing = tuple[list[Event], bool]


class ReadAhead:
    """The native loop over ``source``, on a thread from the moment it is made until :meth:`take`, by
    the tracker a :class:`~tlsmon.native_engine.NativeEngine` of the same arguments would make (with native TLS;
    the rows kept as columns when ``native_rows``, for a sink that takes Arrow batches)."""

    def __init__(
        self,
        source: _native.CaptureSource,
        config: TrackerConfig,
        limits: Limits,
        native_rows: bool,
        max_events: int = DEFAULT_MAX_EVENTS,
    ) -> None:
        self.config = config
        self.limits = limits
        self.native_rows = native_rows
        self.max_events = max_events
        self.tracker = make_tracker(config, limits, True, native_rows)
        self.source = source
        self._done = False
        self._error: BaseException | None = None
        self._stop = _native.Stop()
        self._thread = threading.Thread(target=self._read, name="tlsmon-read-ahead", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            self._done = self.tracker.read_ahead(
                self.source, self._stop, READ_AHEAD_EVENTS, READ_AHEAD_BYTES, READ_AHEAD_ROWS
            )
        except BaseException as exc:  # a damaged capture: raised by the engine after the events before it
            self._error = exc

    def stop(self) -> None:
        """Stop reading ahead (after the frame it is on) and wait for it."""
        self._stop.set()
        self._thread.join()

    def take(self) -> tuple[Crossing, BaseException | None]:
        """Stop reading ahead; the events read (one crossing), and the error that ended the reading, if one
        did. The tracker is the caller's from then on."""
        self.stop()
        return (self.tracker.take_events(), self._done), self._error
