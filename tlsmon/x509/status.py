"""The words of chain validation: :class:`ValidationStatus`, :class:`ValidityClass`, and how they map.

Theory of operation: the vocabulary is a declaration, apart from :mod:`tlsmon.x509.validate` that computes a
status with cryptography's verifier, so that the connection columns (:data:`tlsmon.x509.chains.X509_COLUMNS`
spells the statuses out) and a run that sees no certificate need no cryptography. The rules that choose a
status are in :mod:`tlsmon.x509.validate`'s docstring and docs/certificates.md.
"""

from __future__ import annotations

from enum import StrEnum


class ValidityClass(StrEnum):
    VERIFIABLE = "verifiable"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    SELF_SIGNED = "self_signed"
    BROKEN = "broken"


class ValidationStatus(StrEnum):
    """Why a chain is or is not valid: the rules are in the module docstring and docs/certificates.md."""

    VERIFIABLE = "verifiable"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    SELF_SIGNED = "self_signed"
    SELF_SIGNED_IN_CHAIN = "self_signed_in_chain"
    UNKNOWN_ISSUER = "unknown_issuer"
    BAD_SIGNATURE = "bad_signature"
    FORBIDDEN_ALGORITHM = "forbidden_algorithm"
    WEAK_KEY = "weak_key"
    WRONG_PURPOSE = "wrong_purpose"
    NAME_CONSTRAINT_VIOLATION = "name_constraint_violation"
    PATH_TOO_LONG = "path_too_long"
    PROFILE_VIOLATION = "profile_violation"
    UNPARSEABLE = "unparseable"
    BROKEN = "broken"


#: The class of each status: a status names the reason, the class is what the study counts.
STATUS_CLASS: dict[ValidationStatus, ValidityClass] = {
    status: ValidityClass(status.value) if status.value in {c.value for c in ValidityClass} else ValidityClass.BROKEN
    for status in ValidationStatus
}

#: What Zeek's ssl.log ``validation_status`` (OpenSSL's X509_verify_cert_error_string, 1.1 and 3.x spellings)
#: says of a chain with each status, where OpenSSL has a counterpart. Statuses without one are chains OpenSSL
#: accepts (Zeek: ``ok``) or refuses with a message of its own. docs/certificates.md has the same table.
ZEEK_VALIDATION_STATUS: dict[ValidationStatus, tuple[str, ...]] = {
    ValidationStatus.VERIFIABLE: ("ok",),
    ValidationStatus.EXPIRED: ("certificate has expired",),
    ValidationStatus.NOT_YET_VALID: ("certificate is not yet valid",),
    ValidationStatus.SELF_SIGNED: ("self signed certificate", "self-signed certificate"),
    ValidationStatus.SELF_SIGNED_IN_CHAIN: (
        "self signed certificate in certificate chain",
        "self-signed certificate in certificate chain",
    ),
    ValidationStatus.UNKNOWN_ISSUER: ("unable to get local issuer certificate", "unable to get issuer certificate"),
    ValidationStatus.BAD_SIGNATURE: ("certificate signature failure",),
    ValidationStatus.FORBIDDEN_ALGORITHM: ("ok", "CA signature digest algorithm too weak"),
    ValidationStatus.WEAK_KEY: ("ok", "CA certificate key too weak"),
    ValidationStatus.WRONG_PURPOSE: ("ok", "unsupported certificate purpose"),
    ValidationStatus.NAME_CONSTRAINT_VIOLATION: ("permitted subtree violation", "excluded subtree violation"),
    ValidationStatus.PATH_TOO_LONG: ("path length constraint exceeded", "certificate chain too long"),
    ValidationStatus.PROFILE_VIOLATION: ("ok", "invalid CA certificate"),
    ValidationStatus.UNPARSEABLE: (),
    ValidationStatus.BROKEN: (),
}
