"""CertificateStore: one record per distinct DER, with when, how often and in which roles it was seen."""

from __future__ import annotations

import hashlib
import re
import ssl
from dataclasses import fields
from pathlib import Path

import certifi
import pyarrow.parquet as pq
import pytest

from tlsmon.output.parquet import TableWriter
from tlsmon.x509 import certs as certs_module
from tlsmon.x509.parsed import ParsedCertificate
from tlsmon.x509.store import CERT_COLUMNS, CertificateRecord, CertificateStore


def root_der(common_name: str) -> bytes:
    """A real certificate: the DER of a root in certifi's bundle."""
    pem = Path(certifi.where()).read_text()
    subject = rf"# Subject: CN={re.escape(common_name)}\s"
    pattern = subject + r".*?(-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----)"
    block = re.search(pattern, pem, re.S)
    assert block is not None
    return ssl.PEM_cert_to_DER_cert(block.group(1))


ISRG_X1 = root_der("ISRG Root X1")
ISRG_X1_SHA256 = "96bcec06264976f37460779acf28c5a7cfe8a3c0aae11a8ffcee05c0bddf08c6"
ISRG_X1_SHA1 = "cabd2a79a1076a31f21d253635cb039d4329a5e8"
ISRG_X2 = root_der("ISRG Root X2")
LEAF = b"\x30\x03\x02\x01\x01"  # not a certificate: the store keeps any DER as given
LEAF_SHA256 = hashlib.sha256(LEAF).hexdigest()


def test_fingerprints_are_sha256_and_sha1_hex_of_the_der() -> None:
    store = CertificateStore()
    assert [r.fingerprint for r in store.add_chain([ISRG_X1], 10, is_client=False)] == [ISRG_X1_SHA256]
    [rec] = store.records()
    assert (rec.fingerprint, rec.sha1, rec.der) == (ISRG_X1_SHA256, ISRG_X1_SHA1, ISRG_X1)


def test_add_chain_returns_records_in_chain_order() -> None:
    store = CertificateStore()
    fps = [r.fingerprint for r in store.add_chain([LEAF, ISRG_X1], 10, is_client=False)]
    assert fps == [LEAF_SHA256, ISRG_X1_SHA256]


def test_same_der_in_two_chains_is_one_record_seen_twice() -> None:
    store = CertificateStore()
    store.add_chain([LEAF, ISRG_X1], 10, is_client=False)
    store.add_chain([ISRG_X2, ISRG_X1], 20, is_client=False)
    assert len(store) == 3
    assert [(r.der, r.times_seen) for r in store.records()] == [(LEAF, 1), (ISRG_X1, 2), (ISRG_X2, 1)]


def test_equal_der_from_distinct_bytes_objects_is_deduplicated() -> None:
    store = CertificateStore()
    store.add_chain([bytes(bytearray(ISRG_X1))], 10, is_client=False)
    store.add_chain([bytes(bytearray(ISRG_X1))], 11, is_client=False)
    assert len(store) == 1


def test_first_and_last_seen_are_the_extremes_even_out_of_order() -> None:
    store = CertificateStore()
    for ts in (500, 200, 900, 300):
        store.add_chain([ISRG_X1], ts, is_client=False)
    [rec] = store.records()
    assert (rec.first_seen, rec.last_seen, rec.times_seen) == (200, 900, 4)


def test_certificate_repeated_within_one_chain_counts_once() -> None:
    store = CertificateStore()
    chain = store.add_chain([ISRG_X1, ISRG_X1], 10, is_client=False)
    assert [r.fingerprint for r in chain] == [ISRG_X1_SHA256, ISRG_X1_SHA256]
    [rec] = store.records()
    assert rec.times_seen == 1


def test_roles_accumulate_over_chains() -> None:
    store = CertificateStore()
    store.add_chain([LEAF, ISRG_X1], 10, is_client=False)
    store.add_chain([ISRG_X1], 20, is_client=True)
    roles = {r.fingerprint: (r.host_cert, r.client_cert, r.server_cert) for r in store.records()}
    assert roles == {LEAF_SHA256: (True, False, True), ISRG_X1_SHA256: (True, True, True)}


def test_host_cert_is_zeeks_end_entity_flag_not_the_servers_side() -> None:
    # Zeek's x509.log: host_cert marks the first certificate of a chain, whoever sent it.
    store = CertificateStore()
    store.add_chain([LEAF, ISRG_X1], 10, is_client=True)
    flags = {r.fingerprint: (r.host_cert, r.client_cert, r.server_cert) for r in store.records()}
    assert flags == {LEAF_SHA256: (True, True, False), ISRG_X1_SHA256: (False, True, False)}


def test_each_distinct_der_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[bytes] = []
    real_parse = certs_module.parse_certificate

    def counting_parse(der: bytes, max_names: int) -> tuple[ParsedCertificate, object]:
        parsed.append(der)
        return real_parse(der, max_names)

    monkeypatch.setattr(certs_module, "parse_certificate", counting_parse)
    store = CertificateStore()
    for ts in range(3):
        store.add_chain([LEAF, ISRG_X1], ts, is_client=False)
    assert parsed == [LEAF, ISRG_X1]


def test_record_keeps_the_parsed_fields_and_the_certificate_object() -> None:
    store = CertificateStore()
    root, junk = store.add_chain([ISRG_X1, LEAF], 10, is_client=False)
    subject = "CN=ISRG Root X1,O=Internet Security Research Group,C=US"
    assert (root.parsed.certificate_subject, root.cert is not None) == (subject, True)
    assert (junk.parsed.parse_error is not None, junk.cert) == (True, None)


def test_records_come_in_first_seen_order() -> None:
    store = CertificateStore()
    store.add_chain([ISRG_X2], 30, is_client=False)
    store.add_chain([LEAF, ISRG_X1, ISRG_X2], 10, is_client=False)
    assert [r.der for r in store.records()] == [ISRG_X2, LEAF, ISRG_X1]


def test_each_distinct_der_is_hashed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    hashed: list[bytes] = []
    real_sha256 = hashlib.sha256

    def counting_sha256(data: bytes) -> object:
        hashed.append(data)
        return real_sha256(data)

    monkeypatch.setattr(hashlib, "sha256", counting_sha256)
    store = CertificateStore()
    for ts in range(5):
        store.add_chain([LEAF, ISRG_X1], ts, is_client=False)
    assert [data for data in hashed if data in (LEAF, ISRG_X1)] == [LEAF, ISRG_X1]  # (parsing hashes the key)


def test_get_finds_a_record_by_der() -> None:
    store = CertificateStore()
    store.add_chain([ISRG_X1], 10, is_client=False)
    rec = store.get(ISRG_X1)
    assert rec is not None and rec.fingerprint == ISRG_X1_SHA256
    assert store.get(LEAF) is None


def test_cert_columns_match_the_record_fields() -> None:
    assert CERT_COLUMNS.name == "cert"
    assert CERT_COLUMNS.names() == [f.name for f in fields(CertificateRecord)][: len(CERT_COLUMNS.columns)]
    assert [f.name for f in fields(CertificateRecord)][len(CERT_COLUMNS.columns) :] == ["parsed", "cert"]


def test_records_write_to_parquet_through_cert_columns(tmp_path: Path) -> None:
    store = CertificateStore()
    store.add_chain([LEAF, ISRG_X1], 1_700_000_000_000_000_001, is_client=False)
    writer = TableWriter(tmp_path, "certificates", [CERT_COLUMNS], {"schema_version": "1"})
    for rec in store.records():
        writer.append(rec)
    [path] = writer.close()
    table = pq.read_table(path)
    assert table.column("fingerprint").to_pylist() == [LEAF_SHA256, ISRG_X1_SHA256]
    assert table.column("der").to_pylist() == [LEAF, ISRG_X1]
    assert table.column("first_seen").cast("int64").to_pylist() == [1_700_000_000_000_000_001] * 2
    assert table.column("host_cert").to_pylist() == [True, False]
