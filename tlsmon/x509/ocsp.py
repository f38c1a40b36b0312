"""Stapled OCSP responses (RFC 6960), read with ``cryptography.x509.ocsp``.

The server staples one DER ``OCSPResponse`` in its CertificateStatus message (RFC 6066 §8). What is kept:
the response status (``successful``, ``tryLater`` …: RFC 6960 §4.2.1 names, as OpenSSL and Zeek spell them),
and for a successful response the single response about the leaf: its certificate status (``good``,
``revoked``, ``unknown``: Zeek's ``ocsp_status`` spelling), thisUpdate and nextUpdate, and whether it is about
the leaf at all. A single response is about the leaf when its serial number and issuer-name hash match the
leaf's and, when the server sent the issuer next, its issuer-key hash matches that certificate's key
(RFC 6960 §4.1.1 CertID). With several single responses, the one about the leaf is chosen, else the first.
The response's signature is not checked, so a response that spells out its DEFAULT version (OpenSSL
accepts it, cryptography does not) is read after dropping that field. A response that does not parse is the
anomaly ``x509.ocsp_response_malformed``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509 import ocsp

from tlsmon.x509 import der
from tlsmon.x509.anomalies import X509Anomaly
from tlsmon.x509.certs import utc_microseconds

ANOMALY_MALFORMED = X509Anomaly.OCSP_RESPONSE_MALFORMED

RESPONSE_STATUS_NAMES: dict[ocsp.OCSPResponseStatus, str] = {
    ocsp.OCSPResponseStatus.SUCCESSFUL: "successful",
    ocsp.OCSPResponseStatus.MALFORMED_REQUEST: "malformedRequest",
    ocsp.OCSPResponseStatus.INTERNAL_ERROR: "internalError",
    ocsp.OCSPResponseStatus.TRY_LATER: "tryLater",
    ocsp.OCSPResponseStatus.SIG_REQUIRED: "sigRequired",
    ocsp.OCSPResponseStatus.UNAUTHORIZED: "unauthorized",
}

CERT_STATUS_NAMES: dict[ocsp.OCSPCertStatus, str] = {
    ocsp.OCSPCertStatus.GOOD: "good",
    ocsp.OCSPCertStatus.REVOKED: "revoked",
    ocsp.OCSPCertStatus.UNKNOWN: "unknown",
}


@dataclass(frozen=True, slots=True)
class StapledOcsp:
    response_status: str | None
    cert_status: str | None = None
    this_update: int | None = None  # µs since the epoch (GeneralizedTime reaches 9999, ns ends in 2262)
    next_update: int | None = None
    matches_leaf: bool | None = None
    anomaly: X509Anomaly | None = None


def read_stapled(
    response_der: bytes, leaf: x509.Certificate | None, issuer: x509.Certificate | None
) -> StapledOcsp:
    """The stapled response's status and, if successful, its answer about ``leaf``."""
    try:
        response = _load(response_der)
        status = RESPONSE_STATUS_NAMES.get(response.response_status, str(response.response_status.value))
        if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            return StapledOcsp(status)
        singles = list(response.responses)
    except Exception:  # ValueError from cryptography on malformed DER; never stop the run
        return StapledOcsp(None, anomaly=ANOMALY_MALFORMED)
    if not singles:
        return StapledOcsp(status, anomaly=ANOMALY_MALFORMED)
    matching = [s for s in singles if leaf is not None and _about(s, leaf, issuer)]
    single = (matching or singles)[0]
    return StapledOcsp(
        status,
        CERT_STATUS_NAMES[single.certificate_status],
        utc_microseconds(single.this_update_utc),
        None if single.next_update_utc is None else utc_microseconds(single.next_update_utc),
        None if leaf is None else bool(matching),
    )


def _load(response_der: bytes) -> ocsp.OCSPResponse:
    try:
        return ocsp.load_der_ocsp_response(response_der)
    except ValueError:
        try:
            fixed = der.ocsp_without_default_version(response_der)
        except (der.DerError, ValueError):
            fixed = None
        if fixed is None:
            raise
        return ocsp.load_der_ocsp_response(fixed)


def _about(single: ocsp.OCSPSingleResponse, leaf: x509.Certificate, issuer: x509.Certificate | None) -> bool:
    if single.serial_number != leaf.serial_number:
        return False
    name = single.hash_algorithm.name
    try:
        if hashlib.new(name, leaf.issuer.public_bytes()).digest() != single.issuer_name_hash:
            return False
        if issuer is None or issuer.subject != leaf.issuer:
            return True
        key = _subject_public_key(issuer)
        return key is None or hashlib.new(name, key).digest() == single.issuer_key_hash
    except ValueError:  # a hash hashlib does not know
        return False


def _subject_public_key(cert: x509.Certificate) -> bytes | None:
    """The subjectPublicKey BIT STRING contents (without the unused-bits byte) that CertID hashes."""
    try:
        spki = der.spki(cert.tbs_certificate_bytes)
        _, start, end = der.read_tlv(spki, 0)
        parts = list(der.children(spki, start, end))
        _, bstart, bend = parts[1]
    except (der.DerError, IndexError):
        return None
    return spki[bstart + 1 : bend]

