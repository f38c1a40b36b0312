"""Validation statuses and classes at the connection's time, against an injected test root store.

``check`` returns (validation_status, validity_class, validation_detail): the two vocabularies and the verifier's
own message, which the status is read from.
"""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import Store

from tests.x509.builders import (
    DAY,
    INTERMEDIATE_NAME,
    ROOT_NAME,
    T0,
    chain_input,
    ec_key,
    intermediate,
    leaf,
    make_cert,
    name,
    ns,
    resigned_with_sha1,
    root,
    rsa_key,
)
from tlsmon.x509.status import STATUS_CLASS, ZEEK_VALIDATION_STATUS, ValidationStatus, ValidityClass
from tlsmon.x509.validate import DETAIL_LEAF_UNPARSEABLE, ChainResult, Validator, message_status, verify_chain

NO_ISSUER = "candidates exhausted: all candidates exhausted with no interior errors"
NOT_VALID = "cert is not valid at validation time"


@pytest.fixture(scope="module")
def store() -> Store:
    return Store([root()])


def check(
    store: Store, certs: list, at: dt.datetime = T0, is_client: bool = False
) -> tuple[str, str, str | None]:
    result = verify_chain(store, chain_input(certs), at, is_client)
    return result.status, result.validity_class, result.detail


def test_chain_to_the_injected_root_is_verifiable(store: Store) -> None:
    assert check(store, [leaf(), intermediate()]) == ("verifiable", "verifiable", None)


def test_the_hostname_plays_no_part_in_validity(store: Store) -> None:
    # The leaf names www.example.com; no SNI is involved at all.
    assert check(store, [leaf(["*.example.org"]), intermediate()]) == ("verifiable", "verifiable", None)


def test_verified_path_runs_from_leaf_to_root(store: Store) -> None:
    cert = leaf()
    result = verify_chain(store, chain_input([cert, intermediate()]), T0, False)
    assert result.path == (cert, intermediate(), root())


def test_expired_at_connection_time_though_valid_today(store: Store) -> None:
    now = dt.datetime.now(dt.UTC)
    cert = leaf(not_before=now - 10 * DAY, not_after=now + 30 * DAY)
    # A (future-dated) connection after the leaf's end: expired then, even though the leaf is valid today.
    assert check(store, [cert, intermediate()], at=now + 60 * DAY) == ("expired", "expired", NOT_VALID)


def test_expired_today_but_valid_at_connection_time_is_verifiable(store: Store) -> None:
    cert = leaf(not_before=T0 - 10 * DAY, not_after=T0 + 10 * DAY)  # expired long before today
    assert check(store, [cert, intermediate()], at=T0) == ("verifiable", "verifiable", None)


def test_not_yet_valid_at_connection_time(store: Store) -> None:
    cert = leaf(not_before=T0 + 5 * DAY, not_after=T0 + 50 * DAY)
    assert check(store, [cert, intermediate()], at=T0) == ("not_yet_valid", "not_yet_valid", NOT_VALID)


def test_expired_intermediate_makes_the_chain_expired(store: Store) -> None:
    old = make_cert(name("tlsmon Test Intermediate"), ROOT_NAME, ec_key("intermediate"), ec_key("root"),
                    ca=True, not_before=T0 - 100 * DAY, not_after=T0 - DAY, serial=3)
    cert = leaf(not_before=T0 - 50 * DAY, not_after=T0 + 50 * DAY)
    assert check(store, [cert, old])[:2] == ("expired", "expired")


def test_self_signed_leaf(store: Store) -> None:
    key = ec_key("self")
    cert = make_cert(name("self.example"), name("self.example"), key, key, ca=False, dns=["self.example"])
    assert check(store, [cert]) == ("self_signed", "self_signed", NO_ISSUER)


def test_self_signed_and_expired_is_self_signed(store: Store) -> None:
    key = ec_key("self")
    cert = make_cert(name("self.example"), name("self.example"), key, key, ca=False, dns=["self.example"],
                     not_before=T0 - 20 * DAY, not_after=T0 - 10 * DAY)
    assert check(store, [cert])[:2] == ("self_signed", "self_signed")


def test_missing_intermediate_is_an_unknown_issuer(store: Store) -> None:
    assert check(store, [leaf()]) == ("unknown_issuer", "broken", NO_ISSUER)


def test_unknown_root_is_an_unknown_issuer() -> None:
    other = Store([make_cert(name("Other Root"), name("Other Root"), ec_key("other"), ec_key("other"), ca=True)])
    assert check(other, [leaf(), intermediate()]) == ("unknown_issuer", "broken", NO_ISSUER)


def test_untrusted_root_sent_in_the_chain_is_self_signed_in_chain() -> None:
    # The chain ends in a self-signed root the store does not hold; the verifier, offered that root as an
    # intermediate, loops on it until its depth limit: OpenSSL says "self signed certificate in certificate chain".
    other = Store([make_cert(name("Other Root"), name("Other Root"), ec_key("other"), ec_key("other"), ca=True)])
    assert check(other, [leaf(), intermediate(), root()]) == (
        "self_signed_in_chain", "broken", "candidates exhausted: chain construction exceeds max depth")


def test_a_self_signed_certificate_off_the_leaf_path_is_not_in_chain() -> None:
    # The sent root is not the intermediate's issuer, so the chain does not lead to it.
    other = Store([make_cert(name("Other Root"), name("Other Root"), ec_key("other"), ec_key("other"), ca=True)])
    stray = make_cert(name("Stray Root"), name("Stray Root"), ec_key("stray"), ec_key("stray"), ca=True)
    assert check(other, [leaf(), intermediate(), stray])[:2] == ("unknown_issuer", "broken")


def test_bad_signature_is_broken(store: Store) -> None:
    # Claims the test intermediate as issuer but is signed by another key.
    forged = make_cert(name("www.example.com"), name("tlsmon Test Intermediate"), ec_key("leaf"),
                       ec_key("forger"), ca=False, dns=["www.example.com"])
    assert check(store, [forged, intermediate()]) == (
        "bad_signature", "broken", "candidates exhausted: signature does not match")


def test_expired_but_also_unknown_issuer_is_broken(store: Store) -> None:
    # The status comes from the verifier's second answer, at the leaf's last valid second: no issuer.
    cert = leaf(not_before=T0 - 50 * DAY, not_after=T0 - DAY)
    assert check(store, [cert]) == ("unknown_issuer", "broken", NO_ISSUER)


def test_validity_periods_that_never_overlap_are_broken(store: Store) -> None:
    old = make_cert(name("tlsmon Test Intermediate"), ROOT_NAME, ec_key("intermediate"), ec_key("root"),
                    ca=True, not_before=T0 - 100 * DAY, not_after=T0 - 60 * DAY, serial=3)
    cert = leaf(not_before=T0 - 50 * DAY, not_after=T0 + 50 * DAY)
    assert check(store, [cert, old]) == ("broken", "broken", "candidates exhausted: " + NOT_VALID)


def test_rsa_1024_leaf_key_is_not_a_validation_failure(store: Store) -> None:
    # The verifier only refuses small RSA keys that sign; the leaf's weak key is its own flag (leaf_weak_key).
    assert check(store, [leaf(key=rsa_key("weak", 1024)), intermediate()]) == ("verifiable", "verifiable", None)


def test_rsa_1024_intermediate_is_a_weak_key(store: Store) -> None:
    weak = rsa_key("weak", 1024)
    weak_ca = make_cert(name("Weak Intermediate"), ROOT_NAME, weak, ec_key("root"), ca=True, serial=9)
    cert = make_cert(name("www.example.com"), name("Weak Intermediate"), ec_key("leaf"), weak, ca=False,
                     dns=["www.example.com"], not_before=T0 - DAY, not_after=T0 + DAY)
    assert check(store, [cert, weak_ca]) == ("weak_key", "broken", "candidates exhausted: RSA key is too weak")


def test_sha1_signed_leaf_is_a_forbidden_algorithm(store: Store) -> None:
    cert = resigned_with_sha1(leaf(), ec_key("intermediate"))
    status, klass, detail = check(store, [cert, intermediate()])
    assert (status, klass, detail is not None and detail.startswith(
        "candidates exhausted: Forbidden signature algorithm")) == ("forbidden_algorithm", "broken", True)


def test_server_leaf_without_server_auth_is_the_wrong_purpose(store: Store) -> None:
    cert = leaf(eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    assert check(store, [cert, intermediate()]) == ("wrong_purpose", "broken", "required EKU not found")


def test_ca_certificate_as_leaf_is_a_profile_violation(store: Store) -> None:
    cert = make_cert(name("ca-leaf.example"), INTERMEDIATE_NAME, ec_key("leaf"), ec_key("intermediate"), ca=True,
                     dns=["ca-leaf.example"])
    assert check(store, [cert, intermediate()]) == (
        "profile_violation", "broken", "basicConstraints.cA must not be asserted in an EE certificate")


def test_leaf_without_subject_alt_name_is_a_profile_violation(store: Store) -> None:
    assert check(store, [leaf(dns=()), intermediate()]) == (
        "profile_violation", "broken", "missing required extension: leaf server certificate has no subjectAltName")


def test_unparseable_leaf_is_broken(store: Store) -> None:
    assert check(store, [b"\x30\x03\x02\x01\x01", intermediate()]) == (
        "unparseable", "broken", DETAIL_LEAF_UNPARSEABLE)


def test_unparseable_intermediate_is_skipped(store: Store) -> None:
    assert check(store, [leaf(), b"\x30\x00", intermediate()]) == ("verifiable", "verifiable", None)


def test_client_chain_uses_the_client_verifier(store: Store) -> None:
    cert = leaf(eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    assert check(store, [cert, intermediate()], is_client=True) == ("verifiable", "verifiable", None)
    assert check(store, [cert, intermediate()], is_client=False)[:2] == ("wrong_purpose", "broken")


def test_validator_caches_per_chain_and_day(store: Store) -> None:
    validator = Validator(store)
    chain = chain_input([leaf(), intermediate()])
    first, _ = validator.validate(chain, ns(T0), is_client=False)
    later, _ = validator.validate(chain, ns(T0 + dt.timedelta(hours=5)), is_client=False)
    next_day, _ = validator.validate(chain, ns(T0 + DAY), is_client=False)
    assert (later is first, next_day is first, next_day == first) == (True, False, True)


def test_cache_never_hides_an_expiry_during_the_day(store: Store) -> None:
    validator = Validator(store)
    ends = T0 + dt.timedelta(hours=12)
    chain = chain_input([leaf(not_before=T0 - 10 * DAY, not_after=ends), intermediate()])
    morning, _ = validator.validate(chain, ns(T0 + dt.timedelta(hours=1)), is_client=False)
    evening, _ = validator.validate(chain, ns(T0 + dt.timedelta(hours=20)), is_client=False)
    assert (morning.status, evening.status) == ("verifiable", "expired")


def test_cached_mode_completes_a_chain_with_an_intermediate_seen_earlier(store: Store) -> None:
    validator = Validator(store)
    full = chain_input([leaf(["a.example.com"]), intermediate()])
    bare = chain_input([leaf(["b.example.com"])])
    before = validator.validate(bare, ns(T0), is_client=False)
    validator.validate(full, ns(T0), is_client=False)
    after = validator.validate(bare, ns(T0), is_client=False)
    classes = [(plain.validity_class, cached.validity_class) for plain, cached in (before, after)]
    assert classes == [("broken", "broken"), ("broken", "verifiable")]


def test_cached_mode_equals_plain_for_a_complete_chain(store: Store) -> None:
    plain, cached = Validator(store).validate(chain_input([leaf(), intermediate()]), ns(T0), is_client=False)
    assert cached is plain


def test_results_carry_the_enums() -> None:
    result = ChainResult(ValidationStatus.VERIFIABLE, ValidityClass.VERIFIABLE)
    assert (result.status == "verifiable", str(ValidityClass.NOT_YET_VALID), str(ValidationStatus.SELF_SIGNED)) == (
        True, "not_yet_valid", "self_signed")


def test_each_status_has_one_class() -> None:
    classes = {status.value: klass.value for status, klass in STATUS_CLASS.items()}
    assert classes == {
        "verifiable": "verifiable", "expired": "expired", "not_yet_valid": "not_yet_valid",
        "self_signed": "self_signed", "self_signed_in_chain": "broken", "unknown_issuer": "broken",
        "bad_signature": "broken", "forbidden_algorithm": "broken", "weak_key": "broken", "wrong_purpose": "broken",
        "name_constraint_violation": "broken", "path_too_long": "broken", "profile_violation": "broken",
        "unparseable": "broken", "broken": "broken",
    }


def test_every_status_has_a_zeek_mapping_entry() -> None:
    assert set(ZEEK_VALIDATION_STATUS) == set(ValidationStatus)


@pytest.mark.parametrize(("message", "status"), [
    ("candidates exhausted: path length constraint violated", "path_too_long"),
    ("candidates exhausted: no permitted name constraints matched SAN", "name_constraint_violation"),
    ("candidates exhausted: excluded name constraint matched SAN", "name_constraint_violation"),
    ("candidates exhausted: issuer has malformed public key", "bad_signature"),
    ("candidates exhausted: Forbidden public key algorithm: AlgorithmIdentifier { … }", "forbidden_algorithm"),
    ("Neither EKU nor anyEKU could be found", "wrong_purpose"),
    ("certificate must be an X509v3 certificate", "profile_violation"),
    ("certificate serial number cannot be negative", "profile_violation"),
    ("invalid extension: 2.5.29.17: duplicate extension", "profile_violation"),
    ("validity dates between 1950 and 2049 must be UtcTime", "profile_violation"),
    ("ASN.1 parsing error: invalid length", "unparseable"),
    ("fatal error: Exceeded maximum signature check limit", "broken"),
    ("ValueError", "broken"),
])
def test_verifier_messages_without_a_chain_of_their_own(message: str, status: str) -> None:
    # The verifier's policy messages that the chains above do not reach.
    assert message_status(message) == status
