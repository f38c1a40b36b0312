"""Frames of a decrypted Initial (RFC 9000 §19, §12.4)."""

from __future__ import annotations

from tests.quic.rfc_vectors import CLIENT_CRYPTO_FRAME, CLIENT_PAYLOAD, SERVER_PAYLOAD
from tlsmon.quic.anomalies import QuicAnomaly
from tlsmon.quic.frames import initial_frames


def test_rfc_client_payload_is_one_crypto_frame_then_padding() -> None:
    frames = initial_frames(CLIENT_PAYLOAD)
    assert [(offset, len(data)) for offset, data in frames.crypto] == [(0, 241)]
    assert frames.crypto[0][1] == CLIENT_CRYPTO_FRAME[4:]
    assert (frames.anomaly, frames.ack_eliciting, frames.close_error_code) == (None, True, None)


def test_rfc_server_payload_is_an_ack_then_a_crypto_frame() -> None:
    frames = initial_frames(SERVER_PAYLOAD)
    assert [(offset, len(data)) for offset, data in frames.crypto] == [(0, 90)]
    assert frames.crypto[0][1][:4].hex() == "02000056"
    assert frames.anomaly is None


def test_ping_and_ack_with_ecn_counts() -> None:
    frames = initial_frames(bytes.fromhex("0103050001000101070809"))
    assert (frames.crypto, frames.anomaly, frames.ack_eliciting) == ([], None, True)


def test_connection_close_keeps_the_error_code_and_drops_the_reason() -> None:
    # CRYPTO_ERROR 0x0128 (TLS alert 40 handshake_failure), frame type 6, reason "no"
    frames = initial_frames(bytes.fromhex("1c41280602") + b"no")
    assert (frames.close_error_code, frames.anomaly) == (0x0128, None)


def test_a_stream_frame_is_not_allowed_in_an_initial() -> None:
    frames = initial_frames(bytes.fromhex("060004010203040800"))
    assert [(o, d.hex()) for o, d in frames.crypto] == [(0, "01020304")]
    assert frames.anomaly == QuicAnomaly.UNEXPECTED_FRAME


def test_a_crypto_frame_longer_than_the_payload_is_malformed() -> None:
    frames = initial_frames(bytes.fromhex("060041000102"))
    assert (frames.crypto, frames.anomaly) == ([], QuicAnomaly.MALFORMED_FRAME)


def test_an_ack_range_count_beyond_the_payload_is_malformed_without_a_long_walk() -> None:
    frames = initial_frames(bytes.fromhex("020500bfffffffffffffff00"))
    assert frames.anomaly == QuicAnomaly.MALFORMED_FRAME
