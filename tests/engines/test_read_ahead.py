"""Reading ahead (tlsmon/readahead.py): the native loop reads while ``read`` loads, stops at its bounds or when
told, and the engine that takes its events over writes the same tables as the Python engine.

``Tracker.read_ahead`` stops after the frame that brought what waits to a bound, so the frames it read are
exact: the SMTP fixture's first events (the connection's opening and the server's 50-byte greeting) come with
its 4th frame; with the connections ending as their FIN is acknowledged, the first two rows of sample.pcap end
at its 22nd and 37th frames."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.engines.equality import capture_frames, native_tables, python_tables
from tlsmon import _native, readahead
from tlsmon.cli import main
from tlsmon.limits import DEFAULT_LIMITS
from tlsmon.live.counting import CountingSink, LiveCounters
from tlsmon.native_engine import NativeEngine
from tlsmon.native_tracker import DATA, OPEN, TLS_ROW, make_tracker
from tlsmon.output.sink import ParquetSink
from tlsmon.readahead import ReadAhead
from tlsmon.tcp.tracker_config import TrackerConfig

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pcaps"
SMTP = FIXTURES / "starttls" / "smtp-accepted-tls12.pcap"  # 23 frames: SMTP, STARTTLS, TLS 1.2
SAMPLE = FIXTURES / "sample.pcap"  # 276 frames, 18 connections TLS from their first byte and one plaintext
UNBOUNDED = 1 << 40
# Closed connections end at once (no linger) and the table is swept at every frame: rows come as they end.
PROMPT = TrackerConfig(linger_ns=1, sweep_interval_ns=1, check_every_packets=1)


def _read_ahead(
    path: Path,
    max_events: int = UNBOUNDED,
    max_bytes: int = UNBOUNDED,
    max_rows: int = UNBOUNDED,
    config: TrackerConfig | None = None,
    stopped: bool = False,
) -> tuple[bool, int, list[int]]:
    """Whether the capture was read to its end, the frames read, and the kinds of the events waiting."""
    tracker = make_tracker(config or TrackerConfig(), DEFAULT_LIMITS, native_tls=True, native_rows=True)
    stop = _native.Stop()
    if stopped:
        stop.set()
    done = tracker.read_ahead(_native.CaptureSource([path]), stop, max_events, max_bytes, max_rows)
    return done, tracker.stats[0], [kind for _, _, kind, _, _ in tracker.take_events()]


def test_unbounded_it_reads_the_capture_to_its_end() -> None:
    done, frames, kinds = _read_ahead(SMTP)
    assert (done, frames, kinds[:2], len(kinds)) == (True, 23, [OPEN, DATA], 14)


def test_it_stops_after_the_frame_that_brings_the_events_to_their_bound() -> None:
    assert _read_ahead(SMTP, max_events=1) == (False, 4, [OPEN, DATA])


def test_it_stops_after_the_frame_that_brings_the_stream_data_to_its_bound() -> None:
    assert _read_ahead(SMTP, max_bytes=1) == (False, 4, [OPEN, DATA])


@pytest.mark.parametrize(("max_rows", "frames"), [(1, 22), (2, 37)])
def test_it_stops_after_the_frame_that_ends_the_last_row_it_may_hold(max_rows: int, frames: int) -> None:
    assert _read_ahead(SAMPLE, max_rows=max_rows, config=PROMPT) == (False, frames, [TLS_ROW] * max_rows)


def test_told_to_stop_it_reads_no_more_than_the_frame_it_is_on() -> None:
    assert _read_ahead(SMTP, stopped=True) == (False, 1, [])


@pytest.mark.parametrize("path", [SMTP, SAMPLE, FIXTURES / "truncated.pcap"], ids=lambda p: p.name)
@pytest.mark.parametrize("bound", ["READ_AHEAD_EVENTS", "READ_AHEAD_BYTES", "READ_AHEAD_ROWS"])
def test_the_tables_are_the_python_engine_s_whichever_bound_ends_the_reading_ahead(
    path: Path, bound: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readahead, bound, 1)
    assert native_tables([path], config=PROMPT) == python_tables(capture_frames([path]), config=PROMPT)


def test_a_damaged_capture_s_error_comes_after_the_records_read_before_it() -> None:
    path = FIXTURES / "truncated.pcap"  # one TLS 1.3 connection, then the file ends inside a record
    native = native_tables([path])
    assert native == python_tables(capture_frames([path]))
    assert [len(connections) for connections, _ in native[0]] == [1]


def test_an_engine_of_other_arguments_refuses_the_read_ahead(tmp_path: Path) -> None:
    ahead = ReadAhead(_native.CaptureSource([SMTP]), TrackerConfig(), DEFAULT_LIMITS, native_rows=True)
    sink = CountingSink(ParquetSink(tmp_path), LiveCounters())
    with pytest.raises(ValueError, match="made for another engine"):
        NativeEngine(sink, TrackerConfig(idle_timeout_ns=1), read_ahead=ahead)
    ahead.stop()


def test_a_read_that_fails_before_its_engine_is_made_stops_reading_ahead(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text("a file where the output directory should be")
    status = main(["read", str(SAMPLE), "-o", str(out), "-q"])
    assert status == 1
    assert [t for t in threading.enumerate() if t.name == "tlsmon-read-ahead"] == []


def test_an_engine_run_on_another_source_than_the_one_read_ahead_refuses_it(tmp_path: Path) -> None:
    ahead = ReadAhead(_native.CaptureSource([SMTP]), TrackerConfig(), DEFAULT_LIMITS, native_rows=True)
    engine = NativeEngine(CountingSink(ParquetSink(tmp_path), LiveCounters()), TrackerConfig(), read_ahead=ahead)
    with pytest.raises(ValueError, match="another capture source"):
        engine.run(_native.CaptureSource([SMTP]))
