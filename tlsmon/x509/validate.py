"""Chain validation against the root store at the connection's time, the validity classes, and the caches.

A chain (the certificates a server or client sent, in order) is verified by ``cryptography.x509.verification``
(RFC 5280 path building with the CA/B Forum Web PKI profile, as a current client would) at the connection's
start time, never today. Hostnames play no part: a server chain is verified for a name taken from the leaf's
own SAN (``*`` replaced by a label), a client chain with the client verifier; whether the SNI matches is a
separate question (:mod:`tlsmon.x509.hostname`).

``validation_status`` is ``ok`` (Zeek's word) or the verifier's message, without its trailing
``(encountered processing <Certificate …>)``. The class, in this order of rules:

1. ``verifiable``: the verifier accepts the chain at the connection's time.
2. ``self-signed``: the leaf is self-issued and its signature verifies with its own key.
3. ``expired`` / ``not-yet-valid``: some sent certificate is outside its validity at the connection's time,
   and the verifier accepts the chain at the latest (for expired) or earliest (not yet valid) time at which
   every sent certificate is valid. Expired and broken otherwise is broken.
4. ``broken``: everything else: unknown issuer or missing intermediate, bad signature, a leaf that cannot be
   parsed, a forbidden algorithm (SHA-1, MD5), an RSA key under 2048 bits, a leaf without SAN, a CA
   certificate sent as the leaf, a violated name or path-length constraint …

The cached mode (``validity_class_cached``) runs the same rules with the intermediates of every chain that
verified earlier in the run offered as extra untrusted intermediates, as Zeek's ``validate-certs`` does with
its intermediate cache; a chain that verifies on its own gets the same class in both modes.

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
from enum import StrEnum
from typing import Generic, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import DNSName, IPAddress
from cryptography.x509.verification import PolicyBuilder, Store, Subject, VerificationError

from tlsmon.limits import DEFAULT_LIMITS
from tlsmon.x509.roots import mozilla_store

K = TypeVar("K")
V = TypeVar("V")

NS_PER_SECOND = 1_000_000_000
SECONDS_PER_DAY = 86_400
STATUS_OK = "ok"
STATUS_LEAF_UNPARSEABLE = "leaf certificate could not be parsed"

_ENCOUNTERED = re.compile(r"\s*\(encountered processing .*\)\s*$", re.S)
_PREFIX = "validation failed: "
_WILDCARD_LABEL = "wildcard"


class ValidityClass(StrEnum):
    VERIFIABLE = "verifiable"
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"
    SELF_SIGNED = "self-signed"
    BROKEN = "broken"


@dataclass(frozen=True, slots=True)
class ChainResult:
    status: str
    validity_class: ValidityClass
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
        return ChainResult(STATUS_LEAF_UNPARSEABLE, ValidityClass.BROKEN)
    sent = [c for c in chain.certs[1:] if c is not None]
    intermediates = [*sent, *extra]
    result = _verify(store, chain, leaf, intermediates, at, is_client)
    if isinstance(result, tuple):
        return ChainResult(STATUS_OK, ValidityClass.VERIFIABLE, result)
    if chain.self_signed_leaf:
        return ChainResult(result, ValidityClass.SELF_SIGNED)
    all_sent = [leaf, *sent]
    latest_start = max(c.not_valid_before_utc for c in all_sent)
    earliest_end = min(c.not_valid_after_utc for c in all_sent)
    if latest_start <= earliest_end:
        if at > earliest_end:
            retry, klass = earliest_end, ValidityClass.EXPIRED
        elif at < latest_start:
            retry, klass = latest_start, ValidityClass.NOT_YET_VALID
        else:
            return ChainResult(result, ValidityClass.BROKEN)
        if isinstance(_verify(store, chain, leaf, intermediates, retry, is_client), tuple):
            return ChainResult(result, klass)
    return ChainResult(result, ValidityClass.BROKEN)


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
        return _status(exc)
    except Exception as exc:  # anything else from the verifier is a fault of the chain, never of the run
        return _status(exc) or type(exc).__name__


def _status(exc: Exception) -> str:
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
