"""FTP: FEAT features, AUTH TLS / AUTH SSL accepted (234) or refused, USER as plaintext login, replies paired."""

from __future__ import annotations

import base64

import pytest

from fixtures.make_preamble_captures import flights, gridftp_dialogue
from fixtures.tlsgen import handshake
from tests.protocols.captured import engine_records, payloads, requires_corpus
from tests.protocols.dialogue import CLIENT_HELLO, SERVER_HELLO, AnalyzerContract, C, S, feed
from tlsmon.limits import DEFAULT_LIMITS
from tlsmon.protocols.events import (
    Anomaly,
    AuthMechanismsOffered,
    CapabilitiesOffered,
    Event,
    PlaintextAuth,
    StartTlsAccepted,
    StartTlsOffered,
    StartTlsRejected,
    StartTlsRequested,
    TlsPayload,
)
from tlsmon.protocols.ftp import FtpAnalyzer, probe
from tlsmon.records.tables import ConnectionRecord

MAX_LINES = DEFAULT_LIMITS.max_reply_lines

AUTH_TLS_TRACE = "zeek/Traces/ftp/ftp-auth-tls.pcap"
BIGTRANSFER_TRACE = "zeek/Traces/ftp/bigtransfer.pcap"
GLOBUS_TRACE = "zeek/Traces/globus-url-copy.pcap"

GREETING = (S, b"220 ProFTPD Server (ftp.example.org) ready\r\n")
FEAT = (C, b"FEAT\r\n")
# RFC 4217 §6's FEAT example
FEAT_REPLY = (S, b"211-Extensions supported\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n211 END\r\n")
ACCEPTED = [
    GREETING,
    FEAT,
    FEAT_REPLY,
    (C, b"AUTH TLS\r\n"),
    (S, b"234 AUTH TLS successful\r\n"),
    (C, CLIENT_HELLO),
    (S, SERVER_HELLO),
]


class TestContract(AnalyzerContract):
    analyzer = FtpAnalyzer
    dialogues = (ACCEPTED,)


def test_feat_reply_gives_capabilities_and_the_auth_tls_offer() -> None:
    out = feed(FtpAnalyzer, [GREETING, FEAT, FEAT_REPLY])
    assert out.events == [CapabilitiesOffered(("AUTH TLS", "PBSZ", "PROT")), StartTlsOffered()]


def test_feat_auth_list_separated_by_semicolons_names_other_mechanisms() -> None:
    reply = (S, b"211-Features:\r\n AUTH TLS;TLS-C;SSL;GSSAPI\r\n MDTM\r\n211 End\r\n")
    out = feed(FtpAnalyzer, [GREETING, FEAT, reply])
    assert out.events == [
        CapabilitiesOffered(("AUTH TLS;TLS-C;SSL;GSSAPI", "MDTM")),
        StartTlsOffered(),
        AuthMechanismsOffered(("GSSAPI",)),
    ]


def test_feat_without_auth_tls_is_no_offer() -> None:
    reply = (S, b"211-Features:\r\n EPSV\r\n MDTM\r\n SIZE\r\n211 End\r\n")
    out = feed(FtpAnalyzer, [GREETING, FEAT, reply])
    assert out.events == [CapabilitiesOffered(("EPSV", "MDTM", "SIZE"))]


def test_accepted_auth_tls_switches_at_the_next_byte_of_each_direction() -> None:
    out = feed(FtpAnalyzer, ACCEPTED)
    assert out.events[2:] == [StartTlsRequested("AUTH TLS"), StartTlsAccepted("234")]
    assert (out.switched, out.trailing_client, out.trailing_server) == (True, CLIENT_HELLO, SERVER_HELLO)


def test_legacy_auth_ssl_is_an_upgrade_command_too() -> None:
    out = feed(FtpAnalyzer, [GREETING, (C, b"auth ssl\r\n"), (S, b"234 AUTH SSL successful\r\n")])
    assert out.events == [StartTlsRequested("AUTH SSL"), StartTlsAccepted("234")]
    assert out.switched


def test_tls_bytes_in_the_same_segment_as_the_234_reply_are_trailing() -> None:
    chunks = [*ACCEPTED[:4], (S, b"234 Proceed with negotiation.\r\n" + SERVER_HELLO)]
    assert feed(FtpAnalyzer, chunks).trailing_server == SERVER_HELLO


@pytest.mark.parametrize(
    "reply",
    [
        b"431 Unable to accept security mechanism",
        b"500 AUTH not understood",
        b"502 Command not implemented",
        b"504 Unknown security mechanism",
        b"534 Request denied for policy reasons",
    ],
)
def test_refused_auth_tls_goes_on_in_plaintext(reply: bytes) -> None:
    chunks = [GREETING, (C, b"AUTH TLS\r\n"), (S, reply + b"\r\n"), (C, b"USER alice\r\n")]
    out = feed(FtpAnalyzer, chunks)
    assert out.events == [StartTlsRequested("AUTH TLS"), StartTlsRejected(reply[:3].decode()), PlaintextAuth("USER")]
    assert not out.switched


def test_user_is_the_plaintext_login_verb_and_no_argument_is_kept() -> None:
    chunks = [GREETING, (C, b"USER alice\r\n"), (S, b"331 Password required\r\n"), (C, b"PASS s3cret\r\n")]
    out = feed(FtpAnalyzer, chunks)
    assert out.events == [PlaintextAuth("USER")]
    assert "alice" not in repr(out.events) and "s3cret" not in repr(out.events)


def test_non_tls_auth_mechanism_is_a_plaintext_authentication() -> None:
    out = feed(FtpAnalyzer, [GREETING, (C, b"AUTH GSSAPI\r\n"), (S, b"334 Using authentication type GSSAPI\r\n")])
    assert out.events == [PlaintextAuth("AUTH GSSAPI")]
    assert not out.switched


def test_multi_line_greeting_with_free_text_lines_is_one_reply() -> None:
    greeting = (
        S,
        b"220---------- Welcome to Pure-FTPd [privsep] [TLS] ----------\r\n"
        b"220-You are user number 1 of 50 allowed.\r\n"
        b"Local time is now 11:56.\r\n"
        b"220 You will be disconnected after 15 minutes of inactivity.\r\n",
    )
    out = feed(FtpAnalyzer, [greeting, FEAT, FEAT_REPLY])
    assert out.events == [CapabilitiesOffered(("AUTH TLS", "PBSZ", "PROT")), StartTlsOffered()]


def test_preliminary_replies_leave_the_command_waiting_for_its_final_reply() -> None:
    chunks = [
        (S, b"120 Service ready in 1 minute\r\n220 Ready\r\n"),
        (C, b"LIST\r\n"),
        (S, b"150 Here comes the directory listing\r\n226 Directory send OK\r\n"),
        FEAT,
        FEAT_REPLY,
    ]
    out = feed(FtpAnalyzer, chunks)
    assert out.events == [CapabilitiesOffered(("AUTH TLS", "PBSZ", "PROT")), StartTlsOffered()]


def test_pipelined_commands_pair_with_their_replies_in_order() -> None:
    chunks = [
        GREETING,
        (C, b"SYST\r\nFEAT\r\nAUTH TLS\r\n"),
        (S, b"215 UNIX Type: L8\r\n211-Features:\r\n AUTH TLS\r\n211 End\r\n234 Proceed\r\n"),
    ]
    out = feed(FtpAnalyzer, chunks)
    assert out.events == [
        StartTlsRequested("AUTH TLS"),
        CapabilitiesOffered(("AUTH TLS",)),
        StartTlsOffered(),
        StartTlsAccepted("234"),
    ]
    assert out.switched


def test_capture_begun_after_the_greeting_still_pairs_replies() -> None:
    out = feed(FtpAnalyzer, [FEAT, FEAT_REPLY])
    assert out.events == [CapabilitiesOffered(("AUTH TLS", "PBSZ", "PROT")), StartTlsOffered()]


def test_telnet_synch_before_a_command_does_not_hide_its_verb() -> None:
    chunks = [GREETING, (C, b"\xff\xf4\xff\xf2AUTH TLS\r\n"), (S, b"234 Proceed\r\n")]
    out = feed(FtpAnalyzer, chunks)
    assert out.events == [StartTlsRequested("AUTH TLS"), StartTlsAccepted("234")]


def test_login_then_feat_ends_the_interest_in_the_session() -> None:
    chunks = [GREETING, (C, b"USER ftp\r\n"), (S, b"230 Anonymous user logged in\r\n"), FEAT, FEAT_REPLY]
    assert feed(FtpAnalyzer, chunks).done


def test_login_without_feat_is_followed_on() -> None:
    chunks = [GREETING, (C, b"USER ftp\r\n"), (S, b"230 Anonymous user logged in\r\n")]
    assert not feed(FtpAnalyzer, chunks).done


def test_quit_ends_the_interest_in_the_session() -> None:
    assert feed(FtpAnalyzer, [GREETING, (C, b"QUIT\r\n")]).done


def test_client_bytes_pipelined_after_auth_tls_are_named() -> None:
    chunks = [GREETING, (C, b"AUTH TLS\r\nUSER alice\r\n"), (S, b"234 Proceed\r\n")]
    out = feed(FtpAnalyzer, chunks)
    assert out.events[-1] == Anomaly("ftp.data_after_auth_tls")
    assert out.trailing_client == b"USER alice\r\n"


def test_auth_tls_without_answer_leaves_the_client_held() -> None:
    out = feed(FtpAnalyzer, [GREETING, (C, b"AUTH TLS\r\n"), (C, CLIENT_HELLO)])
    assert out.events == [StartTlsRequested("AUTH TLS")]
    assert not out.switched


def test_reply_with_no_command_waiting_is_named() -> None:
    out = feed(FtpAnalyzer, [GREETING, (S, b"200 surprise\r\n")])
    assert out.events == [Anomaly("ftp.reply_without_command")]


def test_malformed_reply_line_is_named() -> None:
    out = feed(FtpAnalyzer, [(S, b"hello there\r\n")])
    assert out.events == [Anomaly("ftp.malformed_reply")]


def test_endless_multi_line_reply_is_named_once_and_still_ends() -> None:
    body = b"".join(b" X%d\r\n" % i for i in range(MAX_LINES + 10))
    out = feed(FtpAnalyzer, [GREETING, FEAT, (S, b"211-Features:\r\n" + body + b"211 End\r\n")])
    assert out.events[0] == Anomaly("ftp.reply_too_long")
    assert isinstance(out.events[1], CapabilitiesOffered) and len(out.events[1].tokens) == MAX_LINES


@pytest.mark.parametrize(
    ("is_orig", "data", "port", "verdict"),
    [
        (False, b"220 (vsFTPd 3.0.5)\r\n", 2121, True),
        (False, b"220 ProFTPD Server (FTP) ready\r\n", 25, True),
        (False, b"220---------- Welcome to Pure-FTPd [privsep] [TLS] ----------\r\n", 21, True),
        (False, b"220 Service ready\r\n", 21, True),
        (False, b"220 Service ready\r\n", 2121, False),
        (False, b"220 mx.example.org ESMTP Postfix\r\n", 21, False),
        (False, b"220 (vsFTP", 21, None),
        (False, b"+OK POP3 ready\r\n", 21, False),
        (False, b"* OK IMAP4rev1 ready\r\n", 21, False),
        (False, b"200 news.example.org NNRP server ready\r\n", 21, False),
        (False, b"HTTP/1.1 200 OK\r\n", 21, False),
        (False, b"\x16\x03\x03\x00\x04\x02\x00\x00\x00", 21, False),
        (True, b"AUTH TLS\r\n", 2121, True),
        (True, b"FEAT\r\n", 2121, True),
        (True, b"USER alice\r\n", 21, True),
        (True, b"USER alice\r\n", 110, False),
        (True, b"AUTH PLAIN\r\n", 25, False),
        (True, b"EHLO me\r\n", 21, False),
        (True, b"GET / HTTP/1.1\r\n", 21, False),
        (True, CLIENT_HELLO, 21, False),
    ],
)
def test_probe_decides_by_content_with_the_port_as_a_hint(
    is_orig: bool, data: bytes, port: int, verdict: bool | None
) -> None:
    assert probe(is_orig, data, port) is verdict


# -- the corpus: vsftpd AUTH TLS (Zeek's ftp-auth-tls.pcap) and Pure-FTPd without TLS (bigtransfer.pcap) ----


@requires_corpus
def test_vsftpd_auth_tls_from_the_corpus() -> None:
    out = feed(FtpAnalyzer, payloads(AUTH_TLS_TRACE, 21))
    features = ("EPRT", "EPSV", "MDTM", "PASV", "PBSZ", "PROT", "REST STREAM", "SIZE", "TVFS")
    assert out.events == [CapabilitiesOffered(features), StartTlsRequested("AUTH TLS"), StartTlsAccepted("234")]
    assert out.trailing_client[:5] == b"\x16\x03\x03\x01\x7e"  # the ClientHello record header
    assert out.trailing_server[:5] == b"\x16\x03\x03\x00\x9b"  # the ServerHello record header


def _records(rel: str) -> list[ConnectionRecord]:
    return [r for r in engine_records(rel) if r.conn.resp_p == 21]


@requires_corpus
def test_engine_row_of_the_corpus_auth_tls_session() -> None:
    [record] = _records(AUTH_TLS_TRACE)
    assert (record.conn.app_proto, record.conn.tls_mode) == ("ftp", "starttls")
    row = record.starttls
    assert row is not None
    assert (row.starttls_offered, row.starttls_required) == (False, None)  # vsftpd's FEAT did not list AUTH TLS
    assert (row.starttls_command_seen, row.starttls_command, row.starttls_reply, row.starttls_result) == (
        True,
        "AUTH TLS",
        "234",
        "accepted",
    )
    assert row.server_capabilities == ["EPRT", "EPSV", "MDTM", "PASV", "PBSZ", "PROT", "REST STREAM", "SIZE", "TVFS"]
    assert (row.auth_mechs_offered, row.plaintext_auth_command, row.anomalies) == ([], None, [])
    tls = record.tls
    assert tls is not None
    # Zeek's ssl.log baseline for the same connection
    assert (tls.version, tls.cipher, tls.curve, tls.server_name, tls.established) == (
        "TLSv13",
        "TLS_AES_256_GCM_SHA384",
        "secp256r1",
        "127.0.0.1",
        True,
    )


@requires_corpus
def test_engine_row_of_the_corpus_session_that_never_upgrades() -> None:
    [record] = _records(BIGTRANSFER_TRACE)
    assert (record.conn.app_proto, record.conn.tls_mode, record.tls) == ("ftp", "none", None)
    row = record.starttls
    assert row is not None
    assert (row.starttls_offered, row.starttls_command_seen, row.starttls_result) == (True, False, None)
    assert "AUTH TLS" in row.server_capabilities
    assert row.plaintext_auth_command == "USER"


# --- GridFTP: the TLS handshake in ADAT tokens (RFC 2228, Globus GSI) ------------------------------------------


@pytest.fixture(scope="module")
def gsi() -> list[tuple[bool, bytes]]:
    """A real mutually authenticated TLS 1.2 handshake, one write per flight, as (from the client, bytes)."""
    exchange = handshake(max_version="TLSv1.2", client_cert=True, sni=None, close_notify=False)
    return flights(exchange.messages)


AUTH_GSSAPI = [GREETING, (C, b"AUTH GSSAPI\r\n"), (S, b"334 Using authentication type; ADAT must follow.\r\n")]


def tls_payloads(events: list[Event]) -> list[tuple[bool, bytes]]:
    return [(e.is_orig, e.data) for e in events if isinstance(e, TlsPayload)]


def test_gsi_adat_tokens_are_the_tls_flights_in_order(gsi: list[tuple[bool, bytes]]) -> None:
    out = feed(FtpAnalyzer, gridftp_dialogue(gsi))
    assert tls_payloads(out.events) == gsi


def test_the_first_tls_adat_token_is_the_upgrade_request_and_235_its_acceptance(gsi: list[tuple[bool, bytes]]) -> None:
    out = feed(FtpAnalyzer, gridftp_dialogue(gsi))
    others = [e for e in out.events if not isinstance(e, TlsPayload)]
    assert others == [PlaintextAuth("AUTH GSSAPI"), StartTlsRequested("AUTH GSSAPI"), StartTlsAccepted("235")]


def test_the_completed_exchange_is_done_and_protected_commands_are_not_read(gsi: list[tuple[bool, bytes]]) -> None:
    out = feed(
        FtpAnalyzer, [*gridftp_dialogue(gsi), (C, b"ENC " + base64.b64encode(b"\x17\x03\x03\x00\x01x") + b"\r\n")]
    )
    assert out.done
    assert len(tls_payloads(out.events)) == len(gsi)


def test_a_refused_first_token_ends_the_exchange(gsi: list[tuple[bool, bytes]]) -> None:
    out = feed(FtpAnalyzer, gridftp_dialogue(gsi, refuse=True))
    assert tls_payloads(out.events) == gsi[:1]
    assert out.events[-1] == StartTlsRejected("535")
    assert not out.done


def test_a_first_token_that_is_no_tls_record_is_not_followed() -> None:
    kerberos = base64.b64encode(bytes.fromhex("6082022a06092a864886f71201020201006e82021930820215"))
    chunks = [*AUTH_GSSAPI, (C, b"ADAT " + kerberos + b"\r\n"), (S, b"335 ADAT=" + kerberos + b"\r\n")]
    out = feed(FtpAnalyzer, chunks)
    assert out.events == [PlaintextAuth("AUTH GSSAPI")]


def test_adat_without_a_334_answer_to_auth_gssapi_is_not_read(gsi: list[tuple[bool, bytes]]) -> None:
    token = base64.b64encode(gsi[0][1])
    chunks = [
        GREETING,
        (C, b"AUTH GSSAPI\r\n"),
        (S, b"504 Unknown security mechanism\r\n"),
        (C, b"ADAT " + token + b"\r\n"),
    ]
    assert feed(FtpAnalyzer, chunks).events == [PlaintextAuth("AUTH GSSAPI")]


def test_an_adat_token_that_is_not_base64_is_named_and_ends_the_exchange(gsi: list[tuple[bool, bytes]]) -> None:
    first = base64.b64encode(gsi[0][1])
    chunks = [*AUTH_GSSAPI, (C, b"ADAT " + first + b"\r\n"), (S, b"335 ADAT=QUJD=x\r\n")]
    out = feed(FtpAnalyzer, chunks)
    assert out.events[-1] == Anomaly("ftp.malformed_adat")
    assert tls_payloads(out.events) == gsi[:1]


@requires_corpus
def test_the_globus_url_copy_capture_gives_the_adat_handshake_to_tls() -> None:
    (control,) = [r for r in engine_records(GLOBUS_TRACE) if r.conn.resp_p == 2811]
    assert (control.conn.app_proto, control.conn.tls_mode) == ("ftp", "starttls")
    assert control.tls is not None
    assert (control.tls.version, control.tls.cipher, control.tls.established, control.tls.ssl_history) == (
        "TLSv10",
        "TLS_RSA_WITH_AES_256_CBC_SHA",
        True,
        "CsxrnXGYIti",
    )
