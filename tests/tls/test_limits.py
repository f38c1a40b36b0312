"""TlsAnalyzer bounds: certificates kept per chain and per connection, alerts kept per row (tlsmon.limits)."""

from __future__ import annotations

import hashlib

from tests.tls.vectors import client_hello, handshake, record, server_hello, vec
from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.tls.analyzer import TlsAnalyzer

CH = record(22, handshake(1, client_hello()), 0x0301)
SH12 = record(22, handshake(2, server_hello(suite=0xC02F)))
WARNING_CLOSE_NOTIFY = record(21, b"\x01\x00")


def certificate_records(ders: list[bytes]) -> bytes:
    """A TLS 1.2 Certificate message holding ``ders``, cut into records of 16 KiB (RFC 5246 §6.2.1)."""
    message = handshake(11, vec(3, b"".join(vec(3, der) for der in ders)))
    return b"".join(record(22, message[i : i + 16384]) for i in range(0, len(message), 16384))


def der(i: int) -> bytes:
    return b"\x30\x04" + i.to_bytes(4, "big")  # not certificates: the analyzer keeps DER as sent


def run(limits: Limits, *flights: tuple[bool, bytes]) -> TlsAnalyzer:
    analyzer = TlsAnalyzer(limits=limits)
    for is_orig, data in flights:
        analyzer.data(is_orig, data)
    return analyzer


def test_170000_tiny_certificates_keep_the_first_of_the_chain() -> None:
    ders = [b"\x30"] * 170_000
    analyzer = run(DEFAULT_LIMITS, (True, CH), (False, SH12), (False, certificate_records(ders)))
    kept = DEFAULT_LIMITS.max_certificates_per_chain
    assert analyzer.summary.cert_chain == [b"\x30"] * kept
    assert analyzer.summary.cert_chain_fps == [hashlib.sha256(b"\x30").hexdigest()] * kept
    assert analyzer.anomalies == ["tls.certificate_chain_too_long"]


def test_a_chain_at_the_limit_is_kept_whole_without_anomaly() -> None:
    ders = [der(i) for i in range(DEFAULT_LIMITS.max_certificates_per_chain)]
    analyzer = run(DEFAULT_LIMITS, (True, CH), (False, SH12), (False, certificate_records(ders)))
    assert (analyzer.summary.cert_chain, analyzer.anomalies) == (ders, [])


def test_the_client_chain_gets_what_the_server_chain_left_of_the_connection_budget() -> None:
    limits = Limits(max_certificates_per_chain=4, max_certificates_per_connection=6)
    server = [der(i) for i in range(3)]
    client = [der(100 + i) for i in range(4)]
    analyzer = run(
        limits,
        (True, CH),
        (False, SH12 + certificate_records(server)),
        (True, certificate_records(client)),
    )
    assert analyzer.summary.cert_chain == server
    assert analyzer.summary.client_cert_chain == client[:3]
    assert analyzer.anomalies == ["tls.too_many_certificates"]


def test_alerts_past_max_alerts_are_not_listed_and_named_once() -> None:
    analyzer = run(Limits(max_alerts=3), (True, CH), (False, SH12 + WARNING_CLOSE_NOTIFY * 5))
    assert [a["name"] for a in analyzer.summary.alerts] == ["close_notify"] * 3
    assert analyzer.summary.last_alert == "close_notify"
    assert analyzer.anomalies == ["tls.too_many_alerts"]


def test_anomalies_past_max_anomalies_are_counted_and_the_cut_named_once() -> None:
    malformed_alert = record(21, b"\x01")  # RFC 5246 §7.2: an alert is two bytes
    analyzer = run(Limits(max_anomalies=3), (True, CH), (False, SH12 + malformed_alert * 5))
    assert analyzer.anomalies == ["tls.malformed_alert"] * 3 + ["tls.too_many_anomalies"]
    assert analyzer.anomalies_dropped == 2
