"""What a plaintext protocol analyzer reports: small frozen events, the dispatcher's only input from it.

Analyzers are sans-IO (bytes in, events out); :mod:`tlsmon.protocols.starttls` folds the events of one
connection into the row's STARTTLS columns. Fields are plain text or flags; nothing here ever holds a command
argument, an address or a credential — only server capability tokens and command verbs (see docs/protocols.md
on privacy) — except :class:`TlsPayload`, the TLS handshake records a protocol carries in its own messages,
which only the TLS analyzer reads.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Event:
    """Base class: dispatch on the type."""


@dataclass(frozen=True, slots=True)
class CapabilitiesOffered(Event):
    """Tokens of an automatic server capability reply (EHLO keywords, IMAP CAPABILITY, POP3 CAPA, …)."""

    tokens: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StartTlsOffered(Event):
    """The server advertised the upgrade; ``required`` when it said the upgrade is mandatory."""

    required: bool = False


@dataclass(frozen=True, slots=True)
class AuthMechanismsOffered(Event):
    """SASL (or protocol-specific) authentication mechanisms the server offered before TLS."""

    mechanisms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StartTlsRequested(Event):
    """The client asked to upgrade; ``command`` is the verb as the protocol spells it (``STARTTLS``, ``STLS``)."""

    command: str


@dataclass(frozen=True, slots=True)
class StartTlsAccepted(Event):
    """The server agreed: the rest of both streams is TLS. ``reply`` is the reply code or element."""

    reply: str


@dataclass(frozen=True, slots=True)
class OtherEncryptionAccepted(Event):
    """The server agreed to an encryption that is not TLS (PostgreSQL's GSSENCRequest answered ``G``): the rest
    of the streams is encrypted, but no TLS upgrade happened and none is counted. ``reply`` is the answer."""

    reply: str


@dataclass(frozen=True, slots=True)
class StartTlsRejected(Event):
    """The server refused the upgrade; plaintext continues. ``reply`` is the reply code or element."""

    reply: str


@dataclass(frozen=True, slots=True)
class PlaintextAuth(Event):
    """The client began authenticating before any TLS: verb and mechanism only (``AUTH PLAIN``, ``USER``)."""

    command: str


@dataclass(frozen=True, slots=True)
class Detail(Event):
    """A protocol-specific fact for one STARTTLS column, e.g. ``("xmpp_stream_type", "c2s")``."""

    column: str
    value: str | bool


@dataclass(frozen=True, slots=True)
class Anomaly(Event):
    """A named protocol anomaly (``smtp.reply_without_command``); counted on the row, never raised."""

    name: str


@dataclass(frozen=True, slots=True)
class TlsPayload(Event):
    """TLS bytes the protocol carries inside its own messages (GridFTP's base64 ``ADAT`` tokens), decoded: the
    dispatcher feeds them to a TLS analyzer, per direction, in order. Handshake records, never payload."""

    is_orig: bool
    data: bytes
