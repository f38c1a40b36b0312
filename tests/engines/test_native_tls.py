"""Which TLS analyzer the native engine uses: its own, for implicit TLS and after STARTTLS alike.

A connection TLS from its first byte is analyzed inside the tracker and crosses to Python once, at its end;
a STARTTLS connection goes to Python's dispatcher, which hands the stream at the byte where TLS starts to the
native analyzer (`_native.TlsAnalyzer`). The Python analyzer is never made: these tests replace it with one
that fails and still get every TLS row, equal to the Python engine's (tests/engines/test_capture_equality.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engines.equality import capture_frames
from tlsmon import _native
from tlsmon.native_engine import NativeEngine
from tlsmon.native_tracker import TLS_END
from tlsmon.recorder import MemorySink
from tlsmon.tls import factory

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pcaps"


class _NoPythonTls:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("the native engine made a Python TLS analyzer")


def _rows(path: Path, monkeypatch: pytest.MonkeyPatch) -> MemorySink:
    monkeypatch.setattr(factory, "python_tls_analyzer", _NoPythonTls)
    sink = MemorySink()
    engine = NativeEngine(sink)
    engine.run(_native.CaptureSource([path]))
    engine.close()
    return sink


def test_implicit_tls_is_analyzed_natively(monkeypatch: pytest.MonkeyPatch) -> None:
    sink = _rows(FIXTURES / "tls13-basic.pcap", monkeypatch)
    [(conn, tls)] = sink.rows
    assert (conn.app_proto, conn.tls_mode) == ("tls", "implicit")
    assert tls is not None and (tls.version, tls.server_name) == ("TLSv13", "example.test")


def test_after_starttls_the_native_analyzer_takes_the_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    sink = _rows(FIXTURES / "starttls" / "smtp-accepted-tls12.pcap", monkeypatch)
    [(conn, tls)] = sink.rows
    assert (conn.app_proto, conn.tls_mode) == ("smtp", "starttls")
    assert tls is not None and tls.version == "TLSv12"


def test_an_implicit_tls_connection_crosses_the_boundary_once() -> None:
    engine = NativeEngine(MemorySink(), batch=1)
    events: list[int] = []
    apply = engine._apply

    def counting(batch: list[tuple[int, int, int, bool, object]]) -> None:
        events.extend(kind for _, _, kind, _, _ in batch)
        apply(batch)

    engine._apply = counting  # type: ignore[method-assign]
    engine.run(capture_frames([FIXTURES / "tls13-basic.pcap"]))
    engine.close()
    assert events == [TLS_END]
