"""IRC: CAP LS listing tls, STARTTLS → 670 accepted or 691 refused, registration ends the interest."""

from __future__ import annotations

import pytest

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
from tlsmon.protocols.irc import IrcAnalyzer, probe

REGISTER = (C, b"CAP LS 302\r\nNICK alice\r\nUSER alice 0 * :Alice Liddell\r\n")
LOOKING_UP = (S, b":irc.example.net NOTICE * :*** Looking up your hostname...\r\n")
CAP_LS = (
    S,
    b":irc.example.net CAP * LS * :account-notify away-notify multi-prefix\r\n"
    b":irc.example.net CAP * LS :sasl=PLAIN,EXTERNAL tls\r\n",
)
CAPS = ("account-notify", "away-notify", "multi-prefix", "sasl=PLAIN,EXTERNAL", "tls")
STARTTLS = (C, b"STARTTLS\r\n")
RPL_STARTTLS = (S, b":irc.example.net 670 alice :STARTTLS successful, go ahead with TLS handshake\r\n")
ACCEPTED = [REGISTER, LOOKING_UP, CAP_LS, STARTTLS, RPL_STARTTLS, (C, CLIENT_HELLO), (S, SERVER_HELLO)]


class TestContract(AnalyzerContract):
    analyzer = IrcAnalyzer
    dialogues = (ACCEPTED,)


def test_cap_ls_gives_capabilities_sasl_mechanisms_and_the_tls_offer() -> None:
    out = feed(IrcAnalyzer, [REGISTER, LOOKING_UP, CAP_LS])
    assert out.events == [CapabilitiesOffered(CAPS), AuthMechanismsOffered(("PLAIN", "EXTERNAL")), StartTlsOffered()]


def test_cap_ls_without_tls_does_not_offer_starttls() -> None:
    out = feed(IrcAnalyzer, [REGISTER, (S, b":irc.example.net CAP * LS :multi-prefix sasl\r\n")])
    assert out.events == [CapabilitiesOffered(("multi-prefix", "sasl"))]


def test_cap_ls_with_message_tags_and_no_colon_is_read_too() -> None:
    out = feed(IrcAnalyzer, [REGISTER, (S, b"@time=2024-01-01T00:00:00.000Z :irc.example.net CAP * LS tls\r\n")])
    assert out.events == [CapabilitiesOffered(("tls",)), StartTlsOffered()]


def test_670_switches_at_the_next_byte_of_each_direction() -> None:
    out = feed(IrcAnalyzer, ACCEPTED)
    assert out.events[-2:] == [StartTlsRequested("STARTTLS"), StartTlsAccepted("670")]
    assert (out.switched, out.trailing_client, out.trailing_server) == (True, CLIENT_HELLO, SERVER_HELLO)


def test_tls_bytes_in_the_670_segment_are_trailing() -> None:
    chunks = [REGISTER, CAP_LS, STARTTLS, (S, RPL_STARTTLS[1] + SERVER_HELLO)]
    assert feed(IrcAnalyzer, chunks).trailing_server == SERVER_HELLO


def test_server_notices_before_the_answer_are_skipped() -> None:
    chunks = [STARTTLS, LOOKING_UP, (S, b"PING :12345\r\n"), RPL_STARTTLS]
    out = feed(IrcAnalyzer, chunks)
    assert out.events == [StartTlsRequested("STARTTLS"), StartTlsAccepted("670")]


def test_691_refuses_and_the_held_client_lines_are_parsed_again() -> None:
    chunks = [
        STARTTLS,
        (C, b"PASS hunter2\r\n"),
        (S, b":irc.example.net 691 alice :STARTTLS failure\r\n"),
    ]
    out = feed(IrcAnalyzer, chunks)
    assert out.events == [StartTlsRequested("STARTTLS"), StartTlsRejected("691"), PlaintextAuth("PASS")]
    assert not out.switched


def test_unknown_command_421_for_starttls_is_a_refusal() -> None:
    chunks = [STARTTLS, (S, b":irc.example.net 421 * STARTTLS :Unknown command\r\n")]
    assert feed(IrcAnalyzer, chunks).events[-1] == StartTlsRejected("421")


def test_421_for_another_command_is_no_answer_to_starttls() -> None:
    chunks = [STARTTLS, (S, b":irc.example.net 421 * FOO :Unknown command\r\n")]
    assert feed(IrcAnalyzer, chunks).events == [StartTlsRequested("STARTTLS")]


def test_sasl_authenticate_keeps_the_mechanism_never_the_payload() -> None:
    chunks = [
        REGISTER,
        CAP_LS,
        (C, b"CAP REQ :sasl\r\n"),
        (S, b":irc.example.net CAP * ACK :sasl\r\n"),
        (C, b"AUTHENTICATE PLAIN\r\n"),
        (S, b"AUTHENTICATE +\r\n"),
        (C, b"AUTHENTICATE AGFsaWNlAHMzY3JldA\r\n"),
    ]
    out = feed(IrcAnalyzer, chunks)
    assert [e for e in out.events if isinstance(e, PlaintextAuth)] == [PlaintextAuth("AUTHENTICATE PLAIN")]


def test_pass_is_plaintext_auth_without_its_argument() -> None:
    out = feed(IrcAnalyzer, [(C, b"PASS s3cret\r\nNICK alice\r\n")])
    assert out.events == [PlaintextAuth("PASS")]


def test_welcome_ends_the_interest_in_the_session() -> None:
    out = feed(IrcAnalyzer, [REGISTER, (S, b":irc.example.net 001 alice :Welcome to the network alice\r\n")])
    assert out.done


@pytest.mark.parametrize("chunk", [(C, b"QUIT :bye\r\n"), (S, b"ERROR :Closing Link: alice (Quit)\r\n")])
def test_quit_and_error_end_the_session(chunk: tuple[bool, bytes]) -> None:
    assert feed(IrcAnalyzer, [REGISTER, chunk]).done


def test_670_with_no_starttls_waiting_is_named_and_not_followed() -> None:
    out = feed(IrcAnalyzer, [REGISTER, RPL_STARTTLS])
    assert (out.events, out.switched) == ([Anomaly("irc.reply_without_starttls")], False)


def test_client_bytes_pipelined_after_starttls_are_named() -> None:
    out = feed(IrcAnalyzer, [(C, b"STARTTLS\r\nNICK alice\r\n"), RPL_STARTTLS])
    assert out.events[-1] == Anomaly("irc.data_after_starttls")
    assert out.trailing_client == b"NICK alice\r\n"


def test_a_prefix_with_no_command_is_malformed() -> None:
    assert feed(IrcAnalyzer, [(S, b":irc.example.net\r\n")]).events == [Anomaly("irc.malformed_message")]


def test_starttls_without_answer_leaves_the_client_held() -> None:
    out = feed(IrcAnalyzer, [STARTTLS, (C, CLIENT_HELLO)])
    assert out.events == [StartTlsRequested("STARTTLS")]
    assert not out.switched


@pytest.mark.parametrize(
    ("is_orig", "data", "port", "verdict"),
    [
        (True, b"CAP LS 302\r\n", 443, True),
        (True, b"NICK alice\r\n", 8000, True),
        (True, b"USER alice 0 * :Alice Liddell\r\n", 8000, True),
        (True, b"STARTTLS\r\n", 6667, True),
        (True, b"STARTTLS\r\n", 119, False),
        (True, b"PASS secret\r\n", 6667, True),
        (True, b"PASS secret\r\n", 110, False),
        (True, b"USER alice\r\n", 110, False),
        (True, b"CAP LS", 6667, None),
        (False, b":irc.example.net NOTICE * :*** Looking up your hostname...\r\n", 8000, True),
        (False, b":irc.joulunet.org 670  :STARTTLS successful, go ahead with TLS handshake\r\n", 6667, True),
        (False, b"NOTICE AUTH :*** Processing connection to irc.example.net\r\n", 8000, True),
        (False, b"220 mx.example.org ESMTP\r\n", 6667, False),
        (False, b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n", 6667, False),
        (False, b"+OK POP3 ready\r\n", 6667, False),
        (False, b"200 news.example.com NNTP ready\r\n", 6667, False),
        (False, b'"IMPLEMENTATION" "Dovecot Pigeonhole"\r\n', 6667, False),
        (False, b"HTTP/1.1 200 OK\r\n", 6667, False),
        (True, b"GET / HTTP/1.1\r\n", 6667, False),
        (True, CLIENT_HELLO + b"\n", 6667, False),
        (True, b"<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>\n", 6667, False),
    ],
)
def test_probe_decides_by_content_with_the_port_as_a_hint(
    is_orig: bool, data: bytes, port: int, verdict: bool | None
) -> None:
    assert probe(is_orig, data, port) is verdict


# -- the corpus -------------------------------------------------------------------------------------------
IRC_TRACE = "zeek/Traces/tls/irc-starttls.pcap"


@requires_corpus
def test_corpus_starttls_with_an_empty_nick_in_the_670() -> None:
    segments = payloads(IRC_TRACE, 6667)
    assert segments[:2] == [
        (C, b"STARTTLS\r\n"),
        (S, b":irc.joulunet.org 670  :STARTTLS successful, go ahead with TLS handshake\r\n"),
    ]
    out = feed(IrcAnalyzer, segments)
    assert out.events == [StartTlsRequested("STARTTLS"), StartTlsAccepted("670")]
    assert out.trailing_client[:6] == b"\x16\x03\x01\x01\x38\x01"
    assert out.trailing_server[:6] == b"\x16\x03\x03\x00\x3a\x02"


@requires_corpus
def test_corpus_trace_through_the_engine_gives_the_starttls_columns() -> None:
    [record] = engine_records(IRC_TRACE)
    assert record.starttls is not None and record.tls is not None
    st_ = record.starttls
    assert (record.conn.app_proto, record.conn.tls_mode) == ("irc", "starttls")
    # The client asked at once, without CAP LS: no capability reply, so the offer stays unknown (null).
    assert (st_.starttls_offered, st_.starttls_required, st_.starttls_command_seen) == (None, None, True)
    assert (st_.starttls_command, st_.starttls_reply, st_.starttls_result) == ("STARTTLS", "670", "accepted")
    assert (st_.server_capabilities, st_.auth_mechs_offered, st_.plaintext_auth_command) == ([], [], None)
    assert st_.anomalies == []
    assert record.tls.version == "TLSv12"
