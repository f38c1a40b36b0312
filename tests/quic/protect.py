"""Test helper: protect an Initial packet (RFC 9001 §5.3-5.4), the inverse of tlsmon.quic.protection, so that
tests can put chosen frames inside a packet that decrypts. Checked against RFC 9001 A.2 in test_fuzz.py."""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tlsmon.quic.packet import QUIC_V1
from tlsmon.quic.protection import initial_keys


def _varint2(value: int) -> bytes:
    return (0x4000 | value).to_bytes(2, "big")


def client_initial(payload: bytes, dcid: bytes, pn: int = 0, version: int = QUIC_V1) -> bytes:
    """A client Initial carrying ``payload`` (frames) with a 4-byte packet number, protected for ``dcid``."""
    keys = initial_keys(version, dcid)
    assert keys is not None
    client = keys[0]
    first = 0xC3 if version == QUIC_V1 else 0xD3
    header = (
        bytes([first])
        + version.to_bytes(4, "big")
        + bytes([len(dcid)])
        + dcid
        + b"\x00"  # SCID length
        + b"\x00"  # token length
        + _varint2(4 + len(payload) + 16)
        + pn.to_bytes(4, "big")
    )
    nonce = (int.from_bytes(client.iv, "big") ^ pn).to_bytes(12, "big")
    ciphertext = AESGCM(client.key).encrypt(nonce, payload, header)
    pn_offset = len(header) - 4
    mask = client.mask(ciphertext[0:16])
    protected = bytearray(header)
    protected[0] ^= mask[0] & 0x0F
    for i in range(4):
        protected[pn_offset + i] ^= mask[1 + i]
    return bytes(protected) + ciphertext
