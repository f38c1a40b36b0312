"""parse_certificate: Zeek's x509.log fields with Zeek's spellings, the study's flags, and bad DER."""

from __future__ import annotations

import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from tests.x509.builders import (
    DAY,
    T0,
    der,
    ec_key,
    intermediate,
    leaf,
    make_cert,
    name,
    resigned_with_sha1,
    root,
    rsa_key,
)
from tlsmon.x509.certs import format_serial, parse_certificate
from tlsmon.x509.names import escape_value, format_name
from tlsmon.x509.parsed import PARSED_COLUMNS, ParsedCertificate


def parsed(cert: x509.Certificate) -> ParsedCertificate:
    fields, obj = parse_certificate(der(cert))
    assert obj is not None
    return fields


def test_columns_are_the_dataclass_fields_in_order() -> None:
    names = [n for n in ParsedCertificate.__dataclass_fields__ if n != "common_names"]
    assert PARSED_COLUMNS.names() == names


def test_zeek_fields_of_an_ec_leaf() -> None:
    p = parsed(leaf(["www.example.com", "*.example.com"]))
    assert (
        p.certificate_version,
        p.certificate_serial,
        p.certificate_subject,
        p.certificate_issuer,
        p.certificate_key_alg,
        p.certificate_sig_alg,
        p.certificate_key_type,
        p.certificate_key_length,
        p.certificate_exponent,
        p.certificate_curve,
        p.san_dns,
        p.basic_constraints_ca,
        p.basic_constraints_path_len,
    ) == (
        3,
        "0ABCDEF0",
        "CN=www.example.com",
        "CN=tlsmon Test Intermediate",
        "id-ecPublicKey",
        "ecdsa-with-SHA256",
        "ecdsa",
        256,
        None,
        "prime256v1",
        ["www.example.com", "*.example.com"],
        False,
        None,
    )


def test_validity_is_utc_microseconds() -> None:
    p = parsed(leaf(not_before=T0, not_after=T0 + DAY))
    assert (p.certificate_not_valid_before, p.certificate_not_valid_after) == (
        1_590_969_600_000_000,
        1_591_056_000_000_000,
    )


def test_rsa_fields_and_weak_key() -> None:
    p = parsed(leaf(key=rsa_key("weak", 1024)))
    assert (p.certificate_key_alg, p.certificate_key_type, p.certificate_key_length, p.certificate_exponent,
            p.weak_key) == ("rsaEncryption", "rsa", 1024, "65537", True)


def test_ec_p256_key_is_not_weak() -> None:
    assert parsed(leaf()).weak_key is False


def test_sha1_signature_is_weak() -> None:
    p = parsed(resigned_with_sha1(leaf(), ec_key("intermediate")))
    assert (p.certificate_sig_alg, p.weak_sig) == ("ecdsa-with-SHA1", True)


def test_sha256_signature_is_not_weak() -> None:
    assert parsed(leaf()).weak_sig is False


def test_study_extension_fields() -> None:
    p = parsed(leaf())
    assert (p.key_usage, p.extended_key_usage, p.sct_count, p.ocsp_urls, p.policy_oids) == (
        ["digitalSignature"], ["serverAuth"], 0, [], [])


def test_ca_fields() -> None:
    p = parsed(intermediate())
    assert (p.basic_constraints_ca, p.key_usage, p.self_issued, p.self_signed) == (
        True, ["keyCertSign", "cRLSign"], False, False)


def test_root_is_self_issued_and_self_signed() -> None:
    p = parsed(root())
    assert (p.self_issued, p.self_signed, p.certificate_subject) == (
        True, True, "CN=tlsmon Test Root,O=tlsmon tests")


def test_self_issued_but_signed_by_another_key_is_not_self_signed() -> None:
    cert = make_cert(name("x"), name("x"), ec_key("a"), ec_key("b"), ca=False)
    p = parsed(cert)
    assert (p.self_issued, p.self_signed) == (True, False)


def test_spki_sha256_is_the_hash_of_the_encoded_public_key() -> None:
    cert = leaf()
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert parsed(cert).spki_sha256 == hashlib.sha256(spki).hexdigest()


def test_same_key_gives_the_same_spki_hash_across_certificates() -> None:
    a, b = leaf(["a.example.com"]), leaf(["b.example.com"])
    assert parsed(a).spki_sha256 == parsed(b).spki_sha256


def test_tor_style_pair_is_tor_like() -> None:
    cert = make_cert(name("www.abcdefgh234.net"), name("www.zyxwvu7654.com"), ec_key("tor"), ec_key("tor-id"),
                     ca=False)
    assert parsed(cert).tor_like is True


@pytest.mark.parametrize(
    ("subject", "issuer"),
    [
        (name("www.abcdefgh234.com"), name("www.zyxwvu7654.com")),  # subject must be .net
        (name("www.abcdefgh234.net"), name("www.zyxwvu7654.net")),  # issuer must be .com
        (name("www.abc.net"), name("www.zyxwvu7654.com")),  # fewer than 8 base32 characters
        (name("www.abcdefgh189.net"), name("www.zyxwvu7654.com")),  # 1, 8, 9 are not base32
        (name("www.abcdefgh234.net", x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tor")),
         name("www.zyxwvu7654.com")),  # another attribute
    ],
)
def test_not_tor_like(subject: x509.Name, issuer: x509.Name) -> None:
    assert parsed(make_cert(subject, issuer, ec_key("tor"), ec_key("tor-id"), ca=False)).tor_like is False


def test_unparseable_der_keeps_only_the_error() -> None:
    fields, obj = parse_certificate(b"\x30\x03\x02\x01\x01")
    assert obj is None
    assert fields.parse_error is not None and fields.parse_error.startswith("error parsing asn1 value")
    assert (fields.certificate_subject, fields.san_dns) == (None, [])


@pytest.mark.parametrize(
    ("serial", "text"),
    [(1, "01"), (0, "00"), (0xABC, "0ABC"), (0x99FAA8037A4EB2FAEF84EB5E55D5B8C8, "99FAA8037A4EB2FAEF84EB5E55D5B8C8"),
     (-0x0102, "-0102")],
)
def test_serial_is_openssl_i2a_asn1_integer(serial: int, text: str) -> None:
    assert format_serial(serial) == text


def test_name_is_reversed_with_openssl_short_names() -> None:
    n = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.STREET_ADDRESS, "4140 Dublin Boulevard"),
        x509.NameAttribute(NameOID.POSTAL_CODE, "94568"),
        x509.NameAttribute(NameOID.EMAIL_ADDRESS, "a@b.example"),
        x509.NameAttribute(NameOID.COMMON_NAME, "*.taleo.net"),
    ])
    assert format_name(n) == (
        "CN=*.taleo.net,emailAddress=a@b.example,postalCode=94568,street=4140 Dublin Boulevard,C=US"
    )


def test_multi_valued_rdn_is_joined_with_plus_in_reverse() -> None:
    n = x509.Name([x509.RelativeDistinguishedName([
        x509.NameAttribute(NameOID.COMMON_NAME, "SERVR"),
        x509.NameAttribute(NameOID.LOCALITY_NAME, "TURNBKL"),
    ])])
    assert format_name(n) == "L=TURNBKL+CN=SERVR"


def test_unknown_attribute_is_dumped_as_der_hex() -> None:
    n = x509.Name([x509.NameAttribute(x509.ObjectIdentifier("1.2.3.4"), "ab")])
    assert format_name(n) == "1.2.3.4=#0C026162"


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("a,b+c", "a\\,b\\+c"),
        ('q"<>;\\', 'q\\"\\<\\>\\;\\\\'),
        ("#x", "\\#x"),
        (" x ", "\\ x\\ "),
        ("a#b c", "a#b c"),
        ("line\r\n", "line\\0D\\0A"),
        ("Müller", "M\\C3\\BCller"),
    ],
)
def test_value_escaping_is_asn1_strflgs_rfc2253(value: str, escaped: str) -> None:
    assert escape_value(value) == escaped
