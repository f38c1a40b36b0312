"""A lenient DER reader for the few fields Zeek logs when cryptography refuses a certificate's extensions.

cryptography parses extensions strictly: one DER violation that OpenSSL tolerates (a ``BasicConstraints`` that
encodes its DEFAULT ``cA FALSE``, say) makes ``Certificate.extensions`` raise, and with it every extension is
lost. Zeek, reading with OpenSSL, still logs the SANs and basic constraints of such certificates. This module
walks ``tbsCertificate`` (RFC 5280 §4.1) by tag and length only, finds the extensions, and decodes the two that
x509.log shows. Anything it cannot make sense of raises :class:`DerError`; callers keep the strict parser's
error message either way.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass

_SEQUENCE = 0x30
_BOOLEAN = 0x01
_INTEGER = 0x02
_OID = 0x06
_OCTET_STRING = 0x04
_EXTENSIONS = 0xA3  # [3] EXPLICIT Extensions in TBSCertificate

OID_BASIC_CONSTRAINTS = "2.5.29.19"
OID_SUBJECT_ALT_NAME = "2.5.29.17"

# GeneralName CHOICE tags (RFC 5280 §4.2.1.6), context-specific and primitive.
_GN_EMAIL = 0x81
_GN_DNS = 0x82
_GN_URI = 0x86
_GN_IP = 0x87


class DerError(ValueError):
    """The bytes are not the DER structure expected here."""


@dataclass(frozen=True, slots=True)
class RawExtension:
    oid: str
    critical: bool
    value: bytes


@dataclass(frozen=True, slots=True)
class RawSan:
    dns: list[str]
    uri: list[str]
    email: list[str]
    ip: list[str]


def read_tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """The tag at ``pos``, and the start and end of its contents."""
    if pos + 2 > len(data):
        raise DerError("truncated header")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4 or pos + n > len(data):
            raise DerError("bad length")
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    end = pos + length
    if end > len(data):
        raise DerError("contents run past the end")
    return tag, pos, end


def children(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """The (tag, start, end) of each element between ``start`` and ``end``."""
    pos = start
    while pos < end:
        tag, cstart, cend = read_tlv(data, pos)
        yield tag, cstart, cend
        pos = cend


def decode_oid(body: bytes) -> str:
    if not body:
        raise DerError("empty OID")
    arcs: list[int] = []
    value = 0
    for byte in body:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


def raw_extensions(tbs: bytes) -> list[RawExtension]:
    """The extensions of a DER ``TBSCertificate``, undecoded."""
    tag, start, end = read_tlv(tbs, 0)
    if tag != _SEQUENCE:
        raise DerError("TBSCertificate is not a SEQUENCE")
    for tag, cstart, _ in children(tbs, start, end):
        if tag != _EXTENSIONS:
            continue
        seq_tag, sstart, send = read_tlv(tbs, cstart)
        if seq_tag != _SEQUENCE:
            raise DerError("Extensions is not a SEQUENCE")
        return [_raw_extension(tbs, estart, eend) for _, estart, eend in children(tbs, sstart, send)]
    return []


def _raw_extension(data: bytes, start: int, end: int) -> RawExtension:
    parts = list(children(data, start, end))
    if len(parts) not in (2, 3) or parts[0][0] != _OID or parts[-1][0] != _OCTET_STRING:
        raise DerError("malformed Extension")
    critical = len(parts) == 3 and parts[1][0] == _BOOLEAN and data[parts[1][1] : parts[1][2]] != b"\x00"
    _, vstart, vend = parts[-1]
    return RawExtension(decode_oid(data[parts[0][1] : parts[0][2]]), critical, data[vstart:vend])


def basic_constraints(value: bytes) -> tuple[bool, int | None]:
    """(cA, pathLenConstraint) of a BasicConstraints value, accepting an explicitly encoded DEFAULT."""
    tag, start, end = read_tlv(value, 0)
    if tag != _SEQUENCE:
        raise DerError("BasicConstraints is not a SEQUENCE")
    ca = False
    path_len: int | None = None
    for ctag, cstart, cend in children(value, start, end):
        if ctag == _BOOLEAN:
            ca = value[cstart:cend] != b"\x00"
        elif ctag == _INTEGER:
            path_len = int.from_bytes(value[cstart:cend], "big", signed=True)
    return ca, path_len


def subject_alt_names(value: bytes) -> RawSan:
    """The DNS, URI, e-mail and IP entries of a SubjectAltName value, as Zeek keeps them."""
    tag, start, end = read_tlv(value, 0)
    if tag != _SEQUENCE:
        raise DerError("GeneralNames is not a SEQUENCE")
    san = RawSan([], [], [], [])
    for ctag, cstart, cend in children(value, start, end):
        body = value[cstart:cend]
        if ctag == _GN_DNS:
            san.dns.append(body.decode("latin-1"))
        elif ctag == _GN_URI:
            san.uri.append(body.decode("latin-1"))
        elif ctag == _GN_EMAIL:
            san.email.append(body.decode("latin-1"))
        elif ctag == _GN_IP and len(body) in (4, 16):
            san.ip.append(str(ipaddress.ip_address(body)))
    return san


def spki(tbs: bytes) -> bytes:
    """The DER ``SubjectPublicKeyInfo`` of a ``TBSCertificate``, byte for byte as the certificate holds it."""
    tag, start, end = read_tlv(tbs, 0)
    if tag != _SEQUENCE:
        raise DerError("TBSCertificate is not a SEQUENCE")
    pos = start
    index = 0
    while pos < end:
        tag, _, next_pos = read_tlv(tbs, pos)
        if index == 0 and tag == 0xA0:  # [0] EXPLICIT version: not counted
            pos = next_pos
            continue
        if index == 5:  # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
            if tag != _SEQUENCE:
                raise DerError("SubjectPublicKeyInfo is not a SEQUENCE")
            return tbs[pos:next_pos]
        index += 1
        pos = next_pos
    raise DerError("no SubjectPublicKeyInfo")


def encode_tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    size = (n.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + n.to_bytes(size, "big") + body


def elements(data: bytes, start: int, end: int) -> list[bytes]:
    """The whole TLVs between ``start`` and ``end``."""
    out: list[bytes] = []
    pos = start
    while pos < end:
        _, _, cend = read_tlv(data, pos)
        out.append(data[pos:cend])
        pos = cend
    return out


_DEFAULT_V1 = b"\xa0\x03\x02\x01\x00"  # [0] EXPLICIT INTEGER 0: a version DEFAULT v1 that DER must omit


def ocsp_without_default_version(response: bytes) -> bytes | None:
    """An ``OCSPResponse`` whose ``ResponseData`` spells out its DEFAULT v1 version, re-encoded without it.

    OpenSSL (and so Zeek) reads such responses; cryptography refuses them (RFC 6960 §4.2.1 ``version [0]
    EXPLICIT Version DEFAULT v1``; X.690 §11.5 forbids encoding a default). None when there is nothing to drop.
    """
    tag, start, end = read_tlv(response, 0)
    status, rbytes_explicit = elements(response, start, end)
    _, es, ee = read_tlv(rbytes_explicit, 0)
    (rbytes,) = elements(rbytes_explicit, es, ee)
    _, rs, re_ = read_tlv(rbytes, 0)
    oid, octets = elements(rbytes, rs, re_)
    _, os_, oe = read_tlv(octets, 0)
    basic = octets[os_:oe]
    _, bs, be = read_tlv(basic, 0)
    response_data, *rest = elements(basic, bs, be)
    _, ds, de = read_tlv(response_data, 0)
    fields = elements(response_data, ds, de)
    if not fields or fields[0] != _DEFAULT_V1:
        return None
    new_data = encode_tlv(_SEQUENCE, b"".join(fields[1:]))
    new_basic = encode_tlv(_SEQUENCE, new_data + b"".join(rest))
    new_rbytes = encode_tlv(_SEQUENCE, oid + encode_tlv(_OCTET_STRING, new_basic))
    return encode_tlv(tag, status + encode_tlv(rbytes_explicit[0], new_rbytes))
