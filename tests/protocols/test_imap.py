"""IMAP: capabilities from the greeting and CAPABILITY, STARTTLS matched by tag, literals passed over."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from tests.protocols.captured import engine_records, payloads, requires_corpus
from tests.protocols.dialogue import (
    CLIENT_HELLO,
    SERVER_HELLO,
    AnalyzerContract,
    C,
    Chunks,
    S,
    feed,
    shaped_chunks,
    summary_of,
)
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
from tlsmon.protocols.imap import ImapAnalyzer, probe
from tlsmon.protocols.starttls import StartTlsSummary

IMAP_TRACE = "zeek/Traces/tls/imap-starttls.pcap"

# RFC 3501 §6.2.1's STARTTLS example, after the §7.1.1 greeting.
GREETING = (S, b"* OK IMAP4rev1 Service Ready\r\n")
CAPABILITY = (C, b"a001 CAPABILITY\r\n")
CAPABILITY_REPLY = (S, b"* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\na001 OK CAPABILITY completed\r\n")
STARTTLS = (C, b"a002 STARTTLS\r\n")
ACCEPTED = [
    GREETING,
    CAPABILITY,
    CAPABILITY_REPLY,
    STARTTLS,
    (S, b"a002 OK Begin TLS negotiation now\r\n"),
    (C, CLIENT_HELLO),
    (S, SERVER_HELLO),
]
RFC_CAPABILITIES = [
    CapabilitiesOffered(("IMAP4rev1", "STARTTLS", "LOGINDISABLED")),
    StartTlsOffered(required=True),
    Detail("imap_logindisabled", True),
]
DOVECOT_GREETING = (
    S,
    b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN AUTH=LOGIN] "
    b"Dovecot ready.\r\n",
)

LITERAL_DIALOGUE: Chunks = [
    DOVECOT_GREETING,
    (C, b"A001 LOGIN {13}\r\n"),
    (S, b"+ Ready\r\n"),
    (C, b"b STARTTLS\r\n {7+}\r\nfat man\r\n"),
    (S, b'A001 NO failed\r\n* ID ("name" {8}\r\na2 OK go)\r\n'),
    (C, b"a2 STARTTLS\r\n"),
    (S, b"a2 OK Begin\r\n"),
    (C, CLIENT_HELLO),
]


class TestContract(AnalyzerContract):
    analyzer = ImapAnalyzer
    dialogues = (ACCEPTED, LITERAL_DIALOGUE)


def test_star_capability_reply_gives_capabilities_and_logindisabled_makes_the_upgrade_required() -> None:
    out = feed(ImapAnalyzer, [GREETING, CAPABILITY, CAPABILITY_REPLY])
    assert out.events == RFC_CAPABILITIES


def test_capability_response_code_of_the_greeting_is_read_without_any_command() -> None:
    out = feed(ImapAnalyzer, [DOVECOT_GREETING])
    assert out.events == [
        CapabilitiesOffered(
            ("IMAP4rev1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE", "LITERAL+", "STARTTLS", "AUTH=PLAIN",
             "AUTH=LOGIN")
        ),
        StartTlsOffered(required=False),
        AuthMechanismsOffered(("PLAIN", "LOGIN")),
        Detail("imap_logindisabled", False),
    ]


def test_capability_list_without_starttls_means_not_offered() -> None:
    out = feed(ImapAnalyzer, [(S, b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n")])
    summary = summary_of(out.events)
    assert (summary.starttls_offered, summary.auth_mechs_offered, summary.imap_logindisabled) == (
        False,
        ["PLAIN"],
        False,
    )


def test_greeting_without_capability_code_says_nothing() -> None:
    assert feed(ImapAnalyzer, [GREETING]).events == []


def test_accepted_starttls_switches_at_the_next_byte_of_each_direction() -> None:
    out = feed(ImapAnalyzer, ACCEPTED)
    assert out.events[3:] == [StartTlsRequested("STARTTLS"), StartTlsAccepted("OK")]
    assert (out.switched, out.trailing_client, out.trailing_server) == (True, CLIENT_HELLO, SERVER_HELLO)


def test_tls_bytes_in_the_same_segment_as_the_tagged_ok_are_trailing() -> None:
    chunks = [*ACCEPTED[:4], (S, b"a002 OK Begin TLS negotiation now\r\n" + SERVER_HELLO)]
    assert feed(ImapAnalyzer, chunks).trailing_server == SERVER_HELLO


@pytest.mark.parametrize("status", [b"NO", b"BAD"])
def test_refused_starttls_goes_on_in_plaintext(status: bytes) -> None:
    chunks = [*ACCEPTED[:4], (S, b"a002 " + status + b" TLS not available\r\n"), (C, b"a003 LOGIN joe s3cret\r\n")]
    out = feed(ImapAnalyzer, chunks)
    assert out.events[3:] == [
        StartTlsRequested("STARTTLS"),
        StartTlsRejected(status.decode()),
        PlaintextAuth("LOGIN"),
    ]
    assert not out.switched


def test_only_the_tagged_response_with_the_starttls_tag_answers_it() -> None:
    chunks = [
        GREETING,
        (C, b"a1 NOOP\r\na2 STARTTLS\r\n"),
        (S, b"* 1 EXISTS\r\na1 OK NOOP completed\r\n"),
        (S, b"a2 OK go ahead\r\n"),
    ]
    out = feed(ImapAnalyzer, chunks)
    assert out.events == [StartTlsRequested("STARTTLS"), StartTlsAccepted("OK")]
    assert out.switched


def test_starttls_without_answer_leaves_the_client_held() -> None:
    out = feed(ImapAnalyzer, [*ACCEPTED[:4], (C, CLIENT_HELLO)])
    assert out.events[-1] == StartTlsRequested("STARTTLS")
    assert not out.switched


def test_client_bytes_pipelined_after_starttls_are_named() -> None:
    chunks = [GREETING, (C, b"a002 STARTTLS\r\na003 LOGIN joe s3cret\r\n"), (S, b"a002 OK go\r\n")]
    out = feed(ImapAnalyzer, chunks)
    assert out.events[-1] == Anomaly("imap.data_after_starttls")
    assert out.trailing_client == b"a003 LOGIN joe s3cret\r\n"


def test_login_keeps_the_verb_only_and_success_ends_the_interest() -> None:
    out = feed(ImapAnalyzer, [GREETING, (C, b"a004 LOGIN joe s3cret\r\n"), (S, b"a004 OK LOGIN completed\r\n")])
    assert out.events == [PlaintextAuth("LOGIN")]
    assert "s3cret" not in repr(out.events) and "joe" not in repr(out.events)
    assert out.done


def test_failed_login_keeps_following_the_session() -> None:
    chunks = [GREETING, (C, b"a1 LOGIN joe wrong\r\n"), (S, b"a1 NO LOGIN failed\r\n"), STARTTLS]
    out = feed(ImapAnalyzer, chunks)
    assert out.events == [PlaintextAuth("LOGIN"), StartTlsRequested("STARTTLS")]
    assert not out.done


def test_synchronising_literal_is_passed_over_after_the_continuation() -> None:
    # RFC 3501 §7.5's LOGIN with two literals, the first one's octets looking like a STARTTLS command.
    chunks = [
        GREETING,
        (C, b"A001 LOGIN {13}\r\n"),
        (S, b"+ Ready for additional command text\r\n"),
        (C, b"b STARTTLS\r\n {7}\r\n"),
        (S, b"+ Ready for additional command text\r\n"),
        (C, b"fat man\r\n"),
        (S, b"A001 NO LOGIN failed\r\n"),
        (C, b"A002 STARTTLS\r\n"),
    ]
    out = feed(ImapAnalyzer, chunks)
    assert out.events == [PlaintextAuth("LOGIN"), StartTlsRequested("STARTTLS")]


def test_literal_the_server_refused_is_never_sent_so_the_next_line_is_a_command() -> None:
    chunks = [GREETING, (C, b"a1 LOGIN {5}\r\n"), (S, b"a1 BAD no literals today\r\n"), (C, b"a2 STARTTLS\r\n")]
    out = feed(ImapAnalyzer, chunks)
    assert out.events == [PlaintextAuth("LOGIN"), StartTlsRequested("STARTTLS")]


def test_non_synchronising_literal_is_passed_over_at_once() -> None:
    chunks = [GREETING, (C, b"a1 LOGIN {12+}\r\nb STARTTLS\r\n s3cret\r\na2 CAPABILITY\r\n")]
    out = feed(ImapAnalyzer, chunks)
    assert out.events == [PlaintextAuth("LOGIN")]
    assert out.events == feed(ImapAnalyzer, [*chunks, (S, b"a1 NO failed\r\na2 OK done\r\n")]).events


def test_server_literal_is_passed_over() -> None:
    chunks = [
        GREETING,
        (C, b"a1 ID NIL\r\n"),
        (S, b'* ID ("name" {8}\r\na2 OK go)\r\na1 OK ID completed\r\n'),
        (C, b"a2 STARTTLS\r\n"),
        (S, b"a2 NO not now\r\n"),
    ]
    out = feed(ImapAnalyzer, chunks)
    assert out.events == [StartTlsRequested("STARTTLS"), StartTlsRejected("NO")]


def test_authenticate_keeps_the_mechanism_and_never_reads_the_sasl_responses() -> None:
    chunks = [
        GREETING,
        (C, b"a1 AUTHENTICATE PLAIN\r\n"),
        (S, b"+ \r\n"),
        (C, b"AGpvZQBzM2NyZXQ=\r\n"),
        (S, b"a1 NO AUTHENTICATE failed\r\n"),
        (C, b"a2 STARTTLS\r\n"),
    ]
    out = feed(ImapAnalyzer, chunks)
    assert out.events == [PlaintextAuth("AUTHENTICATE PLAIN"), StartTlsRequested("STARTTLS")]


def test_authenticate_initial_response_is_never_kept_and_success_ends_the_interest() -> None:
    chunks = [GREETING, (C, b"a1 AUTHENTICATE PLAIN AGpvZQBzM2NyZXQ=\r\n"), (S, b"a1 OK Logged in\r\n")]
    out = feed(ImapAnalyzer, chunks)
    assert out.events == [PlaintextAuth("AUTHENTICATE PLAIN")]
    assert out.done


def test_preauth_greeting_gives_its_capabilities_and_ends_the_interest() -> None:
    out = feed(ImapAnalyzer, [(S, b"* PREAUTH [CAPABILITY IMAP4rev1] Logged in as joe\r\n")])
    assert out.events == [CapabilitiesOffered(("IMAP4rev1",)), Detail("imap_logindisabled", False)]
    assert out.done


def test_bye_ends_the_interest() -> None:
    assert feed(ImapAnalyzer, [(S, b"* BYE Too many connections\r\n")]).done


def test_logout_answer_ends_the_interest() -> None:
    out = feed(ImapAnalyzer, [GREETING, (C, b"a1 CAPABILITY\r\na2 LOGOUT\r\n"), CAPABILITY_REPLY])
    assert not out.done
    assert feed(ImapAnalyzer, [GREETING, (C, b"a1 LOGOUT\r\n"), (S, b"a1 OK LOGOUT completed\r\n")]).done


def test_tagged_response_with_an_unknown_tag_is_named() -> None:
    out = feed(ImapAnalyzer, [GREETING, (S, b"zz9 OK what\r\n")])
    assert out.events == [Anomaly("imap.response_without_command")]


def test_malformed_lines_are_named() -> None:
    out = feed(ImapAnalyzer, [GREETING, (S, b"hello there\r\n"), (C, b"STARTTLS\r\n")])
    assert out.events == [Anomaly("imap.malformed_response"), Anomaly("imap.malformed_command")]


def test_gap_inside_a_literal_keeps_the_line_structure() -> None:
    analyzer = ImapAnalyzer()
    analyzer.feed(S, GREETING[1])
    analyzer.feed(C, b"a1 LOGIN {20+}\r\n0123")
    assert analyzer.gap(C, 10) == [Anomaly("imap.gap")]
    assert analyzer.feed(C, b"456789 x\r\na2 STARTTLS\r\n") == [StartTlsRequested("STARTTLS")]


def test_literal_dialogue_upgrades_at_the_right_command() -> None:
    out = feed(ImapAnalyzer, LITERAL_DIALOGUE)
    assert out.events[4:] == [PlaintextAuth("LOGIN"), StartTlsRequested("STARTTLS"), StartTlsAccepted("OK")]
    assert out.trailing_client == CLIENT_HELLO


@settings(max_examples=200, deadline=None)
@given(shaped_chunks([b"a1 ", b"OK ", b"{3}", b"{2+}", b"+ ", b"* ", b"\r\n", b"STARTTLS", b"x"]))
def test_arbitrary_imap_shaped_bytes_never_raise(chunks: list[tuple[bool, bytes]]) -> None:
    feed(ImapAnalyzer, chunks)


@pytest.mark.parametrize(
    ("is_orig", "data", "port", "verdict"),
    [
        (False, b"* OK IMAP4rev1 Service Ready\r\n", 143, True),
        (False, b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n", 8143, True),
        (False, b"* PREAUTH IMAP4rev1 server logged in as Smith\r\n", 143, True),
        (False, b"* BYE Autologout\r\n", 143, True),
        (False, b"* OK [CAPAB", 143, True),
        (False, b"* OK", 143, None),
        (False, b"* PRE", 143, None),
        (False, b"* OKAY\r\n", 143, False),
        (True, b"a001 CAPABILITY\r\n", 143, True),
        (True, b"a001 LOGIN {4}\r\n", 9143, True),
        (True, b"a001 STARTTLS\r\n", 143, True),
        (True, b"a001 CAP", 143, None),
        (True, b"AUTH LOGIN\r\n", 143, False),
        (True, b"GET / HTTP/1.1\r\n", 143, False),
        (True, b"GET / HT", 143, False),
        (False, b"HTTP/1.1 200 OK\r\n", 143, False),
        (False, b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00", 143, False),
        (False, b"220 mx.example.org ESMTP Postfix\r\n", 143, False),
        (False, b"+OK POP3 server ready\r\n", 143, False),
        (False, b"200 news.example.org NNTP ready\r\n", 143, False),
        (False, b"<?xml version='1.0'?><stream:stream>", 143, False),
        (False, b'"IMPLEMENTATION" "Dovecot Pigeonhole"\r\n', 143, False),
        (True, b"EHLO client.example.net\r\n", 143, False),
        (True, b"CAPA\r\n", 143, False),
    ],
)
def test_probe_decides_by_content_with_the_port_as_a_hint(
    is_orig: bool, data: bytes, port: int, verdict: bool | None
) -> None:
    assert probe(is_orig, data, port) is verdict


# -- the corpus trace (Zeek's testing/btest/Traces/tls/imap-starttls.pcap) -------------------------------------

GMX_CAPABILITIES = (
    "IMAP4rev1", "CHILDREN", "ENABLE", "ID", "IDLE", "LIST-EXTENDED", "LIST-STATUS", "LITERAL+", "MOVE",
    "NAMESPACE", "SASL-IR", "SORT", "SPECIAL-USE", "THREAD=ORDEREDSUBJECT", "UIDPLUS", "UNSELECT", "WITHIN",
    "STARTTLS", "AUTH=LOGIN", "AUTH=PLAIN",
)  # fmt: skip


@requires_corpus
def test_corpus_dialogue_gives_the_greeting_and_reply_capabilities_then_upgrades() -> None:
    capabilities = [
        CapabilitiesOffered(GMX_CAPABILITIES),
        StartTlsOffered(required=False),
        AuthMechanismsOffered(("LOGIN", "PLAIN")),
        Detail("imap_logindisabled", False),
    ]
    out = feed(ImapAnalyzer, payloads(IMAP_TRACE, 143))
    assert out.events == [*capabilities, *capabilities, StartTlsRequested("STARTTLS"), StartTlsAccepted("OK")]
    assert out.switched
    assert out.trailing_client[:3] == b"\x16\x03\x01" and out.trailing_server[:3] == b"\x16\x03\x03"


@requires_corpus
def test_corpus_trace_through_the_engine_gives_the_starttls_columns_and_the_tls_handshake() -> None:
    [record] = engine_records(IMAP_TRACE)
    assert (record.conn.app_proto, record.conn.tls_mode) == ("imap", "starttls")
    assert record.starttls == StartTlsSummary(
        starttls_offered=True,
        starttls_required=False,
        starttls_command_seen=True,
        starttls_command="STARTTLS",
        starttls_reply="OK",
        starttls_result="accepted",
        server_capabilities=list(GMX_CAPABILITIES),
        auth_mechs_offered=["LOGIN", "PLAIN"],
        imap_logindisabled=False,
    )
    assert record.tls is not None
    assert (record.tls.version, record.tls.cipher, record.tls.established) == (
        "TLSv12",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        True,
    )
    assert record.tls.cert_chain_fps[0] == "e0129ac9d82beb2ad399c85a2d246c0a5376e1094a5410ba9157cc42c3d514c1"
