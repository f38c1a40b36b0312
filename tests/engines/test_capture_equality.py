"""`--engine native` and `--engine python` give identical tables on every capture we have.

Each capture of fixtures/pcaps/ and of the shared corpus is run through both engines; every column of every
connection and certificate row must be equal (rows sorted: only their order may differ). The native engine
is also run with one frame per batch, where its bypass lags the Python engine's the most, and on the files
themselves (read natively, no Python per packet).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus.location import CORPUS, requires_corpus
from tests.engines.equality import (
    capture_frames,
    native_tables,
    python_tables,
    run_native,
    run_native_capture,
    run_python,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pcaps"
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".trace", ".gz", ".zst")


def _captures(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name.endswith(CAPTURE_SUFFIXES))


def _id(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


FIXTURE_CAPTURES = _captures(FIXTURES)
CORPUS_CAPTURES = _captures(CORPUS)


def test_there_are_fixture_captures_with_connections_to_compare() -> None:
    with_rows = [p for p in FIXTURE_CAPTURES if run_python(capture_frames([p]))[0]]
    assert len(with_rows) >= 100


@pytest.mark.parametrize("path", FIXTURE_CAPTURES, ids=lambda p: _id(p, FIXTURES))
def test_engines_agree_on_fixture(path: Path) -> None:
    frames = capture_frames([path])
    expected = run_python(frames)
    assert run_native(frames) == expected
    assert run_native(frames, batch=1) == expected
    assert run_native_capture([path]) == expected
    assert run_native_capture([path], max_events=1) == expected
    assert run_native_capture([path], reader_thread=True) == expected


@requires_corpus
@pytest.mark.parametrize("path", CORPUS_CAPTURES, ids=lambda p: _id(p, CORPUS))
def test_engines_agree_on_corpus_capture(path: Path) -> None:
    frames = capture_frames([path])
    expected = run_python(frames)
    assert run_native(frames) == expected
    assert run_native(frames, batch=1) == expected
    assert run_native_capture([path]) == expected


@pytest.mark.parametrize("path", FIXTURE_CAPTURES, ids=lambda p: _id(p, FIXTURES))
def test_tables_from_native_batches_equal_pythons_on_fixture(path: Path) -> None:
    assert native_tables([path]) == python_tables(capture_frames([path]))


@requires_corpus
@pytest.mark.parametrize("path", CORPUS_CAPTURES, ids=lambda p: _id(p, CORPUS))
def test_tables_from_native_batches_equal_pythons_on_corpus_capture(path: Path) -> None:
    assert native_tables([path]) == python_tables(capture_frames([path]))
