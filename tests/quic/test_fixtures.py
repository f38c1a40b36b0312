"""The project's own UDP captures (fixtures/make_udp_captures.py): aioquic and openssl said what they negotiated
(fixtures/pcaps/udp/MANIFEST.json); tlsmon must read the same from the wire."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.quic.udpwalk import UdpFlow, tls_flows
from tlsmon.dtls.analyzer import DtlsAnalyzer
from tlsmon.quic.analyzer import QuicAnalyzer
from tlsmon.tls.codes import cipher_name

UDP = Path(__file__).resolve().parents[2] / "fixtures" / "pcaps" / "udp"
MANIFEST: dict[str, dict[str, object]] = json.loads((UDP / "MANIFEST.json").read_text())
QUIC = sorted(name for name, entry in MANIFEST.items() if entry["transport"] == "quic")


def _flow(name: str) -> UdpFlow:
    (flow,) = tls_flows(UDP / name)
    return flow


def test_manifest_lists_exactly_the_udp_captures() -> None:
    assert {p.name for p in UDP.glob("*.pcap")} == set(MANIFEST)


@pytest.mark.parametrize("name", QUIC)
def test_quic_capture_agrees_with_aioquic(name: str) -> None:
    expected = MANIFEST[name]
    flow = _flow(name)
    quic = flow.analyzer.analyzer
    assert isinstance(quic, QuicAnalyzer)
    s = quic.summary
    code = expected["cipher_code"]
    assert isinstance(code, int)
    assert (s.version, s.cipher, s.server_name, s.client_alpn, quic.info.version, quic.info.retry) == (
        expected["version"],
        cipher_name(code),
        expected["server_name"],
        expected["client_alpn"],
        expected["quic_version"],
        expected["retry"],
    )
    assert (s.ja4 or "")[:1] == "q"
    assert quic.anomalies == []
    ports = expected.get("client_ports")  # a capture with a rebinding: udpwalk keys by 5-tuple, the first path
    first_path = sum(next(iter(ports.values()))) if isinstance(ports, dict) else expected["datagrams"]
    assert len(flow.datagrams) == first_path


def test_retry_capture_has_two_client_hellos() -> None:
    assert _flow("quic-retry.pcap").analyzer.summary.ssl_history == "CCs"  # type: ignore[union-attr]


def test_large_client_hello_spans_three_initial_datagrams() -> None:
    flow = _flow("quic-two-initials.pcap")
    quic = flow.analyzer.analyzer
    assert isinstance(quic, QuicAnalyzer)
    assert [is_orig for is_orig, _, _ in flow.datagrams[:4]] == [True, True, True, False]
    assert (quic.summary.ssl_history, len(quic.summary.client_alpn), quic.summary.ja4[:12]) == (  # type: ignore[index]
        "Cs",
        40,
        "q13d0307px_5",
    )


def test_dtls_capture_agrees_with_openssl() -> None:
    expected = MANIFEST["dtls-1.2.pcap"]
    dtls = _flow("dtls-1.2.pcap").analyzer.analyzer
    assert isinstance(dtls, DtlsAnalyzer)
    s = dtls.summary
    assert (s.version, s.server_name, dtls.info.hello_verify_request, s.cert_chain_fps) == (
        expected["version"],
        expected["server_name"],
        expected["hello_verify_request"],
        expected["server_cert_chain_sha256"],
    )
    assert (s.cipher, s.ssl_history, s.established, s.ja4[:4]) == (  # type: ignore[index]
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",  # openssl's ECDHE-ECDSA-AES256-GCM-SHA384
        "CvCsxknGIti",
        True,
        "dd2d",
    )
    assert dtls.tls.client_hello is not None and len(dtls.tls.client_hello.cookie) > 0
