"""A bounded certificate store still gives every output part the certificates its connections refer to."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from tlsmon.capture import CaptureSource
from tlsmon.engine import Engine
from tlsmon.limits import Limits
from tlsmon.output.sink import ParquetSink
from tlsmon.x509.chains import ConnectionCertificates
from tlsmon.x509.store import CertificateStore

PCAPS = Path(__file__).resolve().parents[2] / "fixtures" / "pcaps"
# Server chains, one with a client chain too: more distinct certificates than a one-entry store holds.
CAPTURES = ["tls12-client-cert.pcap", "tls12-ecdhe-rsa.pcap", "tls12-rsa-kx.pcap", "tls12-dhe-rsa.pcap"]


def convert(out: Path, store: CertificateStore) -> None:
    sink = ParquetSink(out, part_rows=1)
    engine = Engine(sink)
    # the engine's store, bounded to one certificate (the engine does not take Limits itself yet)
    engine.certificates = store
    engine.x509 = ConnectionCertificates(store, engine.x509.validator)
    sink.use_certificates(store.get)
    engine.run(CaptureSource([PCAPS / name for name in CAPTURES]))
    engine.close()


def test_every_referenced_fingerprint_is_in_the_certificates_file_of_the_same_part(tmp_path: Path) -> None:
    store = CertificateStore(Limits(max_store_certificates=1))
    convert(tmp_path, store)
    assert store.evicted > 0
    parts = sorted((tmp_path / "connections").glob("*.parquet"))
    assert len(parts) == len(CAPTURES)
    for part in parts:
        rows = pq.read_table(part, columns=["cert_chain_fps", "client_cert_chain_fps"]).to_pylist()
        referenced = {fp for row in rows for chain in row.values() for fp in chain or ()}
        certificates = pq.read_table(tmp_path / "certificates" / part.name, columns=["fingerprint"])
        fingerprints = certificates.column("fingerprint").to_pylist()
        assert referenced
        assert sorted(fingerprints) == sorted(referenced)  # each once, and none missing
