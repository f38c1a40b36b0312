"""The two capture readers (Python's executable specification and the native core) and what each one gives."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tlsmon import _native
from tlsmon.capture import CaptureError, CaptureSource

Reader = Callable[..., Any]
READERS: dict[str, Reader] = {"python": CaptureSource, "native": _native.CaptureSource}

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_PCAPS = ROOT / "fixtures" / "pcaps"
CORPUS = (ROOT / "../shared/corpus").resolve()
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".gz", ".zst")


@dataclass(frozen=True)
class Outcome:
    """Everything a reader gives for a list of files: frames, warnings, counts, and the error it ended on."""

    frames: list[tuple[int, int, bytes]]
    warnings: list[str]
    counters: dict[str, int]
    packets: int
    bytes_read: int
    total_bytes: int
    filtered_out: int
    error: str | None


def read_all(reader: Reader, paths: Sequence[str | os.PathLike[str]], bpf: str | None = None) -> Outcome:
    """Reads ``paths`` to the end; a CaptureError (at opening or while reading) is kept as ``error``."""
    heard: list[str] = []
    try:
        source = reader(paths, bpf=bpf, on_warning=heard.append)
    except CaptureError as exc:
        return Outcome([], [], {}, 0, 0, 0, 0, str(exc))
    frames: list[tuple[int, int, bytes]] = []
    error = None
    try:
        for frame in source:
            frames.append(frame)
    except CaptureError as exc:
        error = str(exc)
    assert list(source.warnings) == heard
    return Outcome(
        frames,
        list(source.warnings),
        dict(source.counters),
        source.packets,
        source.bytes_read,
        source.total_bytes,
        source.filtered_out,
        error,
    )


def fixture_captures() -> list[Path]:
    return sorted(p for p in FIXTURE_PCAPS.rglob("*") if p.is_file() and p.name.endswith(CAPTURE_SUFFIXES))


def corpus_captures() -> list[Path]:
    """The captures MANIFEST.md lists, and any other file with a tshark summary (every corpus capture has one)."""
    if not CORPUS.is_dir():
        return []
    listed = re.findall(r"^\| `([^`]+)` \|", (CORPUS / "MANIFEST.md").read_text(), re.MULTILINE)
    found = {CORPUS / p for p in listed if (CORPUS / p).is_file()}
    found |= {Path(str(tsv).removesuffix(".tshark.tsv")) for tsv in CORPUS.rglob("*.tshark.tsv")}
    return sorted(p for p in found if p.is_file())
