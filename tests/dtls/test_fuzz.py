"""Robustness: mutated DTLS datagrams (the corpus's DTLS 1.2 handshake) never raise; every problem is a named
anomaly, and the reassembly buffers stay within their limits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.corpus.location import requires_corpus
from tests.quic.udpcorpus import flows
from tlsmon.dtls.analyzer import DtlsAnalyzer
from tlsmon.dtls.anomalies import DtlsAnomaly
from tlsmon.limits import Limits
from tlsmon.tls.analyzer import TlsLimitAnomaly
from tlsmon.tls.anomalies import TlsAnomaly

NAMED = {str(a) for a in DtlsAnomaly} | {str(a) for a in TlsAnomaly} | {str(a) for a in TlsLimitAnomaly}
TRACE = "zeek/Traces/tls/dtls1_2.pcap"


def _datagrams() -> list[tuple[bool, bytes]]:
    (flow,) = flows(TRACE)
    return [(is_orig, payload) for is_orig, _, payload in flow.datagrams]


@requires_corpus
@settings(max_examples=300)
@given(data=st.data())
def test_mutated_dtls_handshakes_never_raise(data: st.DataObject) -> None:
    datagrams = _datagrams()
    limits = Limits(max_dtls_reassembly_bytes=4096, max_dtls_pending_messages=4)
    analyzer = DtlsAnalyzer(limits)
    for is_orig, payload in datagrams:
        mutated = bytearray(payload)
        for _ in range(data.draw(st.integers(0, 3))):
            if not mutated:
                break
            pos = data.draw(st.integers(0, len(mutated) - 1))
            if data.draw(st.booleans()):
                mutated[pos] ^= data.draw(st.integers(1, 255))
            else:
                del mutated[pos:]
        analyzer.datagram(is_orig, 0.0, bytes(mutated))
        assert all(r.pending() <= 4096 for r in analyzer._reassemblers)
    assert set(analyzer.anomalies) <= NAMED


@settings(max_examples=300)
@given(datagram=st.binary(min_size=13, max_size=400).map(lambda b: b"\x16\xfe\xfd" + b))
def test_random_bytes_after_a_dtls_header_never_raise(datagram: bytes) -> None:
    analyzer = DtlsAnalyzer()
    analyzer.datagram(True, 0.0, datagram)
    analyzer.datagram(False, 0.0, datagram)
    assert set(analyzer.anomalies) <= NAMED
