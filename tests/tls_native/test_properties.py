"""Property tests: the native TLS analyzer equals the Python one on re-chunked, damaged and random input.

The real streams are every TLS connection's bytes of the fixture captures (and of the shared corpus when it is
present: SSLv2, drafts, HRR, client certificates), as the Python engine delivered them. Hypothesis replays a
stream's two directions interleaved in random chunk sizes, with gaps (bytes skipped and reported), flipped
bytes, truncation, the two directions swapped (a ClientHello from the responder) and an optional end(), under
drawn tiny limits and JA4 transports, to both analyzers; every summary field,
the anomaly list and ``finished`` must be equal after every call.
"""

from __future__ import annotations

import functools
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.corpus.location import CORPUS
from tests.engines.equality import capture_frames
from tests.tls_native.tee import differences, native_analyzer, teeing
from tlsmon.engine import Engine
from tlsmon.limits import Limits
from tlsmon.recorder import MemorySink
from tlsmon.tls.analyzer import TlsAnalyzer

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pcaps"
# the corpus folders with the odd handshakes (SSLv2, drafts, HRR, client certificates) the fixtures lack
CORPUS_TLS = (CORPUS / "zeek" / "Traces" / "tls", CORPUS / "suricata-verify" / "tests" / "tls")

Stream = tuple[bytes, bytes]  # (originator bytes, responder bytes)


@functools.cache
def real_streams() -> tuple[Stream, ...]:
    paths = sorted(FIXTURES.glob("*.pcap"))
    for folder in CORPUS_TLS:
        if folder.is_dir():
            paths += sorted(folder.rglob("*.pcap"))
    streams: set[Stream] = set()
    for path in paths:
        with teeing() as made:
            engine = Engine(MemorySink())
            engine.run(capture_frames([path]))
            engine.close()
        for tee in made:
            orig = b"".join(d for o, d in tee.calls if o)
            resp = b"".join(d for o, d in tee.calls if not o)
            if orig or resp:
                streams.add((orig, resp))
    return tuple(sorted(streams))


limits_strategy = st.builds(
    Limits,
    max_certificates_per_chain=st.integers(1, 4),
    max_certificates_per_connection=st.integers(1, 6),
    max_alerts=st.integers(1, 3),
    max_anomalies=st.integers(1, 4),
)

chunk_size = st.one_of(st.integers(1, 8), st.integers(9, 400), st.integers(401, 20000))


def _check_equal(python: TlsAnalyzer, native: object) -> None:
    assert differences(python, native) == {}


@st.composite
def replays(draw: st.DrawFn) -> tuple[Limits, str, list[tuple[str, bool, bytes | int]], bool]:
    """(limits, transport, calls, end) where a call is ("data", is_orig, bytes) or ("gap", is_orig, length)."""
    streams = real_streams()
    orig, resp = draw(st.sampled_from(streams))
    if draw(st.booleans()):  # the client's bytes from the TCP responder: the direction flip (^)
        orig, resp = resp, orig
    data = {True: bytearray(orig), False: bytearray(resp)}
    pos = {True: 0, False: 0}
    calls: list[tuple[str, bool, bytes | int]] = []
    truncate_at = draw(st.integers(1, 200))
    while len(calls) < truncate_at and (pos[True] < len(data[True]) or pos[False] < len(data[False])):
        is_orig = draw(st.booleans())
        left = len(data[is_orig]) - pos[is_orig]
        if left == 0:
            is_orig = not is_orig
            left = len(data[is_orig]) - pos[is_orig]
        n = min(left, draw(chunk_size))
        kind = draw(st.sampled_from(("data",) * 12 + ("gap", "flip")))
        start = pos[is_orig]
        pos[is_orig] += n
        if kind == "gap":
            calls.append(("gap", is_orig, n))
            continue
        chunk = bytes(data[is_orig][start : start + n])
        if kind == "flip":
            at = draw(st.integers(0, n - 1))
            chunk = chunk[:at] + bytes([chunk[at] ^ draw(st.integers(1, 255))]) + chunk[at + 1 :]
        calls.append(("data", is_orig, chunk))
    return draw(limits_strategy), draw(st.sampled_from("tqd")), calls, draw(st.booleans())


def _replay(limits: Limits, transport: str, calls: list[tuple[str, bool, bytes | int]], end: bool) -> None:
    python = TlsAnalyzer(transport, limits)
    native = native_analyzer(transport, limits)
    for kind, is_orig, value in calls:
        if kind == "gap":
            assert isinstance(value, int)
            python.gap(is_orig, value)
            native.gap(is_orig, value)
        else:
            assert isinstance(value, bytes)
            python.data(is_orig, value)
            native.data(is_orig, value)
        _check_equal(python, native)
    if end:
        python.end()
        native.end()
        _check_equal(python, native)


def test_there_are_real_streams_to_replay() -> None:
    assert len(real_streams()) >= 20


@settings(max_examples=400, deadline=None)
@given(replays())
def test_real_streams_rechunked_damaged_and_cut_are_equal(
    replay: tuple[Limits, str, list[tuple[str, bool, bytes | int]], bool],
) -> None:
    _replay(*replay)


#: a record header of a TLS content type (or an SSLv2-looking first byte), major version 2 or 3, any length
record_header = st.tuples(
    st.sampled_from([20, 21, 22, 23, 24, 0x80, 0x16]), st.sampled_from([2, 3]), st.integers(0, 4), st.integers(0, 300)
).map(lambda t: bytes([t[0], t[1], t[2], t[3] >> 8, t[3] & 0xFF]))


@settings(max_examples=400, deadline=None)
@given(
    limits_strategy,
    st.lists(
        st.tuples(
            st.booleans(),
            st.one_of(
                st.binary(max_size=64),
                record_header,
                st.tuples(record_header, st.binary(max_size=300)).map(lambda t: t[0] + t[1]),
            ),
        ),
        max_size=40,
    ),
)
def test_random_records_are_equal(limits: Limits, chunks: list[tuple[bool, bytes]]) -> None:
    _replay(limits, "t", [("data", is_orig, data) for is_orig, data in chunks], True)
