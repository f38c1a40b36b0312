"""Named anomalies of the certificate stage, recorded on the connection row; never raised."""

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
