"""LDAP: the StartTLS extended operation, root DSE capabilities, plaintext binds, message framing by BER."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.protocols.captured import engine_records, payloads, requires_corpus
from tests.protocols.dialogue import CLIENT_HELLO, SERVER_HELLO, AnalyzerContract, C, S, feed
from tlsmon.protocols.events import (
    Anomaly,
    AuthMechanismsOffered,
    CapabilitiesOffered,
    PlaintextAuth,
    StartTlsAccepted,
    StartTlsOffered,
    StartTlsRejected,
    StartTlsRequested,
)
from tlsmon.protocols.identification import identify
from tlsmon.protocols.ldap import MAX_HEAD, LdapAnalyzer, probe


def tlv(tag: int, *parts: bytes) -> bytes:
    """One BER element, definite length in the short or the long form."""
    content = b"".join(parts)
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + content


def message(message_id: int, op: bytes) -> bytes:
    return tlv(0x30, tlv(0x02, message_id.to_bytes(1, "big")), op)


def octets(value: bytes) -> bytes:
    return tlv(0x04, value)


# The StartTLS request and its success response, messageID 1 (Zeek's ldap-starttls.pcap, RFC 4511 §4.14).
STARTTLS = bytes.fromhex("301d02010177188016312e332e362e312e342e312e313436362e3230303337")
STARTTLS_OK = bytes.fromhex("300c02010178070a010004000400")
STARTTLS_UNAVAILABLE = message(1, tlv(0x78, tlv(0x0A, b"\x34"), octets(b""), octets(b"TLS not configured")))
ANONYMOUS_BIND = bytes.fromhex("300c020102600702010304008000")  # messageID 2, version 3, name "", simple ""
SIMPLE_BIND = message(3, tlv(0x60, tlv(0x02, b"\x03"), octets(b"cn=admin,dc=example,dc=org"), tlv(0x80, b"secret")))
SASL_BIND = message(3, tlv(0x60, tlv(0x02, b"\x03"), octets(b""), tlv(0xA3, octets(b"GSSAPI"), octets(b"\x60\x82"))))
BIND_OK = message(3, tlv(0x61, tlv(0x0A, b"\x00"), octets(b""), octets(b"")))
BIND_INVALID_CREDENTIALS = message(3, tlv(0x61, tlv(0x0A, b"\x31"), octets(b""), octets(b"")))
UNBIND = bytes.fromhex("30050201054200")
ROOT_DSE_SEARCH = message(
    4,
    tlv(
        0x63,
        octets(b""),  # baseObject ""
        tlv(0x0A, b"\x00"),  # scope baseObject
        tlv(0x0A, b"\x00"),  # derefAliases never
        tlv(0x02, b"\x00"),  # sizeLimit
        tlv(0x02, b"\x00"),  # timeLimit
        tlv(0x01, b"\x00"),  # typesOnly FALSE
        tlv(0x87, b"objectClass"),  # (objectClass=*)
        tlv(0x30, octets(b"supportedExtension"), octets(b"supportedSASLMechanisms")),
    ),
)
PASSWORD_MODIFY_OID = b"1.3.6.1.4.1.4203.1.11.1"


def root_dse_entry(message_id: int, extensions: list[bytes], base: bytes = b"") -> bytes:
    return message(
        message_id,
        tlv(
            0x64,
            octets(base),
            tlv(
                0x30,
                tlv(0x30, octets(b"namingContexts"), tlv(0x31, octets(b"dc=example,dc=org"))),
                tlv(0x30, octets(b"supportedExtension"), tlv(0x31, *(octets(oid) for oid in extensions))),
                tlv(0x30, octets(b"supportedSASLMechanisms"), tlv(0x31, octets(b"GSSAPI"), octets(b"DIGEST-MD5"))),
            ),
        ),
    )


ROOT_DSE_DONE = message(4, tlv(0x65, tlv(0x0A, b"\x00"), octets(b""), octets(b"")))
NOTICE_OF_DISCONNECTION = message(
    0, tlv(0x78, tlv(0x0A, b"\x34"), octets(b""), octets(b""), tlv(0x8A, b"1.3.6.1.4.1.1466.20036"))
)

ACCEPTED = [(C, STARTTLS), (S, STARTTLS_OK), (C, CLIENT_HELLO), (S, SERVER_HELLO)]
OFFERED_THEN_ACCEPTED = [
    (C, ROOT_DSE_SEARCH),
    (S, root_dse_entry(4, [PASSWORD_MODIFY_OID, b"1.3.6.1.4.1.1466.20037"]) + ROOT_DSE_DONE),
    (C, STARTTLS),
    (S, STARTTLS_OK),
    (C, CLIENT_HELLO),
    (S, SERVER_HELLO),
]


class TestContract(AnalyzerContract):
    analyzer = LdapAnalyzer
    dialogues = (ACCEPTED, OFFERED_THEN_ACCEPTED)


def test_starttls_success_switches_at_the_next_byte_of_each_direction() -> None:
    out = feed(LdapAnalyzer, ACCEPTED)
    assert out.events == [StartTlsRequested("StartTLS"), StartTlsAccepted("0")]
    assert (out.switched, out.trailing_client, out.trailing_server) == (True, CLIENT_HELLO, SERVER_HELLO)


def test_starttls_refused_with_a_result_code_goes_on_in_plaintext() -> None:
    out = feed(LdapAnalyzer, [(C, STARTTLS), (S, STARTTLS_UNAVAILABLE), (C, SIMPLE_BIND)])
    assert out.events == [StartTlsRequested("StartTLS"), StartTlsRejected("52"), PlaintextAuth("bindRequest simple")]
    assert not out.switched


def test_root_dse_lists_the_extensions_the_starttls_offer_and_sasl_mechanisms() -> None:
    out = feed(LdapAnalyzer, OFFERED_THEN_ACCEPTED)
    assert out.events == [
        CapabilitiesOffered(("1.3.6.1.4.1.4203.1.11.1", "1.3.6.1.4.1.1466.20037")),
        StartTlsOffered(),
        AuthMechanismsOffered(("GSSAPI", "DIGEST-MD5")),
        StartTlsRequested("StartTLS"),
        StartTlsAccepted("0"),
    ]
    assert (out.trailing_client, out.trailing_server) == (CLIENT_HELLO, SERVER_HELLO)


def test_root_dse_without_the_starttls_oid_is_not_an_offer() -> None:
    out = feed(LdapAnalyzer, [(C, ROOT_DSE_SEARCH), (S, root_dse_entry(4, [PASSWORD_MODIFY_OID]))])
    assert out.events[:2] == [
        CapabilitiesOffered(("1.3.6.1.4.1.4203.1.11.1",)),
        AuthMechanismsOffered(("GSSAPI", "DIGEST-MD5")),
    ]


def test_entries_of_other_searches_are_not_capabilities() -> None:
    entry = root_dse_entry(4, [b"1.3.6.1.4.1.1466.20037"], base=b"dc=example,dc=org")
    out = feed(LdapAnalyzer, [(C, ROOT_DSE_SEARCH), (S, entry), (S, root_dse_entry(9, [b"1.3.6.1.4.1.1466.20037"]))])
    assert out.events == []


def test_an_extended_response_with_another_message_id_does_not_answer_starttls() -> None:
    other = message(7, tlv(0x78, tlv(0x0A, b"\x00"), octets(b""), octets(b"")))
    out = feed(LdapAnalyzer, [(C, STARTTLS), (S, other)])
    assert out.events == [StartTlsRequested("StartTLS")]
    assert not out.switched


def test_other_extended_requests_are_not_starttls() -> None:
    request = message(5, tlv(0x77, tlv(0x80, PASSWORD_MODIFY_OID)))
    assert feed(LdapAnalyzer, [(C, request)]).events == []


def test_simple_bind_is_reported_without_dn_or_password_and_success_ends_the_session() -> None:
    out = feed(LdapAnalyzer, [(C, SIMPLE_BIND), (S, BIND_OK)])
    assert out.events == [PlaintextAuth("bindRequest simple")]
    assert out.done
    assert "secret" not in repr(out.events) and "admin" not in repr(out.events)


def test_failed_bind_keeps_the_session_open_for_starttls() -> None:
    out = feed(LdapAnalyzer, [(C, SIMPLE_BIND), (S, BIND_INVALID_CREDENTIALS), *ACCEPTED])
    assert out.events == [PlaintextAuth("bindRequest simple"), StartTlsRequested("StartTLS"), StartTlsAccepted("0")]


def test_anonymous_bind_is_no_authentication() -> None:
    out = feed(
        LdapAnalyzer, [(C, ANONYMOUS_BIND), (S, message(2, tlv(0x61, tlv(0x0A, b"\x00"), octets(b""), octets(b""))))]
    )
    assert (out.events, out.done) == ([], False)


def test_sasl_bind_reports_the_mechanism() -> None:
    assert feed(LdapAnalyzer, [(C, SASL_BIND)]).events == [PlaintextAuth("bindRequest sasl GSSAPI")]


def test_unbind_ends_the_session() -> None:
    assert feed(LdapAnalyzer, [(C, UNBIND)]).done


def test_notice_of_disconnection_ends_the_session() -> None:
    out = feed(LdapAnalyzer, [(C, STARTTLS), (S, NOTICE_OF_DISCONNECTION)])
    assert (out.events, out.done) == ([StartTlsRequested("StartTLS")], True)


def test_client_bytes_after_starttls_before_its_response_are_named() -> None:
    out = feed(LdapAnalyzer, [(C, STARTTLS + ROOT_DSE_SEARCH), (S, STARTTLS_OK)])
    assert out.events[-1] == Anomaly("ldap.data_after_starttls")
    assert out.trailing_client == ROOT_DSE_SEARCH


def test_a_long_search_entry_is_skipped_without_buffering_it() -> None:
    entry = message(
        6,
        tlv(0x64, octets(b"cn=big"), tlv(0x30, tlv(0x30, octets(b"jpegPhoto"), tlv(0x31, octets(b"\xff" * 300_000))))),
    )
    out = feed(LdapAnalyzer, [(S, entry[:1000]), (S, entry[1000:]), *ACCEPTED])
    assert out.events == [StartTlsRequested("StartTLS"), StartTlsAccepted("0")]
    assert out.trailing_server == SERVER_HELLO


def test_a_root_dse_longer_than_the_parsed_head_keeps_what_the_head_held() -> None:
    controls = tlv(
        0x30, octets(b"supportedControl"), tlv(0x31, *(octets(b"1.2.840.113556.1.4.%d" % i) for i in range(2000)))
    )
    extensions = tlv(0x30, octets(b"supportedExtension"), tlv(0x31, octets(b"1.3.6.1.4.1.1466.20037")))
    entry = message(4, tlv(0x64, octets(b""), tlv(0x30, extensions, controls)))
    assert len(entry) > MAX_HEAD
    out = feed(LdapAnalyzer, [(C, ROOT_DSE_SEARCH), (S, entry + ROOT_DSE_DONE)])
    assert out.events == [CapabilitiesOffered(("1.3.6.1.4.1.1466.20037",)), StartTlsOffered()]


def test_a_sasl_bind_longer_than_the_parsed_head_still_names_its_mechanism() -> None:
    ticket = b"\x60" + b"\x00" * 40_000
    bind = message(3, tlv(0x60, tlv(0x02, b"\x03"), octets(b""), tlv(0xA3, octets(b"GSS-SPNEGO"), octets(ticket))))
    out = feed(LdapAnalyzer, [(C, bind), (S, BIND_INVALID_CREDENTIALS), *ACCEPTED])
    assert out.events == [
        PlaintextAuth("bindRequest sasl GSS-SPNEGO"),
        StartTlsRequested("StartTLS"),
        StartTlsAccepted("0"),
    ]


def test_a_gap_inside_a_skipped_message_is_harmless() -> None:
    entry = message(
        6,
        tlv(0x64, octets(b"cn=big"), tlv(0x30, tlv(0x30, octets(b"jpegPhoto"), tlv(0x31, octets(b"\xff" * 300_000))))),
    )
    analyzer = LdapAnalyzer()
    analyzer.feed(S, entry[:20_000])
    assert analyzer.gap(S, 100_000) == []
    analyzer.feed(S, entry[120_000:])
    analyzer.feed(C, STARTTLS)
    assert analyzer.feed(S, STARTTLS_OK) == [StartTlsAccepted("0")]


def test_a_gap_elsewhere_ends_the_analysis() -> None:
    analyzer = LdapAnalyzer()
    analyzer.feed(C, STARTTLS)
    assert analyzer.gap(S, 14) == [Anomaly("ldap.gap")]
    assert analyzer.done


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x00\x00\x20\x05\x04",  # a SASL security layer buffer after a GSSAPI bind (RFC 4513 §5.2.1.5)
        b"\x30\x80\x02\x01\x01",  # indefinite length, forbidden by RFC 4511 §5.1
        b"\x30\x85\x00\x00\x00\x00\x10",  # a five-byte length
    ],
)
def test_bytes_that_are_not_an_ldap_message_end_the_analysis(data: bytes) -> None:
    out = feed(LdapAnalyzer, [(S, data)])
    assert (out.events, out.done) == ([Anomaly("ldap.not_an_ldap_message")], True)


def test_an_envelope_without_a_readable_message_id_is_named_and_skipped() -> None:
    bad = tlv(0x30, tlv(0x04, b"x"), tlv(0x42, b""))
    out = feed(LdapAnalyzer, [(C, bad + UNBIND)])
    assert (out.events, out.done) == ([Anomaly("ldap.malformed_message")], True)


def test_long_form_lengths_frame_messages() -> None:
    long_form = b"\x30\x84\x00\x00\x00\x1d" + STARTTLS[2:]
    out = feed(LdapAnalyzer, [(C, long_form), (S, STARTTLS_OK + SERVER_HELLO)])
    assert out.events == [StartTlsRequested("StartTLS"), StartTlsAccepted("0")]
    assert out.trailing_server == SERVER_HELLO


@settings(max_examples=300, deadline=None)
@given(st.booleans(), st.binary(max_size=120))
def test_arbitrary_envelope_contents_never_raise(is_orig: bool, content: bytes) -> None:
    feed(LdapAnalyzer, [(is_orig, tlv(0x30, content))])


def test_registry_identifies_the_starttls_request() -> None:
    found = identify(True, STARTTLS, 389).protocol
    assert found is not None and found.name == "ldap"


@pytest.mark.parametrize(
    ("is_orig", "data", "port", "verdict"),
    [
        (True, STARTTLS, 389, True),
        (True, STARTTLS, 10389, True),  # content decides, any port
        (True, ANONYMOUS_BIND, 389, True),
        (True, ROOT_DSE_SEARCH, 389, True),
        (False, STARTTLS_OK, 389, True),
        (False, NOTICE_OF_DISCONNECTION, 389, True),
        (True, STARTTLS[:6], 389, None),  # the protocolOp's length byte is still missing
        (True, STARTTLS[:7], 389, True),
        (True, b"\x30", 389, None),
        (False, STARTTLS, 389, False),  # a request op from the server
        (True, STARTTLS_OK, 389, False),  # a response op from the client
        (True, b"\x30\x03\x04\x01\x00", 389, False),  # no messageID
        (True, b"GET / HTTP/1.1\r\n", 389, False),
        (True, CLIENT_HELLO, 389, False),
        (False, b"220 mx ESMTP\r\n", 389, False),
        (False, b"0 ready\r\n", 389, False),
    ],
)
def test_probe_decides_by_content(is_orig: bool, data: bytes, port: int, verdict: bool | None) -> None:
    assert probe(is_orig, data, port) is verdict


# -- the corpus: Zeek's ldap-starttls.pcap (OpenLDAP, TLS 1.3) and Suricata's ldap-starttls (IPv6, TLS 1.2) -------


@requires_corpus
def test_starttls_from_the_corpus() -> None:
    chunks = payloads("zeek/Traces/ldap/ldap-starttls.pcap", 389, 4)
    assert chunks[:2] == [(C, STARTTLS), (S, STARTTLS_OK)]
    out = feed(LdapAnalyzer, chunks)
    assert out.events == [StartTlsRequested("StartTLS"), StartTlsAccepted("0")]
    assert (out.trailing_client, out.trailing_server) == (chunks[2][1], chunks[3][1])


@requires_corpus
@pytest.mark.parametrize(
    ("trace", "version"),
    [("zeek/Traces/ldap/ldap-starttls.pcap", "TLSv13"), ("suricata-verify/tests/ldap-starttls/input.pcap", "TLSv12")],
)
def test_engine_row_of_a_corpus_starttls_session(trace: str, version: str) -> None:
    (record,) = engine_records(trace)
    assert (record.conn.app_proto, record.conn.tls_mode) == ("ldap", "starttls")
    st_ = record.starttls
    assert st_ is not None
    assert (st_.starttls_command_seen, st_.starttls_command, st_.starttls_reply, st_.starttls_result) == (
        True,
        "StartTLS",
        "0",
        "accepted",
    )
    assert (st_.starttls_offered, st_.server_capabilities, st_.auth_mechs_offered, st_.plaintext_auth_command) == (
        None,
        [],
        [],
        None,
    )
    assert record.tls is not None and record.tls.version == version
