"""What is kept of one certificate: :class:`ParsedCertificate` and its columns, :data:`PARSED_COLUMNS`.

Theory of operation: this is the declaration, :mod:`tlsmon.x509.certs` the computation (cryptography and the
lenient DER walker fill a :class:`ParsedCertificate`). They are apart so that the schema, the writers and a run
that sees no certificate import no cryptography; :mod:`tlsmon.x509.certs` is imported at the first certificate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from tlsmon.columns import Column, ColumnGroup

# Microseconds, not the nanoseconds of packet times: int64 ns ends in 2262, and RFC 5280 §4.1.2.5 gives
# 99991231235959Z as "no well-defined expiration date"; int64 µs holds every GeneralizedTime (0001-9999).
_TS_UTC = pa.timestamp("us", tz="UTC")
#: basic_constraints_path_len's column is int32; a larger pathLenConstraint (an unbounded DER INTEGER) is
#: stored as this, with the anomaly x509.value_out_of_range on the certificate's row.
MAX_PATH_LEN = 2**31 - 1
_STRINGS = pa.list_(pa.string())


@dataclass(slots=True)
class ParsedCertificate:
    """What cryptography (and the lenient DER walker) read from one DER certificate."""

    parse_error: str | None = None
    extensions_error: str | None = None
    certificate_version: int | None = None
    certificate_serial: str | None = None
    certificate_subject: str | None = None
    certificate_issuer: str | None = None
    certificate_not_valid_before: int | None = None
    certificate_not_valid_after: int | None = None
    certificate_key_alg: str | None = None
    certificate_sig_alg: str | None = None
    certificate_key_type: str | None = None
    certificate_key_length: int | None = None
    certificate_exponent: str | None = None
    certificate_curve: str | None = None
    san_dns: list[str] = field(default_factory=list)
    san_uri: list[str] = field(default_factory=list)
    san_email: list[str] = field(default_factory=list)
    san_ip: list[str] = field(default_factory=list)
    basic_constraints_ca: bool | None = None
    basic_constraints_path_len: int | None = None
    spki_sha256: str | None = None
    key_usage: list[str] = field(default_factory=list)
    extended_key_usage: list[str] = field(default_factory=list)
    ocsp_urls: list[str] = field(default_factory=list)
    ca_issuers_urls: list[str] = field(default_factory=list)
    crl_urls: list[str] = field(default_factory=list)
    sct_count: int | None = None
    policy_oids: list[str] = field(default_factory=list)
    common_names: list[str] = field(default_factory=list)
    self_issued: bool | None = None
    self_signed: bool | None = None
    weak_key: bool | None = None
    weak_sig: bool | None = None
    tor_like: bool | None = None
    anomalies: list[str] = field(default_factory=list)


PARSED_COLUMNS = ColumnGroup(
    "x509_cert",
    stage="x509",
    columns=(
        Column("parse_error", pa.string(), "Why cryptography could not load the DER; the other columns then hold "
               "what a lenient DER reader finds, as OpenSSL reads it (names, validity, serial, key, SANs, basic "
               "constraints; self_signed and the other extension columns null), or nothing when there is no "
               "certificate structure at all; null when it loaded",
               "error parsing asn1 value: ParseError { kind: ShortData … }"),
        Column("extensions_error", pa.string(), "Why cryptography refused the extensions (e.g. a DER violation "
               "OpenSSL tolerates); the SAN and basic-constraints columns then come from a lenient reader and "
               "the other extension columns are empty", "error parsing asn1 value: … EncodedDefault …"),
        Column("certificate_version", pa.uint8(), "X.509 version, 1-based (Zeek `certificate.version`)", "3"),
        Column("certificate_serial", pa.string(), "Serial number: upper-case hex, whole bytes, '-' when negative "
               "(Zeek `certificate.serial`)", "99FAA8037A4EB2FAEF84EB5E55D5B8C8"),
        Column("certificate_subject", pa.string(), "Subject as an RFC 2253 string with OpenSSL's attribute names "
               "and escaping (Zeek `certificate.subject`)", "CN=*.taleo.net,OU=Web,O=Taleo Inc.,C=US"),
        Column("certificate_issuer", pa.string(), "Issuer, same format (Zeek `certificate.issuer`)",
               "CN=COMODO High-Assurance Secure Server CA,O=COMODO CA Limited,C=GB"),
        Column("certificate_not_valid_before", _TS_UTC, "Start of validity (Zeek `certificate.not_valid_before`); "
               "microseconds, so that every date from 0001 to 9999 fits", "2011-05-03 00:00:00+00:00"),
        Column("certificate_not_valid_after", _TS_UTC, "End of validity (Zeek `certificate.not_valid_after`)",
               "2016-07-04 23:59:59+00:00"),
        Column("certificate_key_alg", pa.string(), "Public-key algorithm, OpenSSL long name (Zeek "
               "`certificate.key_alg`)", "rsaEncryption"),
        Column("certificate_sig_alg", pa.string(), "Signature algorithm, OpenSSL long name (Zeek "
               "`certificate.sig_alg`)", "sha256WithRSAEncryption"),
        Column("certificate_key_type", pa.string(), "rsa, dsa, ecdsa, or OpenSSL's key type name for others "
               "(Zeek `certificate.key_type`)", "ecdsa"),
        Column("certificate_key_length", pa.uint32(), "Key size in bits (RSA modulus, DSA p, EC group order; "
               "Zeek `certificate.key_length`)", "2048"),
        Column("certificate_exponent", pa.string(), "RSA public exponent, decimal (Zeek `certificate.exponent`)",
               "65537"),
        Column("certificate_curve", pa.string(), "EC key's curve, OpenSSL group name (Zeek `certificate.curve`)",
               "prime256v1"),
        Column("san_dns", _STRINGS, "SubjectAltName DNS names, in certificate order (Zeek `san.dns`)",
               "['*.taleo.net', 'taleo.net']"),
        Column("san_uri", _STRINGS, "SubjectAltName URIs (Zeek `san.uri`)", "[]"),
        Column("san_email", _STRINGS, "SubjectAltName e-mail addresses (Zeek `san.email`)", "[]"),
        Column("san_ip", _STRINGS, "SubjectAltName IP addresses, canonical text (Zeek `san.ip`)", "['192.0.2.1']"),
        Column("basic_constraints_ca", pa.bool_(), "BasicConstraints cA; null without the extension (Zeek "
               "`basic_constraints.ca`)", "true"),
        Column("basic_constraints_path_len", pa.int32(), "BasicConstraints pathLenConstraint (Zeek "
               "`basic_constraints.path_len`); a value beyond int32 is clamped, with x509.value_out_of_range",
               "0"),
        Column("spki_sha256", pa.string(), "SHA-256 of the SubjectPublicKeyInfo as encoded in the certificate, "
               "lower-case hex: equal across certificates that share a key (key reuse)",
               "4e2f…"),
        Column("key_usage", _STRINGS, "KeyUsage bits set, RFC 5280 names", "['digitalSignature', "
               "'keyEncipherment']"),
        Column("extended_key_usage", _STRINGS, "ExtendedKeyUsage purposes, OpenSSL short names or dotted OIDs",
               "['serverAuth', 'clientAuth']"),
        Column("ocsp_urls", _STRINGS, "AuthorityInformationAccess OCSP responder URLs",
               "['http://ocsp.comodoca.com']"),
        Column("ca_issuers_urls", _STRINGS, "AuthorityInformationAccess CA-issuers URLs",
               "['http://crt.comodoca.com/COMODOHigh-AssuranceSecureServerCA.crt']"),
        Column("crl_urls", _STRINGS, "CRLDistributionPoints URLs", "['http://crl.comodoca.com/x.crl']"),
        Column("sct_count", pa.uint16(), "Embedded SignedCertificateTimestamps (RFC 6962); null when the "
               "extensions could not be read", "2"),
        Column("policy_oids", _STRINGS, "CertificatePolicies policy identifiers, dotted", "['2.23.140.1.2.1']"),
        Column("self_issued", pa.bool_(), "Subject equals issuer", "false"),
        Column("self_signed", pa.bool_(), "Self-issued and its signature verifies with its own key", "false"),
        Column("weak_key", pa.bool_(), "RSA or DSA key below 2048 bits, or EC key below 224 bits; null when the "
               "key could not be read", "false"),
        Column("weak_sig", pa.bool_(), "Signed with MD2, MD4, MD5 or SHA-1", "true"),
        Column("tor_like", pa.bool_(), "Looks like a Tor link certificate: subject exactly "
               "CN=www.[a-z2-7]{8,20}.net, issuer exactly CN=www.[a-z2-7]{8,20}.com", "false"),
        Column("anomalies", _STRINGS, "Named anomalies of this certificate's values (x509.value_out_of_range: "
               "a value clamped to fit its column; x509.date_out_of_range: a date the column cannot hold, "
               "nulled; x509.non_der_time / x509.invalid_time: a validity time in a non-DER form read as "
               "OpenSSL reads it / unreadable, nulled; x509.too_many_names: names past "
               "Limits.max_certificate_names left out)", "[]"),
    ),
)
