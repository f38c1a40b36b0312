"""ManageSieve: capability greeting, STARTTLS accepted (OK) or refused (NO/BYE), AUTHENTICATE, literals skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.protocols.dialogue import CLIENT_HELLO, SERVER_HELLO, AnalyzerContract, C, S, feed
from tests.tls.handshakes import HOSTNAME, client_context, handshake, make_identity, server_context
from tlsmon.dispatch import Dispatcher
from tlsmon.limits import DEFAULT_LIMITS
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
from tlsmon.protocols.sieve import MAX_LITERAL, SieveAnalyzer, probe

MAX_LINES = DEFAULT_LIMITS.max_reply_lines

# RFC 5804 §1.8's greeting
GREETING = (
    S,
    b'"IMPLEMENTATION" "Example1 ManageSieved v001"\r\n"SASL" "DIGEST-MD5 GSSAPI"\r\n'
    b'"SIEVE" "fileinto vacation"\r\n"STARTTLS"\r\n"VERSION" "1.0"\r\nOK\r\n',
)
CAPS = (
    "IMPLEMENTATION Example1 ManageSieved v001",
    "SASL DIGEST-MD5 GSSAPI",
    "SIEVE fileinto vacation",
    "STARTTLS",
    "VERSION 1.0",
)
OFFER = [CapabilitiesOffered(CAPS), StartTlsOffered(), AuthMechanismsOffered(("DIGEST-MD5", "GSSAPI"))]
# Dovecot Pigeonhole with disable_plaintext_auth: no mechanism before TLS
DOVECOT_GREETING = (
    S,
    b'"IMPLEMENTATION" "Dovecot Pigeonhole"\r\n"SIEVE" "fileinto reject envelope vacation"\r\n'
    b'"NOTIFY" "mailto"\r\n"SASL" ""\r\n"STARTTLS"\r\n"VERSION" "1.0"\r\nOK "Dovecot ready."\r\n',
)
# RFC 5804 §2.2's exchange, in its mixed case
ACCEPTED = [GREETING, (C, b"StartTls\r\n"), (S, b"oK\r\n"), (C, CLIENT_HELLO), (S, SERVER_HELLO)]
LITERAL_DIALOGUE = [
    GREETING,
    (C, b'AUTHENTICATE "PLAIN" {12+}\r\nAGFs\r\naWNl\r\n\r\n'),
    (S, b'NO "Authentication failed"\r\n'),
    (C, b"STARTTLS\r\n"),
    (S, b"OK\r\n"),
    (C, CLIENT_HELLO),
    (S, SERVER_HELLO),
]


class TestContract(AnalyzerContract):
    analyzer = SieveAnalyzer
    dialogues = (ACCEPTED, LITERAL_DIALOGUE)


def test_greeting_gives_capabilities_starttls_and_sasl_mechanisms() -> None:
    assert feed(SieveAnalyzer, [GREETING]).events == OFFER


def test_empty_sasl_list_next_to_starttls_means_tls_is_required() -> None:
    out = feed(SieveAnalyzer, [DOVECOT_GREETING])
    assert out.events == [
        CapabilitiesOffered(
            (
                "IMPLEMENTATION Dovecot Pigeonhole",
                "SIEVE fileinto reject envelope vacation",
                "NOTIFY mailto",
                "SASL",
                "STARTTLS",
                "VERSION 1.0",
            )
        ),
        StartTlsOffered(required=True),
    ]


def test_greeting_without_starttls_is_no_offer() -> None:
    out = feed(SieveAnalyzer, [(S, b'"IMPLEMENTATION" "x"\r\n"SASL" "PLAIN"\r\nOK\r\n')])
    assert out.events == [CapabilitiesOffered(("IMPLEMENTATION x", "SASL PLAIN")), AuthMechanismsOffered(("PLAIN",))]


def test_accepted_starttls_switches_at_the_next_byte_of_each_direction() -> None:
    out = feed(SieveAnalyzer, ACCEPTED)
    assert out.events[3:] == [StartTlsRequested("STARTTLS"), StartTlsAccepted("OK")]
    assert (out.switched, out.trailing_client, out.trailing_server) == (True, CLIENT_HELLO, SERVER_HELLO)


def test_tls_bytes_in_the_same_segment_as_the_ok_are_trailing() -> None:
    chunks = [GREETING, (C, b"STARTTLS\r\n"), (S, b'OK "Begin TLS negotiation now"\r\n' + SERVER_HELLO)]
    assert feed(SieveAnalyzer, chunks).trailing_server == SERVER_HELLO


def test_refused_starttls_goes_on_in_plaintext() -> None:
    chunks = [
        GREETING,
        (C, b"STARTTLS\r\n"),
        (S, b'NO (TRYLATER) "TLS unavailable"\r\n'),
        (C, b'AUTHENTICATE "PLAIN" "AGFsaWNlAHMzY3JldA=="\r\n'),
    ]
    out = feed(SieveAnalyzer, chunks)
    assert out.events[3:] == [
        StartTlsRequested("STARTTLS"),
        StartTlsRejected("NO"),
        PlaintextAuth("AUTHENTICATE PLAIN"),
    ]
    assert not out.switched
    assert "AGFsaWNl" not in repr(out.events)


def test_bye_to_starttls_is_a_refusal_that_ends_the_session() -> None:
    out = feed(SieveAnalyzer, [GREETING, (C, b"STARTTLS\r\n"), (S, b'BYE "Shutting down"\r\n')])
    assert out.events[3:] == [StartTlsRequested("STARTTLS"), StartTlsRejected("BYE")]
    assert out.done


def test_literal_sasl_response_is_skipped_unread_and_login_ends_the_interest() -> None:
    secret = b"AGFsaWNlAHMz\r\nSTARTTLS\r\n"
    chunks = [
        GREETING,
        (C, b'AUTHENTICATE "PLAIN" {%d+}\r\n' % len(secret) + secret + b"\r\n"),
        (S, b"OK\r\n"),
    ]
    out = feed(SieveAnalyzer, chunks)
    assert out.events[3:] == [PlaintextAuth("AUTHENTICATE PLAIN")]
    assert out.done


def test_sasl_challenge_exchange_is_not_read_as_commands() -> None:
    # RFC 5804 §2.1's DIGEST-MD5 exchange shape, the server's last challenge a literal; then a failure
    chunks = [
        GREETING,
        (C, b'Authenticate "DIGEST-MD5"\r\n'),
        (S, b'"cmVhbG09ImVsd29vZC5pbm5vc29mdC5leGFtcGxlLmNvbSIsbm9uY2U9Ik9BNk1HOWpFYmN"\r\n'),
        (C, b'"STARTTLS"\r\n'),
        (S, b"{8}\r\nU1RBUlQ=\r\n"),
        (C, b'""\r\n'),
        (S, b'NO "Authentication failed"\r\n'),
        (C, b"STARTTLS\r\n"),
        (S, b"OK\r\n"),
    ]
    out = feed(SieveAnalyzer, chunks)
    assert out.events[3:] == [
        PlaintextAuth("AUTHENTICATE DIGEST-MD5"),
        StartTlsRequested("STARTTLS"),
        StartTlsAccepted("OK"),
    ]
    assert out.switched


def test_capability_command_lists_again_and_owner_is_never_kept() -> None:
    reply = (S, b'"IMPLEMENTATION" "x"\r\n"OWNER" "alice@example.com"\r\n"STARTTLS"\r\nOK\r\n')
    out = feed(SieveAnalyzer, [GREETING, (C, b"CAPABILITY\r\n"), reply])
    assert out.events[3:] == [CapabilitiesOffered(("IMPLEMENTATION x", "STARTTLS")), StartTlsOffered()]
    assert "alice" not in repr(out.events)


def test_escaped_quotes_in_strings_are_unescaped() -> None:
    out = feed(SieveAnalyzer, [(S, b'"IMPLEMENTATION" "the \\"best\\" \\\\ server"\r\nOK\r\n')])
    assert out.events == [CapabilitiesOffered(('IMPLEMENTATION the "best" \\ server',))]


def test_pipelined_commands_pair_with_their_responses_in_order() -> None:
    chunks = [
        GREETING,
        (C, b"CAPABILITY\r\nSTARTTLS\r\n"),
        (S, b'"STARTTLS"\r\n"SASL" "PLAIN"\r\nOK\r\nOK "Begin TLS"\r\n' + SERVER_HELLO),
    ]
    out = feed(SieveAnalyzer, chunks)
    assert out.events[3:] == [
        StartTlsRequested("STARTTLS"),
        CapabilitiesOffered(("STARTTLS", "SASL PLAIN")),
        StartTlsOffered(),
        AuthMechanismsOffered(("PLAIN",)),
        StartTlsAccepted("OK"),
    ]
    assert out.trailing_server == SERVER_HELLO


def test_logout_ends_the_interest_in_the_session() -> None:
    assert feed(SieveAnalyzer, [GREETING, (C, b"LOGOUT\r\n")]).done


def test_literal_beyond_the_limit_is_named_and_ends_the_analysis() -> None:
    out = feed(SieveAnalyzer, [GREETING, (C, b'AUTHENTICATE "PLAIN" {%d+}\r\n' % (MAX_LITERAL + 1))])
    assert out.events[3:] == [Anomaly("sieve.literal_too_long"), PlaintextAuth("AUTHENTICATE PLAIN")]
    assert out.done


def test_gap_inside_a_literal_keeps_the_line_structure() -> None:
    analyzer = SieveAnalyzer()
    analyzer.feed(S, GREETING[1])
    analyzer.feed(C, b'AUTHENTICATE "PLAIN" {20+}\r\n0123')
    assert analyzer.gap(C, 10) == [Anomaly("sieve.gap")]
    analyzer.feed(C, b"456789\r\n")
    analyzer.feed(S, b'NO "Authentication failed"\r\n')
    assert analyzer.feed(C, b"STARTTLS\r\n") == [StartTlsRequested("STARTTLS")]


def test_client_bytes_pipelined_after_starttls_are_named() -> None:
    chunks = [GREETING, (C, b"STARTTLS\r\nCAPABILITY\r\n"), (S, b"OK\r\n")]
    out = feed(SieveAnalyzer, chunks)
    assert out.events[-1] == Anomaly("sieve.data_after_starttls")
    assert out.trailing_client == b"CAPABILITY\r\n"


def test_starttls_without_answer_leaves_the_client_held() -> None:
    out = feed(SieveAnalyzer, [GREETING, (C, b"STARTTLS\r\n"), (C, CLIENT_HELLO)])
    assert out.events[3:] == [StartTlsRequested("STARTTLS")]
    assert not out.switched


def test_response_with_no_command_waiting_is_named() -> None:
    out = feed(SieveAnalyzer, [GREETING, (S, b"OK\r\n")])
    assert out.events[3:] == [Anomaly("sieve.response_without_command")]


def test_malformed_response_line_is_named() -> None:
    out = feed(SieveAnalyzer, [(S, b"hello there\r\n")])
    assert out.events == [Anomaly("sieve.malformed_response")]


def test_endless_capability_listing_is_named_once_and_still_ends() -> None:
    body = b"".join(b'"X-CAP-%d"\r\n' % i for i in range(MAX_LINES + 10))
    out = feed(SieveAnalyzer, [(S, body + b"OK\r\n")])
    assert out.events[0] == Anomaly("sieve.capabilities_too_long")
    assert isinstance(out.events[1], CapabilitiesOffered) and len(out.events[1].tokens) == MAX_LINES


def test_literal_dialogue_switches_after_the_refused_login() -> None:
    out = feed(SieveAnalyzer, LITERAL_DIALOGUE)
    assert out.events[3:] == [
        PlaintextAuth("AUTHENTICATE PLAIN"),
        StartTlsRequested("STARTTLS"),
        StartTlsAccepted("OK"),
    ]
    assert (out.trailing_client, out.trailing_server) == (CLIENT_HELLO, SERVER_HELLO)


@pytest.mark.parametrize(
    ("is_orig", "data", "port", "verdict"),
    [
        (False, GREETING[1], 14190, True),
        (False, b'"SIEVE" "fileinto"\r\n', 14190, True),
        (False, b'"X-UNKNOWN" "1"\r\n', 4190, True),
        (False, b'"X-UNKNOWN" "1"\r\n', 14190, False),
        (False, b'"IMPLEMENTATION" "Dove', 4190, None),
        (False, b"* OK IMAP4rev1 ready\r\n", 4190, False),
        (False, b"220 mx.example.org ESMTP Postfix\r\n", 4190, False),
        (False, b"+OK POP3 ready\r\n", 4190, False),
        (False, b"HTTP/1.1 200 OK\r\n", 4190, False),
        (False, SERVER_HELLO, 4190, False),
        (True, b"STARTTLS\r\n", 4190, True),
        (True, b"CAPABILITY\r\n", 4190, True),
        (True, b"STARTTLS\r\n", 25, False),
        (True, b"GET / HTTP/1.1\r\n", 4190, False),
        (True, CLIENT_HELLO, 4190, False),
    ],
)
def test_probe_decides_by_content_with_the_port_as_a_hint(
    is_orig: bool, data: bytes, port: int, verdict: bool | None
) -> None:
    assert probe(is_orig, data, port) is verdict


def test_dispatcher_hands_a_real_tls_handshake_after_ok_to_the_tls_analyzer(tmp_path: Path) -> None:
    identity = make_identity(tmp_path, HOSTNAME)
    tls = handshake(client_context(), server_context(identity))
    assert tls.error is None
    plaintext = [DOVECOT_GREETING, (C, b"STARTTLS\r\n"), (S, b'OK "Begin TLS negotiation now."\r\n')]
    dispatcher = Dispatcher(server_port=4190)
    for is_orig, data in plaintext + tls.chunks:
        dispatcher.data(is_orig, data)
    dispatcher.end()
    assert (dispatcher.app_proto, dispatcher.tls_mode) == ("sieve", "starttls")
    row = dispatcher.starttls
    assert row is not None
    assert (row.starttls_offered, row.starttls_required) == (True, True)
    assert (row.starttls_command, row.starttls_reply, row.starttls_result) == ("STARTTLS", "OK", "accepted")
    assert (row.auth_mechs_offered, row.plaintext_auth_command) == ([], None)
    summary = dispatcher.tls_summary()
    assert summary is not None
    assert (summary.server_name, summary.established) == (HOSTNAME, True)
