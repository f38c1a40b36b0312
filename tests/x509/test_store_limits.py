"""CertificateStore as a bounded LRU: eviction by entries and by bytes, what is never evicted, the anomaly."""

from __future__ import annotations

from tests.x509.test_store import ISRG_X1, ISRG_X2
from tlsmon.limits import Limits
from tlsmon.x509.chains import ConnectionCertificates
from tlsmon.x509.store import ENTRY_OVERHEAD, CertificateStore

# Not certificates: the store keeps any DER as given, and these are cheap to parse.
A, B, C, D = (b"\x30\x03\x02\x01" + bytes([i]) for i in range(4))


def two_entries() -> Limits:
    return Limits(max_store_certificates=2)


def ders(store: CertificateStore) -> list[bytes]:
    return [rec.der for rec in store.records()]


def test_the_least_recently_seen_certificate_is_evicted_past_max_store_certificates() -> None:
    store = CertificateStore(two_entries())
    for der in (A, B, C):
        store.add_chain([der], 10, is_client=False)
    assert (ders(store), store.evicted, store.get(A)) == ([B, C], 1, None)


def test_a_certificate_seen_again_becomes_the_most_recent() -> None:
    store = CertificateStore(two_entries())
    for der in (A, B, A, C):
        store.add_chain([der], 10, is_client=False)
    assert ders(store) == [A, C]  # B was the least recently seen; records stay in first-added order


def test_records_keep_first_added_order_after_a_certificate_is_seen_again() -> None:
    store = CertificateStore()
    for der in (A, B, A):
        store.add_chain([der], 10, is_client=False)
    assert ders(store) == [A, B]


def test_a_chain_larger_than_the_store_is_kept_whole_until_the_next_chain() -> None:
    store = CertificateStore(Limits(max_store_certificates=1))
    store.add_chain([A, B, C], 10, is_client=False)
    assert (ders(store), store.evicted) == ([A, B, C], 0)
    store.add_chain([D], 20, is_client=False)
    assert (ders(store), store.evicted) == ([D], 3)


def test_both_chains_of_a_connection_stay_for_the_sink_to_look_up() -> None:
    store = CertificateStore(two_entries())
    store.add_chain([A], 10, is_client=False)
    server, client, evicted = store.add_connection([B, C], [D], 20)
    assert evicted == 1
    assert [store.get(der) for der in (B, C, D)] == [*server, *client]


def test_max_store_bytes_counts_each_der_twice_plus_the_entry_overhead() -> None:
    size = 2 * len(ISRG_X1) + ENTRY_OVERHEAD
    store = CertificateStore(Limits(max_store_bytes=size + 2 * len(ISRG_X2) + ENTRY_OVERHEAD))
    store.add_chain([ISRG_X1], 10, is_client=False)
    store.add_chain([ISRG_X2], 20, is_client=False)
    assert (len(store), store.estimated_bytes) == (2, store.limits.max_store_bytes)
    store.add_chain([A], 30, is_client=False)
    assert (ders(store), store.evicted) == ([ISRG_X2, A], 1)


def test_an_evicted_certificate_seen_again_starts_counting_afresh() -> None:
    store = CertificateStore(two_entries())
    for der in (A, A, B, C, A):
        store.add_chain([der], 10, is_client=False)
    rec = store.get(A)
    assert rec is not None and rec.times_seen == 1


def test_the_connection_whose_chains_made_room_gets_the_anomaly() -> None:
    certificates = ConnectionCertificates(CertificateStore(two_entries()))
    first = certificates.summarize([A, B], [], None, None, 10)
    second = certificates.summarize([C], [], None, None, 20)
    assert first is not None and second is not None
    # A, B and C are not certificates: each chain is also unparseable
    assert first.anomalies == ["x509.certificate_unparseable"]
    assert second.anomalies == ["x509.certificate_store_evicted", "x509.certificate_unparseable"]
