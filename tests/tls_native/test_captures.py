"""The native TLS analyzer equals the Python one on every TCP connection of every capture we have.

Each capture of fixtures/pcaps/ and of the shared corpus runs through the Python engine with every TLS
analyzer teed into a native one (tests/tls_native/tee.py): both see the same data/gap/end calls, and every
summary field, the anomaly list, the DER chains and ``finished`` must be equal at the end. Then the native
analyzer alone stands in for the Python one inside the dispatcher, and every row must be the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus.location import CORPUS, requires_corpus
from tests.engines.equality import capture_frames
from tests.tls_native.tee import differences, native_analyzer, replaced_tls_analyzer, teeing
from tlsmon.engine import Engine
from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.recorder import MemorySink

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pcaps"
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".trace", ".gz", ".zst")


def _captures(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name.endswith(CAPTURE_SUFFIXES))


FIXTURE_CAPTURES = _captures(FIXTURES)
CORPUS_CAPTURES = _captures(CORPUS)


def _differences(path: Path) -> tuple[int, list[tuple[int, dict[str, tuple[object, object]]]]]:
    """(analyzers made, [(index, differences)] of those that differ)."""
    frames = capture_frames([path])
    with teeing() as made:
        engine = Engine(MemorySink())
        engine.run(frames)
        engine.close()
    found = [(i, d) for i, tee in enumerate(made) if (d := differences(tee, tee.native))]
    return len(made), found


def test_the_fixture_captures_hold_many_tls_connections() -> None:
    total = sum(_differences(p)[0] for p in FIXTURE_CAPTURES if p.parent == FIXTURES)
    assert total >= 20


@pytest.mark.parametrize("path", FIXTURE_CAPTURES, ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_native_analyzer_equals_python_on_fixture(path: Path) -> None:
    assert _differences(path)[1] == []


@requires_corpus
@pytest.mark.parametrize("path", CORPUS_CAPTURES, ids=lambda p: p.relative_to(CORPUS).as_posix())
def test_native_analyzer_equals_python_on_corpus_capture(path: Path) -> None:
    assert _differences(path)[1] == []


def _rows(frames: list[tuple[int, int, bytes]]) -> tuple[list[tuple[object, ...]], list[object]]:
    """Every row's parts in uid order, and the certificate records. Compared with ==, not by repr: the
    Python analyzer lists its anomalies as StrEnum members, the native one as the equal plain strings."""
    sink = MemorySink()
    engine = Engine(sink)
    engine.run(frames)
    engine.close()
    rows: list[tuple[object, ...]] = sorted(
        ((r.conn, r.starttls, r.tls, r.x509) for r in sink.records), key=lambda row: repr(row[0])
    )
    return rows, sorted(sink.certificates, key=repr)


def _native_factory(transport: str = "t", limits: Limits = DEFAULT_LIMITS) -> object:
    return native_analyzer(transport, limits)


def _rows_with_native_analyzer(frames: list[tuple[int, int, bytes]]) -> tuple[list[tuple[object, ...]], list[object]]:
    with replaced_tls_analyzer(_native_factory):
        return _rows(frames)


@pytest.mark.parametrize("path", FIXTURE_CAPTURES, ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_native_analyzer_in_the_dispatcher_gives_the_same_rows(path: Path) -> None:
    """_native.TlsAnalyzer is a drop-in for the dispatcher: the rows equal the Python analyzer's."""
    frames = capture_frames([path])
    assert _rows_with_native_analyzer(frames) == _rows(frames)


@requires_corpus
@pytest.mark.parametrize("path", CORPUS_CAPTURES, ids=lambda p: p.relative_to(CORPUS).as_posix())
def test_native_analyzer_in_the_dispatcher_gives_the_same_rows_on_corpus_capture(path: Path) -> None:
    frames = capture_frames([path])
    assert _rows_with_native_analyzer(frames) == _rows(frames)
