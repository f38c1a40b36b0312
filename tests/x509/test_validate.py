"""Validation classes at the connection's time, against an injected test root store."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import Store

from tests.x509.builders import (
    DAY,
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
from tlsmon.x509.validate import (
    STATUS_LEAF_UNPARSEABLE,
    STATUS_OK,
    ChainResult,
    Validator,
    ValidityClass,
    verify_chain,
)


@pytest.fixture(scope="module")
def store() -> Store:
    return Store([root()])


def check(store: Store, certs: list, at: dt.datetime = T0, is_client: bool = False) -> tuple[str, str]:
    result = verify_chain(store, chain_input(certs), at, is_client)
    return result.status, result.validity_class


def test_chain_to_the_injected_root_is_verifiable(store: Store) -> None:
    assert check(store, [leaf(), intermediate()]) == ("ok", "verifiable")


def test_the_hostname_plays_no_part_in_validity(store: Store) -> None:
    # The leaf names www.example.com; no SNI is involved at all.
    assert check(store, [leaf(["*.example.org"]), intermediate()]) == ("ok", "verifiable")


def test_verified_path_runs_from_leaf_to_root(store: Store) -> None:
    cert = leaf()
    result = verify_chain(store, chain_input([cert, intermediate()]), T0, False)
    assert result.path == (cert, intermediate(), root())


def test_expired_at_connection_time_though_valid_today(store: Store) -> None:
    now = dt.datetime.now(dt.UTC)
    cert = leaf(not_before=now - 10 * DAY, not_after=now + 30 * DAY)
    # A (future-dated) connection after the leaf's end: expired then, even though the leaf is valid today.
    status, klass = check(store, [cert, intermediate()], at=now + 60 * DAY)
    assert (status, klass) == ("cert is not valid at validation time", "expired")


def test_expired_today_but_valid_at_connection_time_is_verifiable(store: Store) -> None:
    cert = leaf(not_before=T0 - 10 * DAY, not_after=T0 + 10 * DAY)  # expired long before today
    assert check(store, [cert, intermediate()], at=T0) == ("ok", "verifiable")


def test_not_yet_valid_at_connection_time(store: Store) -> None:
    cert = leaf(not_before=T0 + 5 * DAY, not_after=T0 + 50 * DAY)
    assert check(store, [cert, intermediate()], at=T0) == ("cert is not valid at validation time", "not-yet-valid")


def test_expired_intermediate_makes_the_chain_expired(store: Store) -> None:
    old = make_cert(name("tlsmon Test Intermediate"), ROOT_NAME, ec_key("intermediate"), ec_key("root"),
                    ca=True, not_before=T0 - 100 * DAY, not_after=T0 - DAY, serial=3)
    cert = leaf(not_before=T0 - 50 * DAY, not_after=T0 + 50 * DAY)
    assert check(store, [cert, old])[1] == "expired"


def test_self_signed_leaf(store: Store) -> None:
    key = ec_key("self")
    cert = make_cert(name("self.example"), name("self.example"), key, key, ca=False, dns=["self.example"])
    assert check(store, [cert]) == (
        "candidates exhausted: all candidates exhausted with no interior errors",
        "self-signed",
    )


def test_self_signed_and_expired_is_self_signed(store: Store) -> None:
    key = ec_key("self")
    cert = make_cert(name("self.example"), name("self.example"), key, key, ca=False, dns=["self.example"],
                     not_before=T0 - 20 * DAY, not_after=T0 - 10 * DAY)
    assert check(store, [cert])[1] == "self-signed"


def test_missing_intermediate_is_broken(store: Store) -> None:
    assert check(store, [leaf()]) == (
        "candidates exhausted: all candidates exhausted with no interior errors",
        "broken",
    )


def test_unknown_root_is_broken() -> None:
    other = Store([make_cert(name("Other Root"), name("Other Root"), ec_key("other"), ec_key("other"), ca=True)])
    assert check(other, [leaf(), intermediate()])[1] == "broken"


def test_bad_signature_is_broken(store: Store) -> None:
    # Claims the test intermediate as issuer but is signed by another key.
    forged = make_cert(name("www.example.com"), name("tlsmon Test Intermediate"), ec_key("leaf"),
                       ec_key("forger"), ca=False, dns=["www.example.com"])
    assert check(store, [forged, intermediate()])[1] == "broken"


def test_expired_but_also_unknown_issuer_is_broken(store: Store) -> None:
    cert = leaf(not_before=T0 - 50 * DAY, not_after=T0 - DAY)
    assert check(store, [cert])[1] == "broken"


def test_rsa_1024_leaf_key_is_not_a_validation_failure(store: Store) -> None:
    # The verifier only refuses small RSA keys that sign; the leaf's weak key is its own flag (leaf_weak_key).
    assert check(store, [leaf(key=rsa_key("weak", 1024)), intermediate()]) == ("ok", "verifiable")


def test_rsa_1024_intermediate_is_broken(store: Store) -> None:
    weak = rsa_key("weak", 1024)
    weak_ca = make_cert(name("Weak Intermediate"), ROOT_NAME, weak, ec_key("root"), ca=True, serial=9)
    cert = make_cert(name("www.example.com"), name("Weak Intermediate"), ec_key("leaf"), weak, ca=False,
                     dns=["www.example.com"], not_before=T0 - DAY, not_after=T0 + DAY)
    status, klass = check(store, [cert, weak_ca])
    assert (status, klass) == ("candidates exhausted: RSA key is too weak", "broken")


def test_sha1_signed_leaf_is_broken(store: Store) -> None:
    cert = resigned_with_sha1(leaf(), ec_key("intermediate"))
    status, klass = check(store, [cert, intermediate()])
    assert (klass, status.startswith("candidates exhausted: Forbidden signature algorithm")) == ("broken", True)


def test_unparseable_leaf_is_broken(store: Store) -> None:
    assert check(store, [b"\x30\x03\x02\x01\x01", intermediate()]) == (STATUS_LEAF_UNPARSEABLE, "broken")


def test_unparseable_intermediate_is_skipped(store: Store) -> None:
    assert check(store, [leaf(), b"\x30\x00", intermediate()]) == (STATUS_OK, "verifiable")


def test_client_chain_uses_the_client_verifier(store: Store) -> None:
    cert = leaf(eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    assert check(store, [cert, intermediate()], is_client=True) == ("ok", "verifiable")
    assert check(store, [cert, intermediate()], is_client=False)[1] == "broken"


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
    assert (morning.validity_class, evening.validity_class) == ("verifiable", "expired")


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


def test_results_carry_the_class_enum() -> None:
    result = ChainResult("ok", ValidityClass.VERIFIABLE)
    assert (result.validity_class == "verifiable", str(ValidityClass.NOT_YET_VALID)) == (True, "not-yet-valid")
