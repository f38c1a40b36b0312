"""A lenient DER reader for the fields Zeek logs when cryptography refuses a certificate or its extensions.

cryptography parses strictly: one DER violation that OpenSSL tolerates (a ``BasicConstraints`` that encodes its
DEFAULT ``cA FALSE``, a UTCTime without seconds, a PrintableString holding ``@``, four bytes after the
certificate …) makes ``load_der_x509_certificate`` or ``Certificate.extensions`` raise, and with it every field
is lost. Zeek, reading with OpenSSL, still logs them. This module walks the certificate (RFC 5280 §4.1) by tag
and length only: :func:`certificate_fields` finds the TLV of each ``tbsCertificate`` field, and the readers
below decode the ones x509.log shows (names, times, the public key, the SAN and basic-constraints extensions)
the way OpenSSL reads them. Anything it cannot make sense of raises :class:`DerError`; callers keep the strict
parser's error message either way.

Theory of operation: every reader is one forward pass over its bytes (a TLV header is read once, contents are
sliced, never searched), and the lists it returns are capped by the caller's ``limit`` (the certificate's
:attr:`~tlsmon.limits.Limits.max_certificate_names`), so a hostile certificate costs time linear in its size
and memory bounded by the cap. Lengths are definite (DER, and what OpenSSL's d2i accepts in certificates).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field

_SEQUENCE = 0x30
_SET = 0x31
_BIT_STRING = 0x03
_UTC_TIME = 0x17
_GENERALIZED_TIME = 0x18
_VERSION = 0xA0  # [0] EXPLICIT Version in TBSCertificate
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
    truncated: bool = False  # entries past the limit were left out


@dataclass(frozen=True, slots=True)
class RawAttribute:
    """One AttributeTypeAndValue of a Name: its type and its value as sent."""

    oid: str
    tag: int
    value: bytes  # the value's contents
    tlv: bytes  # the value's whole TLV (OpenSSL prints ``#hex`` of it for attribute types it cannot name)


@dataclass(slots=True)
class RawName:
    rdns: list[list[RawAttribute]] = field(default_factory=list)
    truncated: bool = False  # attributes past the limit were left out


@dataclass(slots=True)
class RawCertificate:
    """The TLV of each field :func:`certificate_fields` found, None where it is absent or not what RFC 5280
    puts there (bytes after the certificate's SEQUENCE are ignored, as OpenSSL's d2i_X509 ignores them)."""

    tbs: bytes
    version: bytes | None = None  # the INTEGER inside [0]
    serial: bytes | None = None
    issuer: bytes | None = None
    not_before: bytes | None = None
    not_after: bytes | None = None
    subject: bytes | None = None
    spki: bytes | None = None
    signature_algorithm: bytes | None = None  # the outer one, else the tbsCertificate's


@dataclass(frozen=True, slots=True)
class RawTime:
    """A validity time as OpenSSL's ``ASN1_TIME_to_tm`` reads it; ``der`` is False for a form DER forbids
    (no seconds, a UTC offset, fractional seconds)."""

    when: dt.datetime
    der: bool


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
    if body[-1] & 0x80:
        raise DerError("OID ends inside an arc")
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


def subject_alt_names(value: bytes, limit: int | None = None) -> RawSan:
    """The DNS, URI, e-mail and IP entries of a SubjectAltName value, as Zeek keeps them (an iPAddress of
    other than 4 or 16 octets is left out, as OpenSSL's printer shows it as ``<invalid>``); at most ``limit``
    entries in all."""
    tag, start, end = read_tlv(value, 0)
    if tag != _SEQUENCE:
        raise DerError("GeneralNames is not a SEQUENCE")
    san = RawSan([], [], [], [])
    kept = 0
    for ctag, cstart, cend in children(value, start, end):
        if limit is not None and kept >= limit:
            return RawSan(san.dns, san.uri, san.email, san.ip, truncated=True)
        kept += 1
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


# --- whole certificates ---------------------------------------------------------------------------------------


def certificate_fields(data: bytes) -> RawCertificate:
    """The fields of a DER certificate, found by tag and position; raises :class:`DerError` only when there is
    no ``tbsCertificate`` SEQUENCE at all. A field whose TLV is damaged ends the walk: the fields before it
    are kept."""
    tag, start, end = read_tlv(data, 0)
    if tag != _SEQUENCE:
        raise DerError("Certificate is not a SEQUENCE")
    tbs_tag, _, tbs_end = read_tlv(data, start)
    if tbs_tag != _SEQUENCE:
        raise DerError("tbsCertificate is not a SEQUENCE")
    raw = RawCertificate(tbs=data[start:tbs_end])
    try:
        algorithm_tag, _, algorithm_end = read_tlv(data, tbs_end)
        if algorithm_tag == _SEQUENCE and algorithm_end <= end:
            raw.signature_algorithm = data[tbs_end:algorithm_end]
    except DerError:
        pass
    fields: list[tuple[int, bytes]] = []
    tbs = raw.tbs
    _, fstart, fend = read_tlv(tbs, 0)
    try:
        for ftag, pos, cstart, cend in _tlvs(tbs, fstart, fend):
            fields.append((ftag, tbs[cstart:cend] if ftag == _VERSION else tbs[pos:cend]))
    except DerError:
        pass  # a damaged field: keep the ones before it
    if fields and fields[0][0] == _VERSION:
        raw.version = fields.pop(0)[1]
    expected = ((_INTEGER, "serial"), (_SEQUENCE, None), (_SEQUENCE, "issuer"), (_SEQUENCE, "validity"),
                (_SEQUENCE, "subject"), (_SEQUENCE, "spki"))
    for (want, name), (ftag, tlv) in zip(expected, fields, strict=False):
        if ftag != want:
            continue
        if name == "validity":
            times = elements(tlv, *read_tlv(tlv, 0)[1:])
            raw.not_before = times[0] if times else None
            raw.not_after = times[1] if len(times) > 1 else None
        elif name is None:
            if raw.signature_algorithm is None:
                raw.signature_algorithm = tlv
        else:
            setattr(raw, name, tlv)
    return raw


def _tlvs(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """The (tag, start of the TLV, start and end of its contents) of each element between ``start`` and
    ``end``."""
    pos = start
    while pos < end:
        tag, cstart, cend = read_tlv(data, pos)
        yield tag, pos, cstart, cend
        pos = cend


def integer(tlv: bytes) -> int:
    """The value of a DER INTEGER TLV (two's complement); an INTEGER without contents raises."""
    tag, start, end = read_tlv(tlv, 0)
    if tag != _INTEGER or start == end:
        raise DerError("not an INTEGER with contents")
    return int.from_bytes(tlv[start:end], "big", signed=True)


def object_identifier(tlv: bytes) -> str:
    """The dotted OID of the first element of an AlgorithmIdentifier (or any SEQUENCE starting with one)."""
    tag, start, end = read_tlv(tlv, 0)
    if tag != _SEQUENCE:
        raise DerError("not a SEQUENCE")
    otag, ostart, oend = read_tlv(tlv, start)
    if otag != _OID or oend > end:
        raise DerError("no OID")
    return decode_oid(tlv[ostart:oend])


def name(tlv: bytes, limit: int) -> RawName:
    """The RDNs of a Name (RFC 5280 §4.1.2.4), at most ``limit`` attributes in all."""
    tag, start, end = read_tlv(tlv, 0)
    if tag != _SEQUENCE:
        raise DerError("Name is not a SEQUENCE")
    out = RawName()
    kept = 0
    for rtag, rstart, rend in children(tlv, start, end):
        if rtag != _SET:
            raise DerError("RelativeDistinguishedName is not a SET")
        rdn: list[RawAttribute] = []
        for atag, astart, aend in children(tlv, rstart, rend):
            if kept >= limit:
                out.truncated = True
                break
            if atag != _SEQUENCE:
                raise DerError("AttributeTypeAndValue is not a SEQUENCE")
            otag, ostart, oend = read_tlv(tlv, astart)
            if otag != _OID or oend >= aend:
                raise DerError("malformed AttributeTypeAndValue")
            vtag, vstart, vend = read_tlv(tlv, oend)
            rdn.append(RawAttribute(decode_oid(tlv[ostart:oend]), vtag, tlv[vstart:vend], tlv[oend:vend]))
            kept += 1
        if rdn:
            out.rdns.append(rdn)
        if out.truncated:
            break
    return out


_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def validity_time(tlv: bytes) -> RawTime:
    """A UTCTime or GeneralizedTime as OpenSSL reads it outside its strict X.509 mode (``ASN1_TIME_to_tm``):
    minutes required, seconds optional, fractional seconds in GeneralizedTime, ``Z`` or a ``±hhmm`` offset
    (applied: ``+0130`` is 1 h 30 min ahead of UTC); every field in range (no month 13, no February 30, no
    leap second). UTCTime years 50-99 are 19xx, 00-49 20xx (RFC 5280 §4.1.2.5.1). Raises on anything else,
    and on years datetime cannot hold (0000)."""
    tag, start, end = read_tlv(tlv, 0)
    text = tlv[start:end]
    if tag == _UTC_TIME:
        year_digits = 2
    elif tag == _GENERALIZED_TIME:
        year_digits = 4
    else:
        raise DerError("not a UTCTime or GeneralizedTime")
    digits = text[: year_digits + 8]  # year, month, day, hour, minute
    if len(digits) < year_digits + 8 or not digits.isdigit():
        raise DerError("time too short")
    year = int(digits[:year_digits])
    if tag == _UTC_TIME:
        year += 2000 if year < 50 else 1900
    month, day, hour, minute = (int(digits[i : i + 2]) for i in range(year_digits, year_digits + 8, 2))
    pos = year_digits + 8
    second = 0
    if text[pos : pos + 2].isdigit() and len(text[pos : pos + 2]) == 2:
        second = int(text[pos : pos + 2])
        pos += 2
    seconds_given = pos == year_digits + 10
    fraction = False
    if tag == _GENERALIZED_TIME and text[pos : pos + 1] == b".":
        digits_end = pos + 1
        while digits_end < len(text) and text[digits_end : digits_end + 1].isdigit():
            digits_end += 1
        if digits_end == pos + 1:
            raise DerError("no digits after the decimal point")
        pos, fraction = digits_end, True
    offset = 0
    zone = text[pos : pos + 1]
    if zone == b"Z":
        pos += 1
    elif zone in (b"+", b"-"):
        hhmm = text[pos + 1 : pos + 5]
        if len(hhmm) != 4 or not hhmm.isdigit() or int(hhmm[:2]) > 12 or int(hhmm[2:]) > 59:
            raise DerError("bad UTC offset")
        offset = (int(hhmm[:2]) * 60 + int(hhmm[2:])) * (1 if zone == b"-" else -1)
        pos += 5
    else:
        raise DerError("no time zone")
    if pos != len(text):
        raise DerError("bytes after the time zone")
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not 1 <= month <= 12 or hour > 23 or minute > 59 or second > 59:
        raise DerError("field out of range")
    if not 1 <= day <= _DAYS[month - 1] + (1 if month == 2 and leap else 0):
        raise DerError("day out of range")
    if year < 1:
        raise DerError("year 0")
    when = dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
    try:
        when += dt.timedelta(minutes=offset)
    except OverflowError as exc:
        raise DerError("out of datetime's range") from exc
    return RawTime(when, seconds_given and not fraction and zone == b"Z")


@dataclass(frozen=True, slots=True)
class RawPublicKey:
    algorithm: str  # dotted OID
    parameters: bytes | None  # the AlgorithmIdentifier's parameters TLV
    key: bytes  # the BIT STRING's contents after the unused-bits octet


def public_key_info(tlv: bytes) -> RawPublicKey:
    """The algorithm, parameters and key bits of a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7)."""
    tag, start, end = read_tlv(tlv, 0)
    if tag != _SEQUENCE:
        raise DerError("SubjectPublicKeyInfo is not a SEQUENCE")
    parts = list(children(tlv, start, end))
    if len(parts) != 2 or parts[0][0] != _SEQUENCE or parts[1][0] != _BIT_STRING or parts[1][1] == parts[1][2]:
        raise DerError("malformed SubjectPublicKeyInfo")
    _, astart, aend = parts[0]
    algorithm = list(_tlvs(tlv, astart, aend))
    if not algorithm or algorithm[0][0] != _OID:
        raise DerError("malformed AlgorithmIdentifier")
    oid = decode_oid(tlv[algorithm[0][2] : algorithm[0][3]])
    parameters = tlv[algorithm[1][1] : algorithm[1][3]] if len(algorithm) > 1 else None
    _, kstart, kend = parts[1]
    return RawPublicKey(oid, parameters, tlv[kstart + 1 : kend])


def integers(tlv: bytes) -> list[int]:
    """The INTEGERs of a SEQUENCE of INTEGERs (RSAPublicKey, Dss-Parms), as unsigned values."""
    tag, start, end = read_tlv(tlv, 0)
    if tag != _SEQUENCE:
        raise DerError("not a SEQUENCE")
    out = []
    for itag, istart, iend in children(tlv, start, end):
        if itag != _INTEGER or istart == iend:
            raise DerError("not an INTEGER")
        out.append(int.from_bytes(tlv[istart:iend], "big"))
    return out
