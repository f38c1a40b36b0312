"""NNTP: CAPABILITIES, STARTTLS accepted (382) or refused (580/502), AUTHINFO, data blocks kept out of the way."""

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
    Detail,
    PlaintextAuth,
    StartTlsAccepted,
    StartTlsOffered,
    StartTlsRejected,
    StartTlsRequested,
)
from tlsmon.protocols.nntp import NntpAnalyzer, probe

MAX_LINES = DEFAULT_LIMITS.max_reply_lines

GREETING = (S, b"200 news.example.com InterNetNews NNRP server INN 2.7.1 ready (posting ok)\r\n")
CAPABILITIES = (C, b"CAPABILITIES\r\n")
# RFC 4643 §2.1's capability list, with STARTTLS (RFC 4642 §2.1)
CAPABILITY_LIST = (
    S,
    b"101 Capability list:\r\nVERSION 2\r\nREADER\r\nIHAVE\r\nSTARTTLS\r\nAUTHINFO SASL\r\n"
    b"SASL CRAM-MD5 DIGEST-MD5 GSSAPI\r\nLIST ACTIVE NEWSGROUPS\r\n.\r\n",
)
CAPS = (
    "VERSION 2",
    "READER",
    "IHAVE",
    "STARTTLS",
    "AUTHINFO SASL",
    "SASL CRAM-MD5 DIGEST-MD5 GSSAPI",
    "LIST ACTIVE NEWSGROUPS",
)
OFFER = [CapabilitiesOffered(CAPS), StartTlsOffered(), AuthMechanismsOffered(("CRAM-MD5", "DIGEST-MD5", "GSSAPI"))]
ACCEPTED = [
    GREETING,
    CAPABILITIES,
    CAPABILITY_LIST,
    (C, b"STARTTLS\r\n"),
    (S, b"382 Continue with TLS negotiation\r\n"),
    (C, CLIENT_HELLO),
    (S, SERVER_HELLO),
]


class TestContract(AnalyzerContract):
    analyzer = NntpAnalyzer
    dialogues = (ACCEPTED,)


def test_capability_list_gives_capabilities_starttls_and_sasl_mechanisms() -> None:
    assert feed(NntpAnalyzer, [GREETING, CAPABILITIES, CAPABILITY_LIST]).events == OFFER


def test_capability_list_without_starttls_is_no_offer() -> None:
    listing = (S, b"101 Capability list:\r\nVERSION 2\r\nREADER\r\nPOST\r\n.\r\n")
    out = feed(NntpAnalyzer, [GREETING, CAPABILITIES, listing])
    assert out.events == [CapabilitiesOffered(("VERSION 2", "READER", "POST"))]


def test_accepted_starttls_switches_at_the_next_byte_of_each_direction() -> None:
    out = feed(NntpAnalyzer, ACCEPTED)
    assert out.events[3:] == [StartTlsRequested("STARTTLS"), StartTlsAccepted("382")]
    assert (out.switched, out.trailing_client, out.trailing_server) == (True, CLIENT_HELLO, SERVER_HELLO)


def test_tls_bytes_in_the_same_segment_as_the_382_response_are_trailing() -> None:
    chunks = [*ACCEPTED[:4], (S, b"382 Continue with TLS negotiation\r\n" + SERVER_HELLO)]
    assert feed(NntpAnalyzer, chunks).trailing_server == SERVER_HELLO


@pytest.mark.parametrize("response", [b"580 Can not initiate TLS negotiation", b"502 Command unavailable"])
def test_refused_starttls_goes_on_in_plaintext(response: bytes) -> None:
    chunks = [GREETING, (C, b"STARTTLS\r\n"), (S, response + b"\r\n"), (C, b"AUTHINFO USER alice\r\n")]
    out = feed(NntpAnalyzer, chunks)
    assert out.events == [
        StartTlsRequested("STARTTLS"),
        StartTlsRejected(response[:3].decode()),
        PlaintextAuth("AUTHINFO USER"),
    ]
    assert not out.switched


def test_authinfo_keeps_the_sub_command_and_never_the_user_or_password() -> None:
    chunks = [
        GREETING,
        (C, b"AUTHINFO USER alice\r\n"),
        (S, b"381 Enter passphrase\r\n"),
        (C, b"AUTHINFO PASS s3cret\r\n"),
    ]
    out = feed(NntpAnalyzer, chunks)
    assert out.events == [PlaintextAuth("AUTHINFO USER"), PlaintextAuth("AUTHINFO PASS")]
    assert "alice" not in repr(out.events) and "s3cret" not in repr(out.events)


def test_sasl_responses_to_challenges_are_never_read_as_commands() -> None:
    chunks = [
        GREETING,
        (C, b"AUTHINFO SASL DIGEST-MD5\r\n"),
        (S, b"383 bm9uY2U9\r\n"),
        (C, b"STARTTLS\r\n"),  # a SASL response that happens to spell a verb
        (S, b"481 Authentication failed\r\n"),
        (C, b"STARTTLS\r\n"),
        (S, b"382 Continue with TLS negotiation\r\n"),
    ]
    out = feed(NntpAnalyzer, chunks)
    assert out.events == [
        PlaintextAuth("AUTHINFO SASL DIGEST-MD5"),
        StartTlsRequested("STARTTLS"),
        StartTlsAccepted("382"),
    ]


def test_successful_authentication_ends_the_interest_in_the_session() -> None:
    chunks = [GREETING, (C, b"AUTHINFO SASL PLAIN AGFsaWNlAHMzY3JldA==\r\n"), (S, b"281 Authentication accepted\r\n")]
    out = feed(NntpAnalyzer, chunks)
    assert out.events == [PlaintextAuth("AUTHINFO SASL PLAIN")]
    assert out.done


def test_privacy_required_response_marks_tls_as_required() -> None:
    chunks = [GREETING, (C, b"AUTHINFO USER alice\r\n"), (S, b"483 Encryption required\r\n")]
    out = feed(NntpAnalyzer, chunks)
    assert out.events == [PlaintextAuth("AUTHINFO USER"), Detail("starttls_required", True)]


def test_data_blocks_are_skipped_without_being_read_as_responses() -> None:
    chunks = [
        GREETING,
        (C, b"LIST\r\nLISTGROUP misc.test\r\nGROUP misc.test\r\nCAPABILITIES\r\n"),
        (
            S,
            b"215 list of newsgroups follows\r\nmisc.test 3002322 3000234 y\r\n.\r\n"
            b"211 2 3000234 3000236 misc.test list follows\r\n3000234\r\n3000236\r\n.\r\n"
            b"211 2 3000234 3000236 misc.test\r\n",
        ),
        CAPABILITY_LIST,
    ]
    assert feed(NntpAnalyzer, chunks).events == OFFER


def test_dot_stuffed_capability_lines_are_unstuffed() -> None:
    listing = (S, b"101 Capability list:\r\nVERSION 2\r\n..X-DOT\r\n.\r\n")
    out = feed(NntpAnalyzer, [GREETING, CAPABILITIES, listing])
    assert out.events == [CapabilitiesOffered(("VERSION 2", ".X-DOT"))]


def test_a_leading_dot_is_dropped_even_when_the_sender_did_not_stuff_it() -> None:
    # RFC 3977 §3.1.1: the recipient disregards the first "." of any line that has more after it.
    listing = (S, b"101 Capability list:\r\n.VERSION 2\r\n.\r\n")
    assert feed(NntpAnalyzer, [GREETING, CAPABILITIES, listing]).events == [CapabilitiesOffered(("VERSION 2",))]


def test_pipelined_commands_pair_with_their_responses_in_order() -> None:
    chunks = [
        GREETING,
        (C, b"MODE READER\r\nCAPABILITIES\r\n"),
        (S, b"200 Posting allowed\r\n" + CAPABILITY_LIST[1]),
    ]
    assert feed(NntpAnalyzer, chunks).events == OFFER


def test_capture_begun_after_the_greeting_still_pairs_responses() -> None:
    assert feed(NntpAnalyzer, [CAPABILITIES, CAPABILITY_LIST]).events == OFFER


@pytest.mark.parametrize("command", [b"ARTICLE <45223423@example.com>", b"POST", b"IHAVE <i.am@example.com>", b"QUIT"])
def test_article_transfer_or_quit_ends_the_interest_in_the_session(command: bytes) -> None:
    assert feed(NntpAnalyzer, [GREETING, (C, command + b"\r\n")]).done


def test_client_bytes_pipelined_after_starttls_are_named() -> None:
    chunks = [GREETING, (C, b"STARTTLS\r\nAUTHINFO USER alice\r\n"), (S, b"382 Continue\r\n")]
    out = feed(NntpAnalyzer, chunks)
    assert out.events[-1] == Anomaly("nntp.data_after_starttls")
    assert out.trailing_client == b"AUTHINFO USER alice\r\n"


def test_starttls_without_answer_leaves_the_client_held() -> None:
    out = feed(NntpAnalyzer, [GREETING, (C, b"STARTTLS\r\n"), (C, CLIENT_HELLO)])
    assert out.events == [StartTlsRequested("STARTTLS")]
    assert not out.switched


def test_response_with_no_command_waiting_is_named() -> None:
    out = feed(NntpAnalyzer, [GREETING, (S, b"205 closing\r\n")])
    assert out.events == [Anomaly("nntp.response_without_command")]


def test_malformed_response_line_is_named() -> None:
    out = feed(NntpAnalyzer, [(S, b"hello there\r\n")])
    assert out.events == [Anomaly("nntp.malformed_response")]


def test_endless_capability_list_is_named_once_and_still_ends() -> None:
    body = b"".join(b"X-CAP-%d\r\n" % i for i in range(MAX_LINES + 10))
    out = feed(NntpAnalyzer, [GREETING, CAPABILITIES, (S, b"101 Capability list:\r\n" + body + b".\r\n")])
    assert out.events[0] == Anomaly("nntp.capabilities_too_long")
    assert isinstance(out.events[1], CapabilitiesOffered) and len(out.events[1].tokens) == MAX_LINES


@pytest.mark.parametrize(
    ("is_orig", "data", "port", "verdict"),
    [
        (False, GREETING[1], 8119, True),
        (False, b"201 Leafnode NNTP Daemon, version 2.0 running at host\r\n", 8119, True),
        (False, b"200 server ready\r\n", 119, True),
        (False, b"200 server ready\r\n", 8119, False),
        (False, b"200 news.exam", 119, None),
        (False, b"220 mx.example.org ESMTP Postfix\r\n", 119, False),
        (False, b"220 (vsFTPd 3.0.5)\r\n", 119, False),
        (False, b"+OK POP3 ready\r\n", 119, False),
        (False, b"HTTP/1.1 200 OK\r\n", 119, False),
        (False, SERVER_HELLO, 119, False),
        (True, b"CAPABILITIES\r\n", 8119, True),
        (True, b"MODE READER\r\n", 8119, True),
        (True, b"MODE X\r\n", 119, False),
        (True, b"STARTTLS\r\n", 119, True),
        (True, b"STARTTLS\r\n", 25, False),
        (True, b"GET / HTTP/1.1\r\n", 119, False),
        (True, CLIENT_HELLO, 119, False),
    ],
)
def test_probe_decides_by_content_with_the_port_as_a_hint(
    is_orig: bool, data: bytes, port: int, verdict: bool | None
) -> None:
    assert probe(is_orig, data, port) is verdict


def test_dispatcher_hands_a_real_tls_handshake_after_382_to_the_tls_analyzer(tmp_path: Path) -> None:
    identity = make_identity(tmp_path, HOSTNAME)
    tls = handshake(client_context(), server_context(identity))
    assert tls.error is None
    plaintext = [*ACCEPTED[:4], (S, b"382 Continue with TLS negotiation\r\n")]
    dispatcher = Dispatcher(server_port=119)
    for is_orig, data in plaintext + tls.chunks:
        dispatcher.data(is_orig, data)
    dispatcher.end()
    assert (dispatcher.app_proto, dispatcher.tls_mode) == ("nntp", "starttls")
    row = dispatcher.starttls
    assert row is not None
    assert (row.starttls_offered, row.starttls_command, row.starttls_reply, row.starttls_result) == (
        True,
        "STARTTLS",
        "382",
        "accepted",
    )
    assert (row.server_capabilities, row.auth_mechs_offered) == (list(CAPS), ["CRAM-MD5", "DIGEST-MD5", "GSSAPI"])
    summary = dispatcher.tls_summary()
    assert summary is not None
    assert (summary.server_name, summary.established) == (HOSTNAME, True)
