"""Bounds on what plaintext traffic can make an analyzer hold: tlsmon.limits.Limits at its defaults and set lower."""

from __future__ import annotations

import pytest

from tests.protocols.dialogue import C, S, feed
from tests.protocols.test_ldap import ROOT_DSE_SEARCH
from tlsmon.dispatch import Dispatcher
from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.protocols.base import ProtocolAnalyzer
from tlsmon.protocols.events import Anomaly, CapabilitiesOffered, StartTlsOffered, StartTlsRequested
from tlsmon.protocols.ftp import FtpAnalyzer
from tlsmon.protocols.imap import ImapAnalyzer
from tlsmon.protocols.irc import IrcAnalyzer
from tlsmon.protocols.ldap import LdapAnalyzer
from tlsmon.protocols.nntp import NntpAnalyzer
from tlsmon.protocols.pop3 import Pop3Analyzer
from tlsmon.protocols.postgresql import PostgresqlAnalyzer
from tlsmon.protocols.sieve import SieveAnalyzer
from tlsmon.protocols.smtp import SmtpAnalyzer
from tlsmon.protocols.starttls import StartTlsSummary
from tlsmon.protocols.xmpp import XmppAnalyzer
from tlsmon.wire.linebuffer import LineBuffer

SMTP_GREETING = (S, b"220 mx.example.org ESMTP\r\n")
SMTP_OFFER = [SMTP_GREETING, (C, b"EHLO c\r\n"), (S, b"250-mx.example.org\r\n250 STARTTLS\r\n")]
# 64 KiB of client bytes: what a client that keeps sending after STARTTLS sends, in chunks
CHUNK = b"A" * 65536


def test_limits_must_be_positive_integers() -> None:
    with pytest.raises(ValueError, match="max_held_bytes"):
        Limits(max_held_bytes=0)


def test_client_bytes_after_starttls_are_dropped_past_max_held_bytes() -> None:
    chunks = [*SMTP_OFFER, (C, b"STARTTLS\r\n")] + [(C, CHUNK)] * 5  # 327 680 bytes > 262 144
    out = feed(SmtpAnalyzer, chunks)
    assert out.events[-2:] == [StartTlsRequested("STARTTLS"), Anomaly("smtp.held_data_too_long")]
    assert (out.switched, out.done) == (False, True)


def test_client_bytes_up_to_max_held_bytes_are_kept_for_the_answer() -> None:
    chunks = [*SMTP_OFFER, (C, b"STARTTLS\r\n"), (C, b"x" * DEFAULT_LIMITS.max_held_bytes), (S, b"220 go\r\n")]
    out = feed(SmtpAnalyzer, chunks)
    assert (out.switched, len(out.trailing_client)) == (True, DEFAULT_LIMITS.max_held_bytes)


def test_held_bytes_of_a_binary_protocol_use_the_same_bound_and_name() -> None:
    ssl_request = (C, bytes.fromhex("0000000804d2162f"))
    out = feed(PostgresqlAnalyzer, [ssl_request] + [(C, CHUNK)] * 5)
    assert out.events == [StartTlsRequested("SSLRequest"), Anomaly("postgresql.held_data_too_long")]
    assert out.done


def test_xmpp_held_bytes_after_starttls_use_the_same_bound() -> None:
    stream = (
        b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
        b"xmlns:stream='http://etherx.jabber.org/streams' to='example.org' version='1.0'>"
    )
    starttls = b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
    out = feed(XmppAnalyzer, [(C, stream + starttls)] + [(C, CHUNK)] * 5)
    assert out.events[-2:] == [StartTlsRequested("<starttls/>"), Anomaly("xmpp.held_data_too_long")]
    assert out.done


def test_the_dispatcher_passes_its_limits_on_and_releases_a_done_analyzer() -> None:
    dispatcher = Dispatcher(25, Limits(max_held_bytes=1000))
    for is_orig, data in [*SMTP_OFFER, (C, b"STARTTLS\r\n"), (C, b"B" * 1001)]:
        dispatcher.data(is_orig, data)
    assert dispatcher.all_anomalies() == ["smtp.held_data_too_long"]
    assert (dispatcher.finished, dispatcher.proto) == (True, None)


# One unanswered command more than the queue holds, per protocol: the greeting counts as the first entry.
PIPELINED = [
    (SmtpAnalyzer, SMTP_GREETING, b"NOOP\r\n"),
    (FtpAnalyzer, (S, b"220 ftp.example.org FTP server ready\r\n"), b"NOOP\r\n"),
    (NntpAnalyzer, (S, b"200 news.example.org InterNetNews NNRP server ready\r\n"), b"DATE\r\n"),
    (Pop3Analyzer, (S, b"+OK POP3 ready\r\n"), b"NOOP\r\n"),
    (SieveAnalyzer, (S, b'"IMPLEMENTATION" "x"\r\nOK\r\n'), b"NOOP\r\n"),
]


@pytest.mark.parametrize(("analyzer", "greeting", "command"), PIPELINED, ids=lambda p: getattr(p, "name", ""))
def test_unanswered_commands_past_max_pending_commands_stop_tracking(
    analyzer: type[ProtocolAnalyzer], greeting: tuple[bool, bytes], command: bytes
) -> None:
    # after the greeting's answer the queue is empty: 64 commands fill it, the 65th overflows
    out = feed(analyzer, [greeting, (C, command * (DEFAULT_LIMITS.max_pending_commands + 1))])
    assert out.events[-1] == Anomaly(f"{analyzer.name}.too_many_pending_commands")
    assert out.done


def test_imap_tags_past_max_pending_commands_stop_tracking() -> None:
    commands = b"".join(b"a%d NOOP\r\n" % i for i in range(DEFAULT_LIMITS.max_pending_commands + 1))
    out = feed(ImapAnalyzer, [(S, b"* OK IMAP4rev1 ready\r\n"), (C, commands)])
    assert out.events == [Anomaly("imap.too_many_pending_commands")]
    assert out.done


def test_80000_ehlo_lines_keep_the_first_reply_lines_and_complete() -> None:
    lines = b"".join(b"250-X-CAP-%d\r\n" % i for i in range(80_000))
    reply = b"250-mx.example.org\r\n" + lines + b"250 HELP\r\n"
    out = feed(SmtpAnalyzer, [SMTP_GREETING, (C, b"EHLO c\r\n"), (S, reply)])
    kept = DEFAULT_LIMITS.max_reply_lines - 1  # the first line of the reply is the greeting, not a keyword
    assert out.events == [
        Anomaly("smtp.reply_too_long"),
        CapabilitiesOffered(tuple(f"X-CAP-{i}" for i in range(kept))),
    ]


def test_capabilities_per_row_keep_the_first_distinct_tokens_and_count_the_rest() -> None:
    summary = StartTlsSummary(limits=Limits(max_capabilities=3))
    summary.apply(CapabilitiesOffered(("SIZE", "PIPELINING", "SIZE")))
    summary.apply(CapabilitiesOffered(("PIPELINING", "STARTTLS", "8BITMIME", "DSN", "8BITMIME")))
    assert summary.server_capabilities == ["SIZE", "PIPELINING", "STARTTLS"]
    assert (summary.capabilities_dropped, summary.anomalies) == (3, ["starttls.too_many_capabilities"])


def test_many_ehlo_replies_fill_the_row_capabilities_once() -> None:
    chunks: list[tuple[bool, bytes]] = [SMTP_GREETING]
    for i in range(20):
        chunks += [
            (C, b"EHLO c\r\n"),
            (S, b"250-mx\r\n" + b"".join(b"250-E%d-%d\r\n" % (i, j) for j in range(20)) + b"250 X\r\n"),
        ]
    dispatcher = Dispatcher(25)
    for is_orig, data in chunks:
        dispatcher.data(is_orig, data)
    starttls = dispatcher.starttls
    assert starttls is not None
    assert len(starttls.server_capabilities) == DEFAULT_LIMITS.max_capabilities
    # 20 replies of 21 distinct tokens ("X" once): 400 + 1 distinct, the first 256 kept
    assert starttls.capabilities_dropped == 20 * 21 - 19 - DEFAULT_LIMITS.max_capabilities
    assert starttls.anomalies == ["starttls.too_many_capabilities"]


def test_irc_cap_ls_continuations_keep_max_capabilities_tokens() -> None:
    tokens = [b"cap-%d" % i for i in range(300)]
    lines = b"".join(
        b":irc.example.org CAP * LS * :" + b" ".join(tokens[i : i + 50]) + b"\r\n" for i in range(0, 250, 50)
    )
    last = b":irc.example.org CAP * LS :" + b" ".join(tokens[250:]) + b"\r\n"
    out = feed(IrcAnalyzer, [(C, b"CAP LS 302\r\n"), (S, lines + last)])
    assert out.events == [
        Anomaly("irc.too_many_capabilities"),
        CapabilitiesOffered(tuple(f"cap-{i}" for i in range(DEFAULT_LIMITS.max_capabilities))),
    ]


def test_xmpp_features_are_kept_once_each_up_to_max_capabilities() -> None:
    header = (
        b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
        b"xmlns:stream='http://etherx.jabber.org/streams' from='example.org' id='1' version='1.0'>"
    )
    children = b"".join(b"<f%d xmlns='urn:x'/><f%d xmlns='urn:x'/>" % (i, i) for i in range(300))
    out = feed(XmppAnalyzer, [(S, header + b"<stream:features>" + children + b"</stream:features>")])
    kept = tuple(f"f{i}" for i in range(DEFAULT_LIMITS.max_capabilities))
    assert [e for e in out.events if isinstance(e, (Anomaly, CapabilitiesOffered))] == [
        Anomaly("xmpp.too_many_features"),
        CapabilitiesOffered(kept),
    ]


def test_protocol_anomalies_past_max_anomalies_are_counted_and_the_cut_named_once() -> None:
    dispatcher = Dispatcher(25, Limits(max_anomalies=3))
    for is_orig, data in [SMTP_GREETING, (S, b"garbage\r\n" * 5)]:
        dispatcher.data(is_orig, data)
    starttls = dispatcher.starttls
    assert starttls is not None
    assert starttls.anomalies == ["smtp.malformed_reply"] * 3 + ["starttls.too_many_anomalies"]
    assert starttls.anomalies_dropped == 2


def test_ldap_root_dse_searches_past_max_pending_commands_stop_tracking() -> None:
    # ROOT_DSE_SEARCH carries messageID 4 at offset 4: the same search under ids 1 to 65, none answered
    searches = b"".join(ROOT_DSE_SEARCH[:4] + bytes([i]) + ROOT_DSE_SEARCH[5:] for i in range(1, 66))
    out = feed(LdapAnalyzer, [(C, searches)])
    assert (out.events, out.done) == ([Anomaly("ldap.too_many_pending_commands")], True)


def test_a_line_longer_than_max_line_is_named_and_the_next_line_is_read() -> None:
    long_line = b"250-" + b"X" * DEFAULT_LIMITS.max_line + b"\r\n"
    out = feed(SmtpAnalyzer, [SMTP_GREETING, (C, b"EHLO c\r\n"), (S, long_line + b"250-mx\r\n250 STARTTLS\r\n")])
    assert out.events == [CapabilitiesOffered(("STARTTLS",)), StartTlsOffered(), Anomaly("smtp.line_too_long")]


def test_an_endless_line_never_holds_more_than_max_line_and_a_chunk() -> None:
    buffer = LineBuffer(max_line=100)
    fed, kept = [], []
    for _ in range(1000):
        buffer.feed(b"x" * 64)
        fed.append(len(buffer))
        assert buffer.next_line() is None
        kept.append(len(buffer))
    # 64 bytes wait for more; at 128 (over 100) the partial line is discarded, named once
    assert (max(fed), max(kept), buffer.overflowed) == (128, 64, 1)


def test_client_bytes_before_an_imap_literal_go_ahead_use_the_same_bound() -> None:
    # a synchronising literal {5}: the client must wait for the server's "+" before sending its octets
    chunks = [(S, b"* OK IMAP4rev1 ready\r\n"), (C, b"a1 LOGIN {5}\r\n")] + [(C, CHUNK)] * 5
    out = feed(ImapAnalyzer, chunks)
    assert out.events[-1] == Anomaly("imap.held_data_too_long")
    assert out.done
