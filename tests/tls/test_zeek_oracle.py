"""TlsAnalyzer agrees with Zeek's ssl.log on plain TLS traces from Zeek's own test suite.

Each trace is reassembled by the simple in-order reassembler of ``pcapfeed.py`` and fed straight to the
analyzer, so these tests pin the TLS stage's behaviour independently of tlsmon's TCP stage. The engine-level
comparison over the whole corpus lives in tests/corpus.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus.location import CORPUS, requires_corpus
from tests.tls.pcapfeed import stream_events
from tlsmon.tls.analyzer import TlsAnalyzer

pytestmark = requires_corpus

FIELDS = (
    "version",
    "cipher",
    "curve",
    "server_name",
    "resumed",
    "last_alert",
    "next_protocol",
    "established",
    "ssl_history",
)

BASELINES = [
    "tls/tls1.2.pcap.zeek-baselines/scripts.base.protocols.ssl.tls-1.2/ssl.log",
    "tls/tls1_1.pcap.zeek-baselines/scripts.base.protocols.ssl.tls1_1/ssl.log",
    "tls/ecdhe.pcap.zeek-baselines/scripts.base.protocols.ssl.ecdhe/ssl.log",
    "tls/dhe.pcap.zeek-baselines/scripts.base.protocols.ssl.dhe/ssl.log",
    "tls/ecdsa-cert.pcap.zeek-baselines/scripts.base.protocols.ssl.ecdsa/ssl.log",
    "tls/tls-1.2-handshake-failure.pcap.zeek-baselines/scripts.base.protocols.ssl.tls-1.2-handshake-failure/ssl.log",
    "tls/tls-conn-with-extensions.pcap.zeek-baselines/scripts.base.protocols.ssl.basic/ssl.log",
    "tls/CVE-2015-3194.pcap.zeek-baselines/scripts.base.protocols.ssl.cve-2015-3194/ssl.log",
    "tls/tls-fragmented-handshake.pcap.zeek-baselines/scripts.base.protocols.ssl.fragment/ssl.log",
    "tls/tls1.2-late-protocol-error.pcap.zeek-baselines/scripts.base.protocols.ssl.tls-1.2-late-protocol-error/ssl.log",
    "tls/ocsp-stapling.pcap.zeek-baselines/scripts.policy.protocols.ssl.validate-ocsp/ssl.log",
    "tls/google-duplicate.pcap.zeek-baselines/scripts.policy.protocols.ssl.known-certs/ssl.log",
    "tls/missing-intermediate.pcap.zeek-baselines/scripts.policy.protocols.ssl.validate-certs-no-cache/ssl.log",
    "tls/certificate-request-failed.pcap.zeek-baselines/scripts.policy.protocols.ssl.certificate-request-info/ssl.log",
    "tls/tls13draft23-chrome67.0.3368.0-canary.pcap.zeek-baselines/scripts.base.protocols.ssl.tls13-version/ssl.log",
    "tls/chrome-63.0.3211.0-canary-tls_experiment.pcap.zeek-baselines/scripts.base.protocols.ssl.tls13-experiment/ssl.log",
    "tls/tls13_wolfssl.pcap.zeek-baselines/scripts.base.protocols.ssl.tls13_encrypted_handshake_events/ssl.log",
    "tls/tls13-ech.pcap.zeek-baselines/scripts.base.protocols.ssl.tls13-encrypted-client-hello/ssl.log",
]  # fmt: skip


def read_ssl_log(path: Path) -> list[dict[str, str]]:
    rows, fields = [], []
    for line in path.read_text().splitlines():
        if line.startswith("#fields"):
            fields = line.split("\t")[1:]
        elif line and not line.startswith("#"):
            rows.append(dict(zip(fields, line.split("\t"), strict=True)))
    return rows


def zeek_value(field: str, text: str) -> object:
    if text == "-":
        return "" if field == "ssl_history" else None
    if field in ("resumed", "established"):
        return text == "T"
    return text


def cases() -> list[tuple[str, int]]:
    found = []
    for rel in BASELINES:
        path = CORPUS / "zeek/Traces" / rel
        if path.is_file():
            found += [(rel, i) for i in range(len(read_ssl_log(path)))]
    return found


@pytest.mark.parametrize(("baseline", "row"), cases(), ids=lambda v: str(v).split(".zeek-baselines")[0])
def test_analyzer_matches_zeek_ssl_log(baseline: str, row: int) -> None:
    log = CORPUS / "zeek/Traces" / baseline
    expected = read_ssl_log(log)[row]
    trace = CORPUS / "zeek/Traces" / baseline.split(".zeek-baselines")[0]
    conns = stream_events(trace)
    key = (
        (expected["id.orig_h"], int(expected["id.orig_p"])),
        (expected["id.resp_h"], int(expected["id.resp_p"])),
    )
    assert key in conns, f"connection {key} not in {list(conns)}"
    analyzer = TlsAnalyzer()
    for is_orig, data in conns[key]:
        analyzer.data(is_orig, data)
    analyzer.end()
    got = {f: getattr(analyzer.summary, f) for f in FIELDS if f in expected}
    want = {f: zeek_value(f, expected[f]) for f in FIELDS if f in expected}
    assert got == want
