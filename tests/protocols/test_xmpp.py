"""XMPP c2s/s2s: stream features, <starttls/> → <proceed/> or <failure/>, the exact switch point, safe XML."""

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
    Detail,
    PlaintextAuth,
    StartTlsAccepted,
    StartTlsOffered,
    StartTlsRejected,
    StartTlsRequested,
)
from tlsmon.protocols.xmpp import MAX_PLAINTEXT, XmppAnalyzer, probe

# RFC 6120 §9.1.1 and §5.4.2 (whitespace as in the RFC's examples, which puts newlines between elements).
CLIENT_HEADER = (
    C,
    b"<?xml version='1.0'?>\n<stream:stream\n    from='juliet@im.example.com'\n    to='im.example.com'\n"
    b"    version='1.0'\n    xml:lang='en'\n    xmlns='jabber:client'\n"
    b"    xmlns:stream='http://etherx.jabber.org/streams'>\n",
)
SERVER_HEADER = (
    S,
    b"<?xml version='1.0'?>\n<stream:stream\n    from='im.example.com'\n    id='t7AMCin9zjMNwQKDnplntZPIDEI='\n"
    b"    to='juliet@im.example.com'\n    version='1.0'\n    xml:lang='en'\n    xmlns='jabber:client'\n"
    b"    xmlns:stream='http://etherx.jabber.org/streams'>\n",
)
TLS_FEATURES = (
    S,
    b"<stream:features>\n  <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>\n    <required/>\n  </starttls>\n"
    b"</stream:features>\n",
)
SASL_FEATURES = (
    S,
    b"<stream:features>\n  <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\n"
    b"    <mechanism>SCRAM-SHA-1-PLUS</mechanism>\n    <mechanism>SCRAM-SHA-1</mechanism>\n"
    b"    <mechanism>PLAIN</mechanism>\n  </mechanisms>\n</stream:features>\n",
)
STARTTLS = (C, b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
PROCEED = (S, b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
FAILURE = (S, b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>")
OPENING = [CLIENT_HEADER, SERVER_HEADER]
ACCEPTED = [*OPENING, TLS_FEATURES, STARTTLS, PROCEED, (C, CLIENT_HELLO), (S, SERVER_HELLO)]
REFUSED = [*OPENING, SASL_FEATURES, TLS_FEATURES, STARTTLS, FAILURE]


class TestContract(AnalyzerContract):
    analyzer = XmppAnalyzer
    dialogues = (ACCEPTED, REFUSED)


def test_features_give_capabilities_and_a_required_starttls_offer() -> None:
    out = feed(XmppAnalyzer, [*OPENING, TLS_FEATURES])
    assert out.events == [
        Detail("xmpp_stream_type", "c2s"),
        CapabilitiesOffered(("starttls",)),
        StartTlsOffered(required=True),
    ]


def test_sasl_mechanisms_without_starttls_are_offered_and_starttls_is_not() -> None:
    out = feed(XmppAnalyzer, [*OPENING, SASL_FEATURES])
    assert out.events[1:] == [
        CapabilitiesOffered(("mechanisms",)),
        AuthMechanismsOffered(("SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "PLAIN")),
    ]


def test_starttls_without_required_is_an_optional_offer() -> None:
    features = (S, b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>")
    assert feed(XmppAnalyzer, [*OPENING, features]).events[-1] == StartTlsOffered(required=False)


def test_proceed_switches_at_the_byte_after_its_closing_bracket() -> None:
    out = feed(XmppAnalyzer, ACCEPTED)
    assert out.events[-2:] == [StartTlsRequested("<starttls/>"), StartTlsAccepted("<proceed/>")]
    assert (out.switched, out.trailing_client, out.trailing_server) == (True, CLIENT_HELLO, SERVER_HELLO)


def test_tls_bytes_in_the_proceed_segment_are_never_parsed_as_xml() -> None:
    chunks = [*OPENING, TLS_FEATURES, STARTTLS, (S, PROCEED[1] + SERVER_HELLO)]
    out = feed(XmppAnalyzer, chunks)
    assert out.trailing_server == SERVER_HELLO
    assert not any(isinstance(e, Anomaly) for e in out.events)


def test_a_non_empty_proceed_ends_at_its_end_tag() -> None:
    proceed = (S, b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'></proceed >" + SERVER_HELLO)
    out = feed(XmppAnalyzer, [*OPENING, TLS_FEATURES, STARTTLS, proceed])
    assert out.trailing_server == SERVER_HELLO


def test_any_prefix_and_double_quotes_are_the_same_elements() -> None:
    chunks = [
        (C, b'<s:stream xmlns:s="http://etherx.jabber.org/streams" xmlns="jabber:client" version="1.0">'),
        (S, b'<s:stream xmlns:s="http://etherx.jabber.org/streams" xmlns="jabber:client" version="1.0">'
            b'<s:features><t:starttls xmlns:t="urn:ietf:params:xml:ns:xmpp-tls"><t:required/></t:starttls>'
            b"</s:features>"),
        (C, b'<x:starttls xmlns:x="urn:ietf:params:xml:ns:xmpp-tls"></x:starttls>'),
        (S, b'<tls:proceed xmlns:tls="urn:ietf:params:xml:ns:xmpp-tls" note="a > b"/>' + SERVER_HELLO),
    ]
    out = feed(XmppAnalyzer, chunks)
    assert out.events == [
        Detail("xmpp_stream_type", "c2s"),
        CapabilitiesOffered(("starttls",)),
        StartTlsOffered(required=True),
        StartTlsRequested("<starttls/>"),
        StartTlsAccepted("<proceed/>"),
    ]
    assert out.trailing_server == SERVER_HELLO


def test_starttls_in_another_namespace_is_not_the_command() -> None:
    out = feed(XmppAnalyzer, [*OPENING, TLS_FEATURES, (C, b"<starttls xmlns='urn:example'/>")])
    assert not any(isinstance(e, StartTlsRequested) for e in out.events)


def test_failure_refuses_and_ends_the_session() -> None:
    out = feed(XmppAnalyzer, [*OPENING, TLS_FEATURES, STARTTLS, FAILURE])
    assert out.events[-2:] == [StartTlsRequested("<starttls/>"), StartTlsRejected("<failure/>")]
    assert (out.switched, out.done) == (False, True)


def test_client_bytes_sent_before_proceed_are_named_and_handed_to_tls() -> None:
    chunks = [*OPENING, TLS_FEATURES, (C, STARTTLS[1] + CLIENT_HELLO), PROCEED]
    out = feed(XmppAnalyzer, chunks)
    assert out.events[-1] == Anomaly("xmpp.data_after_starttls")
    assert out.trailing_client == CLIENT_HELLO


def test_starttls_without_answer_holds_the_client() -> None:
    out = feed(XmppAnalyzer, [*OPENING, TLS_FEATURES, STARTTLS, (C, CLIENT_HELLO)])
    assert out.events[-1] == StartTlsRequested("<starttls/>")
    assert (out.switched, out.done) == (False, False)


def test_proceed_with_no_starttls_waiting_is_named_and_not_followed() -> None:
    out = feed(XmppAnalyzer, [*OPENING, TLS_FEATURES, PROCEED])
    assert out.events[-1] == Anomaly("xmpp.reply_without_starttls")
    assert (out.switched, out.done) == (False, True)


def test_sasl_auth_keeps_the_mechanism_never_the_response_and_success_ends_it() -> None:
    auth = (C, b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldAByMG0zMG15cjBtMzA=</auth>")
    success = (S, b"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
    out = feed(XmppAnalyzer, [*OPENING, SASL_FEATURES, auth, success])
    assert out.events[-1] == PlaintextAuth("<auth/> PLAIN")
    assert out.done


def test_legacy_iq_auth_set_is_plaintext_auth() -> None:
    iq = (C, b"<iq type='set' id='auth2'><query xmlns='jabber:iq:auth'><username>bill</username>"
             b"<password>Calli0pe</password><resource>globe</resource></query></iq>")
    assert feed(XmppAnalyzer, [*OPENING, iq]).events[-1] == PlaintextAuth("jabber:iq:auth")


def test_legacy_iq_auth_get_only_asks_for_the_fields() -> None:
    iq = (C, b"<iq type='get' id='auth1'><query xmlns='jabber:iq:auth'><username>bill</username></query></iq>")
    assert not any(isinstance(e, PlaintextAuth) for e in feed(XmppAnalyzer, [*OPENING, iq]).events)


def test_server_to_server_stream_and_dialback() -> None:
    chunks = [
        (C, b"<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:server' "
            b"xmlns:db='jabber:server:dialback' to='b.example' version='1.0'>"),
        (S, b"<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:server' "
            b"xmlns:db='jabber:server:dialback' id='x' version='1.0'><stream:features>"
            b"<dialback xmlns='urn:xmpp:features:dialback'/></stream:features>"),
        (C, b"<db:result from='a.example' to='b.example'>"
            b"b4835385f37fe2895af6c196b59097b16862406db80559900d96bf6fa7d23df3</db:result>"),
    ]
    out = feed(XmppAnalyzer, chunks)
    assert out.events == [
        Detail("xmpp_stream_type", "s2s"),
        CapabilitiesOffered(("dialback",)),
        PlaintextAuth("<db:result/>"),
    ]


def test_a_message_stanza_ends_the_interest_in_the_session() -> None:
    message = (C, b"<message to='romeo@example.net' type='chat'><body>Art thou not Romeo?</body></message>")
    out = feed(XmppAnalyzer, [*OPENING, SASL_FEATURES, message])
    assert out.done


def test_stream_end_and_stream_error_end_the_session() -> None:
    assert feed(XmppAnalyzer, [*OPENING, (C, b"</stream:stream>")]).done
    error = (S, b"<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>")
    assert feed(XmppAnalyzer, [*OPENING, error]).done


def test_a_doctype_stops_the_parse_before_any_entity_is_defined() -> None:
    laughs = (
        b"<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
        b"<!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>]>"
        b"<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client'>&lol2;"
    )
    out = feed(XmppAnalyzer, [(C, laughs)])
    assert (out.events, out.done) == ([Anomaly("xmpp.doctype")], True)


def test_an_entity_reference_without_a_definition_is_malformed() -> None:
    out = feed(XmppAnalyzer, [*OPENING, (C, b"<iq type='get'>&xxe;</iq>")])
    assert (out.events[-1], out.done) == (Anomaly("xmpp.malformed_xml"), True)


def test_comments_are_named_and_parsing_goes_on() -> None:
    out = feed(XmppAnalyzer, [*OPENING, (S, b"<!-- hi -->"), TLS_FEATURES])
    assert out.events[1:3] == [Anomaly("xmpp.restricted_xml"), CapabilitiesOffered(("starttls",))]


def test_a_root_other_than_the_stream_is_named() -> None:
    out = feed(XmppAnalyzer, [(C, b"<html xmlns='http://www.w3.org/1999/xhtml'>")])
    assert (out.events, out.done) == ([Anomaly("xmpp.not_a_stream")], True)


def test_a_gap_ends_the_session() -> None:
    analyzer = XmppAnalyzer()
    analyzer.feed(*CLIENT_HEADER)
    assert analyzer.gap(True, 100) == [Anomaly("xmpp.gap")]
    assert analyzer.done


def test_an_upgrade_element_longer_than_the_kept_window_is_named() -> None:
    start = b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls' pad='" + b"x" * 5000
    out = feed(XmppAnalyzer, [*OPENING, TLS_FEATURES, STARTTLS, (S, start), (S, b"'/>")])
    assert (out.events[-1], out.switched, out.done) == (Anomaly("xmpp.upgrade_element_too_long"), False, True)


def test_plaintext_without_a_decision_is_followed_only_so_far() -> None:
    out = feed(XmppAnalyzer, [*OPENING, (S, b" " * MAX_PLAINTEXT)])
    assert (out.events[-1], out.done) == (Anomaly("xmpp.plaintext_too_long"), True)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.sampled_from([b"<", b">", b"/", b"'", b"a", b"stream:", b" ", b"\x16"])),
                max_size=60))
def test_arbitrary_xml_fragments_after_the_opening_never_raise(chunks: list[tuple[bool, bytes]]) -> None:
    feed(XmppAnalyzer, [*OPENING, *chunks])


@pytest.mark.parametrize(
    ("is_orig", "data", "port", "verdict"),
    [
        (True, CLIENT_HEADER[1], 5222, True),
        (True, CLIENT_HEADER[1], 443, True),
        (False, SERVER_HEADER[1], 5269, True),
        (True, b"<x:stream xmlns:x='http://etherx.jabber.org/streams'>", 80, True),
        (True, b"<?xml version='1.0'?>", 5222, None),
        (True, b"<stream:stream xmlns:stream='http://etherx.jabber.org/streams' to='a", 5222, None),
        (True, b"<stream:stream xmlns:stream='urn:not-xmpp'>", 5222, False),
        (True, b"<?xml version='1.0'?><html>", 5222, False),
        (True, b"<!DOCTYPE x [<!ENTITY a 'b'>]><stream:stream>", 5222, False),
        (True, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 5222, False),
        (False, b"HTTP/1.1 200 OK\r\n", 5222, False),
        (True, CLIENT_HELLO, 5222, False),
        (False, b"220 mx.example.org ESMTP\r\n", 5222, False),
        (False, b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n", 5222, False),
        (False, b"+OK POP3 ready\r\n", 5222, False),
        (False, b":irc.example.net NOTICE * :*** Looking up your hostname\r\n", 5222, False),
        (True, b"CAP LS 302\r\n", 5222, False),
    ],
)
def test_probe_decides_by_content(is_orig: bool, data: bytes, port: int, verdict: bool | None) -> None:
    assert probe(is_orig, data, port) is verdict


# -- the corpus -------------------------------------------------------------------------------------------
XMPP_C2S = "zeek/Traces/tls/xmpp-starttls.pcap"
XMPP_S2S = "zeek/Traces/tls/xmpp-dialback-starttls.pcap"


@requires_corpus
def test_corpus_c2s_session_with_required_starttls() -> None:
    out = feed(XmppAnalyzer, payloads(XMPP_C2S, 5222))
    assert out.events == [
        Detail("xmpp_stream_type", "c2s"),
        CapabilitiesOffered(("starttls", "c", "register")),
        StartTlsOffered(required=True),
        StartTlsRequested("<starttls/>"),
        StartTlsAccepted("<proceed/>"),
    ]
    assert out.trailing_client[:6] == b"\x16\x03\x01\x01\x39\x01"
    assert out.trailing_server[:6] == b"\x16\x03\x03\x00\x3e\x02"


@requires_corpus
def test_corpus_s2s_session_with_dialback_offered() -> None:
    out = feed(XmppAnalyzer, payloads(XMPP_S2S, 5269))
    assert out.events == [
        Detail("xmpp_stream_type", "s2s"),
        CapabilitiesOffered(("dialback", "starttls")),
        StartTlsOffered(required=False),
        StartTlsRequested("<starttls/>"),
        StartTlsAccepted("<proceed/>"),
    ]
    assert out.trailing_client[:6] == b"\x16\x03\x01\x01\x1b\x01"


@requires_corpus
@pytest.mark.parametrize(
    ("rel", "stream_type", "required", "capabilities"),
    [(XMPP_C2S, "c2s", True, ["starttls", "c", "register"]), (XMPP_S2S, "s2s", False, ["dialback", "starttls"])],
)
def test_corpus_trace_through_the_engine_gives_the_starttls_columns(
    rel: str, stream_type: str, required: bool, capabilities: list[str]
) -> None:
    # (xmpp-dialback-starttls.pcap ends with a stray FIN 5 s after the close: a second, empty connection)
    [record] = [r for r in engine_records(rel) if r.conn.app_proto == "xmpp"]
    assert record.starttls is not None and record.tls is not None
    st_ = record.starttls
    assert (record.conn.app_proto, record.conn.tls_mode) == ("xmpp", "starttls")
    assert (st_.starttls_offered, st_.starttls_required, st_.starttls_command_seen) == (True, required, True)
    assert (st_.starttls_command, st_.starttls_reply, st_.starttls_result) == ("<starttls/>", "<proceed/>", "accepted")
    assert (st_.server_capabilities, st_.auth_mechs_offered, st_.plaintext_auth_command) == (capabilities, [], None)
    assert (st_.xmpp_stream_type, st_.anomalies) == (stream_type, [])
    assert record.tls.version == "TLSv12"
