"""Every frame of every capture in ``fixtures/pcaps/`` and in the shared corpus decodes to the same segment
(or the same refusal) in ``tlsmon._native.Decoder`` as in the Python decoder, with equal counters."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.corpus.location import CORPUS, REPO_ROOT
from tests.decode.native_compare import Frame, assert_same_decoding
from tlsmon.capture import CaptureError, CaptureSource

FIXTURES = REPO_ROOT / "fixtures" / "pcaps"
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".gz", ".zst")


def fixture_captures() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.name.endswith(CAPTURE_SUFFIXES))


def corpus_captures() -> list[str]:
    """The captures the corpus MANIFEST.md lists in its per-capture table (first column, a file path)."""
    manifest = CORPUS / "MANIFEST.md"
    if not manifest.is_file():
        return []
    paths = re.findall(r"^\| `([^`]+[^/])` \|", manifest.read_text(), re.MULTILINE)
    return [p for p in paths if (CORPUS / p).is_file()]


def frames_of(path: Path) -> Iterator[Frame]:
    """The capture's frames; a file the capture stage refuses part-way yields the frames before that."""
    try:
        yield from CaptureSource([path])
    except CaptureError:
        return


def test_the_fixtures_and_the_corpus_are_found() -> None:
    assert len(fixture_captures()) >= 30
    if CORPUS.is_dir():
        assert len(corpus_captures()) >= 200


@pytest.mark.parametrize("path", fixture_captures(), ids=lambda p: p.relative_to(FIXTURES).as_posix())
def test_fixture_capture_decodes_identically(path: Path) -> None:
    assert_same_decoding(frames_of(path))


CORPUS_CAPTURES = corpus_captures() or [
    pytest.param("", marks=pytest.mark.skip(reason=f"shared corpus not present at {CORPUS}"))
]


@pytest.mark.parametrize("rel", CORPUS_CAPTURES)
def test_corpus_capture_decodes_identically(rel: str) -> None:
    assert_same_decoding(frames_of(CORPUS / rel))


def test_all_corpus_captures_as_one_stream_decode_identically() -> None:
    """One decoder over every corpus capture in turn: fragments held across files expire alike."""
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not present at {CORPUS}")

    def frames() -> Iterator[Frame]:
        for rel in corpus_captures():
            yield from frames_of(CORPUS / rel)

    assert assert_same_decoding(frames()) > 10_000
