"""Chain validation against the root store at the connection's time: the status vocabulary, the classes, caches.

A chain (the certificates a server or client sent, in order) is verified by ``cryptography.x509.verification``
(RFC 5280 path building with the CA/B Forum Web PKI profile, as a current client would) at the connection's
start time, never today. Hostnames play no part: a server chain is verified for a name taken from the leaf's
own SAN (``*`` replaced by a label), a client chain with the client verifier; whether the SNI matches is a
separate question (:mod:`tlsmon.x509.hostname`), which is why there is no ``hostname_mismatch`` status.

Theory of operation. The verifier stops at the first problem and says which in free text (its message, kept
without the trailing ``(encountered processing <Certificate …>)`` as ``validation_detail``), so the result is
made of two fixed vocabularies read from that message and from a few checks of our own:

``validation_status`` (:class:`ValidationStatus`), first rule that applies:

1. ``unparseable``: cryptography cannot load the leaf (the verifier's own parse errors give it in rule 5).
2. ``verifiable``: the verifier accepts the chain at the connection's time.
3. ``self_signed``: the leaf is self-issued and its signature verifies with its own key.
4. ``expired`` / ``not_yet_valid``: some sent certificate is outside its validity at the connection's time,
   and the verifier accepts the chain at the latest (for expired) or earliest (not yet valid) time at which
   every sent certificate is valid. When it still refuses the chain then, the status is read from that
   second message (the chain is broken for another reason too); when the sent certificates are never valid
   at one time, or a certificate that was not sent (a root) is out of its validity, it is ``broken``.
5. Otherwise the verifier's message says which: ``unknown_issuer`` (no issuer for the chain's last
   certificate: a missing intermediate or a root not in the store), ``self_signed_in_chain`` (the same, but
   the sent chain leads from the leaf to a self-signed certificate the store does not hold),
   ``bad_signature``, ``forbidden_algorithm`` (a signature or key algorithm the Web PKI forbids: SHA-1, MD5,
   DSA …), ``weak_key`` (an RSA signing key under 2048 bits), ``wrong_purpose`` (no serverAuth/clientAuth
   extended key usage), ``name_constraint_violation``, ``path_too_long`` (a pathLenConstraint or the
   verifier's depth limit), ``profile_violation`` (a certificate the Web PKI profile refuses though OpenSSL
   accepts it: a CA certificate as leaf, a leaf without SAN, a v1 certificate, a negative or over-long
   serial, an invalid or duplicate extension …), and ``broken`` for anything else.

There is no ``no_certificate`` status: the validator only sees chains, and a connection without one has a
null status, since tlsmon cannot tell a chain not sent from one it could not see (TLS 1.3 encrypts it, a
resumption sends none).

``validity_class`` (:class:`ValidityClass`) is the coarse class each status belongs to
(:data:`~tlsmon.x509.status.STATUS_CLASS`): ``verifiable``, ``self_signed``, ``expired``, ``not_yet_valid``, and
``broken`` for every other status. :data:`~tlsmon.x509.status.ZEEK_VALIDATION_STATUS` maps each status to the
OpenSSL strings Zeek's ssl.log ``validation_status`` holds for such a chain. The vocabulary is declared in
:mod:`tlsmon.x509.status` (no cryptography there, so that the schema does not need it).

The cached mode (``validity_class_cached``) runs the same rules with the intermediates of every chain that
verified earlier in the run offered as extra untrusted intermediates, as Zeek's ``validate-certs`` does with
its intermediate cache; a chain that verifies on its own gets the same result in both modes.

Results are cached per (chain fingerprints, role, UTC day): a busy server costs one validation per day, not one
per connection. When a certificate of the chain starts or stops being valid on that day, the key uses the
second instead, so the cache never changes a result. The cached mode's key also holds the number of
intermediates known, which only grows and soon stops changing.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import DNSName, IPAddress
from cryptography.x509.verification import PolicyBuilder, Store, Subject, VerificationError

from tlsmon.limits import DEFAULT_LIMITS
from tlsmon.x509.roots import mozilla_store
from tlsmon.x509.status import STATUS_CLASS, ValidationStatus, ValidityClass

K = TypeVar("K")
V = TypeVar("V")

NS_PER_SECOND = 1_000_000_000
SECONDS_PER_DAY = 86_400
DETAIL_LEAF_UNPARSEABLE = "leaf certificate could not be parsed"

_ENCOUNTERED = re.compile(r"\s*\(encountered processing .*\)\s*$", re.S)
_PREFIX = "validation failed: "
_EXHAUSTED = "candidates exhausted: "
_NO_ISSUER = "all candidates exhausted with no interior errors"
_TOO_DEEP = "chain construction exceeds max depth"
_NOT_VALID_NOW = "cert is not valid at validation time"
_WILDCARD_LABEL = "wildcard"
#: Signature checks spent looking for a self-signed certificate in a sent chain (a hostile chain of 32
#: certificates with one subject could otherwise cost 32 * 31); the verifier's own budget is 128.
MAX_CHAIN_WALK_SIGNATURES = 64


# The verifier's messages (cryptography-x509-verification's policy), by the status they give: the first
# pattern found in the message (after "candidates exhausted: ") wins.
_MESSAGE_STATUS: tuple[tuple[str, ValidationStatus], ...] = (
    (_NO_ISSUER, ValidationStatus.UNKNOWN_ISSUER),
    (_TOO_DEEP, ValidationStatus.PATH_TOO_LONG),
    ("path length constraint", ValidationStatus.PATH_TOO_LONG),
    ("signature does not match", ValidationStatus.BAD_SIGNATURE),
    ("issuer has malformed public key", ValidationStatus.BAD_SIGNATURE),
    ("Forbidden signature algorithm", ValidationStatus.FORBIDDEN_ALGORITHM),
    ("Forbidden public key algorithm", ValidationStatus.FORBIDDEN_ALGORITHM),
    ("key is too weak", ValidationStatus.WEAK_KEY),
    ("invalid extension", ValidationStatus.PROFILE_VIOLATION),  # an extension's own encoding or criticality
    ("EKU", ValidationStatus.WRONG_PURPOSE),
    ("name constraint", ValidationStatus.NAME_CONSTRAINT_VIOLATION),
    ("directoryName matching", ValidationStatus.NAME_CONSTRAINT_VIOLATION),
    ("ASN.1 parsing error", ValidationStatus.UNPARSEABLE),
    ("error parsing asn1", ValidationStatus.UNPARSEABLE),
    ("extension", ValidationStatus.PROFILE_VIOLATION),
    ("subjectAltName", ValidationStatus.PROFILE_VIOLATION),
    ("basicConstraints", ValidationStatus.PROFILE_VIOLATION),
    ("keyUsage", ValidationStatus.PROFILE_VIOLATION),
    ("authorityKeyIdentifier", ValidationStatus.PROFILE_VIOLATION),
    ("X509v3", ValidationStatus.PROFILE_VIOLATION),
    ("serial", ValidationStatus.PROFILE_VIOLATION),
    ("non-empty Issuer", ValidationStatus.PROFILE_VIOLATION),
    ("must be UtcTime", ValidationStatus.PROFILE_VIOLATION),
    ("mismatch between signatureAlgorithm", ValidationStatus.PROFILE_VIOLATION),
)


@dataclass(frozen=True, slots=True)
class ChainResult:
    status: ValidationStatus
    validity_class: ValidityClass
    detail: str | None = None  # the verifier's message behind the status; None when verifiable
    path: tuple[x509.Certificate, ...] = ()  # leaf … trust anchor, when verifiable


@dataclass(frozen=True, slots=True)
class ChainInput:
    """A chain as the validator needs it: fingerprints (the cache key) and cryptography objects."""

    fingerprints: tuple[str, ...]
    certs: tuple[x509.Certificate | None, ...]  # None where cryptography could not load the DER
    san_dns: tuple[str, ...]
    san_ip: tuple[str, ...]
    self_signed_leaf: bool


def verify_chain(
    store: Store,
    chain: ChainInput,
    at: dt.datetime,
    is_client: bool,
    extra: Sequence[x509.Certificate] = (),
) -> ChainResult:
    """Verify and classify one chain at time ``at`` (no caching)."""
    leaf = chain.certs[0] if chain.certs else None
    if leaf is None:
        return _result(ValidationStatus.UNPARSEABLE, DETAIL_LEAF_UNPARSEABLE)
    sent = [c for c in chain.certs[1:] if c is not None]
    intermediates = [*sent, *extra]
    result = _verify(store, chain, leaf, intermediates, at, is_client)
    if isinstance(result, tuple):
        return ChainResult(ValidationStatus.VERIFIABLE, ValidityClass.VERIFIABLE, None, result)
    if chain.self_signed_leaf:
        return _result(ValidationStatus.SELF_SIGNED, result)
    if _inner(result) != _NOT_VALID_NOW:
        return _result(message_status(result, leaf, sent), result)
    all_sent = [leaf, *sent]
    latest_start = max(c.not_valid_before_utc for c in all_sent)
    earliest_end = min(c.not_valid_after_utc for c in all_sent)
    if latest_start <= earliest_end:
        if at > earliest_end:
            retry, status = earliest_end, ValidationStatus.EXPIRED
        elif at < latest_start:
            retry, status = latest_start, ValidationStatus.NOT_YET_VALID
        else:  # every sent certificate is valid then: a certificate of the store is not
            return _result(ValidationStatus.BROKEN, result)
        second = _verify(store, chain, leaf, intermediates, retry, is_client)
        if isinstance(second, tuple):
            return _result(status, result)
        if _inner(second) != _NOT_VALID_NOW:
            return _result(message_status(second, leaf, sent), second)
    return _result(ValidationStatus.BROKEN, result)


def _result(status: ValidationStatus, detail: str) -> ChainResult:
    return ChainResult(status, STATUS_CLASS[status], detail)


def message_status(
    message: str, leaf: x509.Certificate | None = None, sent: Sequence[x509.Certificate] = ()
) -> ValidationStatus:
    """The status a verifier message gives; with the chain, an issuer search that ends in a sent self-signed
    certificate is ``self_signed_in_chain``."""
    inner = _inner(message)
    if inner in (_NO_ISSUER, _TOO_DEEP) and leaf is not None and _reaches_self_signed(leaf, sent):
        return ValidationStatus.SELF_SIGNED_IN_CHAIN
    return next((status for pattern, status in _MESSAGE_STATUS if pattern in inner), ValidationStatus.BROKEN)


def _inner(message: str) -> str:
    return message.removeprefix(_EXHAUSTED)


def _reaches_self_signed(leaf: x509.Certificate, sent: Sequence[x509.Certificate]) -> bool:
    """Whether issuer links among the sent certificates (name and signature) lead from the leaf to a
    self-signed certificate, as OpenSSL's chain building does before it reports one in the chain."""
    budget = MAX_CHAIN_WALK_SIGNATURES
    current = leaf
    used = {id(leaf)}
    while True:
        issuer = None
        for cand in sent:
            if id(cand) in used or cand.subject != current.issuer:
                continue
            if budget <= 0:
                return False
            budget -= 1
            if _signed_by(current, cand):
                issuer = cand
                break
        if issuer is None:
            return False
        if issuer.subject == issuer.issuer:
            budget -= 1
            return budget >= 0 and _signed_by(issuer, issuer)
        used.add(id(issuer))
        current = issuer


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except Exception:  # InvalidSignature, unsupported algorithm, mismatched names
        return False
    return True


def _verify(
    store: Store,
    chain: ChainInput,
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    at: dt.datetime,
    is_client: bool,
) -> tuple[x509.Certificate, ...] | str:
    """The verified path, or the verifier's message."""
    builder = PolicyBuilder().store(store).time(at)
    try:
        if is_client:
            return tuple(builder.build_client_verifier().verify(leaf, intermediates).chain)
        return tuple(builder.build_server_verifier(_own_subject(chain)).verify(leaf, intermediates))
    except VerificationError as exc:
        return _detail(exc)
    except Exception as exc:  # anything else from the verifier is a fault of the chain, never of the run
        return _detail(exc) or type(exc).__name__


def _detail(exc: Exception) -> str:
    text = _ENCOUNTERED.sub("", str(exc))
    return text.removeprefix(_PREFIX)


def _own_subject(chain: ChainInput) -> Subject:
    """A name the leaf was issued for, so that the server verifier checks everything but the hostname."""
    for name in chain.san_dns:
        if name.startswith("*."):
            name = _WILDCARD_LABEL + name[1:]
        try:
            return DNSName(name)
        except ValueError:
            continue
    for text in chain.san_ip:
        try:
            return IPAddress(ipaddress.ip_address(text))
        except ValueError:
            continue
    return DNSName("leaf-without-subject-alt-name.invalid")


class BoundedCache(Generic[K, V]):
    """A dict that keeps its ``max_entries`` most recently used keys (traffic chooses the chains)."""

    __slots__ = ("_entries", "max_entries")

    def __init__(self, max_entries: int) -> None:
        self._entries: OrderedDict[K, V] = OrderedDict()
        self.max_entries = max_entries

    def get(self, key: K) -> V | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def __setitem__(self, key: K, value: V) -> None:
        entries = self._entries
        entries[key] = value
        entries.move_to_end(key)
        while len(entries) > self.max_entries:
            entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class Validator:
    """Validation of every connection's chains, with the per-(chain, day) cache and the intermediate pool.

    Each cache keeps ``max_entries`` results (least recently used dropped first). The pool holds only
    intermediates of chains that verified to a Mozilla root, so traffic cannot grow it at will.
    """

    __slots__ = ("_cached", "_pool", "_results", "_store", "_validity")

    def __init__(self, store: Store | None = None, max_entries: int = DEFAULT_LIMITS.max_validation_cache) -> None:
        self._store = store if store is not None else mozilla_store()
        self._results: BoundedCache[tuple[tuple[str, ...], bool, int], ChainResult] = BoundedCache(max_entries)
        self._cached: BoundedCache[tuple[tuple[str, ...], bool, int, int], ChainResult] = BoundedCache(max_entries)
        self._pool: dict[bytes, x509.Certificate] = {}  # intermediates of verified chains, by DER
        self._validity: BoundedCache[tuple[str, ...], tuple[int, ...]] = BoundedCache(max_entries)

    def validate(self, chain: ChainInput, ts_ns: int, is_client: bool) -> tuple[ChainResult, ChainResult]:
        """The chain's result on its own, and with the intermediates seen earlier in the run."""
        when = self._time_key(chain, ts_ns)
        key = (chain.fingerprints, is_client, when)
        plain = self._results.get(key)
        if plain is None:
            plain = verify_chain(self._store, chain, _datetime(ts_ns), is_client)
            self._results[key] = plain
            self._remember(plain)
        if plain.validity_class is ValidityClass.VERIFIABLE or not self._pool:
            return plain, plain
        cached_key = (*key, len(self._pool))
        cached = self._cached.get(cached_key)
        if cached is None:
            cached = verify_chain(self._store, chain, _datetime(ts_ns), is_client, list(self._pool.values()))
            self._cached[cached_key] = cached
            self._remember(cached)
        return plain, cached

    def _time_key(self, chain: ChainInput, ts_ns: int) -> int:
        """The UTC day, or the second when a certificate of the chain becomes valid or expires that day."""
        seconds = ts_ns // NS_PER_SECOND
        day = seconds // SECONDS_PER_DAY
        edges = self._validity.get(chain.fingerprints)
        if edges is None:
            edges = tuple(
                int(t.timestamp())
                for c in chain.certs
                if c is not None
                for t in (c.not_valid_before_utc, c.not_valid_after_utc)
            )
            self._validity[chain.fingerprints] = edges
        if any(edge // SECONDS_PER_DAY == day for edge in edges):
            return seconds
        return -1 - day  # negative, so a day never collides with a second

    def _remember(self, result: ChainResult) -> None:
        for cert in result.path[1:-1]:
            der = cert.public_bytes(Encoding.DER)
            self._pool.setdefault(der, cert)


def _datetime(ts_ns: int) -> dt.datetime:
    """The packet time as a datetime, held within the years datetime has (a capture can claim year 30000)."""
    seconds = min(max(ts_ns // NS_PER_SECOND, _MIN_SECONDS), _MAX_SECONDS)
    return dt.datetime.fromtimestamp(seconds, dt.UTC) + dt.timedelta(microseconds=ts_ns % NS_PER_SECOND // 1000)


_MIN_SECONDS = int(dt.datetime(1, 1, 2, tzinfo=dt.UTC).timestamp())
_MAX_SECONDS = int(dt.datetime(9999, 12, 30, tzinfo=dt.UTC).timestamp())
