"""Zeek's conn.log fields of a row: duration and service from its values; whole rows (with conn_state, which
tests/tcp/test_endpoint.py specifies packet by packet) from fixture captures.

The function tests give the row's inputs directly; the capture tests check whole rows of fixture captures
(the Zeek baselines of the shared corpus are checked in tests/corpus/test_zeek_conn.py).
"""

from __future__ import annotations

import pytest

from tests.e2e.captures import PCAPS
from tlsmon.capture import CaptureSource
from tlsmon.engine import Engine
from tlsmon.recorder import MemorySink
from tlsmon.records.zeek import duration, service


def test_duration_is_seconds_between_first_and_last_packet() -> None:
    assert duration(1_700_000_000_000_000_000, 1_700_000_002_827_002_000) == 2.827002


def test_duration_is_unset_for_a_single_timestamp() -> None:
    assert duration(1_700_000_000_000_000_000, 1_700_000_000_000_000_000) is None


def test_service_of_implicit_tls_is_ssl() -> None:
    assert service("tls", "implicit", True, []) == "ssl"


def test_service_lists_the_plaintext_protocol_before_ssl() -> None:
    assert service("imap", "starttls", True, []) == "imap,ssl"


def test_service_spells_ldap_as_zeeks_analyzer() -> None:
    assert service("ldap", "starttls", True, []) == "ldap_tcp,ssl"


def test_service_of_a_connect_proxy_is_http() -> None:
    assert service("http-proxy", "implicit", True, []) == "http,ssl"


def test_service_without_an_upgrade_is_the_plaintext_protocol() -> None:
    assert service("smtp", "none", False, []) == "smtp"


def test_service_drops_ssl_after_an_unreadable_record_before_any_server_hello() -> None:
    assert service("tls", "implicit", False, ["tls.unknown_content_type"]) is None


def test_service_keeps_ssl_after_an_unreadable_record_once_a_server_hello_was_parsed() -> None:
    assert service("tls", "implicit", True, ["tls.unknown_content_type"]) == "ssl"


def test_service_keeps_ssl_for_a_client_hello_without_answer() -> None:
    assert service("tls", "implicit", False, []) == "ssl"


def test_service_of_an_unrecognised_connection_is_unset() -> None:
    assert service(None, "none", False, []) is None


@pytest.mark.parametrize(
    ("capture", "expected"),
    [
        # duration: first packet to the one that completed the close (the final ACK after it does not count)
        ("tls13-basic.pcap", ("tcp", "ssl", 0.00552, "SF")),  # SYN to the second FIN
        ("midstream.pcap", ("tcp", "ssl", 0.00453, "SF")),  # no SYN seen, but both sides closed
        ("starttls/ftp-not-offered.pcap", ("tcp", "ftp", 0.000552, "SF")),  # no upgrade: the plaintext protocol
        ("starttls/imap-accepted.pcap", ("tcp", "imap,ssl", 0.322181, "RSTR")),  # upgrade; server FIN then RST
    ],
)
def test_fixture_capture_rows_carry_zeeks_columns(capture: str, expected: tuple[str, str, float, str]) -> None:
    sink = MemorySink()
    engine = Engine(sink)
    engine.run(CaptureSource([PCAPS / capture]))
    engine.close()
    [(conn, _)] = sink.rows
    assert (conn.proto, conn.service, conn.duration, conn.conn_state) == expected
