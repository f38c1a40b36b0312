"""The certificate part of a connection row: :class:`X509Summary` and its columns, :data:`X509_COLUMNS`.

The engine calls :meth:`ConnectionCertificates.summarize` once per TLS connection, when it closes (never per
packet). It adds the chains to the run's :class:`~tlsmon.x509.store.CertificateStore` (parsing each new DER
once, evicting the least recently seen ones when it is full: anomaly ``x509.certificate_store_evicted``),
validates the server's and the client's chain (:class:`~tlsmon.x509.validate.Validator`, cached per
chain and day), matches the SNI against the leaf (:mod:`tlsmon.x509.hostname`), flags a weak or Tor-like
leaf, and reads the stapled OCSP response (:mod:`tlsmon.x509.ocsp`). A connection without certificates or
OCSP response gets no part (all its columns null).

The validator and the OCSP reader need cryptography; they are imported when the first chain or response is
there (the validator is made then, unless one was given), so a run without certificates never loads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa

from tlsmon.columns import Column, ColumnGroup
from tlsmon.limits import DEFAULT_LIMITS
from tlsmon.x509.anomalies import X509Anomaly
from tlsmon.x509.hostname import sni_matches
from tlsmon.x509.status import ZEEK_VALIDATION_STATUS, ValidationStatus, ValidityClass
from tlsmon.x509.store import CertificateRecord, CertificateStore, StoreAnomaly

if TYPE_CHECKING:
    from tlsmon.x509.validate import ChainInput, Validator

_TS_UTC = pa.timestamp("us", tz="UTC")  # OCSP dates: GeneralizedTime reaches 9999, int64 ns ends in 2262


@dataclass(slots=True)
class X509Summary:
    leaf_fingerprint: str | None = None
    validation_status: str | None = None
    validation_detail: str | None = None
    validity_class: str | None = None
    validity_class_cached: str | None = None
    sni_matches_cert: bool | None = None
    leaf_tor_like: bool | None = None
    leaf_weak_key: bool | None = None
    leaf_weak_sig: bool | None = None
    ocsp_status: str | None = None
    ocsp_response_status: str | None = None
    ocsp_this_update: int | None = None
    ocsp_next_update: int | None = None
    ocsp_matches_leaf: bool | None = None
    client_leaf_fingerprint: str | None = None
    client_validation_status: str | None = None
    client_validation_detail: str | None = None
    client_validity_class: str | None = None
    client_validity_class_cached: str | None = None
    anomalies: list[str] = field(default_factory=list)  # added to the connection's anomalies, not a column


class ConnectionCertificates:
    """Per-run certificate work for connections: the store, the validator and their caches."""

    __slots__ = ("_chain_inputs", "_max_validation_cache", "_sni_matches", "_validator", "store")

    def __init__(
        self,
        store: CertificateStore,
        validator: Validator | None = None,
        max_validation_cache: int = DEFAULT_LIMITS.max_validation_cache,
    ) -> None:
        self.store = store
        self._validator = validator
        self._max_validation_cache = max_validation_cache
        # Per distinct chain and (SNI, leaf): most connections repeat one (bounded like the validator's
        # caches, emptied when full).
        self._chain_inputs: dict[tuple[str, ...], ChainInput] = {}
        self._sni_matches: dict[tuple[str, str], bool] = {}

    @property
    def validator(self) -> Validator:
        """The run's validator, made at the first chain to validate."""
        if self._validator is None:
            # Imported here: the validator loads cryptography and the root store (~60 ms), which a run
            # without certificates never needs.
            from tlsmon.x509.validate import Validator

            self._validator = Validator(max_entries=self._max_validation_cache)
        return self._validator

    def summarize(
        self,
        server_chain: Sequence[bytes],
        client_chain: Sequence[bytes],
        server_name: str | None,
        ocsp_response: bytes | None,
        ts_ns: int,
        count: bool = True,
    ) -> X509Summary | None:
        """The certificate columns of a connection that started at ``ts_ns``; None when it has nothing.

        ``count=False`` for a connection's later records (after an interim one): its chains were counted already.
        """
        if not server_chain and not client_chain and ocsp_response is None:
            return None
        out = X509Summary()
        server, client, evicted = self.store.add_connection(server_chain, client_chain, ts_ns, count)
        if evicted:
            out.anomalies.append(StoreAnomaly.CERTIFICATE_STORE_EVICTED)
        if any(rec.cert is None for rec in (*server, *client)):
            out.anomalies.append(X509Anomaly.CERTIFICATE_UNPARSEABLE)
        if server:
            out.leaf_fingerprint = server[0].fingerprint
            plain, cached = self.validator.validate(self._chain_input(server), ts_ns, is_client=False)
            out.validation_status = plain.status
            out.validation_detail = plain.detail
            out.validity_class = plain.validity_class
            out.validity_class_cached = cached.validity_class
            leaf = server[0].parsed
            out.leaf_tor_like = leaf.tor_like
            out.leaf_weak_key = leaf.weak_key
            out.leaf_weak_sig = leaf.weak_sig
            if server_name and leaf.parse_error is None:
                out.sni_matches_cert = self._sni_match(server_name, server[0])
        if client:
            out.client_leaf_fingerprint = client[0].fingerprint
            plain, cached = self.validator.validate(self._chain_input(client), ts_ns, is_client=True)
            out.client_validation_status = plain.status
            out.client_validation_detail = plain.detail
            out.client_validity_class = plain.validity_class
            out.client_validity_class_cached = cached.validity_class
        if ocsp_response is not None:
            from tlsmon.x509.ocsp import read_stapled  # cryptography: see the module docstring

            leaf_cert = server[0].cert if server else None
            issuer = server[1].cert if len(server) > 1 else None
            stapled = read_stapled(ocsp_response, leaf_cert, issuer)
            out.ocsp_response_status = stapled.response_status
            out.ocsp_status = stapled.cert_status
            out.ocsp_this_update = stapled.this_update
            out.ocsp_next_update = stapled.next_update
            out.ocsp_matches_leaf = stapled.matches_leaf
            if stapled.anomaly is not None:
                out.anomalies.append(stapled.anomaly)
        return out

    def _chain_input(self, records: list[CertificateRecord]) -> ChainInput:
        """The chain as the validator takes it, made once per distinct chain."""
        key = tuple(r.fingerprint for r in records)
        chain = self._chain_inputs.get(key)
        if chain is None:
            if len(self._chain_inputs) >= self._max_validation_cache:
                self._chain_inputs.clear()
            chain = self._chain_inputs[key] = _chain_input(records)
        return chain

    def _sni_match(self, server_name: str, leaf: CertificateRecord) -> bool:
        """Whether the SNI names the leaf (:func:`~tlsmon.x509.hostname.sni_matches`), once per (SNI, leaf)."""
        key = (server_name, leaf.fingerprint)
        matches = self._sni_matches.get(key)
        if matches is None:
            if len(self._sni_matches) >= self._max_validation_cache:
                self._sni_matches.clear()
            parsed = leaf.parsed
            matches = sni_matches(server_name, parsed.san_dns, parsed.common_names, parsed.san_ip)
            self._sni_matches[key] = matches
        return matches


def _chain_input(records: list[CertificateRecord]) -> ChainInput:
    from tlsmon.x509.validate import ChainInput  # cryptography: see the module docstring

    leaf = records[0].parsed
    return ChainInput(
        fingerprints=tuple(r.fingerprint for r in records),
        certs=tuple(r.cert for r in records),
        san_dns=tuple(leaf.san_dns),
        san_ip=tuple(leaf.san_ip),
        self_signed_leaf=bool(leaf.self_signed),
    )


_CLASSES = ", ".join(c.value for c in ValidityClass) + ": the class of its validation status"
_STATUSES = ", ".join(s.value for s in ValidationStatus) + " (rules in docs/certificates.md)"
#: The status → Zeek ssl.log validation_status table, written out for docs/schema.md from the code's own table.
_ZEEK_MAPPING = "; ".join(
    f"{status.value} = " + (" or ".join(f"'{text}'" for text in texts) if texts else "no OpenSSL counterpart")
    for status, texts in ZEEK_VALIDATION_STATUS.items()
)

X509_COLUMNS = ColumnGroup(
    "x509",
    (
        Column("leaf_fingerprint", pa.string(), "SHA-256 (hex) of the server's leaf certificate DER: the "
               "certificates table's fingerprint, for a plain join; null without a server chain",
               "96bcec06264976f37460779acf28c5a7cfe8a3c0aae11a8ffcee05c0bddf08c6"),
        Column("validation_status", pa.string(), "Server chain checked against the Mozilla root store (certifi) "
               f"at the connection's start time, hostname aside: {_STATUSES}. What Zeek's ssl.log "
               f"`validation_status` says of such a chain: {_ZEEK_MAPPING}", "verifiable"),
        Column("validation_detail", pa.string(), "The verifier's message behind validation_status (free text "
               "of cryptography's verifier, not for grouping); null when verifiable",
               "candidates exhausted: all candidates exhausted with no interior errors"),
        Column("validity_class", pa.string(), f"Server chain's class: {_CLASSES}", "verifiable"),
        Column("validity_class_cached", pa.string(), "Server chain's class when the intermediates of chains "
               "that verified earlier in the run are also offered (Zeek validate-certs' intermediate cache)",
               "verifiable"),
        Column("sni_matches_cert", pa.bool_(), "The SNI matches the leaf's SAN DNS names (its CN without any), "
               "RFC 6125 wildcards; null without SNI or parseable leaf", "true"),
        Column("leaf_tor_like", pa.bool_(), "The server's leaf looks like a Tor link certificate "
               "(CN=www.<base32>.net issued by CN=www.<base32>.com, no other attributes)", "false"),
        Column("leaf_weak_key", pa.bool_(), "The server's leaf has an RSA/DSA key below 2048 bits or an EC key "
               "below 224 bits", "false"),
        Column("leaf_weak_sig", pa.bool_(), "The server's leaf is signed with MD2, MD4, MD5 or SHA-1", "false"),
        Column("ocsp_status", pa.string(), "Stapled OCSP response's certificate status: good, revoked or unknown "
               "(Zeek `ocsp_status` spelling); signature not checked", "good"),
        Column("ocsp_response_status", pa.string(), "Stapled OCSP responseStatus (RFC 6960 names: successful, "
               "tryLater …)", "successful"),
        Column("ocsp_this_update", _TS_UTC, "Stapled OCSP response's thisUpdate", "2014-04-23 21:33:41+00:00"),
        Column("ocsp_next_update", _TS_UTC, "Stapled OCSP response's nextUpdate", "2014-04-30 21:33:41+00:00"),
        Column("ocsp_matches_leaf", pa.bool_(), "The stapled response is about the server's leaf (serial and "
               "issuer hashes of its CertID)", "true"),
        Column("client_leaf_fingerprint", pa.string(), "SHA-256 (hex) of the client's leaf certificate DER "
               "(mutual TLS); null when the client sent no chain", "3f2a…"),
        Column("client_validation_status", pa.string(), "Client chain checked like the server's, for client "
               "authentication: the same vocabulary and Zeek mapping as validation_status", "unknown_issuer"),
        Column("client_validation_detail", pa.string(), "The verifier's message behind "
               "client_validation_status; null when verifiable",
               "candidates exhausted: all candidates exhausted with no interior errors"),
        Column("client_validity_class", pa.string(), f"Client chain's class: {_CLASSES}", "broken"),
        Column("client_validity_class_cached", pa.string(), "Client chain's class with the run's cached "
               "intermediates", "broken"),
    ),
)
