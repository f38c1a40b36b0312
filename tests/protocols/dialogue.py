"""Feeding a plaintext protocol analyzer a dialogue, whole or split, and collecting what it reported."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from tlsmon.protocols.base import ProtocolAnalyzer
from tlsmon.protocols.events import Event

Chunks = Sequence[tuple[bool, bytes]]  # (from the client, bytes), in arrival order


@dataclass
class Outcome:
    events: list[Event]
    switched: bool
    done: bool
    trailing_client: bytes
    trailing_server: bytes


def feed(factory: Callable[[], ProtocolAnalyzer], chunks: Chunks) -> Outcome:
    analyzer = factory()
    events: list[Event] = []
    for is_orig, data in chunks:
        events += analyzer.feed(is_orig, data)
    client = analyzer.trailing(True) if analyzer.switched else b""
    server = analyzer.trailing(False) if analyzer.switched else b""
    return Outcome(events, analyzer.switched, analyzer.done, client, server)


def split(chunks: Chunks, cuts: Sequence[int]) -> list[tuple[bool, bytes]]:
    """Each chunk cut at the given offsets (modulo its length): the same bytes in more, smaller pieces."""
    out: list[tuple[bool, bytes]] = []
    for i, (is_orig, data) in enumerate(chunks):
        points = sorted({c % len(data) for c in cuts[i :: len(chunks)] if data} | {0, len(data)})
        out += [(is_orig, data[a:b]) for a, b in pairwise(points) if b > a]
    return out


def bytewise(chunks: Chunks) -> list[tuple[bool, bytes]]:
    return [(is_orig, data[i : i + 1]) for is_orig, data in chunks for i in range(len(data))]
