"""Every bound on what traffic can make tlsmon hold in memory, in one frozen dataclass.

Theory of operation: a structure that grows with what the wire sends (a buffer, a queue, a list on the row, the
run's certificate store) has one field here. When traffic reaches the bound, the code keeps what it already has
(or drops the excess), records a named anomaly on the connection's row (``<stage>.snake_case``: the engine
counts anomalies per run, so the anomaly is also the run-level counter), and goes on; it never raises. The
defaults are generous for real traffic: a bound is hit by broken or hostile peers, not by busy servers.

:class:`Limits` is passed to the :class:`~tlsmon.dispatch.Dispatcher` (which hands it to the plaintext
analyzers, the STARTTLS summary and the TLS analyzer) and to the :class:`~tlsmon.x509.store.CertificateStore`;
every constructor defaults to :data:`DEFAULT_LIMITS`. ``docs/limits.md`` lists each bound with its anomaly.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class Limits:
    # -- plaintext protocols (tlsmon/protocols/, tlsmon/wire/linebuffer.py) ----------------------------------
    #: Longest line of a line protocol (SMTP, IMAP, POP3, FTP, NNTP, ManageSieve, IRC, HTTP CONNECT); longer
    #: lines are discarded up to their end. RFC 5321 §4.5.3.1.4-5 allow 512 octets; IMAP lines can carry long
    #: capability lists; h11 caps an incomplete event at 16 KiB (DEFAULT_MAX_INCOMPLETE_EVENT_SIZE). Anomaly
    #: ``<proto>.line_too_long``.
    max_line: int = 8192
    #: Client bytes held unparsed while the client waits for the server: after an upgrade command (STARTTLS,
    #: STLS, AUTH TLS, SSLRequest …), before an IMAP synchronising literal's "+" or a SASL challenge. A TLS
    #: ClientHello is under 2 KiB (16 KiB with post-quantum key shares). Past the bound the bytes are dropped
    #: and the analyzer stops: anomaly ``<proto>.held_data_too_long`` (the binary protocols' 256 KiB precedent;
    #: OpenSSL's max_cert_list default is 100 KiB for a whole certificate chain).
    max_held_bytes: int = 262144
    #: Largest message head a binary protocol (LDAP, PostgreSQL, MySQL, SOCKS, RDP) buffers while waiting for
    #: it to complete; a PostgreSQL StartupMessage is at most 10 000 bytes. Anomaly ``<proto>.message_too_long``.
    max_message_head: int = 65536
    #: Client commands awaiting replies (SMTP, FTP, NNTP, POP3, ManageSieve queues, IMAP tags). Suricata
    #: bounds transactions per flow (LDAP_MAX_TX, TooManyTransactions); Zeek's SMTP analyzer reports
    #: excessive pending commands as a weird. Past the bound tracking stops: anomaly
    #: ``<proto>.too_many_pending_commands``.
    max_pending_commands: int = 64
    #: Lines kept of one multi-line reply (SMTP 250-, FTP 211-, NNTP and POP3 dot-terminated blocks,
    #: ManageSieve listings, IRC CAP LS continuations, XMPP stream features). RFCs set no limit; real
    #: capability replies have a few dozen lines. The rest is counted, not kept: anomaly
    #: ``<proto>.reply_too_long`` (or the protocol's existing capability-list name).
    max_reply_lines: int = 256
    #: Distinct tokens kept in ``server_capabilities`` and in ``auth_mechs_offered`` of one row (first seen
    #: first, each once). Beyond it tokens are counted in ``StartTlsSummary.capabilities_dropped``: anomaly
    #: ``starttls.too_many_capabilities`` / ``starttls.too_many_auth_mechanisms``.
    max_capabilities: int = 256
    #: Anomalies listed per analyzer part of a row (the STARTTLS part, the TLS part); later ones are counted in
    #: ``anomalies_dropped`` and the cut is named once: ``starttls.too_many_anomalies`` /
    #: ``tls.too_many_anomalies``. Zeek samples a weird repeated on one connection past
    #: Weird::sampling_threshold (25).
    max_anomalies: int = 100
    #: Longest PROXY protocol header read (tlsmon/protocols/proxy.py): a version 2 header states its length in
    #: its first 16 bytes, and one longer than this is not held (version 1 is at most 107 bytes by its spec).
    #: A header with IPv6 addresses and ALPN, authority and SSL TLVs is a few hundred bytes; cloud load balancers
    #: add a TLV or two; dnsdist accepts 512 bytes of TLVs by default. Anomaly ``proxy.header_too_long``; the
    #: bytes then go to the probe as unknown plaintext.
    max_proxy_header: int = 4096
    #: How far into the client's stream a ClientHello may start when the client's first bytes are plaintext no
    #: probe claims (tlsmon/dispatch.py): the record header must begin within this many bytes. Zeek's DPD and
    #: tshark find TLS after junk by content; 4 KiB covers a banner, an unknown proxy preamble or an HTTP
    #: request. The client bytes held while searching are bounded by it. Found: anomaly ``tls.preamble_skipped``
    #: and the skipped bytes in ``preamble_orig_bytes``; not found: the connection is bypassed, as before.
    max_preamble_search: int = 4096

    # -- TLS (tlsmon/tls/analyzer.py, parse.py) ---------------------------------------------------------------
    #: Certificates kept of one Certificate message (the chain). RFC 8446 §4.4.2 sets no count; real chains have
    #: 1-5, misconfigured servers a dozen; the 1 MiB handshake message cap (Zeek's fragmented-handshake trace
    #: holds a valid 332 KiB chain) alone lets a peer send 170 000 tiny entries. Anomaly
    #: ``tls.certificate_chain_too_long``; the rest of the chain is counted, not kept.
    max_certificates_per_chain: int = 32
    #: Certificates kept per connection, server chain first, then the client's. Anomaly
    #: ``tls.too_many_certificates``.
    max_certificates_per_connection: int = 48
    #: Alerts kept in the row's ``alerts`` list. Zeek ignores alerts past SSL::max_alerts_per_record (10) in one
    #: record and caps ssl_history at 100 letters; a peer can still send any number of warning alerts in
    #: separate records. Anomaly ``tls.too_many_alerts``.
    max_alerts: int = 100

    # -- TLS over UDP (tlsmon/quic/, tlsmon/dtls/; docs/udp.md) ---------------------------------------------
    #: Bytes of one direction's QUIC Initial CRYPTO stream kept (stream offsets past it are dropped). A
    #: ClientHello is under 2 KiB, 16 KiB with post-quantum key shares and ECH; the server's Initial carries only
    #: its ServerHello. Anomaly ``quic.crypto_buffer_full``; the rest of the frame is dropped.
    max_quic_crypto_bytes: int = 65536
    #: Bytes of incomplete DTLS handshake messages one direction holds while their fragments arrive (each
    #: message's full length counts from its first fragment, and twice that is allocated: data and mask). A
    #: longer message is never reassembled (RFC 6347 §4.2.3 allows 2^24 - 1; a DTLS certificate chain is a few
    #: KiB): anomaly ``dtls.handshake_too_long``; a message that does not fit beside the others waiting:
    #: ``dtls.reassembly_buffer_full``. Either way the fragment is dropped.
    max_dtls_reassembly_bytes: int = 65536
    #: DTLS handshake messages of one direction being reassembled at once (fragments of a flight arrive out of
    #: order or are lost). Anomaly ``dtls.too_many_pending_messages``; the new message is dropped.
    max_dtls_pending_messages: int = 16

    # -- the run's certificate store (tlsmon/x509/store.py) --------------------------------------------------
    #: Distinct certificates kept in the run's store (least recently used evicted first). Zeek bounds its
    #: certificate cache the same way (X509::certificate_cache_max_entries, 10 000). Anomaly
    #: ``x509.certificate_store_evicted`` on the row whose chain made room.
    max_store_certificates: int = 50_000
    #: Estimated bytes of the store (each certificate's DER twice plus the measured per-entry overhead,
    #: store.ENTRY_OVERHEAD: about 9 KiB for an ordinary certificate); same eviction and anomaly as
    #: max_store_certificates. 50 000 ordinary certificates are about 450 MiB.
    max_store_bytes: int = 512 << 20
    #: Validation results kept per cache of the validator (per chain and day, with and without the run's
    #: intermediates, and each chain's validity edges), least recently used dropped first. A dropped result
    #: is computed again when its chain comes back: only time, never a row, depends on it. Zeek caches
    #: validation results per chain hash the same way (X509::caching_required_encounters / max_entries).
    max_validation_cache: int = 100_000
    #: Names kept of one certificate that cryptography refuses, read by the lenient DER reader
    #: (tlsmon/x509/der.py): attributes of its subject and of its issuer, and SubjectAltName entries. Real
    #: certificates have a handful of attributes and at most a few hundred SANs (CA/B Forum members cap them
    #: around 100-250); the handshake message cap alone lets one certificate carry 500 000 two-byte entries.
    #: Anomaly ``x509.too_many_names`` on the certificate's row; the rest are counted out, not kept.
    max_certificate_names: int = 4096

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"limit {f.name} must be an integer >= 1, not {value!r}")


#: The defaults, shared by every constructor that takes limits.
DEFAULT_LIMITS = Limits()
