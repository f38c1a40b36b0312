"""XMPP STARTTLS, client-to-server (5222) and server-to-server (5269): RFC 6120 §4 streams, §5 STARTTLS, §6 SASL.

Theory of operation: each direction is one XML document, the stream, parsed incrementally by expat (one
parser per direction, ``Parse(chunk, False)`` per chunk, namespaces split on a space so a name reads
``"urn:ietf:params:xml:ns:xmpp-tls starttls"`` whatever prefix or quote style the peer chose). The stream
header's default namespace says the stream type (§4.8.3): ``jabber:client`` is c2s, ``jabber:server`` s2s.
The server's ``<stream:features>`` (§4.3.2) gives the capabilities (the local names of its children),
``<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>`` the offer (§5.3.1, with ``<required/>`` when mandatory)
and ``<mechanisms>`` the SASL mechanisms (§6.3.3).

The upgrade point is exact in both directions: the client's ``<starttls/>`` holds its direction from the
byte after that element; the server's ``<proceed/>`` switches, and TLS starts at the byte after its closing
``>`` (§5.4.2.3). expat reports ``CurrentByteIndex`` counted over all bytes fed to the parser so far, and for
an empty element the end event points past the tag; so each direction keeps a window of its last bytes, the
start index of each child of the stream is recorded, and the element's end is found by scanning that window
(a start tag ending ``/>``, else the ``>`` of the end tag). A handler raises :class:`_HaltError` to end the parse
there, so the TLS bytes behind the element are never fed to expat. ``<failure/>`` refuses, and the server must
then close the stream (§5.4.2.2): ``done``.

Safety (§11.1 forbids DTDs and entity declarations in a stream): a DOCTYPE or entity declaration stops the
parse as an anomaly, so no entity is ever defined, expanded or resolved (no XXE, no billion laughs); comments
and processing instructions are named anomalies. The input is always decoded as UTF-8 (§11.6).

``done`` when nothing later can change the row: SASL ``<success/>`` (logged in without TLS), the first
``<message/>`` or ``<presence/>`` from the initiating entity (stanzas flow only after authentication), a
stream error, the stream's end, malformed XML, or a gap (XML cannot resynchronise).

Privacy: only element names, the SASL mechanism attribute and the offered mechanism names are read; stanza
contents, addresses and credentials are never kept.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import ClassVar, NoReturn
from xml.parsers import expat

from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.protocols.base import ProtocolAnalyzer
from tlsmon.protocols.events import (
    AuthMechanismsOffered,
    CapabilitiesOffered,
    Detail,
    PlaintextAuth,
    StartTlsAccepted,
    StartTlsOffered,
    StartTlsRejected,
    StartTlsRequested,
)
from tlsmon.protocols.text import is_token

STREAMS_NS = "http://etherx.jabber.org/streams"
TLS_NS = "urn:ietf:params:xml:ns:xmpp-tls"
SASL_NS = "urn:ietf:params:xml:ns:xmpp-sasl"
DIALBACK_NS = "jabber:server:dialback"  # XEP-0220
IQ_AUTH_NS = "jabber:iq:auth"  # XEP-0078 non-SASL authentication
STREAM_TYPES = {"jabber:client": "c2s", "jabber:server": "s2s"}

STREAM = f"{STREAMS_NS} stream"
FEATURES = f"{STREAMS_NS} features"
STREAM_ERROR = f"{STREAMS_NS} error"
STARTTLS = f"{TLS_NS} starttls"
REQUIRED = f"{TLS_NS} required"
PROCEED = f"{TLS_NS} proceed"
FAILURE = f"{TLS_NS} failure"
MECHANISMS = f"{SASL_NS} mechanisms"
MECHANISM = f"{SASL_NS} mechanism"
AUTH = f"{SASL_NS} auth"
SUCCESS = f"{SASL_NS} success"
DIALBACK_RESULT = f"{DIALBACK_NS} result"

COMMAND = "<starttls/>"
ACCEPTED = "<proceed/>"
REFUSED = "<failure/>"

# The bytes kept per direction to find an element's end; the upgrade elements are a few dozen bytes.
_WINDOW = 4096
# Plaintext parsed per direction before giving up: a pre-TLS negotiation is a few KiB (the corpus: < 5 KiB);
# this bounds what one oversized element can make expat buffer.
MAX_PLAINTEXT = 256 * 1024
# A mechanism name is at most 20 characters (RFC 4422 §3.1); its text is not collected past this.
_MAX_TEXT = 64
# A start tag: '<', then anything but quotes and '>', with quoted attribute values that may hold '>'.
_START_TAG = re.compile(rb"<[^'\">]*(?:(?:'[^']*'|\"[^\"]*\")[^'\">]*)*>")


class XmppAnomaly(StrEnum):
    # Not well-formed XML (expat's error), including an undefined entity reference (§11.1).
    MALFORMED_XML = "xmpp.malformed_xml"
    # A DOCTYPE or entity declaration: §11.1 forbids DTDs; parsing stops, no entity is ever defined.
    DOCTYPE = "xmpp.doctype"
    # A comment or processing instruction: §11.1 says an entity MUST NOT send them.
    RESTRICTED_XML = "xmpp.restricted_xml"
    # The root element is not <stream:stream> in the streams namespace (§4.2).
    NOT_A_STREAM = "xmpp.not_a_stream"
    # <proceed/> or <failure/> with no <starttls/> waiting for it (§5.4.2.3 answers only the command).
    REPLY_WITHOUT_STARTTLS = "xmpp.reply_without_starttls"
    # The client sent bytes after <starttls/> before <proceed/> (§5.4.2.3: the TLS negotiation begins only
    # after the proceed's closing '>'; the SMTP twin is Suricata's invalid_pipelined_sequence).
    DATA_AFTER_STARTTLS = "xmpp.data_after_starttls"
    # The upgrade element was longer than the window kept to find its end: the switch point is unknown.
    UPGRADE_ELEMENT_TOO_LONG = "xmpp.upgrade_element_too_long"
    # More than MAX_PLAINTEXT bytes in one direction without anything deciding the row.
    PLAINTEXT_TOO_LONG = "xmpp.plaintext_too_long"
    # Bytes were lost: an XML stream cannot be resynchronised.
    GAP = "xmpp.gap"
    # <stream:features> with more than Limits.max_capabilities distinct children; the rest is not kept.
    TOO_MANY_FEATURES = "xmpp.too_many_features"
    # <mechanisms> with more than Limits.max_capabilities distinct mechanisms; the rest is not kept.
    TOO_MANY_MECHANISMS = "xmpp.too_many_mechanisms"


class _HaltError(Exception):
    """Raised in an expat handler to end ``Parse`` at once; pyexpat stops the parser and re-raises it."""


class _Side:
    """One direction's parser, its depth in the document and a window on its last bytes."""

    __slots__ = ("base", "depth", "fed", "parser", "start", "stopped", "window")

    def __init__(self, parser: expat.XMLParserType) -> None:
        self.parser = parser
        self.window = bytearray()
        self.base = 0  # absolute index (bytes fed so far) of window[0]
        self.fed = 0
        self.depth = 0  # open elements; the stream is depth 1, its children depth 2
        self.start = -1  # absolute index of the '<' of the open child of the stream
        self.stopped = False

    def element_end(self) -> int | None:
        """Absolute index of the byte after the child of the stream whose end event is being handled."""
        begin = self.start - self.base
        if self.start < 0 or begin < 0:
            return None
        window = self.window
        tag = _START_TAG.match(window, begin)
        if tag is None:
            return None
        if window[tag.end() - 2 : tag.end()] == b"/>":
            return self.base + tag.end()
        close = window.find(b">", self.parser.CurrentByteIndex - self.base)
        return None if close < 0 else self.base + close + 1

    def rest_after(self, index: int) -> bytes:
        """The bytes fed so far after absolute ``index`` (the remainder of the current chunk)."""
        return bytes(self.window[index - self.base :])

    def trim(self) -> None:
        excess = len(self.window) - _WINDOW
        if excess > 0:
            del self.window[:excess]
            self.base += excess


def _new_parser() -> expat.XMLParserType:
    parser = expat.ParserCreate(encoding="UTF-8", namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    # expat >= 2.6 may defer re-parsing a token completed by a small chunk; the upgrade must be seen at once.
    defer = getattr(parser, "SetReparseDeferralEnabled", None)
    if defer is not None:
        defer(False)
    return parser


class XmppAnalyzer(ProtocolAnalyzer):
    name: ClassVar[str] = "xmpp"

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(limits)
        self._client = self._side(True)
        self._server = self._side(False)
        self._held = bytearray()  # the client's bytes after <starttls/>
        self._stream_type_seen = False
        # the client's open <iq type="set">; the server's open child of the stream and, inside its
        # <stream:features>, what was found so far
        self._client_iq_set = False
        self._server_child = ""
        self._feature = ""
        # ordered sets (dicts): each name once, in first-seen order, at most Limits.max_capabilities
        self._features: dict[str, None] = {}
        self._tls_offered = False
        self._tls_required = False
        self._mechs: dict[str, None] = {}
        self._text: list[str] | None = None

    def _side(self, is_orig: bool) -> _Side:
        parser = _new_parser()
        side = _Side(parser)

        def start(name: str, attrs: dict[str, str]) -> None:
            side.depth += 1
            if side.depth == 2:
                side.start = parser.CurrentByteIndex
            self._start(is_orig, side, name, attrs)

        def end(name: str) -> None:
            self._end(is_orig, side, name)
            side.depth -= 1

        def namespace(prefix: str | None, uri: str) -> None:
            if side.depth == 0 and prefix is None:
                self._stream_type(uri)

        def text(data: str) -> None:
            if self._text is not None and not is_orig:
                if sum(map(len, self._text)) < _MAX_TEXT:
                    self._text.append(data)

        def doctype(*_: object) -> None:
            self._stop(XmppAnomaly.DOCTYPE)

        def restricted(*_: object) -> None:
            self._anomaly(XmppAnomaly.RESTRICTED_XML)

        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.StartNamespaceDeclHandler = namespace
        parser.CharacterDataHandler = text
        parser.StartDoctypeDeclHandler = doctype
        parser.EntityDeclHandler = doctype
        parser.CommentHandler = restricted
        parser.ProcessingInstructionHandler = restricted
        return side

    # -- ProtocolAnalyzer ---------------------------------------------------------------------------------
    def _receive(self, is_orig: bool, data: bytes) -> None:
        if is_orig and self._client_held:
            self._held += data
            if not self._held_fits(len(self._held)):
                self._held.clear()
        else:
            self._parse(self._client if is_orig else self._server, data)

    def _lost(self, is_orig: bool, length: int) -> None:
        self._anomaly(XmppAnomaly.GAP)
        self.done = True

    # -- parsing ------------------------------------------------------------------------------------------
    def _parse(self, side: _Side, data: bytes) -> None:
        if side.stopped:
            return
        side.window += data
        side.fed += len(data)
        try:
            side.parser.Parse(data, False)
        except _HaltError:
            side.stopped = True
        except expat.ExpatError:
            side.stopped = True
            self._anomaly(XmppAnomaly.MALFORMED_XML)
            self.done = True
        side.trim()
        if not side.stopped and side.fed > MAX_PLAINTEXT:
            side.stopped = True
            self._anomaly(XmppAnomaly.PLAINTEXT_TOO_LONG)
            self.done = True

    def _stop(self, anomaly: str | None = None) -> NoReturn:
        """From inside a handler: nothing later can change the row; end the parse here."""
        if anomaly is not None:
            self._anomaly(anomaly)
        self.done = True
        raise _HaltError

    def _stream_type(self, uri: str) -> None:
        kind = STREAM_TYPES.get(uri)
        if kind is not None and not self._stream_type_seen:
            self._stream_type_seen = True
            self._emit(Detail("xmpp_stream_type", kind))

    def _start(self, is_orig: bool, side: _Side, name: str, attrs: dict[str, str]) -> None:
        if side.depth == 1:
            if name != STREAM:
                self._stop(XmppAnomaly.NOT_A_STREAM)
        elif is_orig:
            self._client_start(side.depth, name, attrs)
        else:
            self._server_start(side.depth, name)

    def _end(self, is_orig: bool, side: _Side, name: str) -> None:
        if side.depth == 1:
            self._stop()  # </stream:stream>: the session is over
        elif is_orig:
            if side.depth == 2 and name == STARTTLS:
                self._starttls(side)
        else:
            self._server_end(side, name)

    # -- the initiating entity ------------------------------------------------------------------------------
    def _client_start(self, depth: int, name: str, attrs: dict[str, str]) -> None:
        if depth == 2:
            self._client_iq_set = False
            ns, _, local = name.rpartition(" ")
            if name == AUTH:
                mech = attrs.get("mechanism", "")
                self._emit(PlaintextAuth(f"<auth/> {mech.upper()}" if is_token(mech) else "<auth/>"))
            elif name == DIALBACK_RESULT:
                self._emit(PlaintextAuth("<db:result/>"))
            elif ns in STREAM_TYPES and local in ("message", "presence"):
                self._stop()
            elif ns in STREAM_TYPES and local == "iq":
                self._client_iq_set = attrs.get("type") == "set"
        elif depth == 3 and self._client_iq_set and name == f"{IQ_AUTH_NS} query":
            self._emit(PlaintextAuth(IQ_AUTH_NS))

    def _starttls(self, side: _Side) -> None:
        end = side.element_end()
        self._emit(StartTlsRequested(COMMAND))
        if end is None:
            self._stop(XmppAnomaly.UPGRADE_ELEMENT_TOO_LONG)
        self.hold_client()
        self._held += side.rest_after(end)
        raise _HaltError

    # -- the receiving entity -----------------------------------------------------------------------------
    def _server_start(self, depth: int, name: str) -> None:
        if depth == 2:
            self._server_child = name
            if name == FEATURES:
                self._features, self._mechs = {}, {}
                self._tls_offered = self._tls_required = False
            elif name in (SUCCESS, STREAM_ERROR):
                self._stop()
        elif self._server_child != FEATURES:
            return
        elif depth == 3:
            self._feature = name
            self._add(self._features, name.rpartition(" ")[2], XmppAnomaly.TOO_MANY_FEATURES)
            if name == STARTTLS:
                self._tls_offered = True
        elif depth == 4:
            if self._feature == STARTTLS and name == REQUIRED:
                self._tls_required = True
            elif self._feature == MECHANISMS and name == MECHANISM:
                self._text = []

    def _server_end(self, side: _Side, name: str) -> None:
        depth = side.depth
        if depth == 4 and self._text is not None:
            mech = "".join(self._text).strip()
            self._text = None
            if is_token(mech):
                self._add(self._mechs, mech.upper(), XmppAnomaly.TOO_MANY_MECHANISMS)
        elif depth == 2 and name == FEATURES:
            self._emit_features()
        elif depth == 2 and name == PROCEED:
            self._proceed(side)
        elif depth == 2 and name == FAILURE:
            if self._client_held:
                self._emit(StartTlsRejected(REFUSED))
            else:
                self._anomaly(XmppAnomaly.REPLY_WITHOUT_STARTTLS)
            self._stop()

    def _add(self, names: dict[str, None], name: str, full: XmppAnomaly) -> None:
        """Add ``name`` to an ordered set of at most Limits.max_capabilities names; name the first one refused."""
        if name in names:
            return
        if len(names) < self.limits.max_capabilities:
            names[name] = None
        elif len(names) == self.limits.max_capabilities:
            names[""] = None  # the set is full: the anomaly once, "" is left out when emitting
            self._anomaly(full)

    def _emit_features(self) -> None:
        self._emit(CapabilitiesOffered(tuple(f for f in self._features if f)))
        if self._tls_offered:
            self._emit(StartTlsOffered(required=self._tls_required))
        if self._mechs:
            self._emit(AuthMechanismsOffered(tuple(m for m in self._mechs if m)))

    def _proceed(self, side: _Side) -> None:
        if not self._client_held:
            self._stop(XmppAnomaly.REPLY_WITHOUT_STARTTLS)
        end = side.element_end()
        if end is None:
            self._stop(XmppAnomaly.UPGRADE_ELEMENT_TOO_LONG)
        self._emit(StartTlsAccepted(ACCEPTED))
        self._switch(bytes(self._held), side.rest_after(end))
        self._held.clear()
        if self._trailing_client:
            self._anomaly(XmppAnomaly.DATA_AFTER_STARTTLS)
        raise _HaltError


def probe(is_orig: bool, data: bytes, server_port: int) -> bool | None:
    """Is this XMPP? True when the first element is <stream> in the streams namespace (any prefix), False on
    anything else or malformed XML, None while the first start tag is incomplete. The port plays no part:
    the stream header is unambiguous."""
    parser = _new_parser()
    root: list[str] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        root.append(name)
        raise _HaltError

    def refuse(*_: object) -> None:
        raise _HaltError

    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(data, False)
    except _HaltError:
        return bool(root) and root[0] == STREAM
    except expat.ExpatError:
        return False
    return None
