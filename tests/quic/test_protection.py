"""Initial keys and packet protection against RFC 9001 Appendix A (v1) and RFC 9369 Appendix A (v2)."""

from __future__ import annotations

import pytest

from tests.quic.rfc_vectors import (
    CLIENT_PAYLOAD,
    DCID,
    SERVER_PAYLOAD,
    V1_CLIENT_INITIAL,
    V1_SERVER_INITIAL,
    V2_CLIENT_INITIAL,
    V2_SERVER_INITIAL,
)
from tlsmon.quic.packet import QUIC_V1, QUIC_V2, split_datagram
from tlsmon.quic.protection import decode_packet_number, hkdf_expand_label, hkdf_extract, initial_keys


def test_v1_initial_secret_and_client_and_server_secrets() -> None:
    initial = hkdf_extract(bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a"), DCID)
    assert initial.hex() == "7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44"
    assert hkdf_expand_label(initial, b"client in", 32).hex() == (
        "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea"
    )
    assert hkdf_expand_label(initial, b"server in", 32).hex() == (
        "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b"
    )


def test_v1_client_keys() -> None:
    keys = initial_keys(QUIC_V1, DCID)
    assert keys is not None
    client = keys[0]
    assert (client.key.hex(), client.iv.hex(), client.hp.hex()) == (
        "1f369613dd76d5467730efcbe3b1a22d",
        "fa044b2f42a3fd3b46fb255c",
        "9f50449e04a0e810283a1e9933adedd2",
    )


def test_v1_server_keys() -> None:
    keys = initial_keys(QUIC_V1, DCID)
    assert keys is not None
    server = keys[1]
    assert (server.key.hex(), server.iv.hex(), server.hp.hex()) == (
        "cf3a5331653c364c88f0f379b6067e37",
        "0ac1493ca1905853b0bba03e",
        "c206b8d9b9f0f37644430b490eeaa314",
    )


def test_v2_client_and_server_keys() -> None:
    keys = initial_keys(QUIC_V2, DCID)
    assert keys is not None
    client, server = keys
    assert (client.key.hex(), client.iv.hex(), client.hp.hex()) == (
        "8b1a0bc121284290a29e0971b5cd045d",
        "91f73e2351d8fa91660e909f",
        "45b95e15235d6f45a6b19cbcb0294ba9",
    )
    assert (server.key.hex(), server.iv.hex(), server.hp.hex()) == (
        "82db637861d55e1d011f19ea71d5d2a7",
        "dd13c276499c0249d3310652",
        "edf6d05c83121201b436e16877593c3a",
    )


def test_unknown_version_has_no_keys() -> None:
    assert initial_keys(0x0A0A0A0A, DCID) is None


@pytest.mark.parametrize(
    ("version", "sample", "mask"),
    [
        (QUIC_V1, "d1b1c98dd7689fb8ec11d242b123dc9b", "437b9aec36"),
        (QUIC_V2, "ffe67b6abcdb4298b485dd04de806071", "94a0c95e80"),
    ],
)
def test_header_protection_mask_of_the_client_sample(version: int, sample: str, mask: str) -> None:
    keys = initial_keys(version, DCID)
    assert keys is not None
    assert keys[0].mask(bytes.fromhex(sample)).hex() == mask


@pytest.mark.parametrize(
    ("version", "datagram", "is_client", "pn", "payload"),
    [
        (QUIC_V1, V1_CLIENT_INITIAL, True, 2, CLIENT_PAYLOAD),
        (QUIC_V1, V1_SERVER_INITIAL, False, 1, SERVER_PAYLOAD),
        (QUIC_V2, V2_CLIENT_INITIAL, True, 2, CLIENT_PAYLOAD),
        (QUIC_V2, V2_SERVER_INITIAL, False, 1, SERVER_PAYLOAD),
    ],
    ids=["v1-client", "v1-server", "v2-client", "v2-server"],
)
def test_unprotect_gives_the_rfc_packet_number_and_plaintext(
    version: int, datagram: bytes, is_client: bool, pn: int, payload: bytes
) -> None:
    packets, anomaly = split_datagram(datagram)
    assert anomaly is None and len(packets) == 1
    keys = initial_keys(version, DCID)
    assert keys is not None
    packet = packets[0]
    assert keys[0 if is_client else 1].unprotect(datagram, 0, packet.pn_offset, packet.end, -1) == (pn, payload)


def test_a_flipped_ciphertext_byte_fails_the_aead_tag() -> None:
    damaged = bytearray(V1_CLIENT_INITIAL)
    damaged[600] ^= 1
    packets, _ = split_datagram(bytes(damaged))
    keys = initial_keys(QUIC_V1, DCID)
    assert keys is not None
    with pytest.raises(ValueError, match="AEAD"):
        keys[0].unprotect(bytes(damaged), 0, packets[0].pn_offset, packets[0].end, -1)


def test_server_keys_do_not_open_a_client_packet() -> None:
    packets, _ = split_datagram(V1_CLIENT_INITIAL)
    keys = initial_keys(QUIC_V1, DCID)
    assert keys is not None
    with pytest.raises(ValueError):
        keys[1].unprotect(V1_CLIENT_INITIAL, 0, packets[0].pn_offset, packets[0].end, -1)


def test_packet_number_decoding_example_of_rfc_9000_appendix_a3() -> None:
    assert decode_packet_number(0xA82F30EA, 0x9B32, 16) == 0xA82F9B32


def test_packet_number_decoding_wraps_forward_and_back() -> None:
    assert decode_packet_number(0xFF, 0x01, 8) == 0x101
    assert decode_packet_number(0x100, 0xFF, 8) == 0xFF
    assert decode_packet_number(-1, 0, 8) == 0
