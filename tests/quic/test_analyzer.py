"""QuicAnalyzer: RFC sample flows end to end, Retry, Version Negotiation, damage; corpus flows for the info."""

from __future__ import annotations

from tests.corpus.location import requires_corpus
from tests.quic.protect import client_initial
from tests.quic.rfc_vectors import DCID, V1_CLIENT_INITIAL, V1_SERVER_INITIAL, V2_CLIENT_INITIAL, V2_SERVER_INITIAL
from tests.quic.udpcorpus import flows
from tlsmon.quic.analyzer import QuicAnalyzer
from tlsmon.quic.anomalies import QuicAnomaly


def _flow(*datagrams: tuple[bool, bytes]) -> QuicAnalyzer:
    analyzer = QuicAnalyzer()
    for is_orig, payload in datagrams:
        analyzer.datagram(is_orig, 0.0, payload)
    return analyzer


def test_rfc_9001_sample_flow_gives_the_tls_summary() -> None:
    analyzer = _flow((True, V1_CLIENT_INITIAL), (False, V1_SERVER_INITIAL))
    s = analyzer.summary
    assert (s.version, s.cipher, s.curve, s.server_name, s.client_alpn, s.ssl_history, s.established) == (
        "TLSv13",
        "TLS_AES_128_GCM_SHA256",
        "x25519",
        "example.com",
        ["alpn"],
        "Cs",
        False,
    )
    assert (s.ja4, s.ja4_r) == (
        "q13d0211an_62ed6f6ca7ad_4d634acda6c0",
        "q13d0211an_1301,1302_0005,000a,000d,001c,002b,002d,0033,0039,ff01_0403,0503,0603,0203,0804,0805,0806",
    )
    assert analyzer.finished and analyzer.anomalies == []


def test_rfc_9369_v2_sample_flow_gives_the_same_summary() -> None:
    analyzer = _flow((True, V2_CLIENT_INITIAL), (False, V2_SERVER_INITIAL))
    s = analyzer.summary
    assert (s.version, s.cipher, s.server_name, s.ssl_history, s.ja4) == (
        "TLSv13",
        "TLS_AES_128_GCM_SHA256",
        "example.com",
        "Cs",
        "q13d0211an_62ed6f6ca7ad_4d634acda6c0",
    )
    assert analyzer.info.version == 0x6B3343CF


def test_info_holds_the_connection_ids_and_counts() -> None:
    info = _flow((True, V1_CLIENT_INITIAL), (False, V1_SERVER_INITIAL)).info
    assert (info.client_initial_dcid, info.client_scid, info.server_scid) == (
        bytes.fromhex("8394c8f03e515708"),
        b"",
        bytes.fromhex("f067a5502a4262b5"),
    )
    assert (info.initial_packets, info.undecryptable_packets, info.retry) == (2, 0, False)


def test_client_initial_alone_leaves_the_flow_open() -> None:
    analyzer = _flow((True, V1_CLIENT_INITIAL))
    assert (analyzer.finished, analyzer.summary.ssl_history, analyzer.summary.version) == (False, "C", None)


def test_a_damaged_initial_is_named_and_counted() -> None:
    damaged = bytearray(V1_CLIENT_INITIAL)
    damaged[700] ^= 0x80
    analyzer = _flow((True, bytes(damaged)))
    assert analyzer.anomalies == [QuicAnomaly.UNDECRYPTABLE_INITIAL]
    assert (analyzer.info.undecryptable_packets, analyzer.summary.ssl_history) == (1, "")


def test_a_server_initial_before_any_client_initial_cannot_be_opened() -> None:
    analyzer = _flow((False, V1_SERVER_INITIAL))
    assert analyzer.anomalies == [QuicAnomaly.UNDECRYPTABLE_INITIAL]


def test_version_negotiation_is_recorded_not_an_error() -> None:
    vn = bytes.fromhex("800000000000088394c8f03e5157086b3343cf0a1a2a3a")
    analyzer = _flow((True, V1_CLIENT_INITIAL), (False, vn), (True, V2_CLIENT_INITIAL), (False, V2_SERVER_INITIAL))
    assert analyzer.info.offered_versions == [0x6B3343CF, 0x0A1A2A3A]
    assert (analyzer.summary.ssl_history, analyzer.anomalies) == ("CCs", [])


def test_an_unknown_version_is_named_once() -> None:
    packet = bytes.fromhex("c05130353008010203040506070800") + bytes(1200)
    analyzer = _flow((True, packet), (True, packet))
    assert analyzer.anomalies == [QuicAnomaly.UNKNOWN_VERSION]
    assert analyzer.info.version == 0x51303530


@requires_corpus
def test_retry_gives_new_keys_and_a_second_client_hello() -> None:
    (flow,) = [f for f in flows("zeek/Traces/quic/interop/quic-go_quic-go/retry.pcap") if f.analyzer.transport]
    quic = flow.analyzer.analyzer
    assert isinstance(quic, QuicAnalyzer)
    assert (quic.info.retry, quic.info.client_initial_dcid.hex() if quic.info.client_initial_dcid else None) == (
        True,
        "4a8294bf9201d6cf",
    )
    # Zeek's quic.log: the server's first Initial after the Retry has SCID fc674735
    assert quic.info.server_scid == bytes.fromhex("fc674735")
    assert (quic.summary.ssl_history, quic.anomalies) == ("CCs", [])


@requires_corpus
def test_chromium_connection_ids_equal_zeek_quic_log() -> None:
    (flow,) = [f for f in flows("zeek/Traces/quic/chromium-115.0.5790.110-api-cirrus-com.pcap") if f.analyzer.transport]
    quic = flow.analyzer.analyzer
    assert isinstance(quic, QuicAnalyzer)
    info = quic.info
    assert (info.version, info.client_initial_dcid, info.client_scid, info.server_scid) == (
        1,
        bytes.fromhex("95412c47018cdfe8"),
        b"",
        bytes.fromhex("d5412c47018cdfe8"),
    )


@requires_corpus
def test_client_hello_spread_over_three_initials_out_of_order() -> None:
    trace = "zeek/Traces/quic/quic-multiple-initial-fragmented-crypto-only-initial.pcap"
    (flow,) = [f for f in flows(trace) if f.analyzer.transport]
    quic = flow.analyzer.analyzer
    assert isinstance(quic, QuicAnalyzer)
    assert (len(flow.datagrams), quic.info.initial_packets) == (3, 3)
    assert (quic.summary.server_name, quic.summary.ssl_history) == ("googleads.g.doubleclick.net", "C")
    assert quic.summary.client_key_share_groups == [0x11EC, 0x001D]  # X25519MLKEM768, x25519


def test_connection_close_keeps_the_code_not_the_reason_phrase() -> None:
    reason = b"user-typed secret reason"
    frame = bytes.fromhex("1c412806") + bytes([len(reason)]) + reason
    analyzer = _flow((True, client_initial(frame.ljust(40, b"\x00"), DCID)))
    assert analyzer.info.close_error_code == 0x0128
    assert reason not in repr((analyzer.info, analyzer.summary, analyzer.anomalies)).encode()
