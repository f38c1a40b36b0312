"""Certificates and chains made with cryptography for the validation tests: a test root, intermediates, leaves.

Keys are EC P-256 unless a test needs another (generation is fast); each key is made once per session.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tlsmon.x509.certs import parse_certificate
from tlsmon.x509.der import elements, encode_tlv, read_tlv
from tlsmon.x509.validate import ChainInput

UTC = dt.UTC
T0 = dt.datetime(2020, 6, 1, tzinfo=UTC)  # validity periods below are relative to this
DAY = dt.timedelta(days=1)

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@functools.cache
def ec_key(label: str) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@functools.cache
def rsa_key(label: str, bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def name(cn: str, *extra: x509.NameAttribute[str]) -> x509.Name:
    return x509.Name([*extra, x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_cert(
    subject: x509.Name,
    issuer: x509.Name,
    key: PrivateKey,
    issuer_key: PrivateKey,
    *,
    ca: bool,
    not_before: dt.datetime = T0 - 365 * DAY,
    not_after: dt.datetime = T0 + 365 * DAY,
    dns: Sequence[str] = (),
    serial: int = 0x1234,
    digest: hashes.HashAlgorithm | None = None,
    eku: Sequence[x509.ObjectIdentifier] = (ExtendedKeyUsageOID.SERVER_AUTH,),
) -> x509.Certificate:
    """A certificate with the extensions the Web PKI profile wants (BasicConstraints, KeyUsage, SKI, AKI)."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    )
    if dns:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False
        )
    if not ca and eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    return builder.sign(issuer_key, digest if digest is not None else hashes.SHA256())


ROOT_NAME = name("tlsmon Test Root", x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tlsmon tests"))
INTERMEDIATE_NAME = name("tlsmon Test Intermediate")


@functools.cache
def root() -> x509.Certificate:
    key = ec_key("root")
    return make_cert(ROOT_NAME, ROOT_NAME, key, key, ca=True, not_before=T0 - 3650 * DAY,
                     not_after=T0 + 7300 * DAY, serial=1)


@functools.cache
def intermediate() -> x509.Certificate:
    return make_cert(INTERMEDIATE_NAME, ROOT_NAME, ec_key("intermediate"), ec_key("root"), ca=True,
                     not_before=T0 - 1000 * DAY, not_after=T0 + 7000 * DAY, serial=2)


def leaf(
    dns: Sequence[str] = ("www.example.com",),
    *,
    key: PrivateKey | None = None,
    not_before: dt.datetime = T0 - 30 * DAY,
    not_after: dt.datetime = T0 + 60 * DAY,
    digest: hashes.HashAlgorithm | None = None,
    eku: Sequence[x509.ObjectIdentifier] = (ExtendedKeyUsageOID.SERVER_AUTH,),
) -> x509.Certificate:
    """An end-entity certificate issued by :func:`intermediate`."""
    return make_cert(name(dns[0] if dns else "no-san"), INTERMEDIATE_NAME, key or ec_key("leaf"),
                     ec_key("intermediate"), ca=False, not_before=not_before, not_after=not_after, dns=dns,
                     serial=0x0ABCDEF0, digest=digest, eku=eku)


_ECDSA_WITH_SHA1 = bytes.fromhex("300906072a8648ce3d0401")  # AlgorithmIdentifier, no parameters


def resigned_with_sha1(cert: x509.Certificate, issuer_key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    """The same certificate signed with ECDSA-SHA1 (cryptography's builder refuses SHA-1 since 45)."""
    tbs = cert.tbs_certificate_bytes
    _, start, end = read_tlv(tbs, 0)
    fields = elements(tbs, start, end)
    fields[2] = _ECDSA_WITH_SHA1  # after [0] version and serialNumber
    new_tbs = encode_tlv(0x30, b"".join(fields))
    signature = issuer_key.sign(new_tbs, ec.ECDSA(hashes.SHA1()))
    bit_string = encode_tlv(0x03, b"\x00" + signature)
    return x509.load_der_x509_certificate(encode_tlv(0x30, new_tbs + _ECDSA_WITH_SHA1 + bit_string))


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def chain_input(certs: Sequence[x509.Certificate | bytes]) -> ChainInput:
    """What :class:`~tlsmon.x509.chains.ConnectionCertificates` hands the validator for these certificates."""
    ders = [c if isinstance(c, bytes) else der(c) for c in certs]
    parsed = [parse_certificate(d) for d in ders]
    leaf_fields = parsed[0][0]
    return ChainInput(
        fingerprints=tuple(hashlib.sha256(d).hexdigest() for d in ders),
        certs=tuple(c for _, c in parsed),
        san_dns=tuple(leaf_fields.san_dns),
        san_ip=tuple(leaf_fields.san_ip),
        self_signed_leaf=bool(leaf_fields.self_signed),
    )


def ns(when: dt.datetime) -> int:
    return int(when.timestamp()) * 1_000_000_000
