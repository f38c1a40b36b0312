"""The corpus oracle for certificates: Zeek's x509.log fields, validate-certs outcomes and stapled OCSP status.

Each capture with a Zeek baseline runs once through the engine. Every x509.log row is checked field by field
against the certificate of the same fingerprint in tlsmon's certificates table (``host_cert``/``client_cert``
are or-ed over the rows of one capture, since tlsmon keeps one row per certificate). A certificate Zeek logged
that tlsmon did not see must be listed in :data:`NOT_SEEN` with the reason.

For the ssl.log baselines that validated chains, Zeek's ``validation_status`` must be one of the OpenSSL strings
that :data:`~tlsmon.x509.validate.ZEEK_VALIDATION_STATUS` (the mapping docs/certificates.md documents) gives for
tlsmon's ``validation_status``. Where the btest ran validate-certs with its intermediate cache (the default) and
that cache changed tlsmon's class, the cached class stands for the status (a class is also a status).
Disagreements are in
:data:`VALIDATION_DIFFERENCES`, each with the reason (Zeek's btests use their own root list and OpenSSL with
SHA-1 re-enabled; tlsmon uses Mozilla's 2026 roots and the Web PKI profile).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.corpus.location import CORPUS, requires_corpus
from tests.corpus.zeeklog import ssl_baseline_rows, zeek_str
from tlsmon.x509.status import ZEEK_VALIDATION_STATUS, ValidationStatus

pytestmark = requires_corpus

#: Captures whose certificates tlsmon does not see, and why (absence is allowed there, never required).
NOT_SEEN: dict[str, str] = {
    "zeek/Traces/rdp/rdp-x509.pcap": "RDP's own certificate exchange, not TLS",
    "zeek/Traces/tls/dtls1_0.pcap": "DTLS runs over UDP; tlsmon reads TCP",
    "zeek/Traces/tls/dtls1_2.pcap": "DTLS runs over UDP; tlsmon reads TCP",
    "zeek/Traces/mysql/encrypted.pcap": "TLS after the MySQL SSL request: needs the STARTTLS analyzers",
    "zeek/Traces/tls/irc-starttls.pcap": "TLS after IRC STARTTLS: needs the STARTTLS analyzers",
    "zeek/Traces/tls/smtp-starttls.pcap": "TLS after SMTP STARTTLS: needs the STARTTLS analyzers",
    "zeek/Traces/tls/imap-starttls.pcap": "TLS after IMAP STARTTLS: needs the STARTTLS analyzers",
    "zeek/Traces/tls/pop3-starttls.pcap": "TLS after POP3 STLS: needs the STARTTLS analyzers",
    "zeek/Traces/tls/xmpp-starttls.pcap": "TLS after XMPP STARTTLS: needs the STARTTLS analyzers",
    "zeek/Traces/globus-url-copy.pcap": "one GridFTP connection whose TLS tlsmon does not recognise (Zeek's "
    "gridftp analyzer finds it inside the FTP session); the other connections' certificates are compared",
}

#: (capture, server address, client port) → why Zeek's validation_status and tlsmon's differ (in every baseline
#: of that connection, with or without Zeek's intermediate cache).
VALIDATION_DIFFERENCES: dict[tuple[str, str, int], str] = {
    ("zeek/Traces/tls/tls-expired-cert.pcap", "87.98.220.10", 60539): (
        "the chain is expired and signed with SHA-1: cryptography's verifier stops at the SHA-1 signature "
        "(forbidden_algorithm), OpenSSL with SHA-1 re-enabled by the btest reports the expiry"
    ),
    ("zeek/Traces/tls/missing-intermediate.pcap", "128.32.169.140", 58529): (
        "cryptography's verifier cannot parse the leaf (its BasicConstraints encodes the DEFAULT cA FALSE, a DER "
        "violation OpenSSL tolerates): unparseable; OpenSSL gets as far as the missing intermediate"
    ),
    ("zeek/Traces/tls/missing-intermediate.pcap", "128.32.169.140", 58532): (
        "the same leaf: unparseable for cryptography; OpenSSL reports the missing intermediate without its cache "
        "and completes the chain from its intermediate cache with it (tlsmon's cache holds the same intermediate)"
    ),
    ("zeek/Traces/tls/CVE-2015-3194.pcap", "104.236.167.107", 52122): (
        "cryptography cannot load the leaf (its RSASSA-PSS parameters are truncated, the CVE's point): "
        "unparseable; OpenSSL loads it and reports a certificate signature failure"
    ),
    ("zeek/Traces/tls/signed_certificate_timestamp-2.pcap", "97.107.139.108", 51995): (
        "Let's Encrypt X3 chained to DST Root CA X3, which expired in 2021 and is no longer in Mozilla's "
        "store (certifi); Zeek's btest root list still has it"
    ),
}

#: Zeek btest baselines that validated without the intermediate cache.
NO_CACHE_BASELINES = ("scripts.policy.protocols.ssl.validate-certs-no-cache/",)

FIELDS = {
    "certificate.version": "certificate_version",
    "certificate.serial": "certificate_serial",
    "certificate.subject": "certificate_subject",
    "certificate.issuer": "certificate_issuer",
    "certificate.not_valid_before": "certificate_not_valid_before",
    "certificate.not_valid_after": "certificate_not_valid_after",
    "certificate.key_alg": "certificate_key_alg",
    "certificate.sig_alg": "certificate_sig_alg",
    "certificate.key_type": "certificate_key_type",
    "certificate.key_length": "certificate_key_length",
    "certificate.exponent": "certificate_exponent",
    "certificate.curve": "certificate_curve",
    "san.dns": "san_dns",
    "san.uri": "san_uri",
    "san.email": "san_email",
    "san.ip": "san_ip",
    "basic_constraints.ca": "basic_constraints_ca",
    "basic_constraints.path_len": "basic_constraints_path_len",
}


@dataclass(slots=True)
class Run:
    certificates: dict[str, object]  # fingerprint → CertificateRecord
    connections: list[object]  # ConnectionRecord


_RUNS: dict[str, Run] = {}


def run(rel: str) -> Run:
    cached = _RUNS.get(rel)
    if cached is None:
        from tlsmon.capture import CaptureSource
        from tlsmon.engine import Engine
        from tlsmon.recorder import MemorySink

        sink = MemorySink()
        engine = Engine(sink)
        engine.run(CaptureSource([CORPUS / rel]))
        engine.close()
        cached = Run({c.fingerprint: c for c in sink.certificates}, list(sink.records))
        _RUNS[rel] = cached
    return cached


def _x509_rows() -> dict[tuple[str, str], list[dict[str, str]]]:
    """(capture, fingerprint) → every x509.log row Zeek wrote for it, over all baselines of that capture."""
    from tests.corpus.zeeklog import parse_log

    rows: dict[tuple[str, str], list[dict[str, str]]] = {}
    if not CORPUS.is_dir():
        return rows
    for path in sorted((CORPUS / "zeek").glob("**/*.zeek-baselines/*/x509*.log")):
        capture = Path(str(path).split(".zeek-baselines")[0]).relative_to(CORPUS).as_posix()
        for block in parse_log(path.read_text()):
            for row in block.rows:
                rows.setdefault((capture, row["fingerprint"]), []).append(row)
    return rows


X509_ROWS = _x509_rows()


def _zeek_value(field: str, cell: str) -> object:
    if field.startswith("san."):
        return [] if cell in ("-", "(empty)") else cell.split(",")
    if cell == "-":
        return None
    if field == "basic_constraints.ca":
        return cell == "T"
    if field in ("certificate.version", "certificate.key_length", "basic_constraints.path_len"):
        return int(cell)
    if field.startswith("certificate.not_valid"):
        return int(float(cell)) * 1_000_000  # microseconds
    return cell


@pytest.mark.parametrize(("capture", "fingerprint"), sorted(X509_ROWS), ids=lambda v: str(v)[-40:])
def test_every_x509_log_field_equals_zeeks(capture: str, fingerprint: str) -> None:
    rows = X509_ROWS[(capture, fingerprint)]
    if not (CORPUS / capture).exists():
        pytest.skip(f"{capture} is not in the corpus")
    record = run(capture).certificates.get(fingerprint)
    if record is None:
        if capture in NOT_SEEN:
            pytest.skip(NOT_SEEN[capture])
        pytest.fail(f"tlsmon did not see certificate {fingerprint} of {capture}")
    assert hashlib.sha256(record.der).hexdigest() == fingerprint  # type: ignore[attr-defined]
    parsed = record.parsed  # type: ignore[attr-defined]
    ours = {field: getattr(parsed, name) for field, name in FIELDS.items()}
    zeeks = {field: _zeek_value(field, rows[0][field]) for field in FIELDS}
    ours["host_cert"] = record.host_cert  # type: ignore[attr-defined]
    ours["client_cert"] = record.client_cert  # type: ignore[attr-defined]
    zeeks["host_cert"] = any(r["host_cert"] == "T" for r in rows)
    zeeks["client_cert"] = any(r["client_cert"] == "T" for r in rows)
    assert ours == zeeks


def _validation_rows() -> list[tuple[str, str, dict[str, str]]]:
    if not CORPUS.is_dir():
        return []
    return [
        (row.baseline, row.trace, row.values)
        for row in ssl_baseline_rows(CORPUS)
        if zeek_str(row.values.get("validation_status", "-")) is not None
    ]


def _connection(capture: str, values: dict[str, str]) -> object:
    port = int(values["id.orig_p"])
    found = [
        r for r in run(capture).connections
        if r.conn.orig_p == port and r.conn.resp_h == values["id.resp_h"]  # type: ignore[attr-defined]
    ]
    assert len(found) == 1, f"{len(found)} connections from port {port} to {values['id.resp_h']}"
    return found[0]


@pytest.mark.parametrize(
    ("baseline", "capture", "values"),
    _validation_rows(),
    ids=lambda v: v if isinstance(v, str) else f"{v.get('id.resp_h')}:{v.get('id.orig_p')}",
)
def test_validate_certs_outcome_agrees_with_zeek(baseline: str, capture: str, values: dict[str, str]) -> None:
    record = _connection(capture, values)
    x509 = record.x509  # type: ignore[attr-defined]
    assert x509 is not None
    cached = not baseline.startswith(NO_CACHE_BASELINES)
    status = x509.validation_status
    if cached and x509.validity_class_cached != x509.validity_class:
        status = x509.validity_class_cached
    agrees = values["validation_status"] in ZEEK_VALIDATION_STATUS[ValidationStatus(status)]
    difference = VALIDATION_DIFFERENCES.get((capture, values["id.resp_h"], int(values["id.orig_p"])))
    if difference is not None:
        assert not agrees, f"no longer differs, remove the entry: {difference}"
        return
    assert agrees, f"Zeek: {values['validation_status']!r}, tlsmon: {status!r} ({x509.validation_detail!r})"


def _ocsp_rows() -> list[tuple[str, dict[str, str]]]:
    if not CORPUS.is_dir():
        return []
    return [
        (row.trace, row.values)
        for row in ssl_baseline_rows(CORPUS)
        if zeek_str(row.values.get("ocsp_status", "-")) is not None
    ]


@pytest.mark.parametrize(("capture", "values"), _ocsp_rows(), ids=lambda v: v if isinstance(v, str) else "")
def test_stapled_ocsp_status_equals_zeeks(capture: str, values: dict[str, str]) -> None:
    x509 = _connection(capture, values).x509  # type: ignore[attr-defined]
    assert (x509.ocsp_response_status, x509.ocsp_status, x509.ocsp_matches_leaf) == (
        "successful", values["ocsp_status"], True)


def test_self_signed_ml_dsa_certificate_is_classed_self_signed() -> None:
    [record] = [r for r in run("zeek/Traces/tls/ml-dsa-44-cert.pcap").connections if r.x509]  # type: ignore[attr-defined]
    assert (record.x509.validation_status, record.x509.validity_class, record.x509.leaf_weak_key) == (  # type: ignore[attr-defined]
        "self_signed", "self_signed", False)  # type: ignore[attr-defined]


def test_unparseable_leaf_keeps_der_hashes_and_error() -> None:
    # CVE-2015-3194: an RSASSA-PSS certificate with a truncated mask generation parameter.
    certs = run("zeek/Traces/tls/CVE-2015-3194.pcap").certificates
    [record] = certs.values()
    assert (record.fingerprint, record.parsed.parse_error is not None, record.cert) == (  # type: ignore[attr-defined]
        "81a29a60dfcea4e4e9e80dd277c1384b002db8601afc57bca2c2ef1377fd9872", True, None)
