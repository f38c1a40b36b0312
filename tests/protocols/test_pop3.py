"""POP3: APOP timestamp, CAPA list (STLS, SASL), STLS accepted or refused, replies paired with commands."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from tests.protocols.captured import engine_records, payloads, requires_corpus
from tests.protocols.dialogue import CLIENT_HELLO, SERVER_HELLO, AnalyzerContract, C, S, feed, shaped_chunks, summary_of
from tlsmon.limits import DEFAULT_LIMITS
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
from tlsmon.protocols.pop3 import Pop3Analyzer, probe
from tlsmon.protocols.starttls import StartTlsSummary

MAX_LINES = DEFAULT_LIMITS.max_reply_lines

POP3_TRACE = "zeek/Traces/tls/pop3-starttls.pcap"

# RFC 1939 §7's APOP greeting; RFC 2449 §5's CAPA example with STLS (RFC 2595 §4) added.
GREETING = (S, b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n")
CAPA = (C, b"CAPA\r\n")
CAPA_REPLY = (
    S,
    b"+OK Capability list follows\r\nTOP\r\nUSER\r\nSASL CRAM-MD5 KERBEROS_V4\r\nRESP-CODES\r\nLOGIN-DELAY 900\r\n"
    b"PIPELINING\r\nEXPIRE 60\r\nUIDL\r\nSTLS\r\nIMPLEMENTATION Shlemazle-Plotz-v302\r\n.\r\n",
)
CAPS = (
    "TOP", "USER", "SASL CRAM-MD5 KERBEROS_V4", "RESP-CODES", "LOGIN-DELAY 900", "PIPELINING", "EXPIRE 60", "UIDL",
    "STLS", "IMPLEMENTATION Shlemazle-Plotz-v302",
)  # fmt: skip
CAPA_EVENTS = [
    CapabilitiesOffered(CAPS),
    AuthMechanismsOffered(("CRAM-MD5", "KERBEROS_V4")),
    StartTlsOffered(),
]
ACCEPTED = [
    GREETING,
    CAPA,
    CAPA_REPLY,
    (C, b"STLS\r\n"),
    (S, b"+OK Begin TLS negotiation\r\n"),
    (C, CLIENT_HELLO),
    (S, SERVER_HELLO),
]


class TestContract(AnalyzerContract):
    analyzer = Pop3Analyzer
    dialogues = (ACCEPTED,)


def test_greeting_with_a_timestamp_notes_apop() -> None:
    assert feed(Pop3Analyzer, [GREETING]).events == [Detail("pop3_apop", True)]


def test_greeting_without_a_timestamp_notes_no_apop() -> None:
    assert feed(Pop3Analyzer, [(S, b"+OK POP3 server ready\r\n")]).events == [Detail("pop3_apop", False)]


def test_capa_list_gives_capabilities_mechanisms_and_the_stls_offer() -> None:
    out = feed(Pop3Analyzer, [GREETING, CAPA, CAPA_REPLY])
    assert out.events[1:] == CAPA_EVENTS


def test_capa_list_without_stls_means_not_offered() -> None:
    out = feed(Pop3Analyzer, [GREETING, CAPA, (S, b"+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n")])
    summary = summary_of(out.events)
    assert (summary.starttls_offered, summary.server_capabilities, summary.auth_mechs_offered) == (
        False,
        ["USER", "SASL PLAIN"],
        ["PLAIN"],
    )


def test_byte_stuffed_capa_line_loses_its_extra_dot() -> None:
    out = feed(Pop3Analyzer, [GREETING, CAPA, (S, b"+OK\r\n..X-DOTTED\r\nSTLS\r\n.\r\n")])
    assert out.events[1:] == [CapabilitiesOffered((".X-DOTTED", "STLS")), StartTlsOffered()]


def test_accepted_stls_switches_at_the_next_byte_of_each_direction() -> None:
    out = feed(Pop3Analyzer, ACCEPTED)
    assert out.events[4:] == [StartTlsRequested("STLS"), StartTlsAccepted("+OK")]
    assert (out.switched, out.trailing_client, out.trailing_server) == (True, CLIENT_HELLO, SERVER_HELLO)


def test_tls_bytes_in_the_same_segment_as_the_ok_are_trailing() -> None:
    chunks = [*ACCEPTED[:4], (S, b"+OK Begin TLS negotiation\r\n" + SERVER_HELLO)]
    assert feed(Pop3Analyzer, chunks).trailing_server == SERVER_HELLO


def test_refused_stls_goes_on_in_plaintext() -> None:
    chunks = [*ACCEPTED[:4], (S, b"-ERR Command not permitted when TLS active\r\n"), (C, b"USER mrose\r\n")]
    out = feed(Pop3Analyzer, chunks)
    assert out.events[4:] == [StartTlsRequested("STLS"), StartTlsRejected("-ERR"), PlaintextAuth("USER")]
    assert not out.switched
    assert "mrose" not in repr(out.events)


def test_stls_without_answer_leaves_the_client_held() -> None:
    out = feed(Pop3Analyzer, [*ACCEPTED[:4], (C, CLIENT_HELLO)])
    assert out.events[-1] == StartTlsRequested("STLS")
    assert not out.switched


def test_client_bytes_pipelined_after_stls_are_named() -> None:
    out = feed(Pop3Analyzer, [GREETING, (C, b"STLS\r\nUSER mrose\r\n"), (S, b"+OK go\r\n")])
    assert out.events[-1] == Anomaly("pop3.data_after_stls")
    assert out.trailing_client == b"USER mrose\r\n"


def test_pipelined_commands_pair_with_their_replies_in_order() -> None:
    # Zeek's pop3.pcap: CAPA and QUIT in a row, answered together.
    chunks = [
        (S, b"+OK POP server ready H mimap4 0MHoUr-1VDxRD3Ui5-003eq2\r\n"),
        (C, b"CAPA\r\n"),
        (C, b"QUIT\r\n"),
        (
            S,
            b"+OK Capability list follows\r\nTOP\r\nUSER\r\nUIDL\r\nSTLS\r\nSASL PLAIN\r\n"
            b"IMPLEMENTATION trinity\r\n.\r\n",
        ),
        (S, b"+OK POP server signing off\r\n"),
    ]
    out = feed(Pop3Analyzer, chunks)
    assert out.events == [
        Detail("pop3_apop", False),
        CapabilitiesOffered(("TOP", "USER", "UIDL", "STLS", "SASL PLAIN", "IMPLEMENTATION trinity")),
        StartTlsOffered(),
        AuthMechanismsOffered(("PLAIN",)),
    ]
    assert out.done


def test_user_and_pass_keep_the_verbs_only_and_login_ends_the_interest() -> None:
    chunks = [GREETING, (C, b"USER mrose\r\n"), (S, b"+OK\r\n"), (C, b"PASS tanstaaf\r\n"), (S, b"+OK maildrop\r\n")]
    out = feed(Pop3Analyzer, chunks)
    assert out.events[1:] == [PlaintextAuth("USER"), PlaintextAuth("PASS")]
    assert summary_of(out.events).plaintext_auth_command == "USER"
    assert "mrose" not in repr(out.events) and "tanstaaf" not in repr(out.events)
    assert out.done


def test_apop_login_ends_the_interest() -> None:
    chunks = [GREETING, (C, b"APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"), (S, b"+OK maildrop has 1 message\r\n")]
    out = feed(Pop3Analyzer, chunks)
    assert out.events[1:] == [PlaintextAuth("APOP")]
    assert out.done


def test_failed_login_keeps_following_the_session() -> None:
    chunks = [GREETING, (C, b"USER a\r\n"), (S, b"+OK\r\n"), (C, b"PASS b\r\n"), (S, b"-ERR no\r\n"), (C, b"STLS\r\n")]
    out = feed(Pop3Analyzer, chunks)
    assert out.events[-1] == StartTlsRequested("STLS")
    assert not out.done


def test_sasl_exchange_lines_are_not_commands_and_success_ends_the_interest() -> None:
    # RFC 5034 §6's example, as the server sees it.
    chunks = [
        GREETING,
        (C, b"AUTH CRAM-MD5\r\n"),
        (S, b"+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"),
        (C, b"dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n"),
        (S, b"+OK CRAM authentication successful\r\n"),
    ]
    out = feed(Pop3Analyzer, chunks)
    assert out.events[1:] == [PlaintextAuth("AUTH CRAM-MD5")]
    assert out.done


def test_failed_sasl_exchange_goes_back_to_commands() -> None:
    chunks = [
        GREETING,
        (C, b"AUTH PLAIN\r\n"),
        (S, b"+ \r\n"),
        (C, b"AGRpZ2l0YWwAbmFwaWVy\r\n"),
        (S, b"-ERR authentication failed\r\n"),
        (C, b"STLS\r\n"),
        (S, b"+OK go\r\n"),
    ]
    out = feed(Pop3Analyzer, chunks)
    assert out.events[1:] == [PlaintextAuth("AUTH PLAIN"), StartTlsRequested("STLS"), StartTlsAccepted("+OK")]


def test_bare_auth_lists_mechanisms_and_is_no_login() -> None:
    chunks = [GREETING, (C, b"AUTH\r\n"), (S, b"+OK\r\nPLAIN\r\nNTLM\r\n.\r\n"), (C, b"STLS\r\n")]
    out = feed(Pop3Analyzer, chunks)
    assert out.events[1:] == [AuthMechanismsOffered(("PLAIN", "NTLM")), StartTlsRequested("STLS")]


def test_err_greeting_ends_the_interest() -> None:
    out = feed(Pop3Analyzer, [(S, b"-ERR too many connections\r\n")])
    assert out.events == []
    assert out.done


def test_reply_with_no_command_waiting_is_named() -> None:
    out = feed(Pop3Analyzer, [GREETING, (S, b"+OK surprise\r\n")])
    assert out.events[1:] == [Anomaly("pop3.reply_without_command")]


def test_malformed_status_line_is_named() -> None:
    out = feed(Pop3Analyzer, [(S, b"hello there\r\n")])
    assert out.events == [Anomaly("pop3.malformed_reply")]


def test_overlong_capa_list_is_cut_and_named_once() -> None:
    body = b"".join(b"X-%d\r\n" % i for i in range(MAX_LINES + 5))
    out = feed(Pop3Analyzer, [GREETING, CAPA, (S, b"+OK\r\n" + body + b".\r\n")])
    assert out.events[1] == Anomaly("pop3.too_many_capabilities")
    assert isinstance(out.events[2], CapabilitiesOffered) and len(out.events[2].tokens) == MAX_LINES


@settings(max_examples=200, deadline=None)
@given(shaped_chunks([b"+OK", b"-ERR", b"+ ", b".", b"\r\n", b"STLS", b"CAPA", b"AUTH X", b" "]))
def test_arbitrary_pop3_shaped_bytes_never_raise(chunks: list[tuple[bool, bytes]]) -> None:
    feed(Pop3Analyzer, chunks)


@pytest.mark.parametrize(
    ("is_orig", "data", "port", "verdict"),
    [
        (False, b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n", 110, True),
        (False, b"+OK Dovecot ready.\r\n", 8110, True),
        (False, b"+OK Dove", 110, None),
        (False, b"+O", 110, None),
        (False, b"-ERR too many connections\r\n", 110, True),
        (False, b"-ERR too many connections\r\n", 8110, False),
        (False, b"-ERR [IN-USE] POP3 mailbox locked\r\n", 8110, True),
        (False, b"+OKAY\r\n", 110, False),
        (True, b"CAPA\r\n", 8110, True),
        (True, b"STLS\r\n", 110, True),
        (True, b"CA", 110, None),
        (True, b"USER mrose\r\n", 110, True),
        (True, b"USER anonymous\r\n", 21, False),
        (True, b"AUTH TLS\r\n", 110, False),
        (True, b"CAPABILITIES\r\n", 119, False),
        (True, b"GET / HTTP/1.1\r\n", 110, False),
        (False, b"HTTP/1.1 200 OK\r\n", 110, False),
        (False, b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00", 110, False),
        (False, b"220 mx.example.org ESMTP Postfix\r\n", 110, False),
        (False, b"* OK IMAP4rev1 Service Ready\r\n", 110, False),
        (False, b"200 news.example.org NNTP ready\r\n", 110, False),
        (False, b"<?xml version='1.0'?><stream:stream>", 110, False),
        (False, b'"IMPLEMENTATION" "Dovecot Pigeonhole"\r\n', 110, False),
        (False, b'OK "Dovecot ready."\r\n', 110, False),
        (True, b"EHLO client.example.net\r\n", 110, False),
        (True, b"a001 CAPABILITY\r\n", 110, False),
    ],
)
def test_probe_decides_by_content_with_the_port_as_a_hint(
    is_orig: bool, data: bytes, port: int, verdict: bool | None
) -> None:
    assert probe(is_orig, data, port) is verdict


# -- the corpus trace (Zeek's testing/btest/Traces/tls/pop3-starttls.pcap, BSD loopback link) ------------------


@requires_corpus
def test_corpus_dialogue_notes_apop_and_upgrades() -> None:
    out = feed(Pop3Analyzer, payloads(POP3_TRACE, 110))
    assert out.events == [Detail("pop3_apop", True), StartTlsRequested("STLS"), StartTlsAccepted("+OK")]
    assert out.switched
    assert out.trailing_client[:3] == b"\x16\x03\x01" and out.trailing_server[:3] == b"\x16\x03\x03"


@requires_corpus
def test_corpus_trace_through_the_engine_gives_the_starttls_columns_and_the_tls_handshake() -> None:
    [record] = engine_records(POP3_TRACE)
    assert (record.conn.app_proto, record.conn.tls_mode) == ("pop3", "starttls")
    # No CAPA in this session: whether STLS was offered stays unknown (null), not false.
    assert record.starttls == StartTlsSummary(
        starttls_offered=None,
        starttls_command_seen=True,
        starttls_command="STLS",
        starttls_reply="+OK",
        starttls_result="accepted",
        pop3_apop=True,
    )
    assert record.tls is not None
    assert (record.tls.version, record.tls.cipher, record.tls.established) == (
        "TLSv12",
        "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
        True,
    )
    assert record.tls.cert_chain_fps == ["5f262710f31214ecdb6ffbfe4b45a8d1c7042e7c87c3eae9bc317035dafeb7ac"]
