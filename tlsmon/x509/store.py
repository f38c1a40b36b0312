"""The distinct certificates of a run, one row each in ``OUT/certificates``.

Connections refer to certificates by fingerprint (SHA-256 of the DER, lower-case hex, Zeek's x509.log
``fingerprint``); the DER itself is kept once per run, here. :meth:`CertificateStore.add_chain` is called
with each chain seen on the wire. The store is a dict keyed by the DER bytes, so a certificate already seen
costs one dict lookup (the bytes object caches its hash) and is never hashed with SHA again; a new one is
hashed once and parsed once (:func:`tlsmon.x509.certs.parse_certificate`; the parsed fields are the
record's second column group, :data:`~tlsmon.x509.certs.PARSED_COLUMNS`).

Each record keeps when the certificate was first and last seen (the smallest and largest timestamps, since
chains may be reported out of capture order), in how many chains it appeared, and in which roles, with Zeek's
x509.log meanings: ``host_cert`` is the end-entity (first) certificate of some chain, of a server or a client;
``client_cert`` was sent by a client, in any position. ``server_cert`` (not in Zeek) was sent by a server.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa
from cryptography import x509

from tlsmon.columns import Column, ColumnGroup
from tlsmon.x509.certs import ParsedCertificate, parse_certificate

_TS_UTC = pa.timestamp("ns", tz="UTC")


@dataclass(slots=True)
class CertificateRecord:
    """One distinct certificate (DER) of the run and where it was seen."""

    fingerprint: str
    sha1: str
    der: bytes
    first_seen: int
    last_seen: int
    times_seen: int
    host_cert: bool
    client_cert: bool
    server_cert: bool
    parsed: ParsedCertificate
    cert: x509.Certificate | None  # cryptography's object, for validation; None when it could not load


CERT_COLUMNS = ColumnGroup(
    "cert",
    (
        Column(
            "fingerprint",
            pa.string(),
            "SHA-256 of the DER certificate, lower-case hex (Zeek x509.log `fingerprint`): the certificate's "
            "sha256 under Zeek's name, and the key that connections' cert_chain_fps refer to",
            "96bcec06264976f37460779acf28c5a7cfe8a3c0aae11a8ffcee05c0bddf08c6",
            nullable=False,
        ),
        Column(
            "sha1",
            pa.string(),
            "SHA-1 of the DER certificate, lower-case hex (the thumbprint many tools and CT logs display)",
            "cabd2a79a1076a31f21d253635cb039d4329a5e8",
            nullable=False,
        ),
        Column(
            "der",
            pa.binary(),
            "The certificate as sent on the wire (DER)",
            "3082056b30820353a0030201…",
            nullable=False,
        ),
        Column(
            "first_seen",
            _TS_UTC,
            "Earliest timestamp of a chain holding this certificate",
            "2024-05-01 12:00:00.123456789+00:00",
            nullable=False,
        ),
        Column(
            "last_seen",
            _TS_UTC,
            "Latest timestamp of a chain holding this certificate",
            "2024-05-01 12:30:00.000000001+00:00",
            nullable=False,
        ),
        Column(
            "times_seen",
            pa.uint32(),
            "Number of chains (client or server) that held this certificate",
            "17",
            nullable=False,
        ),
        Column(
            "host_cert",
            pa.bool_(),
            "Seen first in some chain (server's or client's), i.e. as an end-entity certificate "
            "(Zeek x509.log `host_cert`)",
            "true",
            nullable=False,
        ),
        Column(
            "client_cert",
            pa.bool_(),
            "Seen in a chain sent by a client, in any position (Zeek x509.log `client_cert`)",
            "false",
            nullable=False,
        ),
        Column(
            "server_cert",
            pa.bool_(),
            "Seen in a chain sent by a server, in any position",
            "true",
            nullable=False,
        ),
    ),
)


class CertificateStore:
    """Distinct certificates in first-seen order, keyed by their DER bytes."""

    __slots__ = ("_by_der",)

    def __init__(self) -> None:
        self._by_der: dict[bytes, CertificateRecord] = {}

    def add_chain(
        self, ders: Sequence[bytes], ts_ns: int, is_client: bool, count: bool = True
    ) -> list[CertificateRecord]:
        """Record a chain seen at ``ts_ns``; return its certificates' records in chain order.

        ``count=False`` looks the chain up without counting a sighting (a connection's second record, e.g. its
        final record after an interim one, is the same sighting).
        """
        chain: list[CertificateRecord] = []
        counted: set[str] = set()
        by_der = self._by_der
        for position, der in enumerate(ders):
            rec = by_der.get(der)
            if rec is None:
                der = bytes(der)  # never keep a view on a larger buffer
                parsed, cert = parse_certificate(der)
                rec = CertificateRecord(
                    fingerprint=hashlib.sha256(der).hexdigest(),
                    sha1=hashlib.sha1(der).hexdigest(),
                    der=der,
                    first_seen=ts_ns,
                    last_seen=ts_ns,
                    times_seen=0,
                    host_cert=False,
                    client_cert=False,
                    server_cert=False,
                    parsed=parsed,
                    cert=cert,
                )
                by_der[der] = rec
            fingerprint = rec.fingerprint
            chain.append(rec)
            if count and fingerprint not in counted:  # a certificate repeated within one chain counts once
                counted.add(fingerprint)
                rec.times_seen += 1
                if ts_ns < rec.first_seen:
                    rec.first_seen = ts_ns
                if ts_ns > rec.last_seen:
                    rec.last_seen = ts_ns
            if is_client:
                rec.client_cert = True
            else:
                rec.server_cert = True
            if position == 0:
                rec.host_cert = True
        return chain

    def get(self, der: bytes) -> CertificateRecord | None:
        """The record of a DER certificate, if it was seen."""
        return self._by_der.get(der)

    def records(self) -> Iterator[CertificateRecord]:
        """All records, in the order their certificates were first added."""
        return iter(self._by_der.values())

    def __len__(self) -> int:
        return len(self._by_der)
