"""TlsAnalyzer on the illustrated TLS 1.2 and 1.3 connections, record by record as they were sent."""

from __future__ import annotations

from tests.corpus.location import requires_corpus
from tests.tls.vectors import ILLUSTRATED_TLS12, ILLUSTRATED_TLS13, cap
from tlsmon.tls.analyzer import TlsAnalyzer

pytestmark = requires_corpus

CERT_SHA256 = "c66414aaf6eb0445ccbf2769c0f5ed68dd8940563bf4ebb4b59cdc14d7d71e91"

TLS12_FLIGHTS = [
    (True, ["clienthello"]),
    (False, ["serverhello", "servercert", "serverkeyexchange", "serverhellodone"]),
    (True, ["clientkeyexchange", "clientccs", "clientfinished"]),
    (False, ["serverccs", "serverfinished"]),
    (True, ["clientdata"]),
    (False, ["serverdata"]),
]

TLS13_FLIGHTS = [
    (True, ["clienthello"]),
    (
        False,
        [
            "serverhello",
            "serverccs",
            "serverencextensions",
            "serverenccert",
            "serverenccertverify",
            "serverencfinished",
        ],
    ),
    (True, ["clientccs", "clientencfinished"]),
    (False, ["serverencticket1", "serverencticket2"]),
    (True, ["clientencdata"]),
]


def run(directory: str, flights: list[tuple[bool, list[str]]]) -> TlsAnalyzer:
    base = ILLUSTRATED_TLS12 if directory == "tls12" else ILLUSTRATED_TLS13
    analyzer = TlsAnalyzer()
    for is_orig, names in flights:
        analyzer.data(is_orig, b"".join(cap(base, name) for name in names))
    return analyzer


def test_illustrated_tls12_connection() -> None:
    analyzer = run("tls12", TLS12_FLIGHTS)
    s = analyzer.summary
    assert (s.version, s.cipher, s.curve) == ("TLSv12", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "x25519")
    assert s.server_name == "example.ulfheim.net"
    assert s.ssl_history == "CsxknGIi"
    assert s.cert_chain_fps == [CERT_SHA256]
    assert s.client_status_request == 1
    assert s.reneg_scsv is False and s.client_reneg_info is True
    assert s.established and analyzer.finished
    assert s.resumed is False
    assert analyzer.anomalies == []


def test_illustrated_tls12_is_established_at_the_server_finished() -> None:
    analyzer = run("tls12", TLS12_FLIGHTS[:3])
    assert not analyzer.summary.established  # the client is encrypted, the server not yet
    analyzer.data(False, cap(ILLUSTRATED_TLS12, "serverccs"))
    assert not analyzer.summary.established
    analyzer.data(False, cap(ILLUSTRATED_TLS12, "serverfinished"))
    assert analyzer.summary.established


def test_illustrated_tls13_connection() -> None:
    analyzer = run("tls13", TLS13_FLIGHTS)
    s = analyzer.summary
    assert (s.version, s.cipher, s.curve) == ("TLSv13", "TLS_AES_256_GCM_SHA384", "x25519")
    assert s.server_name == "example.ulfheim.net"
    assert s.ssl_history == "CsiI"
    assert s.cert_chain_fps == []
    assert s.client_session_id_len == 32
    assert s.reneg_scsv is True
    assert s.established and analyzer.finished
    assert analyzer.anomalies == []


def test_illustrated_tls13_is_established_at_the_client_finished() -> None:
    analyzer = run("tls13", TLS13_FLIGHTS[:2])
    assert not analyzer.summary.established
    analyzer.data(True, cap(ILLUSTRATED_TLS13, "clientccs"))
    assert not analyzer.summary.established  # CCS means nothing in TLS 1.3
    analyzer.data(True, cap(ILLUSTRATED_TLS13, "clientencfinished"))
    assert analyzer.summary.established
