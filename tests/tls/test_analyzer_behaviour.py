"""TlsAnalyzer rules on hand-built records: anomalies, stopping, Zeek's history and resumption bookkeeping."""

from __future__ import annotations

from tests.tls.vectors import client_hello, ext, handshake, record, server_hello, u16s, vec
from tlsmon.tls.analyzer import TlsAnalyzer
from tlsmon.tls.codes import HRR_RANDOM

CH = record(22, handshake(1, client_hello(ext(0, vec(2, b"\x00" + vec(2, b"x.example"))))), 0x0301)
SH12 = record(22, handshake(2, server_hello(suite=0xC02F)))
SH13 = record(
    22, handshake(2, server_hello(ext(43, u16s(0x0304)) + ext(51, u16s(29) + vec(2, bytes(32))), 0x1301))
)
CCS = record(20, b"\x01")
ENCRYPTED = record(23, bytes(40))
ENCRYPTED_HANDSHAKE = record(22, bytes(40))


def run(*flights: tuple[bool, bytes]) -> TlsAnalyzer:
    analyzer = TlsAnalyzer()
    for is_orig, data in flights:
        analyzer.data(is_orig, data)
    return analyzer


def test_gap_in_the_handshake_is_an_anomaly_and_stops_that_direction() -> None:
    analyzer = run((True, CH))
    analyzer.gap(False, 100)
    analyzer.data(False, SH12)
    assert analyzer.anomalies == ["tls.gap_in_handshake"]
    assert analyzer.summary.version is None
    assert not analyzer.finished


def test_gap_in_an_encrypted_direction_is_no_anomaly() -> None:
    analyzer = run((True, CH), (False, SH12), (True, CCS))
    analyzer.gap(True, 1000)
    assert analyzer.anomalies == []


def test_both_directions_stopped_means_finished() -> None:
    analyzer = run((True, CH))
    analyzer.gap(True, 5)
    analyzer.gap(False, 5)
    assert analyzer.finished


def test_record_layer_anomaly_ends_the_whole_connection() -> None:
    # Zeek skips the rest of a connection after a protocol violation (tls1.2-late-protocol-error.pcap)
    analyzer = run((True, CH), (False, SH12), (True, b"\x14\xff\xff\x00\x01\x01"), (False, CCS))
    assert analyzer.anomalies == ["tls.bad_record_version"]
    assert analyzer.summary.ssl_history == "Cs"
    assert analyzer.finished


def test_not_tls_at_all() -> None:
    analyzer = run((True, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert analyzer.anomalies == ["tls.unknown_content_type"]
    assert analyzer.finished
    assert analyzer.summary.ssl_history == ""


def test_malformed_client_hello_keeps_its_history_letter() -> None:
    analyzer = run((True, record(22, handshake(1, b"\x03\x03" + bytes(10)))))
    assert analyzer.anomalies == ["tls.malformed_client_hello"]
    assert analyzer.summary.ssl_history == "C"
    assert analyzer.client_hello is None


def test_malformed_extension_is_reported_and_the_hello_kept() -> None:
    hello = client_hello(ext(0, vec(2, b"\x00" + vec(2, b"y.example"))) + ext(28, b"\x01"))
    analyzer = run((True, record(22, handshake(1, hello))))
    assert analyzer.anomalies == ["tls.malformed_extension"]
    assert analyzer.summary.server_name == "y.example"
    assert analyzer.summary.client_extensions == [0, 28]


def test_malformed_change_cipher_spec_still_starts_encryption() -> None:
    analyzer = run((True, CH), (False, SH12), (True, record(20, b"\x02")), (True, ENCRYPTED_HANDSHAKE))
    assert analyzer.anomalies == ["tls.malformed_change_cipher_spec"]
    assert analyzer.summary.ssl_history == "CsI"
    assert analyzer.summary.ccs_orig and not analyzer.summary.ccs_resp


def test_tls12_established_needs_ccs_from_both_sides_then_a_ciphertext_record() -> None:
    analyzer = run((True, CH), (False, SH12), (True, CCS + ENCRYPTED_HANDSHAKE), (False, CCS))
    assert not analyzer.summary.established
    analyzer.data(False, ENCRYPTED_HANDSHAKE)
    assert analyzer.summary.established and analyzer.finished
    assert analyzer.summary.ssl_history == "CsIi"


def test_tls13_application_data_before_the_server_hello_does_not_encrypt() -> None:
    analyzer = run((True, CH + ENCRYPTED), (False, SH13 + ENCRYPTED), (True, ENCRYPTED))
    assert analyzer.summary.established
    assert analyzer.summary.ssl_history == "Cs"


def test_tls13_ccs_does_not_encrypt() -> None:
    analyzer = run((True, CH), (False, SH13 + CCS + ENCRYPTED), (True, CCS + CH))
    assert analyzer.summary.ssl_history == "CsiIC"  # the client is still in the clear after its CCS
    assert not analyzer.summary.established


def test_alerts_are_listed_and_a_fatal_one_stops_its_direction() -> None:
    warning = record(21, b"\x01\x70")  # unrecognized_name
    fatal = record(21, b"\x02\x46")  # protocol_version
    analyzer = run((True, CH), (False, warning + fatal + SH12))
    s = analyzer.summary
    assert s.ssl_history == "Cll"
    assert s.last_alert == "protocol_version"
    assert [(a["direction"], a["level"], a["name"]) for a in s.alerts] == [
        ("resp", 1, "unrecognized_name"),
        ("resp", 2, "protocol_version"),
    ]
    assert s.version is None  # nothing after the fatal alert is read


def test_alert_record_of_odd_length_is_malformed() -> None:
    analyzer = run((True, CH), (False, record(21, b"\x02\x28\x01")))
    assert analyzer.anomalies == ["tls.malformed_alert"]
    assert analyzer.summary.last_alert == "handshake_failure"


def test_plaintext_heartbeat_is_b() -> None:
    analyzer = run((True, CH), (False, SH12), (True, record(24, b"\x01\x00\x10" + bytes(16))))
    assert analyzer.summary.ssl_history == "CsB"


def test_client_hello_from_the_responder_flips_the_roles() -> None:
    analyzer = run((False, CH), (True, SH12))
    assert analyzer.summary.ssl_history == "^Cs"
    assert analyzer.summary.server_name == "x.example"


def test_history_is_capped_at_100_letters() -> None:
    hello_requests = record(22, handshake(0, b"") * 120)
    analyzer = run((True, CH), (False, hello_requests))
    assert analyzer.summary.ssl_history == "C" + "h" * 99
    assert analyzer.anomalies == ["tls.ssl_history_too_long"]


def test_unknown_handshake_type_is_z() -> None:
    analyzer = run((True, CH), (False, SH12 + record(22, handshake(99, b"?"))))
    assert analyzer.summary.ssl_history == "Csz"


def test_session_id_echo_is_resumption() -> None:
    hello = record(22, handshake(1, client_hello(session_id=b"\x07" * 32)))
    answer = record(22, handshake(2, server_hello(session_id=b"\x07" * 32)))
    assert run((True, hello), (False, answer)).summary.resumed


def test_all_zero_session_id_is_not_remembered() -> None:
    hello = record(22, handshake(1, client_hello(session_id=bytes(32))))
    answer = record(22, handshake(2, server_hello(session_id=bytes(32))))
    assert not run((True, hello), (False, answer)).summary.resumed


def test_tls13_session_id_echo_is_not_resumption() -> None:
    hello = record(22, handshake(1, client_hello(session_id=b"\x07" * 32)))
    answer = record(22, handshake(2, server_hello(ext(43, u16s(0x0304)), 0x1301, session_id=b"\x07" * 32)))
    assert not run((True, hello), (False, answer)).summary.resumed


def test_ticket_without_client_key_exchange_is_resumption() -> None:
    hello = record(22, handshake(1, client_hello(ext(35, b"ticket-bytes"))))
    analyzer = run((True, hello), (False, SH12 + CCS), (True, CCS))
    assert analyzer.summary.resumed
    assert analyzer.summary.client_session_ticket_len == 12


def test_ticket_with_client_key_exchange_is_a_full_handshake() -> None:
    hello = record(22, handshake(1, client_hello(ext(35, b"ticket-bytes"))))
    key_exchange = record(22, handshake(16, vec(1, bytes(32))))
    analyzer = run((True, hello), (False, SH12), (True, key_exchange + CCS))
    assert not analyzer.summary.resumed
    assert analyzer.summary.ssl_history == "CsGI"


def test_hello_retry_request_then_server_hello() -> None:
    hrr = record(
        22, handshake(2, server_hello(ext(43, u16s(0x0304)) + ext(51, u16s(23)), 0x1301, random=HRR_RANDOM))
    )
    analyzer = run((True, CH), (False, hrr), (True, CH), (False, SH13))
    s = analyzer.summary
    assert s.ssl_history == "CjCs"
    assert (s.hrr, s.hrr_group, s.server_key_share_group, s.curve) == (True, 23, 29, "x25519")


def test_server_messages_of_tls12() -> None:
    ocsp = b"\x30\x03\x0a\x01\x00"
    dh = vec(2, (2**1535 + 1).to_bytes(192, "big")) + vec(2, b"\x02") + vec(2, bytes(192))
    flight = (
        handshake(2, server_hello(suite=0x009E))  # DHE_RSA_WITH_AES_128_GCM_SHA256
        + handshake(11, vec(3, vec(3, b"leaf") + vec(3, b"root")))
        + handshake(22, b"\x01" + vec(3, ocsp))
        + handshake(12, dh + b"signature")
        + handshake(13, vec(1, b"\x01") + vec(2, u16s(0x0401)) + vec(2, b""))
        + handshake(14, b"")
    )
    analyzer = run((True, CH), (False, record(22, flight)))
    s = analyzer.summary
    assert s.ssl_history == "Csxukrn"
    assert s.cert_chain == [b"leaf", b"root"]
    assert (s.ocsp_stapled, s.ocsp_response) == (True, ocsp)
    assert s.dh_prime_bits == 1536
    assert s.cert_request
    assert s.forward_secrecy is True and s.rc4 is False
    assert analyzer.anomalies == []


def test_new_session_ticket_lifetime_hint() -> None:
    ticket = record(22, handshake(4, b"\x00\x01\x51\x80" + vec(2, b"t")))
    assert run((True, CH), (False, SH12 + ticket)).summary.session_ticket_lifetime_hint == 86400


def test_rc4_suite_is_flagged() -> None:
    answer = record(22, handshake(2, server_hello(suite=0x0005)))
    s = run((True, CH), (False, answer)).summary
    assert (s.cipher, s.rc4, s.forward_secrecy) == ("TLS_RSA_WITH_RC4_128_SHA", True, False)


def test_scsv_flags_come_from_the_cipher_list() -> None:
    hello = record(22, handshake(1, client_hello(suites=(0xC02F, 0x00FF, 0x5600))))
    s = run((True, hello)).summary
    assert (s.reneg_scsv, s.fallback_scsv) == (True, True)


def test_sslv2_error_is_an_alert_in_the_history() -> None:
    v2_hello = b"\x80\x1c\x01" + u16s(0x0002, 3, 0, 16) + bytes.fromhex("0700c0") + bytes(16)
    v2_server_hello = b"\x80\x0e\x04\x00\x01" + u16s(0x0002, 0, 3, 0) + bytes.fromhex("0700c0")
    no_certificate_error = b"\x80\x03\x00\x00\x02"
    analyzer = run((True, v2_hello), (False, v2_server_hello), (True, no_certificate_error))
    assert analyzer.summary.ssl_history == "CsL"
    assert analyzer.summary.last_alert == "unknown-2"  # SSLv2 NO-CERTIFICATE-ERROR, named as Zeek names it


def test_a_server_hello_with_a_broken_extension_block_keeps_its_version_and_cipher() -> None:
    # renegotiation_info well formed, then an extension header whose length runs past the block
    broken = ext(0xFF01, b"\x00") + (0x0017).to_bytes(2, "big") + (40).to_bytes(2, "big") + b"\x00\x00"
    analyzer = run(
        (True, record(22, handshake(1, client_hello()))),
        (False, record(22, handshake(2, server_hello(broken, suite=0xC02F)))),
    )
    s = analyzer.summary
    assert (s.version, s.cipher, s.server_extensions) == ("TLSv12", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", [0xFF01])
    assert analyzer.anomalies == ["tls.malformed_extension_block"]


def test_the_extension_that_broke_the_block_is_named() -> None:
    # renegotiation_info well formed, then extended_master_secret (23) whose length runs past the block
    broken = ext(0xFF01, b"\x00") + (0x0017).to_bytes(2, "big") + (40).to_bytes(2, "big") + b"\x00\x00"
    analyzer = run(
        (True, record(22, handshake(1, client_hello()))),
        (False, record(22, handshake(2, server_hello(broken, suite=0xC02F)))),
    )
    assert analyzer.summary.server_malformed_extensions == [0x0017]


def test_an_extension_header_cut_after_its_code_is_named_too() -> None:
    broken = ext(0xFF01, b"\x00") + (0x0010).to_bytes(2, "big") + b"\x00"  # ALPN's code, then one length byte
    analyzer = run(
        (True, record(22, handshake(1, client_hello()))),
        (False, record(22, handshake(2, server_hello(broken, suite=0xC02F)))),
    )
    assert analyzer.summary.server_malformed_extensions == [0x0010]


def test_a_malformed_extension_body_is_named_and_the_block_kept() -> None:
    bad_alpn = ext(0x0010, b"\x00\x05\x02h2")  # list length 5 for 3 bytes
    analyzer = run(
        (True, record(22, handshake(1, client_hello()))),
        (False, record(22, handshake(2, server_hello(bad_alpn, suite=0xC02F)))),
    )
    s = analyzer.summary
    assert (s.server_extensions, s.server_malformed_extensions) == ([0x0010], [0x0010])
    assert analyzer.anomalies == ["tls.malformed_extension"]
