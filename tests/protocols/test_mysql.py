"""MySQL/MariaDB: the greeting's CLIENT_SSL offer, the client's SSL Request, TLS from both sides right after."""

from __future__ import annotations

import struct

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
from tlsmon.protocols.mysql import MysqlAnalyzer, probe

# MySQL 8.0.28 on AWS RDS (Zeek's tls-12-amazon-rds.pcap): capabilities 0xdfffffff, mysql_native_password.
MYSQL8_GREETING = bytes.fromhex(
    "4a0000000a382e302e32380018000000365a5c3d1c74517700ffffff0200ffdf150000000000000000000040604d11427935562847"
    "1534006d7973716c5f6e61746976655f70617373776f726400"
)
# The client's SSL Request: sequence 1, 32 bytes, capabilities 0x20ffae85 (CLIENT_SSL 0x0800 set).
SSL_REQUEST = bytes.fromhex("2000000185aeff2000000001210000000000000000000000000000000000000000000000")

PROTOCOL_41, SSL, SECURE_CONNECTION, PLUGIN_AUTH, CONNECT_WITH_DB = 1 << 9, 1 << 11, 1 << 15, 1 << 19, 1 << 3
BASE_CAPS = PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH
BASE_NAMES = ("CLIENT_PROTOCOL_41", "CLIENT_SECURE_CONNECTION", "CLIENT_PLUGIN_AUTH")


def greeting(caps: int, plugin: bytes = b"caching_sha2_password", extended: int = 0) -> bytes:
    """A protocol 10 Initial Handshake Packet laid out as the MySQL/MariaDB connection-phase docs say."""
    payload = (
        b"\x0a5.5.5-10.6.12-MariaDB\x00"
        + struct.pack("<I", 7)  # connection id
        + b"abcdefgh\x00"  # scramble part 1, filler
        + struct.pack("<HBHHB", caps & 0xFFFF, 0x21, 0x0002, caps >> 16, 21)
        + b"\x00" * 6
        + struct.pack("<I", extended)  # MariaDB extended capabilities (when CLIENT_MYSQL, bit 0, is clear)
        + b"ijklmnopqrst\x00"  # scramble part 2
        + plugin
        + b"\x00"
    )
    return struct.pack("<I", len(payload))[:3] + b"\x00" + payload


def ssl_request(caps: int) -> bytes:
    return b"\x20\x00\x00\x01" + struct.pack("<IIB", caps, 1 << 24, 0x21) + b"\x00" * 23


def login(caps: int, user: bytes = b"alice", plugin: bytes = b"caching_sha2_password") -> bytes:
    """A HandshakeResponse41 with a 20-byte scrambled password and a database name."""
    payload = struct.pack("<IIB", caps, 1 << 24, 0x21) + b"\x00" * 23 + user + b"\x00" + b"\x14" + b"\xaa" * 20
    if caps & CONNECT_WITH_DB:
        payload += b"shop\x00"
    payload += plugin + b"\x00"
    return struct.pack("<I", len(payload))[:3] + b"\x01" + payload


ACCEPTED = [(S, MYSQL8_GREETING), (C, SSL_REQUEST + CLIENT_HELLO), (S, SERVER_HELLO)]
ERR_BAD_HANDSHAKE = b"\x16\x00\x00\x02\xff\x13\x04#08S01Bad handshake"  # 22-byte payload: header starts 0x16
REFUSED = [(S, greeting(BASE_CAPS | SSL)), (C, ssl_request(BASE_CAPS | SSL)), (S, ERR_BAD_HANDSHAKE)]


class TestContract(AnalyzerContract):
    analyzer = MysqlAnalyzer
    dialogues = (ACCEPTED, REFUSED)


def test_greeting_gives_capability_names_the_offer_and_the_auth_plugin() -> None:
    out = feed(MysqlAnalyzer, [(S, greeting(BASE_CAPS | SSL))])
    assert out.events == [
        CapabilitiesOffered(("CLIENT_PROTOCOL_41", "CLIENT_SSL", "CLIENT_SECURE_CONNECTION", "CLIENT_PLUGIN_AUTH")),
        StartTlsOffered(),
        AuthMechanismsOffered(("caching_sha2_password",)),
    ]


def test_greeting_without_client_ssl_does_not_offer() -> None:
    out = feed(MysqlAnalyzer, [(S, greeting(BASE_CAPS))])
    assert out.events == [CapabilitiesOffered(BASE_NAMES), AuthMechanismsOffered(("caching_sha2_password",))]


def test_mariadb_extended_capabilities_are_read_when_client_mysql_is_clear() -> None:
    out = feed(MysqlAnalyzer, [(S, greeting(BASE_CAPS, extended=0b101))])
    assert out.events[0] == CapabilitiesOffered(
        (*BASE_NAMES, "MARIADB_CLIENT_PROGRESS", "MARIADB_CLIENT_STMT_BULK_OPERATIONS")
    )


def test_reserved_bytes_are_ignored_when_client_mysql_is_set() -> None:
    out = feed(MysqlAnalyzer, [(S, greeting(BASE_CAPS | 1, extended=0b101))])
    assert out.events[0] == CapabilitiesOffered(("CLIENT_LONG_PASSWORD", *BASE_NAMES))


def test_mysql8_greeting_from_rds() -> None:
    out = feed(MysqlAnalyzer, [(S, MYSQL8_GREETING)])
    caps, offer, auth = out.events
    assert isinstance(caps, CapabilitiesOffered)
    assert len(caps.tokens) == 31  # 0xdfffffff: every flag but CLIENT_CAPABILITY_EXTENSION (bit 29)
    assert "CLIENT_CAPABILITY_EXTENSION" not in caps.tokens
    assert (offer, auth) == (StartTlsOffered(), AuthMechanismsOffered(("mysql_native_password",)))


def test_ssl_request_then_tls_from_both_sides_at_the_next_byte() -> None:
    out = feed(MysqlAnalyzer, ACCEPTED)
    assert out.events[-2:] == [StartTlsRequested("CLIENT_SSL"), StartTlsAccepted("TLS")]
    assert (out.switched, out.trailing_client, out.trailing_server) == (True, CLIENT_HELLO, SERVER_HELLO)


def test_ssl_request_answered_by_an_err_packet_is_refused() -> None:
    out = feed(
        MysqlAnalyzer, [(S, greeting(BASE_CAPS | SSL)), (C, ssl_request(BASE_CAPS | SSL)), (S, ERR_BAD_HANDSHAKE)]
    )
    assert out.events[-2:] == [StartTlsRequested("CLIENT_SSL"), StartTlsRejected("ERR")]
    assert (out.switched, out.done) == (False, True)


def test_ssl_request_the_greeting_did_not_offer_is_named() -> None:
    out = feed(MysqlAnalyzer, [(S, greeting(BASE_CAPS)), (C, ssl_request(BASE_CAPS | SSL))])
    assert out.events[-2:] == [Anomaly("mysql.ssl_request_not_offered"), StartTlsRequested("CLIENT_SSL")]


def test_plaintext_login_reports_the_plugin_and_never_the_user() -> None:
    out = feed(MysqlAnalyzer, [(S, greeting(BASE_CAPS | SSL)), (C, login(BASE_CAPS | CONNECT_WITH_DB))])
    assert out.events[-1] == PlaintextAuth("HandshakeResponse caching_sha2_password")
    assert out.done
    assert "alice" not in repr(out.events) and "shop" not in repr(out.events)


def test_plaintext_login_claiming_client_ssl_is_named() -> None:
    out = feed(MysqlAnalyzer, [(S, greeting(BASE_CAPS | SSL)), (C, login(BASE_CAPS | SSL))])
    assert out.events[-2:] == [
        Anomaly("mysql.ssl_flag_in_plaintext_login"),
        PlaintextAuth("HandshakeResponse caching_sha2_password"),
    ]


def test_login_without_plugin_auth_is_a_bare_handshake_response() -> None:
    caps = PROTOCOL_41 | SECURE_CONNECTION
    out = feed(MysqlAnalyzer, [(S, greeting(caps)), (C, login(caps, plugin=b""))])
    assert out.events[-1] == PlaintextAuth("HandshakeResponse")


def test_err_packet_instead_of_a_greeting_ends_the_session() -> None:
    message = b"\xff\x6a\x04Host '192.0.2.7' is not allowed to connect to this MySQL server"  # error 1130
    out = feed(MysqlAnalyzer, [(S, b"\x42\x00\x00\x00" + message)])
    assert (out.events, out.done) == ([], True)


def test_greeting_that_is_not_protocol_10_is_named() -> None:
    out = feed(MysqlAnalyzer, [(S, b"\x05\x00\x00\x00\x093.21")])
    assert (out.events, out.done) == ([Anomaly("mysql.bad_greeting")], True)


def test_client_bytes_before_the_greeting_are_named() -> None:
    out = feed(MysqlAnalyzer, [(C, b"\x01\x00\x00\x00\x01")])
    assert out.events == [Anomaly("mysql.client_before_greeting")]


def test_plaintext_after_the_ssl_request_is_named() -> None:
    chunks = [(S, MYSQL8_GREETING), (C, SSL_REQUEST + b"\x05\x00\x00\x02hello"), (S, SERVER_HELLO)]
    out = feed(MysqlAnalyzer, chunks)
    assert out.events[-1] == Anomaly("mysql.plaintext_after_ssl_request")


def test_server_bytes_after_the_ssl_request_that_are_neither_tls_nor_err_are_named() -> None:
    out = feed(
        MysqlAnalyzer, [(S, MYSQL8_GREETING), (C, SSL_REQUEST), (S, b"\x07\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00")]
    )
    assert out.events[-1] == Anomaly("mysql.bad_ssl_answer")


def test_ssl_request_without_answer_holds_the_client() -> None:
    out = feed(MysqlAnalyzer, [(S, MYSQL8_GREETING), (C, SSL_REQUEST + CLIENT_HELLO)])
    assert out.events[-1] == StartTlsRequested("CLIENT_SSL")
    assert (out.switched, out.done) == (False, False)


def test_gap_ends_the_analysis() -> None:
    analyzer = MysqlAnalyzer()
    analyzer.feed(False, MYSQL8_GREETING)
    assert analyzer.gap(True, 36) == [Anomaly("mysql.gap")]
    assert analyzer.done


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_client_packets_after_a_greeting_never_raise(data: bytes) -> None:
    feed(MysqlAnalyzer, [(S, MYSQL8_GREETING), (C, struct.pack("<I", len(data))[:3] + b"\x01" + data)])


def test_registry_identifies_the_greeting() -> None:
    found = identify(False, MYSQL8_GREETING, 3306).protocol
    assert found is not None and found.name == "mysql"


@pytest.mark.parametrize(
    ("is_orig", "data", "port", "verdict"),
    [
        (False, MYSQL8_GREETING, 3306, True),
        (False, MYSQL8_GREETING, 13306, True),  # content decides, any port
        (False, greeting(BASE_CAPS), 3306, True),
        (False, MYSQL8_GREETING[:9], 3306, None),  # inside the version string
        (False, b"\x4a\x00", 3306, None),
        (False, b"\x45\x00\x00\x00\xff\x6a\x04Host", 3306, True),  # ERR greeting: the port decides
        (False, b"\x45\x00\x00\x00\xff\x6a\x04Host", 8080, False),
        (False, b"\x4a\x00\x00\x01\x0a8.0.28\x00", 3306, False),  # sequence id must be 0
        (False, b"\x4a\x00\x00\x00\x0aHello\x00", 3306, False),  # versions start with a digit
        (False, b"HTTP/1.1 200 OK\r\n", 3306, False),
        (False, b"220 mx ESMTP\r\n", 3306, False),
        (False, SERVER_HELLO, 3306, False),
        (True, SSL_REQUEST, 3306, False),  # the server speaks first
    ],
)
def test_probe_decides_by_content(is_orig: bool, data: bytes, port: int, verdict: bool | None) -> None:
    assert probe(is_orig, data, port) is verdict


# -- the corpus: Zeek's MySQL traces (MariaDB 10.0 with TLS 1.1, MySQL 8.0 on RDS with and without TLS) ----------


@requires_corpus
def test_mariadb_ssl_request_from_the_corpus() -> None:
    chunks = payloads("zeek/Traces/mysql/encrypted.pcap", 3306, 4)
    out = feed(MysqlAnalyzer, chunks)
    assert out.events[1:] == [
        StartTlsOffered(),
        AuthMechanismsOffered(("mysql_native_password",)),
        StartTlsRequested("CLIENT_SSL"),
        StartTlsAccepted("TLS"),
    ]
    assert (out.trailing_client, out.trailing_server) == (chunks[2][1], chunks[3][1])


@requires_corpus
def test_plaintext_login_from_the_corpus_keeps_no_user_name() -> None:
    chunks = payloads("zeek/Traces/mysql/plain-amazon-rds.pcap", 3306, 2)
    assert b"admin" in chunks[1][1]
    out = feed(MysqlAnalyzer, chunks)
    assert out.events[-1] == PlaintextAuth("HandshakeResponse mysql_native_password")
    assert out.done
    assert "admin" not in repr(out.events)


@requires_corpus
@pytest.mark.parametrize(
    ("trace", "version"),
    [("zeek/Traces/mysql/encrypted.pcap", "TLSv11"), ("zeek/Traces/mysql/tls-13-amazon-rds.pcap", "TLSv13")],
)
def test_engine_row_of_a_corpus_ssl_session(trace: str, version: str) -> None:
    (record,) = engine_records(trace)
    assert (record.conn.app_proto, record.conn.tls_mode) == ("mysql", "starttls")
    st_ = record.starttls
    assert st_ is not None
    assert (st_.starttls_offered, st_.starttls_command_seen, st_.starttls_command) == (True, True, "CLIENT_SSL")
    assert (st_.starttls_reply, st_.starttls_result) == ("TLS", "accepted")
    assert "CLIENT_SSL" in st_.server_capabilities
    assert (st_.auth_mechs_offered, st_.plaintext_auth_command) == (["mysql_native_password"], None)
    assert record.tls is not None and record.tls.version == version


@requires_corpus
def test_engine_row_of_the_corpus_plaintext_session() -> None:
    (record,) = engine_records("zeek/Traces/mysql/plain-amazon-rds.pcap")
    assert (record.conn.app_proto, record.conn.tls_mode, record.tls) == ("mysql", "none", None)
    st_ = record.starttls
    assert st_ is not None
    assert (st_.starttls_offered, st_.starttls_command_seen, st_.starttls_result) == (True, False, None)
    assert st_.plaintext_auth_command == "HandshakeResponse mysql_native_password"
