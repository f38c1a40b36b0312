"""The validator's caches keep a bounded number of results, the least recently used dropped first."""

from __future__ import annotations

from tlsmon.limits import DEFAULT_LIMITS
from tlsmon.x509.validate import BoundedCache


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: BoundedCache[str, int] = BoundedCache(2)
    cache["a"] = 1
    cache["b"] = 2
    assert cache.get("a") == 1  # a is now the most recent
    cache["c"] = 3
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (1, None, 3, 2)


def test_a_hundred_thousand_chains_stay_within_the_bound() -> None:
    cache: BoundedCache[int, int] = BoundedCache(1000)
    for chain in range(100_000):
        cache[chain] = chain
    assert len(cache) == 1000
    assert cache.get(99_999) == 99_999 and cache.get(0) is None


def test_the_default_bound_is_the_limits_one() -> None:
    assert DEFAULT_LIMITS.max_validation_cache == 100_000
