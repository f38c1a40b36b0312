"""DtlsAnalyzer on the corpus's DTLS captures, and the TLS-layer details DTLS needs (cookie, versions)."""

from __future__ import annotations

import pytest

from tests.corpus.location import requires_corpus
from tests.quic.udpcorpus import flows
from tlsmon.dtls.analyzer import DtlsAnalyzer
from tlsmon.tls.parse import parse_client_hello

pytestmark = requires_corpus


def _dtls(trace: str) -> list[DtlsAnalyzer]:
    out = []
    for flow in flows(trace):
        analyzer = flow.analyzer.analyzer
        if isinstance(analyzer, DtlsAnalyzer):
            out.append(analyzer)
    return out


def test_hello_verify_request_makes_the_second_client_hello_the_rows() -> None:
    (dtls,) = _dtls("zeek/Traces/tls/dtls1_2.pcap")
    assert dtls.info.hello_verify_request
    hello = dtls.tls.client_hello
    assert hello is not None
    assert (len(hello.cookie), hello.cookie[:4].hex()) == (20, "4c281da5")
    assert dtls.summary.ssl_history == "CvCsxknGIti"


def test_dtls12_record_layer_counts() -> None:
    (dtls,) = _dtls("zeek/Traces/tls/dtls1_2.pcap")
    info = dtls.info
    assert (info.record_version, info.records_orig, info.records_resp, info.max_epoch, info.max_sequence) == (
        0xFEFD,
        7,
        14,
        1,
        12,
    )
    assert dtls.anomalies == []


def test_dtls12_summary_and_ja4_with_d_prefix() -> None:
    (dtls,) = _dtls("zeek/Traces/tls/dtls1_2.pcap")
    s = dtls.summary
    assert (s.version, s.version_code, s.client_version_code, s.established, s.forward_secrecy) == (
        "DTLSv12",
        0xFEFD,
        0xFEFD,
        True,
        True,
    )
    assert s.ja4 == "dd2i800500_9cedc1f1428b_a1e935682795"


def test_dtls10_without_hello_verify_request() -> None:
    (dtls,) = _dtls("ja4/pcap/dtls-udp.notest.cap")
    s = dtls.summary
    assert (s.version, s.cipher, s.ssl_history, s.ja4[:4], s.forward_secrecy) == (
        "DTLSv10",
        "TLS_RSA_WITH_AES_256_CBC_SHA",
        "CsxnGIti",
        "dd1i",
        False,
    )
    assert (dtls.info.hello_verify_request, dtls.tls.client_hello and dtls.tls.client_hello.cookie) == (False, b"")


def test_dtls13_unified_header_records_are_counted_and_make_the_flow_established() -> None:
    (dtls,) = _dtls("zeek/Traces/tls/dtls13-wolfssl.pcap")
    assert dtls.info.unified_header_records == 5
    assert (dtls.summary.version, dtls.summary.ssl_history, dtls.summary.established) == ("DTLSv13", "CjCs", True)


def test_webrtc_client_hello_from_the_responder_flips_the_roles() -> None:
    (dtls,) = _dtls("zeek/Traces/tls/webrtc-stun.pcap")
    assert dtls.summary.ssl_history == "^CsxkrnXGYIi"
    assert dtls.info.other_datagrams > 0  # STUN after the DTLS handshake started


def test_parse_client_hello_reads_the_dtls_cookie_only_when_asked() -> None:
    (dtls,) = _dtls("zeek/Traces/tls/dtls1_2.pcap")
    hello = dtls.tls.client_hello
    assert hello is not None
    # re-encode the parsed fields' start: legacy_version, random, session_id, cookie
    body = (
        hello.legacy_version.to_bytes(2, "big")
        + hello.random
        + bytes([len(hello.session_id)])
        + hello.session_id
        + bytes([len(hello.cookie)])
        + hello.cookie
        + b"\x00\x02\xc0\x2b"
        + b"\x01\x00"
    )
    assert parse_client_hello(body, dtls=True).cipher_suites == [0xC02B]
    with pytest.raises(ValueError):
        parse_client_hello(body)
