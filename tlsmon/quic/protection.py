"""Initial packet protection (RFC 9001 §5, RFC 9369 §3.3): keys from the client's first DCID, then unprotect.

Theory of operation: an Initial packet is protected with keys anyone can derive: ``initial_secret =
HKDF-Extract(salt, client_dcid)`` with the version's salt, then ``client in`` / ``server in`` secrets and from
each the AEAD key (16 bytes), IV (12) and header-protection key (16) with HKDF-Expand-Label (RFC 8446 §7.1; v2
renames the labels ``quicv2 key`` / ``quicv2 iv`` / ``quicv2 hp``). Both directions' keys come from the DCID of
the client's first Initial (after a Retry: of its first Initial after the Retry). Removing protection takes
16 bytes of ciphertext 4 bytes after the packet number's start as a sample, AES-ECB-encrypts it with the hp key
into a mask, unmasks the first byte's low 4 bits (which give the packet number length) and the packet number,
then AES-128-GCM-decrypts the payload with the IV XOR the packet number as nonce and the unprotected header as
associated data (RFC 9001 §5.3, §5.4). A tag that does not verify means wrong keys or damaged bytes: the
caller names it. All primitives are ``cryptography``'s (OpenSSL): HMAC-SHA256 for HKDF, AES-ECB, AES-GCM.

:class:`InitialKeys` holds one direction's prepared cipher objects, so a packet costs one ECB block and one
GCM decryption; :func:`initial_keys` memoises the last few DCIDs (a flow derives once, or twice with a Retry).
"""

from __future__ import annotations

import functools
import hmac
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tlsmon.quic.packet import QUIC_DRAFTS, QUIC_V1, QUIC_V2

#: RFC 9001 §5.2, RFC 9369 §3.3.1, draft-ietf-quic-tls-29 §5.2
INITIAL_SALTS: dict[int, bytes] = {
    QUIC_V1: bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a"),
    QUIC_V2: bytes.fromhex("0dede3def700a6db819381be6e269dcbf9bd2ed9"),
    **{draft: bytes.fromhex("afbfec289993d24c9e9786f19c6111e04390a899") for draft in QUIC_DRAFTS},
}
_LABELS = {QUIC_V2: (b"quicv2 key", b"quicv2 iv", b"quicv2 hp")}
_V1_LABELS = (b"quic key", b"quic iv", b"quic hp")
_SAMPLE = 16
_TAG = 16


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.digest(salt, ikm, "sha256")


def hkdf_expand_label(secret: bytes, label: bytes, length: int) -> bytes:
    """HKDF-Expand-Label (RFC 8446 §7.1) with SHA-256 and an empty context."""
    full = b"tls13 " + label
    info = struct.pack(">HB", length, len(full)) + full + b"\x00"
    out = b""
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac.digest(secret, block + info + bytes([counter]), "sha256")  # one-shot: OpenSSL, no object
        out += block
        counter += 1
    return out[:length]


class InitialKeys:
    """One direction's Initial keys, with their cipher objects ready."""

    __slots__ = ("_aead", "_hp", "hp", "iv", "key", "secret")

    def __init__(self, secret: bytes, version: int) -> None:
        key_label, iv_label, hp_label = _LABELS.get(version, _V1_LABELS)
        self.secret = secret
        self.key = hkdf_expand_label(secret, key_label, 16)
        self.iv = hkdf_expand_label(secret, iv_label, 12)
        self.hp = hkdf_expand_label(secret, hp_label, 16)
        self._aead = AESGCM(self.key)
        self._hp = Cipher(algorithms.AES(self.hp), modes.ECB()).encryptor()

    def mask(self, sample: bytes) -> bytes:
        """The 5-byte header-protection mask of a 16-byte sample (RFC 9001 §5.4.3)."""
        return self._hp.update(sample)[:5]

    def unprotect(self, datagram: bytes, start: int, pn_offset: int, end: int, largest_pn: int) -> tuple[int, bytes]:
        """(packet number, plaintext payload) of the long-header packet ``datagram[start:end]``.

        ``largest_pn`` is the largest packet number seen so far in this direction (-1 for none), used to expand
        the truncated packet number (RFC 9000 §A.3). Raises ValueError if the packet is too short or the AEAD
        tag does not verify.
        """
        if pn_offset + 4 + _SAMPLE > end:
            raise ValueError("packet too short to sample")
        mask = self.mask(datagram[pn_offset + 4 : pn_offset + 4 + _SAMPLE])
        first = datagram[start] ^ (mask[0] & 0x0F)
        pn_length = (first & 0x03) + 1
        pn_end = pn_offset + pn_length
        truncated = 0
        for i in range(pn_length):
            truncated = (truncated << 8) | (datagram[pn_offset + i] ^ mask[1 + i])
        header = bytearray(datagram[start:pn_end])
        header[0] = first
        header[pn_offset - start :] = truncated.to_bytes(pn_length, "big")
        pn = decode_packet_number(largest_pn, truncated, pn_length * 8)
        nonce = (int.from_bytes(self.iv, "big") ^ pn).to_bytes(12, "big")
        if end - pn_end < _TAG:
            raise ValueError("payload shorter than the AEAD tag")
        try:
            plaintext = self._aead.decrypt(nonce, datagram[pn_end:end], bytes(header))
        except InvalidTag as exc:
            raise ValueError("AEAD tag does not verify") from exc
        return pn, plaintext


def decode_packet_number(largest_pn: int, truncated_pn: int, pn_nbits: int) -> int:
    """RFC 9000 §A.3: the full packet number closest to largest_pn + 1 with these low bits."""
    expected = largest_pn + 1
    window = 1 << pn_nbits
    half = window // 2
    mask = window - 1
    candidate = (expected & ~mask) | truncated_pn
    if candidate <= expected - half and candidate < (1 << 62) - window:
        return candidate + window
    if candidate > expected + half and candidate >= window:
        return candidate - window
    return candidate


@functools.lru_cache(maxsize=64)
def initial_keys(version: int, client_dcid: bytes) -> tuple[InitialKeys, InitialKeys] | None:
    """(client keys, server keys) of a connection whose client's first Initial had ``client_dcid``; None for a
    version without a known salt."""
    salt = INITIAL_SALTS.get(version)
    if salt is None:
        return None
    initial_secret = hkdf_extract(salt, client_dcid)
    client = InitialKeys(hkdf_expand_label(initial_secret, b"client in", 32), version)
    server = InitialKeys(hkdf_expand_label(initial_secret, b"server in", 32), version)
    return client, server
