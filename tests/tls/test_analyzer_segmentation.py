"""Property tests: any segmentation gives the same summary, and no input makes the analyzer raise."""

from __future__ import annotations

import dataclasses
import ssl

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tls.handshakes import Identity, Transcript, client_context, handshake, server_context
from tests.tls.vectors import client_hello, ext, record, server_hello, u16s
from tests.tls.vectors import handshake as hs
from tlsmon.tls.analyzer import TlsAnalyzer

FIXTURE_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def transcripts(ids: dict[str, Identity]) -> dict[str, Transcript]:
    def tls12(ctx: ssl.SSLContext) -> None:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2

    return {
        "tls13": handshake(client_context(), server_context(ids["ec"])),
        "tls12": handshake(client_context(tls12), server_context(ids["ec"])),
        "hrr": handshake(
            client_context(), server_context(ids["ec"], lambda c: c.set_ecdh_curve("prime256v1"))
        ),
    }


def feed(chunks: list[tuple[bool, bytes]]) -> TlsAnalyzer:
    analyzer = TlsAnalyzer()
    for is_orig, data in chunks:
        analyzer.data(is_orig, data)
    return analyzer


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, start = [], 0
    for point in [*points, len(data)]:
        pieces.append(data[start:point])
        start = point
    return [p for p in pieces if p]


@pytest.mark.parametrize("name", ["tls13", "tls12", "hrr"])
@FIXTURE_SETTINGS
@given(
    cuts=st.lists(st.lists(st.integers(min_value=0, max_value=10_000), max_size=12), min_size=12, max_size=12)
)
def test_any_segmentation_gives_the_same_summary(
    transcripts: dict[str, Transcript], name: str, cuts: list[list[int]]
) -> None:
    chunks = transcripts[name].chunks
    whole = feed(chunks)
    pieces = [(o, piece) for i, (o, d) in enumerate(chunks) for piece in split(d, cuts[i % len(cuts)])]
    segmented = feed(pieces)
    assert dataclasses.asdict(segmented.summary) == dataclasses.asdict(whole.summary)
    assert segmented.anomalies == whole.anomalies


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.binary(max_size=200)), max_size=12))
def test_arbitrary_bytes_never_raise(chunks: list[tuple[bool, bytes]]) -> None:
    analyzer = feed(chunks)
    analyzer.gap(True, 10)
    analyzer.end()
    assert analyzer.finished


HEADERS = [
    b"\x16\x03\x01",
    b"\x16\x03\x03",
    b"\x15\x03\x03",
    b"\x14\x03\x03",
    b"\x17\x03\x03",
    b"\x18\x03\x03",
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.sampled_from(HEADERS), st.integers(0, 23), st.binary(max_size=120)),
        max_size=8,
    )
)
def test_well_framed_records_with_random_bodies_never_raise(
    chunks: list[tuple[bool, bytes, int, bytes]],
) -> None:
    analyzer = TlsAnalyzer()
    for is_orig, header, msg_type, body in chunks:
        payload = hs(msg_type, body) if header[0] == 0x16 else body
        analyzer.data(is_orig, header + len(payload).to_bytes(2, "big") + payload)
    analyzer.end()


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=80),
    st.binary(max_size=80),
    st.sampled_from([0, 5, 10, 11, 13, 16, 21, 28, 41, 43, 45, 51]),
)
def test_random_extension_bodies_never_raise(client_ext: bytes, server_ext: bytes, code: int) -> None:
    analyzer = TlsAnalyzer()
    analyzer.data(True, record(22, hs(1, client_hello(ext(code, client_ext)))))
    analyzer.data(False, record(22, hs(2, server_hello(ext(code, server_ext), suite=0x1301))))
    assert analyzer.summary.cipher == "TLS_AES_128_GCM_SHA256"


@pytest.mark.parametrize("name", ["tls13", "tls12"])
@FIXTURE_SETTINGS
@given(position=st.integers(min_value=0), value=st.integers(0, 255))
def test_a_corrupted_byte_never_raises(
    transcripts: dict[str, Transcript], name: str, position: int, value: int
) -> None:
    chunks = list(transcripts[name].chunks)
    index = position % len(chunks)
    is_orig, data = chunks[index]
    at = (position // len(chunks)) % len(data)
    chunks[index] = (is_orig, data[:at] + bytes([value]) + data[at + 1 :])
    feed(chunks).end()


def test_a_server_hello_alone_still_gives_version_and_cipher() -> None:
    # a capture that starts mid-handshake: no ClientHello, but the ServerHello is complete
    analyzer = TlsAnalyzer()
    analyzer.data(False, record(22, hs(2, server_hello(ext(43, u16s(0x0304)), suite=0x1302))))
    assert (analyzer.summary.version, analyzer.summary.cipher) == ("TLSv13", "TLS_AES_256_GCM_SHA384")
