"""Where the shared corpus lives, and the skip every oracle test takes when it is absent.

The corpus is read in place from ``<repo>/../shared/corpus`` (never copied into the repo). Paths inside it
are spelled relative to that folder with forward slashes, e.g. ``zeek/Traces/tls/dhe.pcap``, which is also how
test ids and known differences name captures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = REPO_ROOT.parent / "shared" / "corpus"

requires_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"shared corpus not present at {CORPUS}"
)


def corpus_path(rel: str) -> Path:
    return CORPUS / rel


def relative(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()
