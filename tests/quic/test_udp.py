"""The UDP entry point and its probes: QUIC or DTLS from the first datagrams, anything else given up."""

from __future__ import annotations

from tests.corpus.location import requires_corpus
from tests.quic.rfc_vectors import V1_CLIENT_INITIAL, V1_SERVER_INITIAL, V2_CLIENT_INITIAL
from tests.quic.udpcorpus import flows
from tlsmon.dtls.probe import looks_like_dtls
from tlsmon.quic.probe import looks_like_quic
from tlsmon.quic.udp import PROBE_DATAGRAMS, UdpTlsAnalyzer

# a DTLS 1.2 record header of a ClientHello (epoch 0, sequence 0, 3 body bytes)
DTLS_HEADER = bytes.fromhex("16fefd00000000000000000003") + b"\x01\x00\x00"
DNS_QUERY = bytes.fromhex("abcd01000001000000000000") + b"\x07example\x03com\x00\x00\x01\x00\x01"


def test_quic_probe_accepts_v1_and_v2_client_initials() -> None:
    assert looks_like_quic(V1_CLIENT_INITIAL) and looks_like_quic(V2_CLIENT_INITIAL)


def test_quic_probe_rejects_dns_dtls_and_short_headers() -> None:
    assert not any(looks_like_quic(p) for p in (DNS_QUERY, DTLS_HEADER, b"\x41" + bytes(40), b""))


def test_quic_probe_takes_an_unknown_version_only_in_a_full_size_client_datagram() -> None:
    head = bytes.fromhex("c05130353008010203040506070800")
    assert looks_like_quic(head + bytes(1200 - len(head)))
    assert not looks_like_quic(head + bytes(100))


def test_dtls_probe_accepts_a_client_hello_record_and_rejects_the_rest() -> None:
    assert looks_like_dtls(DTLS_HEADER)
    assert not any(looks_like_dtls(p) for p in (DNS_QUERY, V1_CLIENT_INITIAL, DTLS_HEADER[:12], b""))
    assert not looks_like_dtls(DTLS_HEADER[:-1])  # the length runs past the datagram


def test_entry_point_picks_quic_and_finishes_after_the_server_hello() -> None:
    udp = UdpTlsAnalyzer()
    udp.datagram(True, 1.0, V1_CLIENT_INITIAL)
    assert (udp.transport, udp.finished) == ("quic", False)
    udp.datagram(False, 1.1, V1_SERVER_INITIAL)
    assert udp.finished
    assert udp.summary is not None and udp.summary.server_name == "example.com"
    assert udp.anomalies == []


def test_entry_point_gives_up_after_the_probe_window() -> None:
    udp = UdpTlsAnalyzer()
    for _ in range(PROBE_DATAGRAMS):
        udp.datagram(True, 0.0, DNS_QUERY)
    assert (udp.transport, udp.finished, udp.summary, udp.anomalies) == (None, True, None, [])


@requires_corpus
def test_entry_point_waits_past_webrtc_stun_for_the_dtls_client_hello() -> None:
    (flow,) = flows("zeek/Traces/tls/webrtc-stun.pcap")
    assert flow.analyzer.transport == "dtls"
    assert [payload[0] for _, _, payload in flow.datagrams[:9]] == [0, 1, 0, 0, 1, 1, 0, 1, 0x16]
