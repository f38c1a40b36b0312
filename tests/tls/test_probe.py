"""tls/probe.py: a first payload is TLS (True), cannot be (False), or needs more bytes (None)."""

from __future__ import annotations

import pytest

from tests.corpus.location import requires_corpus
from tests.tls.vectors import ILLUSTRATED_TLS12, ILLUSTRATED_TLS13, cap
from tlsmon.tls.probe import looks_like_tls

CLIENT_HELLO_START = bytes.fromhex("16030100f8010000f40303")
SSLV2_CLIENT_HELLO_START = bytes.fromhex("802e0100020015")
SSLV2_SERVER_HELLO_START = bytes.fromhex("83b3040001000203")


@requires_corpus
@pytest.mark.parametrize("name", ["clienthello", "serverhello"])
def test_illustrated_hellos_are_tls(name: str) -> None:
    assert looks_like_tls(cap(ILLUSTRATED_TLS13, name)) is True
    assert looks_like_tls(cap(ILLUSTRATED_TLS12, name)) is True


@pytest.mark.parametrize(
    "data",
    [CLIENT_HELLO_START, bytes.fromhex("150303000202"), SSLV2_CLIENT_HELLO_START, SSLV2_SERVER_HELLO_START],
    ids=["client_hello", "fatal_alert", "sslv2_client_hello", "sslv2_server_hello"],
)
def test_tls_starts(data: bytes) -> None:
    assert looks_like_tls(data) is True


@pytest.mark.parametrize(
    "data",
    [b"", b"\x16", b"\x16\x03", b"\x16\x03\x01\x00", b"\x80", b"\x80\x2e", b"\x80\x2e\x01\x00"],
    ids=["empty", "type", "major", "no_length_low", "v2_first", "v2_length", "v2_no_version"],
)
def test_too_few_bytes_to_decide(data: bytes) -> None:
    assert looks_like_tls(data) is None


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\r\n",
        b"220 smtp.example.com ESMTP\r\n",
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"\x17\x03\x03\x00\x10",  # application data cannot open a connection
        b"\x16\x02\x00",  # major version 2
        b"\x16\x03\x05",  # minor version 5
        b"\x16\x03\x01\x00\x02",  # too short for a handshake header
        b"\x16\x03\x01\x48\x01",  # longer than any record
        b"\x16\x03\x01\x00\x30\x0b",  # a Certificate cannot come first
        b"\x15\x03\x03\x00\x02\x07",  # alert level 7
        b"\x80\x2e\x02",  # SSLv2 CLIENT-MASTER-KEY cannot come first
        b"\x80\x2e\x01\x09\x09",  # SSLv2 hello with version 0x0909
    ],
    ids=[
        "http",
        "smtp",
        "ssh",
        "app_data",
        "major2",
        "minor5",
        "short_handshake",
        "too_long",
        "certificate_first",
        "alert_level",
        "v2_master_key",
        "v2_bad_version",
    ],
)
def test_not_tls(data: bytes) -> None:
    assert looks_like_tls(data) is False
