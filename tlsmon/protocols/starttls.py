"""The STARTTLS part of a connection row: :class:`StartTlsSummary`, folded from analyzer events.

Every column is nullable: connections that never spoke a plaintext protocol have nulls in all of them. A
boolean is null when the connection showed nothing to decide it (e.g. ``starttls_offered`` stays null when no
capability list was seen, which is different from a list without STARTTLS).

``server_capabilities`` and ``auth_mechs_offered`` hold each token once, in first-seen order, de-duplicated
through a set (a list search per token made 80 000 EHLO lines quadratic), and at most
:attr:`Limits.max_capabilities` tokens each: later distinct tokens are counted in
:attr:`StartTlsSummary.capabilities_dropped` (not a column) and named once on the row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

import pyarrow as pa

from tlsmon.columns import Column, ColumnGroup
from tlsmon.limits import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from tlsmon.protocols.events import Event

RESULT_ACCEPTED = "accepted"
RESULT_REFUSED = "refused"
RESULT_NO_REPLY = "no-reply"
RESULT_GSSAPI = "gssapi-encrypted"  # PostgreSQL GSSENCRequest answered G: encrypted, but not TLS


class StartTlsAnomaly(StrEnum):
    # More than Limits.max_capabilities distinct capability tokens on one connection; the rest are counted.
    TOO_MANY_CAPABILITIES = "starttls.too_many_capabilities"
    # More than Limits.max_capabilities distinct SASL mechanisms on one connection; the rest are counted.
    TOO_MANY_AUTH_MECHANISMS = "starttls.too_many_auth_mechanisms"
    # More than Limits.max_anomalies protocol anomalies on one connection; the rest are counted, not listed.
    TOO_MANY_ANOMALIES = "starttls.too_many_anomalies"


@dataclass(slots=True)
class StartTlsSummary:
    starttls_offered: bool | None = None
    starttls_required: bool | None = None
    starttls_command_seen: bool = False
    starttls_command: str | None = None
    starttls_reply: str | None = None
    starttls_result: str | None = None
    server_capabilities: list[str] = field(default_factory=list)
    auth_mechs_offered: list[str] = field(default_factory=list)
    plaintext_auth_command: str | None = None
    xmpp_stream_type: str | None = None
    imap_logindisabled: bool | None = None
    pop3_apop: bool | None = None
    anomalies: list[str] = field(default_factory=list)
    #: tokens not kept because server_capabilities / auth_mechs_offered was full, anomalies not listed because
    #: the list was full (not columns)
    capabilities_dropped: int = 0
    auth_mechs_dropped: int = 0
    anomalies_dropped: int = 0
    limits: Limits = field(default=DEFAULT_LIMITS, repr=False, compare=False)
    _seen_capabilities: set[str] = field(default_factory=set, repr=False, compare=False)
    _seen_mechs: set[str] = field(default_factory=set, repr=False, compare=False)

    def apply(self, event: Event) -> None:
        # Imported here: the schema needs this module, a read without plaintext protocols needs no events.
        from tlsmon.protocols import events as e

        if isinstance(event, e.CapabilitiesOffered):
            if self.starttls_offered is None:
                self.starttls_offered = False
            dropped = self._keep(event.tokens, self.server_capabilities, self._seen_capabilities)
            if dropped:
                if not self.capabilities_dropped:
                    self.anomalies.append(StartTlsAnomaly.TOO_MANY_CAPABILITIES)
                self.capabilities_dropped += dropped
        elif isinstance(event, e.StartTlsOffered):
            self.starttls_offered = True
            self.starttls_required = bool(self.starttls_required) or event.required
        elif isinstance(event, e.AuthMechanismsOffered):
            dropped = self._keep(event.mechanisms, self.auth_mechs_offered, self._seen_mechs)
            if dropped:
                if not self.auth_mechs_dropped:
                    self.anomalies.append(StartTlsAnomaly.TOO_MANY_AUTH_MECHANISMS)
                self.auth_mechs_dropped += dropped
        elif isinstance(event, e.StartTlsRequested):
            self.starttls_command_seen = True
            self.starttls_command = event.command
            self.starttls_result = RESULT_NO_REPLY
        elif isinstance(event, e.StartTlsAccepted):
            self.starttls_reply = event.reply
            self.starttls_result = RESULT_ACCEPTED
        elif isinstance(event, e.StartTlsRejected):
            self.starttls_reply = event.reply
            self.starttls_result = RESULT_REFUSED
        elif isinstance(event, e.OtherEncryptionAccepted):
            self.starttls_reply = event.reply
            self.starttls_result = RESULT_GSSAPI
        elif isinstance(event, e.PlaintextAuth):
            if self.plaintext_auth_command is None:
                self.plaintext_auth_command = event.command
        elif isinstance(event, e.Detail):
            setattr(self, event.column, event.value)
        elif isinstance(event, e.Anomaly):
            if len(self.anomalies) < self.limits.max_anomalies:
                self.anomalies.append(event.name)
            else:
                if not self.anomalies_dropped:
                    self.anomalies.append(StartTlsAnomaly.TOO_MANY_ANOMALIES)
                self.anomalies_dropped += 1

    def _keep(self, tokens: tuple[str, ...], kept: list[str], seen: set[str]) -> int:
        """Append the tokens not seen before to ``kept`` while it has room; return how many were turned away
        (repeats included: the set holds only what is kept, so its memory is bounded too)."""
        limit = self.limits.max_capabilities
        dropped = 0
        for token in tokens:
            if token in seen:
                continue
            if len(kept) < limit:
                seen.add(token)
                kept.append(token)
            else:
                dropped += 1
        return dropped


STARTTLS_COLUMNS = ColumnGroup(
    "starttls",
    (
        Column(
            "starttls_offered",
            pa.bool_(),
            "The server advertised STARTTLS (or the protocol's equivalent) in "
            "an automatic capability reply; null when no capability reply was seen.",
            "true",
        ),
        Column(
            "starttls_required",
            pa.bool_(),
            "The server said the upgrade is mandatory (XMPP <required/>, IMAP LOGINDISABLED, ManageSieve "
            "'SASL' with no mechanisms beside STARTTLS, NNTP 483, RDP failure codes asking for TLS); null when "
            "not offered.",
            "false",
        ),
        Column("starttls_command_seen", pa.bool_(), "The client sent the upgrade command.", "true"),
        Column(
            "starttls_command",
            pa.string(),
            "The upgrade command verb as the protocol spells it: STARTTLS, STLS, AUTH TLS, X-ANONYMOUSTLS, "
            "<starttls/>, SSLRequest, GSSENCRequest, StartTLS (LDAP), CLIENT_SSL, AUTH GSSAPI (GridFTP: TLS in ADAT "
            "tokens); for proxies the tunnel "
            "request: CONNECT (HTTP, SOCKS), BIND (SOCKS); RDP_NEG_REQ (RDP asking for TLS/CredSSP).",
            "STARTTLS",
        ),
        Column(
            "starttls_reply",
            pa.string(),
            "The server's answer to the upgrade command: SMTP/FTP/NNTP/IRC reply code (220, 454, 234, 382, "
            "670, 691; GridFTP 235 or the code refusing an ADAT token), IMAP/Sieve status (OK, NO, BAD), POP3 "
            "+OK/-ERR, XMPP <proceed/>/<failure/>, LDAP resultCode (0 = success), PostgreSQL S/N/E (G for "
            "GSSENCRequest), MySQL TLS/ERR, HTTP proxy status "
            "(200, 407), SOCKS reply (90-93, 0-8), RDP selected protocol (SSL, HYBRID, HYBRID_EX, RDP).",
            "220",
        ),
        Column(
            "starttls_result",
            pa.string(),
            "accepted, refused, no-reply (command seen, no answer before the connection ended), or "
            "gssapi-encrypted (PostgreSQL's GSSENCRequest answered G: the session is encrypted, but not with TLS, "
            "and is not an upgrade).",
            "accepted",
        ),
        Column(
            "server_capabilities",
            pa.list_(pa.string()),
            "Tokens of the server's automatic capability "
            "replies before TLS, in order, each once (EHLO keywords, IMAP CAPABILITY, POP3 CAPA, FTP FEAT, "
            "MySQL greeting flags …); RDP: the security protocols the client requested.",
            "['PIPELINING', 'SIZE 10240000', 'STARTTLS', 'AUTH PLAIN LOGIN']",
        ),
        Column(
            "auth_mechs_offered",
            pa.list_(pa.string()),
            "SASL mechanisms the server offered before TLS.",
            "['PLAIN', 'LOGIN']",
        ),
        Column(
            "plaintext_auth_command",
            pa.string(),
            "The first authentication command the client sent before "
            "any TLS, verb and mechanism only, never its arguments: AUTH PLAIN, LOGIN, USER, AUTHENTICATE "
            "SCRAM-SHA-1, bindRequest simple, SASLInitialResponse SCRAM-SHA-256, HandshakeResponse "
            "mysql_native_password.",
            "AUTH PLAIN",
        ),
        Column("xmpp_stream_type", pa.string(), "XMPP only: c2s (jabber:client) or s2s (jabber:server).", "c2s"),
        Column("imap_logindisabled", pa.bool_(), "IMAP only: the pre-TLS capability list had LOGINDISABLED.", "true"),
        Column("pop3_apop", pa.bool_(), "POP3 only: the greeting carried an APOP timestamp <…@…>.", "false"),
    ),
)
