"""The certificates table of a run: each distinct DER from a cleartext chain once, with where it was seen.

The expected table is built from the manifest alone: the chains (SHA-256 per certificate, leaf first) of the
connections whose certificates travel in clear, with the connection's first-packet time (from scapy) as the
time the chain was seen.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest

from tests.e2e.captures import Case, run
from tlsmon.x509.store import CertificateRecord

FILES_WITH_CHAINS = ["sample.pcap", "tls12-client-cert.pcap", "tls12-resumption.pcap"]


@dataclass(slots=True)
class Expected:
    times_seen: int = 0
    host_cert: bool = False
    client_cert: bool = False
    server_cert: bool = False
    first_seen: int | None = None
    last_seen: int | None = None


def _expected(name: str) -> dict[str, Expected]:
    table: dict[str, Expected] = {}
    for case in (Case(name, i) for i in range(len(run(name).rows))):
        e = case.expected
        if e["protocol"] != "tls" or not e["certs_in_clear"]:
            continue
        ts = case.wire().first_ts_ns
        for chain, is_client in ((e["server_cert_chain_sha256"], False), (e["client_cert_chain_sha256"], True)):
            for position, fp in enumerate(chain):
                x = table.setdefault(fp, Expected())
                x.times_seen += 1
                x.server_cert |= not is_client
                x.client_cert |= is_client
                x.host_cert |= position == 0  # Zeek's x509.log meaning: an end-entity certificate
                x.first_seen = ts if x.first_seen is None else min(x.first_seen, ts)
                x.last_seen = ts if x.last_seen is None else max(x.last_seen, ts)
    return table


def _records(name: str) -> dict[str, CertificateRecord]:
    return {r.fingerprint: r for r in run(name).certificates}


def _params() -> list[object]:
    return [
        pytest.param(name, fp, id=f"{name}:{fp[:12]}") for name in FILES_WITH_CHAINS for fp in sorted(_expected(name))
    ]


@pytest.mark.parametrize("name", FILES_WITH_CHAINS)
def test_each_certificate_appears_once(name: str) -> None:
    fingerprints = [r.fingerprint for r in run(name).certificates]
    assert sorted(fingerprints) == sorted(_expected(name))


@pytest.mark.parametrize("name", FILES_WITH_CHAINS)
def test_fingerprints_are_digests_of_the_der(name: str) -> None:
    digests = [(hashlib.sha256(r.der).hexdigest(), hashlib.sha1(r.der).hexdigest()) for r in run(name).certificates]
    assert [(r.fingerprint, r.sha1) for r in run(name).certificates] == digests


@pytest.mark.parametrize(("name", "fp"), _params())
def test_times_seen(name: str, fp: str) -> None:
    assert _records(name)[fp].times_seen == _expected(name)[fp].times_seen


@pytest.mark.parametrize(("name", "fp"), _params())
def test_roles(name: str, fp: str) -> None:
    r, x = _records(name)[fp], _expected(name)[fp]
    assert (r.host_cert, r.client_cert, r.server_cert) == (x.host_cert, x.client_cert, x.server_cert)


@pytest.mark.parametrize(("name", "fp"), _params())
def test_first_and_last_seen(name: str, fp: str) -> None:
    r, x = _records(name)[fp], _expected(name)[fp]
    assert (r.first_seen, r.last_seen) == (x.first_seen, x.last_seen)


def test_sample_shares_the_intermediate_across_servers() -> None:
    # Every server chain of the fixtures is leaf + the one intermediate, so it is seen once per chain.
    chains = [
        Case("sample.pcap", i).expected["server_cert_chain_sha256"]
        for i in range(len(run("sample.pcap").rows))
        if Case("sample.pcap", i).expected.get("certs_in_clear")
    ]
    (intermediate,) = {chain[1] for chain in chains}
    assert _records("sample.pcap")[intermediate].times_seen == len(chains)
