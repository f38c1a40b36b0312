"""PostgreSQL: SSLRequest answered S (TLS at the next byte) or N (plaintext login), GSSENCRequest, auth methods."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.protocols.captured import engine_records, payloads, requires_corpus
from tests.protocols.dialogue import CLIENT_HELLO, SERVER_HELLO, AnalyzerContract, C, S, feed
from tlsmon.protocols.events import (
    Anomaly,
    AuthMechanismsOffered,
    OtherEncryptionAccepted,
    PlaintextAuth,
    StartTlsAccepted,
    StartTlsRejected,
    StartTlsRequested,
)
from tlsmon.protocols.identification import identify
from tlsmon.protocols.postgresql import PostgresqlAnalyzer, probe

SSL_REQUEST = (C, bytes.fromhex("0000000804d2162f"))  # length 8, code 80877103
GSSENC_REQUEST = (C, bytes.fromhex("0000000804d21630"))  # length 8, code 80877104
# StartupMessage, protocol 3.0: user=zeek database=zeek application_name=psql client_encoding=UTF8
STARTUP = (
    C,
    b"\x00\x00\x00\x4c\x00\x03\x00\x00user\x00zeek\x00database\x00zeek\x00application_name\x00psql\x00"
    b"client_encoding\x00UTF8\x00\x00",
)
AUTH_SASL = (S, b"R\x00\x00\x00\x17\x00\x00\x00\x0aSCRAM-SHA-256\x00\x00")
SASL_INITIAL = (C, b"p\x00\x00\x00\x36SCRAM-SHA-256\x00\x00\x00\x00\x20n,,n=,r=U8xI9WY8YscRAsVw74yx2Lt4")
AUTH_MD5 = (S, b"R\x00\x00\x00\x0c\x00\x00\x00\x05\x9e\x66\xd5\x9b")
MD5_PASSWORD = (C, b"p\x00\x00\x00\x28md57e45bd227c38f260985f33fc2774594\x00")
AUTH_CLEARTEXT = (S, b"R\x00\x00\x00\x08\x00\x00\x00\x03")
CLEARTEXT_PASSWORD = (C, b"p\x00\x00\x00\x0bs3cret\x00")
AUTH_OK = (S, b"R\x00\x00\x00\x08\x00\x00\x00\x00")

ACCEPTED = [SSL_REQUEST, (S, b"S"), (C, CLIENT_HELLO), (S, SERVER_HELLO)]
REFUSED = [SSL_REQUEST, (S, b"N"), STARTUP, AUTH_SASL, SASL_INITIAL, AUTH_OK]
REFUSED_EVENTS = [
    StartTlsRequested("SSLRequest"),
    StartTlsRejected("N"),
    AuthMechanismsOffered(("SCRAM-SHA-256",)),
    PlaintextAuth("SASLInitialResponse SCRAM-SHA-256"),
]


class TestContract(AnalyzerContract):
    analyzer = PostgresqlAnalyzer
    dialogues = (ACCEPTED, REFUSED)


def test_sslrequest_answered_s_switches_at_the_next_byte_of_each_direction() -> None:
    out = feed(PostgresqlAnalyzer, ACCEPTED)
    assert out.events == [StartTlsRequested("SSLRequest"), StartTlsAccepted("S")]
    assert (out.switched, out.trailing_client, out.trailing_server) == (True, CLIENT_HELLO, SERVER_HELLO)


def test_tls_bytes_in_the_same_segment_as_the_s_are_trailing() -> None:
    out = feed(PostgresqlAnalyzer, [SSL_REQUEST, (S, b"S" + SERVER_HELLO)])
    assert out.trailing_server == SERVER_HELLO


def test_sslrequest_answered_n_goes_on_to_a_plaintext_scram_login() -> None:
    out = feed(PostgresqlAnalyzer, REFUSED)
    assert out.events == REFUSED_EVENTS
    assert not out.switched
    assert out.done  # AuthenticationOk: the session is logged in, nothing can upgrade it any more


def test_startup_message_without_sslrequest_is_a_plaintext_session() -> None:
    out = feed(PostgresqlAnalyzer, [STARTUP, AUTH_MD5, MD5_PASSWORD])
    assert out.events == [AuthMechanismsOffered(("MD5",)), PlaintextAuth("PasswordMessage MD5")]


def test_cleartext_password_is_reported_by_method_never_by_value() -> None:
    out = feed(PostgresqlAnalyzer, [STARTUP, AUTH_CLEARTEXT, CLEARTEXT_PASSWORD])
    assert out.events == [AuthMechanismsOffered(("PASSWORD",)), PlaintextAuth("PasswordMessage PASSWORD")]
    assert "s3cret" not in repr(out.events)


def test_sasl_offer_lists_every_mechanism() -> None:
    offer = (S, b"R\x00\x00\x00\x2a\x00\x00\x00\x0aSCRAM-SHA-256-PLUS\x00SCRAM-SHA-256\x00\x00")
    out = feed(PostgresqlAnalyzer, [STARTUP, offer])
    assert out.events == [AuthMechanismsOffered(("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"))]


def test_only_the_first_password_message_is_the_plaintext_auth() -> None:
    sasl_response = (C, b"p\x00\x00\x00\x08abcd")
    out = feed(PostgresqlAnalyzer, [STARTUP, AUTH_SASL, SASL_INITIAL, sasl_response])
    assert out.events[-1] == PlaintextAuth("SASLInitialResponse SCRAM-SHA-256")
    assert len(out.events) == 2


def test_gssencrequest_refused_then_sslrequest_accepted() -> None:
    chunks = [GSSENC_REQUEST, (S, b"N"), SSL_REQUEST, (S, b"S"), (C, CLIENT_HELLO)]
    out = feed(PostgresqlAnalyzer, chunks)
    assert out.events == [
        StartTlsRequested("GSSENCRequest"),
        StartTlsRejected("N"),
        StartTlsRequested("SSLRequest"),
        StartTlsAccepted("S"),
    ]
    assert (out.switched, out.trailing_client) == (True, CLIENT_HELLO)


def test_gssencrequest_accepted_is_gssapi_not_tls_and_ends_the_analysis() -> None:
    out = feed(PostgresqlAnalyzer, [GSSENC_REQUEST, (S, b"G"), (C, b"\x00\x00\x00\x10gss-wrapped-bytes")])
    assert out.events == [StartTlsRequested("GSSENCRequest"), OtherEncryptionAccepted("G")]
    assert (out.switched, out.done) == (False, True)


def test_error_response_to_sslrequest_is_a_refusal_from_an_old_server() -> None:
    out = feed(PostgresqlAnalyzer, [SSL_REQUEST, (S, b"EFATAL: unsupported frontend protocol\x00")])
    assert out.events == [StartTlsRequested("SSLRequest"), StartTlsRejected("E")]
    assert out.done


def test_answer_that_is_not_s_n_or_e_is_named() -> None:
    out = feed(PostgresqlAnalyzer, [SSL_REQUEST, (S, b"X")])
    assert out.events == [StartTlsRequested("SSLRequest"), Anomaly("postgresql.bad_encryption_answer")]
    assert out.done


def test_client_bytes_between_sslrequest_and_its_answer_are_named() -> None:
    out = feed(PostgresqlAnalyzer, [(C, SSL_REQUEST[1] + STARTUP[1]), (S, b"S")])
    assert out.events[-1] == Anomaly("postgresql.data_after_sslrequest")
    assert out.trailing_client == STARTUP[1]


def test_sslrequest_without_answer_holds_the_client() -> None:
    out = feed(PostgresqlAnalyzer, [SSL_REQUEST, (C, CLIENT_HELLO)])
    assert out.events == [StartTlsRequested("SSLRequest")]
    assert (out.switched, out.done) == (False, False)


def test_cancel_request_is_a_whole_session_of_no_interest() -> None:
    out = feed(PostgresqlAnalyzer, [(C, bytes.fromhex("0000001004d2162e000030390000d431"))])
    assert (out.events, out.done) == ([], True)


def test_error_response_during_login_ends_the_session() -> None:
    error = (S, b"E\x00\x00\x00\x0eSFATAL\x00C28P01\x00\x00")
    assert feed(PostgresqlAnalyzer, [STARTUP, error]).done


def test_terminate_ends_the_session() -> None:
    assert feed(PostgresqlAnalyzer, [STARTUP, (C, b"X\x00\x00\x00\x04")]).done


@pytest.mark.parametrize(
    ("data", "anomaly"),
    [
        (b"\x00\x00\x00\x04\x04\xd2\x16\x2f", "postgresql.bad_startup_length"),
        (b"\x00\x01\x00\x00\x00\x03\x00\x00", "postgresql.bad_startup_length"),
        (b"\x00\x00\x00\x08\x12\x34\x56\x78", "postgresql.unknown_startup_code"),
    ],
)
def test_bad_startup_messages_are_named_and_end_the_analysis(data: bytes, anomaly: str) -> None:
    out = feed(PostgresqlAnalyzer, [(C, data)])
    assert (out.events, out.done) == ([Anomaly(anomaly)], True)


def test_typed_message_with_length_below_four_is_named() -> None:
    out = feed(PostgresqlAnalyzer, [STARTUP, (S, b"R\x00\x00\x00\x02")])
    assert out.events == [Anomaly("postgresql.bad_message_length")]


def test_server_speaking_first_is_named() -> None:
    out = feed(PostgresqlAnalyzer, [(S, b"S")])
    assert out.events == [Anomaly("postgresql.server_spoke_first")]


def test_long_server_messages_are_skipped_without_buffering() -> None:
    notice = (S, b"N" + (4 + 200_000).to_bytes(4, "big") + b"x" * 200_000)
    out = feed(PostgresqlAnalyzer, [STARTUP, notice, AUTH_MD5])
    assert out.events == [AuthMechanismsOffered(("MD5",))]


def test_gap_ends_the_analysis() -> None:
    analyzer = PostgresqlAnalyzer()
    analyzer.feed(*SSL_REQUEST)
    assert analyzer.gap(False, 10) == [Anomaly("postgresql.gap")]
    assert analyzer.done


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.binary(max_size=60)), max_size=20))
def test_arbitrary_bytes_after_a_startup_never_raise(chunks: list[tuple[bool, bytes]]) -> None:
    feed(PostgresqlAnalyzer, [STARTUP, *chunks])


def test_registry_identifies_the_sslrequest_on_any_port() -> None:
    found = identify(True, SSL_REQUEST[1], 15432).protocol
    assert found is not None and found.name == "postgresql"


@pytest.mark.parametrize(
    ("is_orig", "data", "port", "verdict"),
    [
        (True, SSL_REQUEST[1], 5432, True),
        (True, SSL_REQUEST[1], 15432, True),  # content decides, any port
        (True, GSSENC_REQUEST[1], 5432, True),
        (True, STARTUP[1], 6000, True),
        (True, STARTUP[1][:12], 5432, None),  # inside the first parameter name
        (True, b"\x00\x00\x00", 5432, None),
        (True, b"\x00\x00\x00\x0c\x04\xd2\x16\x2f", 5432, False),  # SSLRequest code with a wrong length
        (True, b"\x00\x00\x00\x85\xffSMB", 5432, False),  # NetBIOS session + SMB
        (True, b"GET / HTTP/1.1\r\n", 5432, False),
        (True, CLIENT_HELLO, 5432, False),
        (True, b"EHLO me\r\n", 5432, False),
        (False, b"S", 5432, False),  # the server never speaks first
        (False, b"220 mx ESMTP\r\n", 5432, False),
    ],
)
def test_probe_decides_by_content(is_orig: bool, data: bytes, port: int, verdict: bool | None) -> None:
    assert probe(is_orig, data, port) is verdict


# -- the corpus: Zeek's PostgreSQL traces (AWS RDS, TLS accepted; a local server refusing with N) ----------------


@requires_corpus
def test_refused_session_from_the_corpus() -> None:
    chunks = payloads("zeek/Traces/postgresql/psql-login.pcap", 5432, 6)
    assert chunks[:4] == [SSL_REQUEST, (S, b"N"), STARTUP, AUTH_SASL]
    out = feed(PostgresqlAnalyzer, chunks)
    assert out.events == REFUSED_EVENTS


@requires_corpus
def test_engine_row_of_the_corpus_accepted_session_on_a_non_standard_port() -> None:
    (record,) = engine_records("zeek/Traces/postgresql/psql-aws-ssl-require-15432.pcap")
    assert (record.conn.resp_p, record.conn.app_proto, record.conn.tls_mode) == (15432, "postgresql", "starttls")
    st_ = record.starttls
    assert st_ is not None
    assert (st_.starttls_command_seen, st_.starttls_command, st_.starttls_reply, st_.starttls_result) == (
        True,
        "SSLRequest",
        "S",
        "accepted",
    )
    assert (st_.starttls_offered, st_.server_capabilities, st_.auth_mechs_offered, st_.plaintext_auth_command) == (
        None,
        [],
        [],
        None,
    )
    assert record.tls is not None
    assert record.tls.server_name == "database-1.cyx4x7yvdoay.us-east-1.rds.amazonaws.com"


@requires_corpus
def test_engine_row_of_the_corpus_refused_session() -> None:
    (record,) = engine_records("zeek/Traces/postgresql/psql-login.pcap")
    assert (record.conn.app_proto, record.conn.tls_mode, record.tls) == ("postgresql", "none", None)
    st_ = record.starttls
    assert st_ is not None
    assert (st_.starttls_command, st_.starttls_reply, st_.starttls_result) == ("SSLRequest", "N", "refused")
    assert (st_.auth_mechs_offered, st_.plaintext_auth_command) == (
        ["SCRAM-SHA-256"],
        "SASLInitialResponse SCRAM-SHA-256",
    )


def test_startup_sent_with_the_sslrequest_is_parsed_as_soon_as_the_server_refuses() -> None:
    # The client wrote SSLRequest and StartupMessage in one segment; the 'N' answer must release the held
    # StartupMessage at once, not when the client next sends something.
    chunks = [(C, SSL_REQUEST[1] + STARTUP[1]), (S, b"N"), AUTH_SASL]
    out = feed(PostgresqlAnalyzer, chunks)
    assert out.events == [
        StartTlsRequested("SSLRequest"),
        StartTlsRejected("N"),
        AuthMechanismsOffered(("SCRAM-SHA-256",)),
    ]
