"""One certificate, parsed once: Zeek's x509.log fields plus what the study needs, declared in
:mod:`tlsmon.x509.parsed` (:data:`~tlsmon.x509.parsed.PARSED_COLUMNS`), which imports no cryptography.

:func:`parse_certificate` is called once per distinct DER (the store caches by the DER bytes). It never raises.
cryptography is strict where OpenSSL (and so Zeek) is lenient, so there are two fallbacks to the lenient
:mod:`tlsmon.x509.der` walker, each keeping the strict parser's message:

- a DER that cryptography cannot load (or whose fields it refuses to give) keeps ``parse_error`` and gets
  what OpenSSL would still read from it: version, serial, subject, issuer, validity (non-DER time forms read
  as OpenSSL reads them, with ``x509.non_der_time``; unreadable ones null, with ``x509.invalid_time``),
  algorithms, key type, size, exponent and curve, the SANs and basic constraints, ``spki_sha256``,
  ``self_issued`` and the weak-key, weak-signature and Tor flags. ``self_signed`` stays null (no signature is
  checked without cryptography's object) and so do the other extension columns. A DER with no
  ``tbsCertificate`` at all (truncated, not a certificate) keeps only ``parse_error``, as OpenSSL reads
  nothing either;
- a certificate whose extensions alone cryptography refuses keeps its other fields, the message in
  ``extensions_error``, and the SANs and basic constraints from the walker.

Either way the names kept are capped (:attr:`~tlsmon.limits.Limits.max_certificate_names`,
``x509.too_many_names``) and the walk is linear in the DER's size.

Value spellings follow Zeek (which prints with OpenSSL): serial as upper-case hex of the magnitude with an
even number of digits (``i2a_ASN1_INTEGER``), names as ``X509_NAME_print_ex`` RFC 2253 strings
(:mod:`tlsmon.x509.names`), algorithms by OpenSSL's long names and curves by its group names
(:mod:`tlsmon.x509.oids`), ``key_type`` ``rsa``/``dsa``/``ecdsa`` (other key types by OpenSSL's type name,
e.g. ``ED25519``, ``ML-DSA-44``), ``key_length`` in bits of the modulus, of DSA's p, of the EC group order, or
OpenSSL's figure for the others. Weak key: RSA/DSA below 2048 bits, EC below 224 (NIST SP 800-57 and the CA/B
Forum minimums); weak signature: MD2/MD4/MD5/SHA-1.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import warnings

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519
from cryptography.x509.oid import AuthorityInformationAccessOID

from tlsmon.limits import DEFAULT_LIMITS
from tlsmon.x509 import der
from tlsmon.x509.anomalies import X509Anomaly
from tlsmon.x509.names import format_name, format_raw_name
from tlsmon.x509.oids import (
    ALGORITHM_NAMES,
    CURVE_NAMES,
    CURVE_OIDS,
    KEY_USAGE_BITS,
    WEAK_SIGNATURE_OIDS,
    algorithm_name,
    eku_name,
)
from tlsmon.x509.parsed import MAX_PATH_LEN, ParsedCertificate

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)

MIN_RSA_DSA_BITS = 2048
MIN_EC_BITS = 224

# Tor's link certificates (tor's tortls.c): random www.<base32>.net subject, www.<base32>.com issuer, nothing else.
_TOR_SUBJECT = re.compile(r"www\.[a-z2-7]{8,20}\.net")
_TOR_ISSUER = re.compile(r"www\.[a-z2-7]{8,20}\.com")

# OpenSSL's EVP_PKEY_get_bits for key types without a modulus or group order.
_FIXED_KEY_BITS: dict[type, int] = {
    ed25519.Ed25519PublicKey: 253,
    x25519.X25519PublicKey: 253,
    ed448.Ed448PublicKey: 456,
    x448.X448PublicKey: 448,
}
# The same by algorithm OID, for the lenient reader; and the key OIDs it decodes itself.
_FIXED_KEY_BITS_BY_OID: dict[str, int] = {"1.3.101.112": 253, "1.3.101.110": 253, "1.3.101.113": 456,
                                          "1.3.101.111": 448}
_RSA_KEY_OIDS = frozenset({"1.2.840.113549.1.1.1", "1.2.840.113549.1.1.10"})  # rsaEncryption, RSASSA-PSS
_DSA_KEY_OID = "1.2.840.10040.4.1"
_EC_KEY_OID = "1.2.840.10045.2.1"
_ML_DSA_KEY_OIDS = frozenset({"2.16.840.1.101.3.4.3.17", "2.16.840.1.101.3.4.3.18", "2.16.840.1.101.3.4.3.19"})
_OID_TAG = 0x06
_CN_OID = "2.5.4.3"


def parse_certificate(
    der_bytes: bytes, max_names: int = DEFAULT_LIMITS.max_certificate_names
) -> tuple[ParsedCertificate, x509.Certificate | None]:
    """The parsed fields of a DER certificate, and cryptography's object (None when it cannot load it)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. negative serials: logged as they are, like Zeek does
            cert = x509.load_der_x509_certificate(der_bytes)
            parsed = _parse(cert, max_names)
    except Exception as exc:  # cryptography raises ValueError, but any failure must keep the run going
        parsed = ParsedCertificate(parse_error=_message(exc))
        _lenient_certificate(der_bytes, parsed, max_names)
        return parsed, None
    return parsed, cert


def _parse(cert: x509.Certificate, max_names: int) -> ParsedCertificate:
    p = ParsedCertificate()
    p.certificate_version = cert.version.value + 1
    p.certificate_serial = format_serial(cert.serial_number)
    p.certificate_subject = format_name(cert.subject)
    p.certificate_issuer = format_name(cert.issuer)
    p.certificate_not_valid_before = utc_microseconds(cert.not_valid_before_utc)
    p.certificate_not_valid_after = utc_microseconds(cert.not_valid_after_utc)
    p.certificate_key_alg = algorithm_name(cert.public_key_algorithm_oid)
    p.certificate_sig_alg = algorithm_name(cert.signature_algorithm_oid)
    p.common_names = [str(a.value) for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
    tbs = cert.tbs_certificate_bytes
    try:
        p.spki_sha256 = hashlib.sha256(der.spki(tbs)).hexdigest()
    except der.DerError:
        p.spki_sha256 = None
    _key_fields(cert, p)
    try:
        extensions = list(cert.extensions)
    except Exception as exc:
        p.extensions_error = _message(exc)
        _lenient_extensions(tbs, p, max_names)
    else:
        _extension_fields(extensions, p)
    p.self_issued = cert.subject == cert.issuer
    p.self_signed = p.self_issued and _signed_by(cert, cert)
    p.weak_sig = _weak_signature(cert)
    p.tor_like = is_tor_like(cert)
    return p


def format_serial(serial: int) -> str:
    """OpenSSL's ``i2a_ASN1_INTEGER``: upper-case hex of the magnitude in whole bytes, '-' if negative."""
    magnitude = abs(serial)
    text = f"{magnitude:X}"
    if len(text) % 2:
        text = "0" + text
    return ("-" if serial < 0 else "") + text


def _key_fields(cert: x509.Certificate, p: ParsedCertificate) -> None:
    try:
        key = cert.public_key()
    except Exception:  # unsupported algorithm or malformed key: Zeek leaves these fields unset too
        return
    if isinstance(key, rsa.RSAPublicKey):
        p.certificate_key_type = "rsa"
        p.certificate_key_length = key.key_size
        p.certificate_exponent = str(key.public_numbers().e)
        p.weak_key = key.key_size < MIN_RSA_DSA_BITS
    elif isinstance(key, dsa.DSAPublicKey):
        p.certificate_key_type = "dsa"
        p.certificate_key_length = key.key_size
        p.weak_key = key.key_size < MIN_RSA_DSA_BITS
    elif isinstance(key, ec.EllipticCurvePublicKey):
        p.certificate_key_type = "ecdsa"
        p.certificate_key_length = key.curve.key_size
        p.certificate_curve = CURVE_NAMES.get(key.curve.name, key.curve.name)
        p.weak_key = key.curve.key_size < MIN_EC_BITS
    else:
        p.certificate_key_type = algorithm_name(cert.public_key_algorithm_oid)
        p.certificate_key_length = _other_key_bits(key)
        p.weak_key = False


def _other_key_bits(key: object) -> int | None:
    for key_type, bits in _FIXED_KEY_BITS.items():
        if isinstance(key, key_type):
            return bits
    public_bytes = getattr(key, "public_bytes_raw", None)  # ML-DSA: OpenSSL counts the encoded key's bits
    if callable(public_bytes):
        try:
            raw = public_bytes()
        except Exception:
            return None
        if isinstance(raw, bytes):
            return 8 * len(raw)
    return None


def _extension_fields(extensions: list[x509.Extension[x509.ExtensionType]], p: ParsedCertificate) -> None:
    p.sct_count = 0
    for ext in extensions:
        value = ext.value
        if isinstance(value, x509.SubjectAlternativeName):
            p.san_dns = [str(v) for v in value.get_values_for_type(x509.DNSName)]
            p.san_uri = [str(v) for v in value.get_values_for_type(x509.UniformResourceIdentifier)]
            p.san_email = [str(v) for v in value.get_values_for_type(x509.RFC822Name)]
            p.san_ip = [str(v) for v in value.get_values_for_type(x509.IPAddress)]
        elif isinstance(value, x509.BasicConstraints):
            p.basic_constraints_ca = value.ca
            p.basic_constraints_path_len = _path_len(value.path_length, p)
        elif isinstance(value, x509.KeyUsage):
            p.key_usage = _key_usage(value)
        elif isinstance(value, x509.ExtendedKeyUsage):
            p.extended_key_usage = [eku_name(oid) for oid in value]
        elif isinstance(value, x509.AuthorityInformationAccess):
            for desc in value:
                if isinstance(desc.access_location, x509.UniformResourceIdentifier):
                    if desc.access_method == AuthorityInformationAccessOID.OCSP:
                        p.ocsp_urls.append(desc.access_location.value)
                    elif desc.access_method == AuthorityInformationAccessOID.CA_ISSUERS:
                        p.ca_issuers_urls.append(desc.access_location.value)
        elif isinstance(value, x509.CRLDistributionPoints):
            for point in value:
                for name in point.full_name or ():
                    if isinstance(name, x509.UniformResourceIdentifier):
                        p.crl_urls.append(name.value)
        elif isinstance(value, x509.PrecertificateSignedCertificateTimestamps):
            p.sct_count = len(value)
        elif isinstance(value, x509.CertificatePolicies):
            p.policy_oids = [info.policy_identifier.dotted_string for info in value]


def _key_usage(value: x509.KeyUsage) -> list[str]:
    names = [name for attr, name in KEY_USAGE_BITS if getattr(value, attr)]
    if value.key_agreement:  # the last two bits are only defined with keyAgreement (RFC 5280 §4.2.1.3)
        if value.encipher_only:
            names.append("encipherOnly")
        if value.decipher_only:
            names.append("decipherOnly")
    return names


def _lenient_extensions(tbs: bytes, p: ParsedCertificate, max_names: int) -> None:
    try:
        raw = der.raw_extensions(tbs)
    except der.DerError:
        return
    for ext in raw:
        try:
            if ext.oid == der.OID_SUBJECT_ALT_NAME:
                san = der.subject_alt_names(ext.value, max_names)
                p.san_dns, p.san_uri, p.san_email, p.san_ip = san.dns, san.uri, san.email, san.ip
                if san.truncated:
                    _anomaly(p, X509Anomaly.TOO_MANY_NAMES)
            elif ext.oid == der.OID_BASIC_CONSTRAINTS:
                p.basic_constraints_ca, path_len = der.basic_constraints(ext.value)
                p.basic_constraints_path_len = _path_len(path_len, p)
        except (der.DerError, ValueError):
            continue


def _lenient_certificate(data: bytes, p: ParsedCertificate, max_names: int) -> None:
    """Fill ``p`` with what the lenient reader finds in a DER cryptography refused (see the module docstring);
    each field on its own, so that one damaged field costs only itself."""
    try:
        raw = der.certificate_fields(data)
    except der.DerError:
        return
    try:
        version = der.integer(raw.version) if raw.version is not None else 0
        p.certificate_version = version + 1 if 0 <= version < 255 else None
    except der.DerError:
        pass
    if raw.serial is not None:
        try:
            p.certificate_serial = format_serial(der.integer(raw.serial))
        except der.DerError:
            pass
    subject = _lenient_name(raw.subject, p, max_names)
    issuer = _lenient_name(raw.issuer, p, max_names)
    if subject is not None:
        p.certificate_subject = format_raw_name(subject)
        p.common_names = [_text(a) for rdn in subject.rdns for a in rdn if a.oid == _CN_OID]
    if issuer is not None:
        p.certificate_issuer = format_raw_name(issuer)
    if subject is not None and issuer is not None:
        p.self_issued = p.certificate_subject == p.certificate_issuer
        p.tor_like = _raw_only_cn_matching(subject, _TOR_SUBJECT) and _raw_only_cn_matching(issuer, _TOR_ISSUER)
    p.certificate_not_valid_before = _lenient_time(raw.not_before, p)
    p.certificate_not_valid_after = _lenient_time(raw.not_after, p)
    if raw.signature_algorithm is not None:
        try:
            sig_oid = der.object_identifier(raw.signature_algorithm)
        except der.DerError:
            pass
        else:
            p.certificate_sig_alg = ALGORITHM_NAMES.get(sig_oid, sig_oid)
            p.weak_sig = sig_oid in WEAK_SIGNATURE_OIDS
    if raw.spki is not None:
        p.spki_sha256 = hashlib.sha256(raw.spki).hexdigest()
        try:
            _lenient_key(der.public_key_info(raw.spki), p)
        except der.DerError:
            pass
    _lenient_extensions(raw.tbs, p, max_names)


def _lenient_name(tlv: bytes | None, p: ParsedCertificate, max_names: int) -> der.RawName | None:
    if tlv is None:
        return None
    try:
        name = der.name(tlv, max_names)
    except der.DerError:
        return None
    if name.truncated:
        _anomaly(p, X509Anomaly.TOO_MANY_NAMES)
    return name


def _text(attr: der.RawAttribute) -> str:
    try:
        return attr.value.decode("utf-16-be" if attr.tag == 0x1E else "utf-8")
    except UnicodeDecodeError:
        return attr.value.decode("latin-1")


def _raw_only_cn_matching(name: der.RawName, pattern: re.Pattern[str]) -> bool:
    attrs = [a for rdn in name.rdns for a in rdn]
    return len(attrs) == 1 and attrs[0].oid == _CN_OID and pattern.fullmatch(_text(attrs[0])) is not None


def _lenient_time(tlv: bytes | None, p: ParsedCertificate) -> int | None:
    if tlv is None:
        return None
    try:
        read = der.validity_time(tlv)
    except der.DerError:
        _anomaly(p, X509Anomaly.INVALID_TIME)
        return None
    if not read.der:
        _anomaly(p, X509Anomaly.NON_DER_TIME)
    return utc_microseconds(read.when)


def _lenient_key(key: der.RawPublicKey, p: ParsedCertificate) -> None:
    """Key type, size, exponent and curve as :func:`_key_fields` gives them, from the encoded key."""
    oid = key.algorithm
    p.certificate_key_alg = ALGORITHM_NAMES.get(oid, oid)
    if oid in _RSA_KEY_OIDS:
        numbers = der.integers(key.key)
        if len(numbers) != 2:
            raise der.DerError("RSAPublicKey is not (n, e)")
        p.certificate_key_type = "rsa"
        p.certificate_key_length = numbers[0].bit_length()
        p.certificate_exponent = str(numbers[1])
        p.weak_key = p.certificate_key_length < MIN_RSA_DSA_BITS
    elif oid == _DSA_KEY_OID:
        p.certificate_key_type = "dsa"
        if key.parameters is not None:
            p.certificate_key_length = der.integers(key.parameters)[0].bit_length()
            p.weak_key = p.certificate_key_length < MIN_RSA_DSA_BITS
    elif oid == _EC_KEY_OID:
        p.certificate_key_type = "ecdsa"
        if key.parameters is not None and key.parameters[0] == _OID_TAG:
            _, start, end = der.read_tlv(key.parameters, 0)
            curve = der.decode_oid(key.parameters[start:end])
            name, bits = CURVE_OIDS.get(curve, (curve, 0))
            p.certificate_curve = name
            if bits:
                p.certificate_key_length = bits
                p.weak_key = bits < MIN_EC_BITS
    else:
        p.certificate_key_type = ALGORITHM_NAMES.get(oid, oid)
        p.certificate_key_length = _FIXED_KEY_BITS_BY_OID.get(oid)
        if oid in _ML_DSA_KEY_OIDS:
            p.certificate_key_length = 8 * len(key.key)
        p.weak_key = False


def _anomaly(p: ParsedCertificate, name: str) -> None:
    if name not in p.anomalies:
        p.anomalies.append(name)


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer``'s name and key fit ``cert``'s issuer and signature."""
    try:
        cert.verify_directly_issued_by(issuer)
    except Exception:  # InvalidSignature, unsupported algorithm, mismatched names
        return False
    return True


def _weak_signature(cert: x509.Certificate) -> bool:
    if cert.signature_algorithm_oid.dotted_string in WEAK_SIGNATURE_OIDS:
        return True
    try:
        digest = cert.signature_hash_algorithm  # RSASSA-PSS names its hash in the parameters
    except Exception:
        return False
    return isinstance(digest, hashes.MD5 | hashes.SHA1)


def is_tor_like(cert: x509.Certificate) -> bool:
    """Subject ``CN=www.<base32>.net`` and issuer ``CN=www.<base32>.com``, each with no other attribute."""
    return _only_cn_matching(cert.subject, _TOR_SUBJECT) and _only_cn_matching(cert.issuer, _TOR_ISSUER)


def _only_cn_matching(name: x509.Name, pattern: re.Pattern[str]) -> bool:
    attrs = list(name)
    if len(attrs) != 1 or attrs[0].oid != x509.NameOID.COMMON_NAME:
        return False
    value = attrs[0].value
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def utc_microseconds(when: dt.datetime) -> int:
    """Microseconds since the epoch, exactly (a float timestamp loses precision near year 9999)."""
    return (when - _EPOCH) // _MICROSECOND


def _path_len(value: int | None, p: ParsedCertificate) -> int | None:
    if value is None or -MAX_PATH_LEN - 1 <= value <= MAX_PATH_LEN:
        return value
    p.anomalies.append(X509Anomaly.VALUE_OUT_OF_RANGE)
    return MAX_PATH_LEN if value > 0 else -MAX_PATH_LEN - 1


def _message(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."
