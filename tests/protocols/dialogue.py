"""Feeding a plaintext protocol analyzer a dialogue, whole or split, and collecting what it reported.

:class:`AnalyzerContract` holds the properties every analyzer has; a test module states its analyzer and
dialogues in a ``TestContract`` subclass and gets them run on those dialogues.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import ClassVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tlsmon.protocols.base import ProtocolAnalyzer
from tlsmon.protocols.events import Event
from tlsmon.protocols.registry import PROTOCOLS
from tlsmon.protocols.starttls import StartTlsSummary

Chunks = Sequence[tuple[bool, bytes]]  # (from the client, bytes), in arrival order

C, S = True, False
# The first bytes of a TLS ClientHello and ServerHello record: what follows an accepted upgrade.
CLIENT_HELLO = b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00"
SERVER_HELLO = b"\x16\x03\x03\x00\x04\x02\x00\x00\x00"


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


def summary_of(events: list[Event]) -> StartTlsSummary:
    """The row's STARTTLS columns as the events fold into them."""
    summary = StartTlsSummary()
    for event in events:
        summary.apply(event)
    return summary


def shaped_chunks(tokens: Sequence[bytes]) -> st.SearchStrategy[list[tuple[bool, bytes]]]:
    """Chunks of up to 12 of a protocol's tokens each: random input that gets past its first checks."""
    chunk = st.lists(st.sampled_from(tokens), max_size=12).map(b"".join)
    return st.lists(st.tuples(st.booleans(), chunk), max_size=20)


class AnalyzerContract:
    """Any segmentation of a dialogue reports the same, and arbitrary bytes never raise, nor make the probe raise."""

    analyzer: ClassVar[type[ProtocolAnalyzer]]
    dialogues: ClassVar[Sequence[Chunks]]

    def test_dialogue_fed_byte_by_byte_reports_the_same(self) -> None:
        for dialogue in self.dialogues:
            assert feed(self.analyzer, bytewise(dialogue)) == feed(self.analyzer, dialogue)

    # Each subclass runs the same test function with its own `self`: the health check against that is moot here.
    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.differing_executors])
    @given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=40))
    def test_any_segmentation_reports_the_same(self, cuts: list[int]) -> None:
        for dialogue in self.dialogues:
            assert feed(self.analyzer, split(dialogue, cuts)) == feed(self.analyzer, dialogue)

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.differing_executors])
    @given(st.lists(st.tuples(st.booleans(), st.binary(max_size=200)), max_size=20))
    def test_arbitrary_bytes_never_raise(self, chunks: list[tuple[bool, bytes]]) -> None:
        feed(self.analyzer, chunks)

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.differing_executors])
    @given(st.booleans(), st.binary(max_size=300), st.integers(min_value=0, max_value=65535))
    def test_probe_never_raises(self, is_orig: bool, data: bytes, port: int) -> None:
        [probe] = [proto.probe for proto in PROTOCOLS if proto.analyzer is self.analyzer]
        assert probe(is_orig, data, port) in (True, False, None)
