"""Certificates cryptography refuses keep what OpenSSL reads of them: the lenient DER fallback of parse_certificate.

The damaged certificates are fixtures/certificates/broken/ (made by fixtures/make_broken_certificates.py from one
ordinary certificate, one damage each); the expected values are what ``openssl x509 -nameopt RFC2253`` (OpenSSL
3.0) prints for each, which is what Zeek logs. Each test also names the error cryptography 50 gives, so a
cryptography upgrade that starts accepting a damage shows here. The corpus certificates are the ones of the
shared corpus that cryptography refuses (all five that a ``read`` over the corpus finds).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

import fixtures.make_broken_certificates as broken
from tests.corpus.location import CORPUS, requires_corpus
from tlsmon.x509.certs import parse_certificate
from tlsmon.x509.der import DerError, encode_tlv, validity_time
from tlsmon.x509.parsed import ParsedCertificate

BROKEN = Path(__file__).resolve().parents[2] / "fixtures" / "certificates" / "broken"
MANIFEST = json.loads((BROKEN / "MANIFEST.json").read_text())


def micros(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=dt.UTC).timestamp()) * 1_000_000  # type: ignore[misc]


def parsed(name: str) -> ParsedCertificate:
    fields, cert = parse_certificate((BROKEN / f"{name}.der").read_bytes())
    assert cert is None or fields.extensions_error is not None
    return fields


def load_error(location: str, kind: str = "InvalidValue") -> str:
    return f"error parsing asn1 value: ParseError {{ kind: {kind}, location: [{location}] }}"


#: The base certificate's fields as OpenSSL prints them; each damage changes some.
BASE = {
    "certificate_version": 3,
    "certificate_serial": "0A1B2C3D4E5F",
    "certificate_subject": "CN=broken.example,O=Broken\\, Inc.,C=DE",
    "certificate_issuer": "CN=tlsmon broken-certificate CA,O=tlsmon fixtures,C=DE",
    "certificate_not_valid_before": micros(2024, 1, 1, 12),
    "certificate_not_valid_after": micros(2026, 1, 1, 12),
    "certificate_key_alg": "id-ecPublicKey",
    "certificate_sig_alg": "ecdsa-with-SHA256",
    "certificate_key_type": "ecdsa",
    "certificate_key_length": 256,
    "certificate_exponent": None,
    "certificate_curve": "prime256v1",
    "san_dns": ["broken.example", "www.broken.example"],
    "san_uri": ["https://broken.example/"],
    "san_email": ["hostmaster@broken.example"],
    "san_ip": ["192.0.2.7"],
    "basic_constraints_ca": False,
    "self_issued": False,
    "weak_key": False,
    "weak_sig": False,
    "anomalies": [],
}


def fields(p: ParsedCertificate) -> dict[str, object]:
    return {name: getattr(p, name) for name in BASE}


def test_the_base_certificate_is_one_cryptography_reads() -> None:
    p, cert = parse_certificate((BROKEN / "base.der").read_bytes())
    assert (cert is not None, p.parse_error, p.extensions_error, fields(p)) == (True, None, None, BASE)


def test_every_damaged_certificate_is_in_the_manifest_with_its_hash() -> None:
    names = sorted(p.stem for p in BROKEN.glob("*.der") if p.stem != "base")
    listed = {e["name"]: e["sha256"] for e in MANIFEST["certificates"]}
    assert sorted(listed) == names
    assert all(hashlib.sha256((BROKEN / f"{n}.der").read_bytes()).hexdigest() == listed[n] for n in names)


def test_zero_length_serial_leaves_the_serial_null() -> None:
    # OpenSSL refuses this one whole; the other fields are readable, so they are kept.
    p = parsed("zero-length-serial")
    assert p.parse_error == load_error('"Certificate::tbs_cert", "TbsCertificate::serial"')
    assert fields(p) == {**BASE, "certificate_serial": None}


def test_utctime_without_seconds_reads_as_zero_seconds() -> None:
    p = parsed("utctime-without-seconds")
    assert p.parse_error == load_error(
        '"Certificate::tbs_cert", "TbsCertificate::validity", "Validity::not_before", "Time::UtcTime"'
    )
    assert fields(p) == {**BASE, "anomalies": ["x509.non_der_time"]}


def test_utctime_with_offset_is_converted_to_utc() -> None:
    # 260101133000+0130 is 2026-01-01 12:00:00 UTC (OpenSSL: "Jan  1 12:00:00 2026 GMT").
    p = parsed("utctime-with-offset")
    assert p.parse_error == load_error(
        '"Certificate::tbs_cert", "TbsCertificate::validity", "Validity::not_after", "Time::UtcTime"'
    )
    assert fields(p) == {**BASE, "anomalies": ["x509.non_der_time"]}


def test_generalizedtime_fraction_is_dropped() -> None:
    # OpenSSL prints "Jan  1 12:00:00.25 2051 GMT"; its ASN1_TIME_to_tm and Zeek keep whole seconds.
    p = parsed("generalizedtime-with-fraction")
    assert p.parse_error == load_error(
        '"Certificate::tbs_cert", "TbsCertificate::validity", "Validity::not_after", "Time::GeneralizedTime"'
    )
    assert fields(p) == {
        **BASE,
        "certificate_not_valid_after": micros(2051, 1, 1, 12),
        "anomalies": ["x509.non_der_time"],
    }


def test_month_thirteen_is_null_with_an_anomaly() -> None:
    # OpenSSL: "notAfter=Bad time value".
    p = parsed("month-thirteen")
    assert p.parse_error == load_error(
        '"Certificate::tbs_cert", "TbsCertificate::validity", "Validity::not_after", "Time::UtcTime"'
    )
    assert fields(p) == {**BASE, "certificate_not_valid_after": None, "anomalies": ["x509.invalid_time"]}


def test_signature_bit_string_with_unused_bits_keeps_every_field() -> None:
    p = parsed("signature-with-unused-bits")
    assert p.parse_error == load_error('"Certificate::signature"')
    assert fields(p) == BASE


def test_trailing_garbage_after_the_certificate_keeps_every_field() -> None:
    p = parsed("trailing-garbage")
    assert p.parse_error == "error parsing asn1 value: ParseError { kind: ExtraData }"
    assert fields(p) == BASE


def test_printable_string_outside_its_character_set_is_printed_as_sent() -> None:
    p = parsed("printable-string-with-at-sign")
    assert p.parse_error == load_error('1, 0, "AttributeTypeValue::value", "AttributeValue::PrintableString"')
    assert (fields(p), p.common_names) == (
        {**BASE, "certificate_subject": "CN=hostmaster@broken.example,C=DE"},
        ["hostmaster@broken.example"],
    )


def test_lenient_rows_leave_self_signed_and_the_other_extensions_null() -> None:
    p = parsed("trailing-garbage")
    assert (p.self_signed, p.extended_key_usage, p.sct_count, p.extensions_error, p.tor_like) == (
        None,
        [],
        None,
        None,
        False,
    )


def test_duplicate_extension_is_an_extensions_error_with_lenient_sans() -> None:
    # cryptography loads it; reading its extensions raises DuplicateExtension.
    p = parsed("duplicate-extension")
    assert (p.parse_error, p.extensions_error) == (None, "Duplicate 2.5.29.17 extension found")
    assert fields(p) == BASE


def test_san_ip_of_five_bytes_is_left_out_like_openssl_does() -> None:
    # OpenSSL: "DNS:broken.example, IP Address:<invalid length=5>, email:hostmaster@broken.example".
    p = parsed("san-ip-of-five-bytes")
    assert (p.parse_error, p.extensions_error) == (None, "b'\\xc0\\x00' does not appear to be an IPv4 or IPv6 address")
    assert fields(p) == {**BASE, "san_dns": ["broken.example"], "san_uri": [], "san_ip": []}


def test_a_truncated_certificate_keeps_only_its_parse_error() -> None:
    der = (BROKEN / "base.der").read_bytes()[:200]
    p, cert = parse_certificate(der)
    assert (cert, p.parse_error is not None, p.certificate_subject, p.certificate_serial, p.anomalies) == (
        None,
        True,
        None,
        None,
        [],
    )


def test_names_past_the_limit_are_left_out_with_an_anomaly() -> None:
    p, _ = parse_certificate((BROKEN / "trailing-garbage.der").read_bytes(), max_names=4)
    # Subject (3 attributes) and issuer (3) are each read up to 4; the SAN's 5 entries are cut to 4.
    assert (p.certificate_subject, p.san_dns, p.san_uri, p.san_email, p.san_ip, p.anomalies) == (
        "CN=broken.example,O=Broken\\, Inc.,C=DE",
        ["broken.example", "www.broken.example"],
        [],
        ["hostmaster@broken.example"],
        ["192.0.2.7"],
        ["x509.too_many_names"],
    )


# --- certificates of the shared corpus that cryptography refuses ---------------------------------------------


def corpus_certificate(rel: str) -> ParsedCertificate:
    from tlsmon.capture import CaptureSource
    from tlsmon.engine import Engine
    from tlsmon.recorder import MemorySink

    sink = MemorySink()
    engine = Engine(sink)
    engine.run(CaptureSource([CORPUS / rel]))
    engine.close()
    [record] = [c for c in sink.certificates if c.parsed.parse_error is not None]
    return record.parsed


MICROSOFT = {
    "certificate_version": 3,
    "certificate_serial": "12001F1FB8029FC1BD6355ECB20000001F1FB8",
    "certificate_subject": "CN=go.microsoft.com,OU=Microsoft Corporation,O=Microsoft Corporation,L=Redmond,ST=WA,C=US",
    "certificate_issuer": "CN=Microsoft RSA TLS CA 01,O=Microsoft Corporation,C=US",
    "certificate_not_valid_before": micros(2021, 12, 15, 19, 27, 42),
    "certificate_not_valid_after": micros(2022, 12, 15, 19, 27, 42),
    "certificate_key_alg": "rsaEncryption",
    "certificate_sig_alg": "sha256WithRSAEncryption",
    "certificate_key_type": "rsa",
    "certificate_key_length": 2048,
    "certificate_exponent": "65537",
    "certificate_curve": None,
    "san_dns": ["go.microsoft.com", "fast.go.microsoft.com", "aka.ms", "www.aka.ms", "go2.microsoft.com"],
    "san_uri": [],
    "san_email": [],
    "san_ip": [],
    "basic_constraints_ca": None,  # the certificate has no BasicConstraints
    "self_issued": False,
    "weak_key": False,
    "weak_sig": False,
    "anomalies": [],
}


@requires_corpus
def test_corpus_issuer_with_a_zero_byte_prints_it_escaped() -> None:
    p = corpus_certificate("suricata-verify/tests/tls/tls-issuer-zero/input.pcap")
    assert p.parse_error == load_error('2, 0, "AttributeTypeValue::value", "AttributeValue::PrintableString"')
    assert fields(p) == {
        **MICROSOFT,
        "certificate_issuer": "CN=Microsoft RSA TL\\00 CA 01,O=Microsoft Corporation,C=US",
    }


@requires_corpus
def test_corpus_subject_with_a_zero_byte_prints_it_escaped() -> None:
    p = corpus_certificate("suricata-verify/tests/tls/tls-subject-zero/input.pcap")
    assert p.parse_error == load_error('3, 0, "AttributeTypeValue::value", "AttributeValue::PrintableString"')
    subject = "CN=go.microsoft.com,OU=Microsoft Corporation,O=Microsoft Corporat\\00on,L=Redmond,ST=WA,C=US"
    assert fields(p) == {**MICROSOFT, "certificate_subject": subject}


@requires_corpus
def test_corpus_v1_certificate_with_truncated_pss_parameters() -> None:
    # CVE-2015-3194: OpenSSL prints "Signature Algorithm: rsassaPss (INVALID PSS PARAMETERS)".
    p = corpus_certificate("zeek/Traces/tls/CVE-2015-3194.pcap")
    assert p.parse_error == load_error(
        '"TbsCertificate::signature_alg", "AlgorithmIdentifier::params", "RsaPssParameters::mask_gen_algorithm", '
        '"MaskGenAlgorithm::params"',
        "ShortData { needed: 1 }",
    )
    assert fields(p) == {
        **MICROSOFT,
        "certificate_version": 1,
        "certificate_serial": "E2BCD57BDA0EC56F",
        "certificate_subject": "CN=bro.org,L=Berkeley,ST=CA,C=US",
        "certificate_issuer": "CN=Visa eCommerce Root,OU=Visa International Service Association,O=VISA,C=US",
        "certificate_not_valid_before": micros(2015, 12, 4, 19, 47, 21),
        "certificate_not_valid_after": micros(2017, 4, 17, 19, 47, 21),
        "certificate_sig_alg": "rsassaPss",
        "san_dns": [],
    }


@requires_corpus
@pytest.mark.parametrize(
    "rel",
    [
        "suricata-verify/tests/bug-1450-04/tls_DER-incomplete-header.pcap",
        "suricata-verify/tests/bug-1450-05/tls_DER-incomplete-content.pcap",
    ],
)
def test_corpus_truncated_certificate_keeps_only_its_parse_error(rel: str) -> None:
    # 9 bytes claiming a longer SEQUENCE: OpenSSL reads nothing ("Unable to load certificate") either.
    p = corpus_certificate(rel)
    assert (p.parse_error is not None, {k: v for k, v in fields(p).items() if v not in (None, [])}) == (True, {})


# --- validity times, as OpenSSL reads them --------------------------------------------------------------------

UTC, GEN = 0x17, 0x18


@pytest.mark.parametrize(
    ("tag", "text", "when", "is_der"),
    [
        (UTC, "240101120000Z", (2024, 1, 1, 12, 0, 0), True),
        (UTC, "2401011200Z", (2024, 1, 1, 12, 0, 0), False),
        (UTC, "240101133000+0130", (2024, 1, 1, 12, 0, 0), False),
        (UTC, "231231230000-0130", (2024, 1, 1, 0, 30, 0), False),
        (UTC, "490101000000Z", (2049, 1, 1, 0, 0, 0), True),
        (UTC, "500101000000Z", (1950, 1, 1, 0, 0, 0), True),
        (UTC, "240229000000Z", (2024, 2, 29, 0, 0, 0), True),
        (GEN, "20510101120000Z", (2051, 1, 1, 12, 0, 0), True),
        (GEN, "20510101120000.999Z", (2051, 1, 1, 12, 0, 0), False),
        (GEN, "205101011200Z", (2051, 1, 1, 12, 0, 0), False),
        (GEN, "99991231235959Z", (9999, 12, 31, 23, 59, 59), True),
    ],
)
def test_time_forms_openssl_reads(tag: int, text: str, when: tuple[int, ...], is_der: bool) -> None:
    read = validity_time(encode_tlv(tag, text.encode()))
    assert (read.when, read.der) == (dt.datetime(*when, tzinfo=dt.UTC), is_der)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("tag", "text"),
    [
        (UTC, "261301120000Z"),  # month 13
        (UTC, "230229000000Z"),  # 29 February of a common year
        (UTC, "240101240000Z"),  # hour 24
        (UTC, "240101235960Z"),  # leap second
        (UTC, "240101120000"),  # no time zone
        (UTC, "240101120000+1300"),  # offset beyond 12 hours
        (UTC, "240101120000Zjunk"),  # bytes after the zone
        (UTC, "2401011200.5Z"),  # fractions only in GeneralizedTime
        (UTC, "24010112Z"),  # no minutes
        (GEN, "00000101000000Z"),  # year 0
        (GEN, "20510101120000.Z"),  # decimal point without digits
        (0x04, "240101120000Z"),  # an OCTET STRING, not a time
    ],
)
def test_time_forms_no_reader_makes_a_date_of(tag: int, text: str) -> None:
    with pytest.raises(DerError):
        validity_time(encode_tlv(tag, text.encode()))


# --- the same certificates on the wire ------------------------------------------------------------------------

CAPTURE = Path(__file__).resolve().parents[2] / "fixtures" / "pcaps" / "x509" / "broken-certificates.pcap"


def capture_rows() -> tuple[list[object], dict[str, object]]:
    from tlsmon.capture import CaptureSource
    from tlsmon.engine import Engine
    from tlsmon.recorder import MemorySink

    sink = MemorySink()
    engine = Engine(sink)
    engine.run(CaptureSource([CAPTURE]))
    engine.close()
    return list(sink.records), {c.fingerprint: c for c in sink.certificates}


def test_each_connection_joins_its_broken_leaf_by_leaf_fingerprint() -> None:
    rows, certificates = capture_rows()
    expected = [e["sha256"] for e in MANIFEST["certificates"]]
    leaves = [r.x509.leaf_fingerprint for r in sorted(rows, key=lambda r: r.conn.orig_p)]  # type: ignore[attr-defined]
    subjects = {certificates[fp].parsed.certificate_subject for fp in leaves}  # type: ignore[attr-defined]
    assert (leaves, subjects) == (
        expected,
        {"CN=broken.example,O=Broken\\, Inc.,C=DE", "CN=hostmaster@broken.example,C=DE"},
    )


def test_a_leaf_cryptography_cannot_load_is_unparseable_on_the_connection() -> None:
    rows, _ = capture_rows()
    by_port = {r.conn.orig_p: r for r in rows}  # type: ignore[attr-defined]
    results = [
        (
            by_port[41000 + i].x509.validation_status,  # type: ignore[attr-defined]
            by_port[41000 + i].x509.validity_class,  # type: ignore[attr-defined]
            "x509.certificate_unparseable" in by_port[41000 + i].conn.anomalies,  # type: ignore[attr-defined]
        )
        for i, entry in enumerate(MANIFEST["certificates"])
    ]
    fails_at = [e["cryptography_fails_at"] for e in MANIFEST["certificates"]]
    assert results == [
        ("unparseable", "broken", True) if where == "load" else ("profile_violation", "broken", False)
        for where in fails_at
    ]


def test_a_hostile_list_of_sans_is_cut_at_the_limit() -> None:
    # 10 000 DNS entries (146 KiB) in a certificate cryptography refuses (two bytes after it): the default
    # Limits.max_certificate_names keeps the first 4 096. Measured: 2 ms, the same for 80 000 entries (1.2 MiB).
    names = b"".join(encode_tlv(0x82, b"a%d.example" % i) for i in range(10_000))
    der = broken.with_extensions(lambda exts: [exts[0], broken.san_extension(names), *exts[2:]]) + b"\0\0"
    p, _ = parse_certificate(der)
    assert (len(p.san_dns), p.san_dns[-1], p.anomalies) == (4096, "a4095.example", ["x509.too_many_names"])
