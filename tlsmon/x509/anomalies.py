"""Named anomalies of the certificate stage, recorded on the connection row (or, for a certificate's own values,
on its row of the certificates table); never raised."""

from __future__ import annotations

from enum import StrEnum


class X509Anomaly(StrEnum):
    #: A certificate of the chain could not be loaded by cryptography (malformed DER, unknown structure).
    CERTIFICATE_UNPARSEABLE = "x509.certificate_unparseable"
    #: The stapled OCSP response (RFC 6960 §4.2.1) is not DER cryptography can read, or has no single response.
    OCSP_RESPONSE_MALFORMED = "x509.ocsp_response_malformed"
    #: A value too large for its column (a pathLenConstraint beyond int32): clamped, the DER keeps the original.
    VALUE_OUT_OF_RANGE = "x509.value_out_of_range"
    #: A date its column cannot hold (the writer's last resort; certificate dates are stored in microseconds,
    #: which hold every date from 0001 to 9999): nulled.
    DATE_OUT_OF_RANGE = "x509.date_out_of_range"
    #: A validity time in a form DER forbids but OpenSSL reads (UTCTime without seconds, a UTC offset instead
    #: of Z, GeneralizedTime with fractional seconds), in a certificate cryptography refuses: read as OpenSSL
    #: reads it (the offset applied). On the certificate's row.
    NON_DER_TIME = "x509.non_der_time"
    #: A validity time no calendar reading makes a date of (month 13, February 30, hour 24, no time zone,
    #: year 0000, not a time type at all): the column is null. On the certificate's row.
    INVALID_TIME = "x509.invalid_time"
    #: A certificate cryptography refuses holds more subject or issuer attributes, or SubjectAltName entries,
    #: than Limits.max_certificate_names: the first ones are kept. On the certificate's row.
    TOO_MANY_NAMES = "x509.too_many_names"
