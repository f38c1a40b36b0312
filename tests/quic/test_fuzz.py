"""Robustness: mutated datagrams and random frames inside decryptable Initials never raise, and every problem
is a named anomaly (Hypothesis; the native code has cargo-fuzz targets, this Python parser has these)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.quic.protect import client_initial
from tests.quic.rfc_vectors import CLIENT_PAYLOAD, DCID, V1_CLIENT_INITIAL, V1_SERVER_INITIAL
from tlsmon.limits import Limits
from tlsmon.quic.analyzer import QuicAnalyzer
from tlsmon.quic.anomalies import QuicAnomaly
from tlsmon.quic.udp import UdpTlsAnalyzer
from tlsmon.tls.analyzer import TlsLimitAnomaly
from tlsmon.tls.anomalies import TlsAnomaly

NAMED = {str(a) for a in QuicAnomaly} | {str(a) for a in TlsAnomaly} | {str(a) for a in TlsLimitAnomaly}


def test_protect_helper_reproduces_rfc_9001_a2() -> None:
    assert client_initial(CLIENT_PAYLOAD, DCID, pn=2) == V1_CLIENT_INITIAL


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "cut", "insert"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[pos : pos + draw(st.integers(1, 64))]
        else:
            data[pos:pos] = draw(st.binary(min_size=1, max_size=32))
    return bytes(data)


@settings(max_examples=300)
@given(client=mutated(V1_CLIENT_INITIAL), server=mutated(V1_SERVER_INITIAL))
def test_mutated_initials_never_raise(client: bytes, server: bytes) -> None:
    udp = UdpTlsAnalyzer()
    udp.datagram(True, 0.0, client)
    udp.datagram(False, 0.0, server)
    assert set(udp.anomalies) <= NAMED


# frames an Initial may carry, with random fields, and junk
FRAME = st.one_of(
    st.builds(lambda n: bytes(n), st.integers(0, 40)),  # PADDING
    st.just(b"\x01"),  # PING
    st.builds(
        lambda off, data: b"\x06" + (0x4000 | off).to_bytes(2, "big") + (0x4000 | len(data)).to_bytes(2, "big") + data,
        st.integers(0, 3000),
        st.binary(max_size=300),
    ),
    st.builds(lambda b: b"\x02" + b, st.binary(max_size=12)),  # ACK with random fields
    st.builds(lambda b: b"\x1c" + b, st.binary(max_size=12)),  # CONNECTION_CLOSE with random fields
    st.binary(min_size=1, max_size=20),
)


@settings(max_examples=300)
@given(frames=st.lists(FRAME, min_size=1, max_size=12), pn=st.integers(0, 1000))
def test_random_frames_in_a_decryptable_initial_never_raise(frames: list[bytes], pn: int) -> None:
    payload = b"".join(frames).ljust(20, b"\x00")  # the header-protection sample needs 16 bytes past the PN
    analyzer = QuicAnalyzer(Limits(max_quic_crypto_bytes=2048))
    analyzer.datagram(True, 0.0, client_initial(payload, DCID, pn=pn))
    assert set(analyzer.anomalies) <= NAMED
    assert QuicAnomaly.UNDECRYPTABLE_INITIAL not in analyzer.anomalies
    assert analyzer._crypto[0].delivered <= 2048


@settings(max_examples=200)
@given(pieces=st.permutations(range(6)), size=st.integers(1, 60))
def test_client_hello_in_crypto_frames_any_order_over_several_initials(pieces: list[int], size: int) -> None:
    hello = CLIENT_PAYLOAD[4:245]  # the ClientHello bytes of the RFC's CRYPTO frame
    chunks = [(i * size, hello[i * size : (i + 1) * size]) for i in range(6)]
    chunks[-1] = (5 * size, hello[5 * size :])
    analyzer = QuicAnalyzer()
    for n, index in enumerate(pieces):
        offset, data = chunks[index]
        frame = b"\x06" + (0x4000 | offset).to_bytes(2, "big") + (0x4000 | len(data)).to_bytes(2, "big") + data
        analyzer.datagram(True, 0.0, client_initial(frame.ljust(1162, b"\x00"), DCID, pn=n))
    assert (analyzer.summary.server_name, analyzer.summary.ssl_history, analyzer.anomalies) == ("example.com", "C", [])
