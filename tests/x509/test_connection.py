"""ConnectionCertificates.summarize: the x509 columns of a connection, and stapled OCSP."""

from __future__ import annotations

import datetime as dt
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.verification import Store

from tests.x509.builders import DAY, T0, der, ec_key, intermediate, leaf, make_cert, name, ns, root, rsa_key
from tlsmon.x509.chains import X509_COLUMNS, ConnectionCertificates, X509Summary
from tlsmon.x509.ocsp import read_stapled
from tlsmon.x509.store import CertificateStore
from tlsmon.x509.validate import Validator


def checker() -> ConnectionCertificates:
    return ConnectionCertificates(CertificateStore(), Validator(Store([root()])))


def staple(cert: x509.Certificate, status: ocsp.OCSPCertStatus = ocsp.OCSPCertStatus.GOOD) -> bytes:
    revoked = T0 - DAY if status == ocsp.OCSPCertStatus.REVOKED else None
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=cert, issuer=intermediate(), algorithm=hashes.SHA1(), cert_status=status,
        this_update=T0 - DAY, next_update=T0 + 6 * DAY, revocation_time=revoked, revocation_reason=None,
    ).responder_id(ocsp.OCSPResponderEncoding.HASH, intermediate())
    response = builder.sign(ec_key("intermediate"), hashes.SHA256())
    return response.public_bytes(serialization.Encoding.DER)


def test_columns_are_the_summary_fields_in_order() -> None:
    assert X509_COLUMNS.names() == [n for n in X509Summary.__dataclass_fields__ if n != "anomalies"]


def test_nothing_to_say_without_certificates_or_staple() -> None:
    assert checker().summarize([], [], "www.example.com", None, ns(T0)) is None


def test_verifiable_server_chain_with_matching_sni() -> None:
    out = checker().summarize([der(leaf()), der(intermediate())], [], "www.example.com", None, ns(T0))
    assert out is not None
    assert (out.validation_status, out.validation_detail, out.validity_class, out.validity_class_cached,
            out.sni_matches_cert, out.leaf_weak_key, out.leaf_weak_sig, out.leaf_tor_like, out.anomalies) == (
        "verifiable", None, "verifiable", "verifiable", True, False, False, False, [])


def test_leaf_fingerprint_is_the_certificates_table_key() -> None:
    c = checker()
    cert = der(leaf())
    out = c.summarize([cert, der(intermediate())], [], None, None, ns(T0))
    assert out is not None
    [leaf_record] = [r for r in c.store.records() if r.host_cert]
    assert (out.leaf_fingerprint, out.client_leaf_fingerprint) == (hashlib.sha256(cert).hexdigest(), None)
    assert out.leaf_fingerprint == leaf_record.fingerprint


def test_client_leaf_fingerprint_when_the_client_sent_a_chain() -> None:
    client = leaf(["client.example.com"], eku=[x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH])
    out = checker().summarize([], [der(client), der(intermediate())], None, None, ns(T0))
    assert out is not None
    assert (out.leaf_fingerprint, out.client_leaf_fingerprint, out.validation_status) == (
        None, hashlib.sha256(der(client)).hexdigest(), None)


def test_unparseable_leaf_still_has_its_fingerprint() -> None:
    out = checker().summarize([b"\x30\x03\x02\x01\x01"], [], None, None, ns(T0))
    assert out is not None
    assert out.leaf_fingerprint == hashlib.sha256(b"\x30\x03\x02\x01\x01").hexdigest()


def test_wrong_hostname_is_its_own_column() -> None:
    out = checker().summarize([der(leaf()), der(intermediate())], [], "mail.example.org", None, ns(T0))
    assert out is not None
    assert (out.validity_class, out.sni_matches_cert) == ("verifiable", False)


def test_no_sni_leaves_the_match_null() -> None:
    out = checker().summarize([der(leaf()), der(intermediate())], [], None, None, ns(T0))
    assert out is not None and out.sni_matches_cert is None


def test_weak_leaf_key_is_flagged() -> None:
    out = checker().summarize([der(leaf(key=rsa_key("weak", 1024))), der(intermediate())], [], None, None, ns(T0))
    assert out is not None and (out.leaf_weak_key, out.validity_class) == (True, "verifiable")


def test_tor_like_leaf() -> None:
    cert = make_cert(name("www.abcdefgh234.net"), name("www.zyxwvu7654.com"), ec_key("tor"), ec_key("tor-id"),
                     ca=False)
    out = checker().summarize([der(cert)], [], None, None, ns(T0))
    assert out is not None and (out.leaf_tor_like, out.validity_class) == (True, "broken")


def test_unparseable_certificate_is_an_anomaly_and_broken() -> None:
    out = checker().summarize([b"\x30\x03\x02\x01\x01"], [], "www.example.com", None, ns(T0))
    assert out is not None
    assert (out.validation_status, out.validity_class, out.sni_matches_cert, out.anomalies) == (
        "unparseable", "broken", None, ["x509.certificate_unparseable"])


def test_client_chain_is_validated_for_client_authentication() -> None:
    client = leaf(["client.example.com"], eku=[x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH])
    out = checker().summarize([der(leaf()), der(intermediate())], [der(client), der(intermediate())], None, None,
                              ns(T0))
    assert out is not None
    assert (out.client_validation_status, out.client_validation_detail, out.client_validity_class,
            out.client_validity_class_cached) == ("verifiable", None, "verifiable", "verifiable")


def test_chains_go_to_the_store() -> None:
    c = checker()
    c.summarize([der(leaf()), der(intermediate())], [], None, None, ns(T0))
    assert [r.host_cert for r in c.store.records()] == [True, False]


def test_stapled_good_response_about_the_leaf() -> None:
    cert = leaf()
    out = checker().summarize([der(cert), der(intermediate())], [], None, staple(cert), ns(T0))
    assert out is not None
    assert (out.ocsp_response_status, out.ocsp_status, out.ocsp_this_update, out.ocsp_next_update,
            out.ocsp_matches_leaf) == ("successful", "good", ns(T0 - DAY) // 1000, ns(T0 + 6 * DAY) // 1000, True)


def test_stapled_revoked_response() -> None:
    cert = leaf()
    assert read_stapled(staple(cert, ocsp.OCSPCertStatus.REVOKED), cert, intermediate()).cert_status == "revoked"


def test_stapled_response_about_another_certificate() -> None:
    other = make_cert(name("other"), name("tlsmon Test Intermediate"), ec_key("leaf"), ec_key("intermediate"),
                      ca=False, serial=0x77)
    result = read_stapled(staple(other), leaf(), intermediate())
    assert (result.cert_status, result.matches_leaf) == ("good", False)


def test_unsuccessful_response_has_only_its_status() -> None:
    response = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.TRY_LATER)
    result = read_stapled(response.public_bytes(serialization.Encoding.DER), leaf(), intermediate())
    assert (result.response_status, result.cert_status, result.matches_leaf, result.anomaly) == (
        "tryLater", None, None, None)


def test_malformed_staple_is_an_anomaly() -> None:
    out = checker().summarize([der(leaf()), der(intermediate())], [], None, b"\x30\x03\x0a\x01", ns(T0))
    assert out is not None
    assert (out.ocsp_response_status, out.ocsp_status, out.anomalies) == (
        None, None, ["x509.ocsp_response_malformed"])


def test_expired_at_connection_time_class_reaches_the_row() -> None:
    cert = leaf(not_before=T0 - 30 * DAY, not_after=T0 - DAY)
    out = checker().summarize([der(cert), der(intermediate())], [], None, None, ns(T0 + dt.timedelta(hours=1)))
    assert out is not None and (out.validation_status, out.validation_detail, out.validity_class) == (
        "expired", "cert is not valid at validation time", "expired")
