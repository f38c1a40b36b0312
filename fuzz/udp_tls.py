"""Coverage-guided fuzzing of the QUIC and DTLS analyzers (Python, sans-IO) with atheris (libFuzzer).

An input is a flow: a sequence of datagrams, each ``direction byte, 2-byte length, payload``; the first byte of
the input chooses the analyzer (even: the UDP dispatcher's probe decides, as in a run; odd: QUIC or DTLS forced).
The harness checks what a run relies on: no exception escapes, every anomaly is a named one of the quic./dtls./
tls. vocabularies, and the summary stays within the limits. Seeds come from the project's own captures.

    pip install atheris
    python fuzz/udp_tls.py --make-seeds fuzz/seeds/udp_tls      # the UDP payloads of fixtures/pcaps/udp
    python fuzz/udp_tls.py fuzz/seeds/udp_tls -max_total_time=600 -rss_limit_mb=2048

docs/fuzzing.md records the runs.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Iterator
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["tlsmon"]):
    from tlsmon.dtls.analyzer import DtlsAnalyzer
    from tlsmon.limits import Limits
    from tlsmon.quic.analyzer import QuicAnalyzer
    from tlsmon.quic.udp import UdpTlsAnalyzer

LIMITS = Limits(max_alerts=4, max_anomalies=8, max_certificates_per_chain=2, max_certificates_per_connection=3)
PREFIXES = ("quic.", "dtls.", "tls.")


def datagrams(data: bytes) -> Iterator[tuple[bool, bytes]]:
    pos = 1
    while pos + 3 <= len(data):
        is_orig = not data[pos] & 1
        (length,) = struct.unpack_from("!H", data, pos + 1)
        pos += 3
        yield is_orig, data[pos : pos + length]
        pos += length


def one_flow(data: bytes) -> None:
    if not data:
        return
    choice = data[0] % 4
    analyzer: UdpTlsAnalyzer | QuicAnalyzer | DtlsAnalyzer
    if choice == 1:
        analyzer = QuicAnalyzer(LIMITS)
    elif choice == 3:
        analyzer = DtlsAnalyzer(LIMITS)
    else:
        analyzer = UdpTlsAnalyzer(LIMITS)
    for ts, (is_orig, payload) in enumerate(datagrams(data)):
        analyzer.datagram(is_orig, float(ts), payload)
        if analyzer.finished:
            break
    for name in analyzer.anomalies:
        assert name.startswith(PREFIXES), name
    summary = analyzer.summary
    if summary is not None:
        assert len(summary.cert_chain) <= LIMITS.max_certificates_per_chain
        assert len(summary.alerts) <= LIMITS.max_alerts


def make_seeds(out: Path) -> None:
    from tlsmon.capture import CaptureSource
    from tlsmon.decode.packet import FLAG_UDP, Decoder

    out.mkdir(parents=True, exist_ok=True)
    for capture in sorted(Path(__file__).resolve().parents[1].glob("fixtures/pcaps/udp/*.pcap")):
        decoder = Decoder()
        first: tuple[object, ...] | None = None
        seed = bytearray(b"\x00")
        for ts, linktype, frame in CaptureSource([capture]):
            d = decoder.decode(ts, linktype, frame)
            if d is None or not d[5] & FLAG_UDP:
                continue
            if first is None:
                first = (d[1], d[3])
            payload = bytes(d[8][d[9] : d[9] + d[10]])
            seed += bytes([0 if (d[1], d[3]) == first else 1]) + struct.pack("!H", len(payload)) + payload
        (out / capture.stem).write_bytes(bytes(seed))


def main() -> None:
    if sys.argv[1:2] == ["--make-seeds"]:
        make_seeds(Path(sys.argv[2]))
        return
    atheris.Setup(sys.argv, one_flow)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
