"""Cost of the Python QUIC and DTLS parsers per Initial and per handshake (docs/udp.md "Measurements").

Run from the repository: ``PYTHONPATH=. .venv/bin/python -m tests.quic.measure`` (the corpus lines need
../shared/corpus). Best of five runs of each loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from tests.corpus.location import CORPUS
from tests.quic.rfc_vectors import CLIENT_CRYPTO_FRAME, DCID, SERVER_PAYLOAD, V1_CLIENT_INITIAL, V1_SERVER_INITIAL
from tests.quic.udpwalk import analyze
from tlsmon.dtls.probe import looks_like_dtls
from tlsmon.quic.analyzer import QuicAnalyzer
from tlsmon.quic.packet import QUIC_V1, split_datagram
from tlsmon.quic.probe import looks_like_quic
from tlsmon.quic.protection import initial_keys
from tlsmon.quic.udp import UdpTlsAnalyzer
from tlsmon.tls.analyzer import TlsAnalyzer

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pcaps" / "udp"


def best(fn: Callable[[], object], n: int) -> float:
    """Microseconds per call."""
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - start) / n)
    return min(runs) * 1e6


def rfc_flow() -> None:
    analyzer = QuicAnalyzer()
    analyzer.datagram(True, 0.0, V1_CLIENT_INITIAL)
    analyzer.datagram(False, 0.0, V1_SERVER_INITIAL)


def rfc_flow_new_keys() -> None:
    initial_keys.cache_clear()
    rfc_flow()


def derive() -> None:
    initial_keys.cache_clear()
    initial_keys(QUIC_V1, DCID)


def tcp_same_hellos() -> None:
    hello = CLIENT_CRYPTO_FRAME[4:]
    server = SERVER_PAYLOAD[9:]
    analyzer = TlsAnalyzer("t")
    analyzer.data(True, b"\x16\x03\x01" + len(hello).to_bytes(2, "big") + hello)
    analyzer.data(False, b"\x16\x03\x03" + len(server).to_bytes(2, "big") + server)


def per_flow(path: Path) -> float:
    flows = [[(o, p) for o, _, p in f.datagrams] for f in analyze(path) if f.analyzer.transport]

    def run() -> None:
        initial_keys.cache_clear()
        for datagrams in flows:
            udp = UdpTlsAnalyzer()
            for is_orig, payload in datagrams:
                udp.datagram(is_orig, 0.0, payload)
                if udp.finished:
                    break

    return best(run, 200) / len(flows)


def main() -> None:
    keys = initial_keys(QUIC_V1, DCID)
    assert keys is not None
    packet = split_datagram(V1_CLIENT_INITIAL)[0][0]
    print(f"RFC 9001 client+server Initial, keys cached: {best(rfc_flow, 2000):.1f} us")
    print(f"the same, keys derived per flow: {best(rfc_flow_new_keys, 2000):.1f} us")
    print(f"deriving both directions' Initial keys: {best(derive, 5000):.1f} us")
    unprotect = best(lambda: keys[0].unprotect(V1_CLIENT_INITIAL, 0, packet.pn_offset, packet.end, -1), 20000)
    print(f"unprotect one 1200-byte Initial: {unprotect:.1f} us")
    print(f"split_datagram: {best(lambda: split_datagram(V1_CLIENT_INITIAL), 50000):.2f} us")
    quic_probe = best(lambda: looks_like_quic(V1_CLIENT_INITIAL), 200000)
    dtls_probe = best(lambda: looks_like_dtls(V1_CLIENT_INITIAL), 200000)
    print(f"looks_like_quic: {quic_probe:.2f} us; looks_like_dtls: {dtls_probe:.2f} us")
    print(f"TCP TlsAnalyzer on the same two hellos: {best(tcp_same_hellos, 5000):.1f} us")
    traces = [
        CORPUS / "zeek/Traces/quic/chromium-115.0.5790.110-api-cirrus-com.pcap",
        CORPUS / "suricata-verify/tests/quic-frag-unordered/input.pcap",
        CORPUS / "zeek/Traces/quic/quic-multiple-initial-fragmented-crypto.pcap",
        FIXTURES / "quic-two-initials.pcap",
        CORPUS / "zeek/Traces/tls/dtls1_2.pcap",
        CORPUS / "zeek/Traces/tls/dtls1_0.pcap",
        CORPUS / "zeek/Traces/tls/dtls13-wolfssl.pcap",
        FIXTURES / "dtls-1.2.pcap",
    ]
    for path in traces:
        if path.exists():
            print(f"per flow until finished, {path.name} ({path.parent.name}): {per_flow(path):.1f} us")


if __name__ == "__main__":
    main()
