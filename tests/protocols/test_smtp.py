"""SMTP/SUBMISSION: capabilities from EHLO, STARTTLS accepted or refused, replies paired with commands."""

from __future__ import annotations

import pytest

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
from tlsmon.protocols.smtp import SmtpAnalyzer, probe

GREETING = (S, b"220 mx.example.org ESMTP Postfix\r\n")
EHLO = (C, b"EHLO client.example.net\r\n")
EHLO_REPLY = (
    S,
    b"250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n"
    b"250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n",
)
CAPS = ("PIPELINING", "SIZE 10240000", "STARTTLS", "AUTH PLAIN LOGIN", "8BITMIME")
ACCEPTED = [
    GREETING,
    EHLO,
    EHLO_REPLY,
    (C, b"STARTTLS\r\n"),
    (S, b"220 2.0.0 Ready to start TLS\r\n"),
    (C, CLIENT_HELLO),
    (S, SERVER_HELLO),
]


class TestContract(AnalyzerContract):
    analyzer = SmtpAnalyzer
    dialogues = (ACCEPTED,)


def test_ehlo_reply_gives_capabilities_starttls_and_auth_mechanisms() -> None:
    out = feed(SmtpAnalyzer, [GREETING, EHLO, EHLO_REPLY])
    assert out.events == [CapabilitiesOffered(CAPS), StartTlsOffered(), AuthMechanismsOffered(("PLAIN", "LOGIN"))]


def test_legacy_auth_equals_form_is_read_too() -> None:
    out = feed(SmtpAnalyzer, [GREETING, EHLO, (S, b"250-mx\r\n250 AUTH=LOGIN PLAIN\r\n")])
    assert out.events == [CapabilitiesOffered(("AUTH=LOGIN PLAIN",)), AuthMechanismsOffered(("LOGIN", "PLAIN"))]


def test_accepted_starttls_switches_at_the_next_byte_of_each_direction() -> None:
    out = feed(SmtpAnalyzer, ACCEPTED)
    assert out.events[3:] == [StartTlsRequested("STARTTLS"), StartTlsAccepted("220")]
    assert (out.switched, out.trailing_client, out.trailing_server) == (True, CLIENT_HELLO, SERVER_HELLO)


def test_tls_bytes_in_the_same_segment_as_the_ready_reply_are_trailing() -> None:
    chunks = [*ACCEPTED[:4], (S, b"220 Ready\r\n" + SERVER_HELLO)]
    assert feed(SmtpAnalyzer, chunks).trailing_server == SERVER_HELLO


@pytest.mark.parametrize("code", [b"454 4.7.0 TLS not available", b"501 Syntax error", b"502 Not implemented"])
def test_refused_starttls_goes_on_in_plaintext(code: bytes) -> None:
    chunks = [GREETING, EHLO, EHLO_REPLY, (C, b"STARTTLS\r\n"), (S, code + b"\r\n"), (C, b"AUTH LOGIN\r\n")]
    out = feed(SmtpAnalyzer, chunks)
    assert out.events[3:] == [
        StartTlsRequested("STARTTLS"),
        StartTlsRejected(code[:3].decode()),
        PlaintextAuth("AUTH LOGIN"),
    ]
    assert not out.switched


def test_auth_keeps_the_mechanism_and_never_the_initial_response() -> None:
    out = feed(SmtpAnalyzer, [GREETING, EHLO, EHLO_REPLY, (C, b"AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n")])
    assert out.events[-1] == PlaintextAuth("AUTH PLAIN")


def test_helo_session_offers_no_capabilities() -> None:
    out = feed(SmtpAnalyzer, [GREETING, (C, b"HELO client\r\n"), (S, b"250 mx.example.org\r\n")])
    assert out.events == []


def test_pipelined_commands_pair_with_their_replies_in_order() -> None:
    chunks = [
        GREETING,
        (C, b"EHLO a\r\nMAIL FROM:<a@b>\r\n"),
        (S, b"250-mx\r\n250 STARTTLS\r\n250 2.1.0 Ok\r\n"),
        (C, b"RSET\r\nEHLO a\r\n"),
        (S, b"250 Ok\r\n250-mx\r\n250 SIZE 1000\r\n"),
    ]
    out = feed(SmtpAnalyzer, chunks)
    assert out.events == [CapabilitiesOffered(("STARTTLS",)), StartTlsOffered(), CapabilitiesOffered(("SIZE 1000",))]


def test_microsoft_anonymous_tls_is_an_upgrade_command() -> None:
    chunks = [GREETING, EHLO, (S, b"250-mx\r\n250 X-ANONYMOUSTLS\r\n"), (C, b"X-ANONYMOUSTLS\r\n"), (S, b"220 go\r\n")]
    out = feed(SmtpAnalyzer, chunks)
    assert out.events[-2:] == [StartTlsRequested("X-ANONYMOUSTLS"), StartTlsAccepted("220")]
    assert out.switched


def test_client_bytes_pipelined_after_starttls_are_named() -> None:
    chunks = [GREETING, EHLO, EHLO_REPLY, (C, b"STARTTLS\r\nMAIL FROM:<x@y>\r\n"), (S, b"220 Ready\r\n")]
    out = feed(SmtpAnalyzer, chunks)
    assert out.events[-1] == Anomaly("smtp.data_after_starttls")
    assert out.trailing_client == b"MAIL FROM:<x@y>\r\n"


def test_reply_with_no_command_waiting_is_named() -> None:
    out = feed(SmtpAnalyzer, [GREETING, (S, b"250 surprise\r\n")])
    assert out.events == [Anomaly("smtp.reply_without_command")]


def test_malformed_reply_line_is_named() -> None:
    out = feed(SmtpAnalyzer, [(S, b"hello there\r\n")])
    assert out.events == [Anomaly("smtp.malformed_reply")]


def test_data_answered_354_ends_the_interest_in_the_session() -> None:
    out = feed(SmtpAnalyzer, [GREETING, (C, b"HELO a\r\n"), (S, b"250 ok\r\n"), (C, b"DATA\r\n"), (S, b"354 go\r\n")])
    assert out.done


def test_ehlo_and_quit_in_one_segment_keep_the_capabilities() -> None:
    out = feed(SmtpAnalyzer, [GREETING, (C, b"EHLO a\r\nQUIT\r\n"), EHLO_REPLY, (S, b"221 bye\r\n")])
    assert out.events == [CapabilitiesOffered(CAPS), StartTlsOffered(), AuthMechanismsOffered(("PLAIN", "LOGIN"))]
    assert out.done


def test_starttls_without_answer_leaves_the_client_held() -> None:
    out = feed(SmtpAnalyzer, [GREETING, EHLO, EHLO_REPLY, (C, b"STARTTLS\r\n"), (C, CLIENT_HELLO)])
    assert out.events[-1] == StartTlsRequested("STARTTLS")
    assert not out.switched


@pytest.mark.parametrize(
    ("is_orig", "data", "port", "verdict"),
    [
        (False, b"220 mx.example.org ESMTP Postfix\r\n", 2526, True),
        (False, b"220 mail ready\r\n", 587, True),
        (False, b"220 mail ready\r\n", 2526, False),
        (False, b"220 ProFTPD Server (FTP) ready\r\n", 25, False),
        (False, b"220 mx.example.org ESM", 25, None),
        (True, b"EHLO me\r\n", 8025, True),
        (True, b"GET / HTTP/1.1\r\n", 25, False),
        (False, b"HTTP/1.1 200 OK\r\n", 25, False),
    ],
)
def test_probe_decides_by_content_with_the_port_as_a_hint(
    is_orig: bool, data: bytes, port: int, verdict: bool | None
) -> None:
    assert probe(is_orig, data, port) is verdict
