"""The distinct certificates of a run, one row each in ``OUT/certificates``.

Connections refer to certificates by fingerprint (SHA-256 of the DER, lower-case hex, Zeek's x509.log
``fingerprint``); the DER itself is kept once per run, here. :meth:`CertificateStore.add_chain` is called
with each chain seen on the wire. The store is a dict keyed by the DER bytes, so a certificate already seen
costs one dict lookup (the bytes object caches its hash) and is never hashed with SHA again; a new one is
hashed once and parsed once (:func:`tlsmon.x509.certs.parse_certificate`; the parsed fields are the
record's second column group, :data:`~tlsmon.x509.parsed.PARSED_COLUMNS`). The parser, and cryptography with
it, is imported at the first certificate: a run that sees none (TLS 1.3 only, say) never loads them.

Each record keeps when the certificate was first and last seen (the smallest and largest timestamps, since
chains may be reported out of capture order), in how many chains it appeared, and in which roles, with Zeek's
x509.log meanings: ``host_cert`` is the end-entity (first) certificate of some chain, of a server or a client;
``client_cert`` was sent by a client, in any position. ``server_cert`` (not in Zeek) was sent by a server.

Bounded memory: the store is an LRU. Past :attr:`Limits.max_store_certificates` entries or
:attr:`Limits.max_store_bytes` estimated bytes (the DER twice, ours and cryptography's copy, plus
:data:`ENTRY_OVERHEAD` for the parsed fields and objects), the least recently seen certificates are evicted
(:attr:`CertificateStore.evicted` counts them; the connection whose chains made room gets the anomaly
``x509.certificate_store_evicted``). An evicted certificate seen again is parsed again and its counters start
afresh, so ``times_seen``/``first_seen``/``last_seen`` are counted over its stay in the store. The certificates
of the most recent call are never evicted by that call: a sink that looks a connection's chains up
(:meth:`CertificateStore.get`) right after the engine added them always finds them, which is how the sinks write
each certificate once per output file in which a connection refers to it. :meth:`CertificateStore.records`
yields only the certificates still in the store.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import pyarrow as pa

from tlsmon.columns import Column, ColumnGroup
from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.x509.parsed import ParsedCertificate

if TYPE_CHECKING:
    from cryptography import x509

_TS_UTC = pa.timestamp("ns", tz="UTC")

#: Estimated bytes of one entry besides its DER (twice: ours and cryptography's copy): the parsed fields, the
#: record, cryptography's certificate object and the dict entry. Measured with tracemalloc at 3.9 KiB for an
#: ordinary certificate (1.5 KiB for a tiny unparseable one), plus the Rust-side parse that tracemalloc
#: cannot see.
ENTRY_OVERHEAD = 6144


class StoreAnomaly(StrEnum):
    #: The run's certificate store was full (Limits.max_store_certificates or max_store_bytes): certificates
    #: seen least recently were evicted to make room for this connection's.
    CERTIFICATE_STORE_EVICTED = "x509.certificate_store_evicted"


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
            distinct=True,
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
    """Distinct certificates keyed by their DER bytes, least recently seen evicted first; see the module
    docstring."""

    __slots__ = ("_added", "_by_der", "_bytes", "evicted", "limits")

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        # DER -> (insertion number, record), least recently seen first
        self._by_der: OrderedDict[bytes, tuple[int, CertificateRecord]] = OrderedDict()
        self._added = 0
        self._bytes = 0
        #: certificates evicted so far in the run
        self.evicted = 0

    def add_chain(
        self, ders: Sequence[bytes], ts_ns: int, is_client: bool, count: bool = True
    ) -> list[CertificateRecord]:
        """Record a chain seen at ``ts_ns``; return its certificates' records in chain order.

        ``count=False`` looks the chain up without counting a sighting (a connection's second record, e.g. its
        final record after an interim one, is the same sighting).
        """
        chain = self._add(ders, ts_ns, is_client, count)
        self._evict(chain)
        return chain

    def add_connection(
        self, server: Sequence[bytes], client: Sequence[bytes], ts_ns: int, count: bool = True
    ) -> tuple[list[CertificateRecord], list[CertificateRecord], int]:
        """Both chains of one connection, as :meth:`add_chain` each: their records, and how many certificates
        were evicted to make room (none of this connection's)."""
        server_records = self._add(server, ts_ns, False, count) if server else []
        client_records = self._add(client, ts_ns, True, count) if client else []
        return server_records, client_records, self._evict(server_records + client_records)

    def _add(self, ders: Sequence[bytes], ts_ns: int, is_client: bool, count: bool) -> list[CertificateRecord]:
        chain: list[CertificateRecord] = []
        counted: set[str] = set()
        by_der = self._by_der
        for position, der in enumerate(ders):
            entry = by_der.get(der)
            if entry is None:
                # Here, not at the top: cryptography costs ~50 ms of start-up that a run without certificates
                # never needs (after the first certificate this is a dict lookup).
                from tlsmon.x509.certs import parse_certificate

                der = bytes(der)  # never keep a view on a larger buffer
                parsed, cert = parse_certificate(der, self.limits.max_certificate_names)
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
                self._added += 1
                by_der[der] = (self._added, rec)
                self._bytes += _size(der)
            else:
                rec = entry[1]
                by_der.move_to_end(der)
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

    def _evict(self, keep: list[CertificateRecord]) -> int:
        """Evict the least recently seen certificates while the store is over a limit, never those of ``keep``
        (the most recently seen, at the end of the order). Returns how many were evicted."""
        limits = self.limits
        by_der = self._by_der
        protected = len({id(rec) for rec in keep})
        evicted = 0
        while (len(by_der) > limits.max_store_certificates or self._bytes > limits.max_store_bytes) and len(
            by_der
        ) > protected:
            der, _ = by_der.popitem(last=False)
            self._bytes -= _size(der)
            evicted += 1
        self.evicted += evicted
        return evicted

    def get(self, der: bytes) -> CertificateRecord | None:
        """The record of a DER certificate, if it is in the store."""
        entry = self._by_der.get(der)
        return None if entry is None else entry[1]

    def records(self) -> Iterator[CertificateRecord]:
        """The records in the store, in the order their certificates were first added."""
        return (rec for _, rec in sorted(self._by_der.values(), key=_insertion))

    @property
    def estimated_bytes(self) -> int:
        """The store's size as counted against :attr:`Limits.max_store_bytes`."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._by_der)


def _size(der: bytes) -> int:
    return 2 * len(der) + ENTRY_OVERHEAD


def _insertion(entry: tuple[int, CertificateRecord]) -> int:
    return entry[0]
