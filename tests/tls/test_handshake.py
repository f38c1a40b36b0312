"""tls/handshake.py: messages reassembled across records, several per record, and capped in length."""

from __future__ import annotations

from tlsmon.tls.anomalies import TlsAnomaly
from tlsmon.tls.handshake import MAX_HANDSHAKE_MESSAGE, HandshakeReassembler

SERVER_HELLO_DONE = bytes.fromhex("0e000000")
CERTIFICATE = bytes.fromhex("0b000006") + b"certif"


def test_several_messages_in_one_record() -> None:
    assert HandshakeReassembler().feed(CERTIFICATE + SERVER_HELLO_DONE) == [(11, b"certif"), (14, b"")]


def test_message_split_across_records() -> None:
    reassembler = HandshakeReassembler()
    assert reassembler.feed(CERTIFICATE[:2]) == []
    assert reassembler.feed(CERTIFICATE[2:7]) == []
    assert reassembler.pending() == 7
    assert reassembler.feed(CERTIFICATE[7:] + SERVER_HELLO_DONE[:1]) == [(11, b"certif")]
    assert reassembler.feed(SERVER_HELLO_DONE[1:]) == [(14, b"")]


def test_message_over_the_cap_is_an_anomaly() -> None:
    reassembler = HandshakeReassembler()
    too_long = MAX_HANDSHAKE_MESSAGE + 1
    assert reassembler.feed(SERVER_HELLO_DONE + b"\x0b" + too_long.to_bytes(3, "big")) == [(14, b"")]
    assert reassembler.error == TlsAnomaly.HANDSHAKE_TOO_LONG
    assert reassembler.feed(SERVER_HELLO_DONE) == []


def test_reset_drops_a_partial_message() -> None:
    reassembler = HandshakeReassembler()
    reassembler.feed(CERTIFICATE[:6])
    reassembler.reset()
    assert reassembler.feed(SERVER_HELLO_DONE) == [(14, b"")]
