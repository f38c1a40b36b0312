"""LDAP (RFC 4511) StartTLS (RFC 4511 §4.14, RFC 4513 §3) and plaintext binds.

Theory of operation: both directions are a stream of BER ``LDAPMessage`` envelopes (RFC 4511 §4.1.1):
``SEQUENCE { messageID INTEGER, protocolOp CHOICE { [APPLICATION n] … }, controls [0] OPTIONAL }``. Each
envelope is framed by its BER length (:mod:`tlsmon.protocols.ber`); only its head is buffered and parsed (at
most :data:`MAX_HEAD` bytes), the rest of a long message (search results) is skipped as it arrives.

- The client's ExtendedRequest (``[APPLICATION 23]``) whose requestName is 1.3.6.1.4.1.1466.20037 is the
  StartTLS request: its messageID is remembered and the client direction held. The server's ExtendedResponse
  (``[APPLICATION 24]``) with the same messageID decides: resultCode 0 (success) switches both directions to
  TLS at the byte after the response (server) and after the request (client); any other code (protocolError 2,
  unavailable 52, operationsError 1 …) is a refusal, reported as the number, and plaintext continues.
- A root DSE search (RFC 4512 §5.1: baseObject "" and scope baseObject) answered by an entry listing
  ``supportedExtension`` is the capability reply: its OIDs are the capabilities, the StartTLS OID among them is
  the offer, ``supportedSASLMechanisms`` the mechanisms offered.
- A BindRequest with a password (simple bind, RFC 4513 §5.1.3) or a SASL mechanism is plaintext
  authentication, reported as ``bindRequest simple`` / ``bindRequest sasl <MECH>``; the DN and the credentials
  are never read. Anonymous and unauthenticated binds (empty password, §5.1.1-5.1.2) carry no credential and
  are not reported. A successful authenticated bind, an UnbindRequest or the server's Notice of Disconnection
  (messageID 0, §4.4.1) end the interest in the session.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from typing import ClassVar

from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.protocols.ber import (
    TAG_ENUMERATED,
    TAG_INTEGER,
    TAG_OCTET_STRING,
    TAG_SEQUENCE,
    TAG_SET,
    BerError,
    BerReader,
    element_length,
    read_header,
)
from tlsmon.protocols.binary import BinaryProtocol
from tlsmon.protocols.events import (
    AuthMechanismsOffered,
    CapabilitiesOffered,
    PlaintextAuth,
    StartTlsAccepted,
    StartTlsOffered,
    StartTlsRejected,
    StartTlsRequested,
)
from tlsmon.protocols.text import is_token

STARTTLS_OID = b"1.3.6.1.4.1.1466.20037"  # RFC 4511 §4.14.1
RESULT_SUCCESS = 0  # RFC 4511 §4.1.9
RESULT_SASL_BIND_IN_PROGRESS = 14
NOTICE_OF_DISCONNECTION_ID = 0  # RFC 4511 §4.4: unsolicited notifications carry messageID 0

# RFC 4511 §4.2-4.14 protocolOp tags ([APPLICATION n], constructed unless noted)
OP_BIND_REQUEST = 0x60
OP_BIND_RESPONSE = 0x61
OP_UNBIND_REQUEST = 0x42  # primitive NULL
OP_SEARCH_REQUEST = 0x63
OP_SEARCH_RESULT_ENTRY = 0x64
OP_SEARCH_RESULT_DONE = 0x65
OP_EXTENDED_REQUEST = 0x77
OP_EXTENDED_RESPONSE = 0x78
REQUEST_OPS = frozenset({0x60, 0x42, 0x63, 0x66, 0x68, 0x4A, 0x6C, 0x6E, 0x50, 0x77})
RESPONSE_OPS = frozenset({0x61, 0x64, 0x65, 0x73, 0x67, 0x69, 0x6B, 0x6D, 0x6F, 0x78, 0x79})
# Context-specific tags inside operations
AUTH_SIMPLE = 0x80  # BindRequest authentication [0] simple OCTET STRING
AUTH_SASL = 0xA3  # BindRequest authentication [3] SaslCredentials
EXTENDED_REQUEST_NAME = 0x80  # ExtendedRequest requestName [0] LDAPOID
SCOPE_BASE_OBJECT = 0

ROOT_DSE_EXTENSIONS = "supportedextension"  # RFC 4512 §5.1.4
ROOT_DSE_SASL_MECHANISMS = "supportedsaslmechanisms"  # RFC 4512 §5.1.5

# The head of a message that is buffered and parsed; the rest is skipped. A root DSE entry is a few KiB.
MAX_HEAD = 16384

_OpHandler = Callable[[int, int, BerReader], None]  # (messageID, protocolOp tag, its contents)
_OID = re.compile(rb"[0-9]+(\.[0-9]+){1,30}\Z")


class LdapAnomaly(StrEnum):
    # The stream does not start with a BER SEQUENCE of definite length (RFC 4511 §4.1.1, §5.1): framing is
    # lost; the usual cause is a SASL security layer after a GSSAPI/DIGEST-MD5 bind (RFC 4513 §5.2.1.5).
    NOT_AN_LDAP_MESSAGE = "ldap.not_an_ldap_message"
    # An LDAPMessage whose messageID or protocolOp cannot be read (RFC 4511 §4.1.1).
    MALFORMED_MESSAGE = "ldap.malformed_message"
    # The client sent bytes after the StartTLS request before its response (RFC 4511 §4.14.1: no outstanding
    # operations and nothing more until the response).
    DATA_AFTER_STARTTLS = "ldap.data_after_starttls"
    # More than Limits.max_pending_commands root DSE searches awaiting results: tracking stops.
    TOO_MANY_PENDING_COMMANDS = "ldap.too_many_pending_commands"


class LdapAnalyzer(BinaryProtocol):
    name: ClassVar[str] = "ldap"

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(limits)
        self._starttls_id: int | None = None
        self._bind_id: int | None = None  # an authenticated bind waiting for its response
        self._root_dse_ids: set[int] = set()
        self._cut = False  # the message being parsed is longer than MAX_HEAD: only its head is buffered

    # -- framing -----------------------------------------------------------------------------------------
    def client_message(self, buf: bytearray) -> int | None:
        return self._message(buf, self._client_op)

    def server_message(self, buf: bytearray) -> int | None:
        return self._message(buf, self._server_op)

    def _message(self, buf: bytearray, handle: _OpHandler) -> int | None:
        try:
            if buf[0] != TAG_SEQUENCE:
                raise BerError("not a SEQUENCE")
            total = element_length(buf)
        except BerError:
            self._anomaly(LdapAnomaly.NOT_AN_LDAP_MESSAGE)
            self.done = True
            return 0
        if total is None:
            return None
        head = min(total, MAX_HEAD)
        if len(buf) < head:
            return None
        self._cut = total > head
        try:
            _, envelope = BerReader(bytes(buf[:head])).enter(TAG_SEQUENCE)
            message_id = envelope.integer()
            op, body = envelope.enter()
            handle(message_id, op, body)
        except BerError:
            if not self._cut:  # in a message cut to its head, the value may just run past the cut
                self._anomaly(LdapAnomaly.MALFORMED_MESSAGE)
        return total

    # -- client ------------------------------------------------------------------------------------------
    def _client_op(self, message_id: int, op: int, body: BerReader) -> None:
        if op == OP_EXTENDED_REQUEST:
            if body.value(EXTENDED_REQUEST_NAME) == STARTTLS_OID:
                self._starttls_id = message_id
                self._emit(StartTlsRequested("StartTLS"))
                self.hold_client()
        elif op == OP_BIND_REQUEST:
            self._bind(message_id, body)
        elif op == OP_SEARCH_REQUEST:
            base = body.value(TAG_OCTET_STRING)
            scope = body.integer(TAG_ENUMERATED)
            # the message ids of root DSE searches awaiting their result (a client asks once): Suricata's
            # LDAP_MAX_TX idea, bounded by Limits.max_pending_commands
            if base == b"" and scope == SCOPE_BASE_OBJECT and self._pending_fits(len(self._root_dse_ids)):
                self._root_dse_ids.add(message_id)
        elif op == OP_UNBIND_REQUEST:
            self.done = True

    def _bind(self, message_id: int, body: BerReader) -> None:
        body.integer(TAG_INTEGER)  # version
        body.skip()  # name: the DN is never read
        kind = body.peek_tag()
        if kind == AUTH_SIMPLE:
            if body.value(AUTH_SIMPLE):  # a password; its value goes nowhere
                self._bind_id = message_id
                self._emit(PlaintextAuth("bindRequest simple"))
        elif kind == AUTH_SASL:
            _, sasl = body.enter(AUTH_SASL)
            mechanism = sasl.value(TAG_OCTET_STRING).decode("ascii", "replace").upper()
            self._bind_id = message_id
            self._emit(PlaintextAuth(f"bindRequest sasl {mechanism}" if is_token(mechanism) else "bindRequest sasl"))

    # -- server ------------------------------------------------------------------------------------------
    def _server_op(self, message_id: int, op: int, body: BerReader) -> None:
        if op == OP_EXTENDED_RESPONSE:
            if message_id == NOTICE_OF_DISCONNECTION_ID:
                self.done = True
            elif message_id == self._starttls_id:
                self._starttls_answer(body.integer(TAG_ENUMERATED))
        elif op == OP_BIND_RESPONSE:
            if message_id == self._bind_id:
                code = body.integer(TAG_ENUMERATED)
                if code == RESULT_SUCCESS:
                    self.done = True
                elif code != RESULT_SASL_BIND_IN_PROGRESS:
                    self._bind_id = None
        elif op == OP_SEARCH_RESULT_ENTRY:
            if message_id in self._root_dse_ids and body.value(TAG_OCTET_STRING) == b"":
                self._root_dse(body)
        elif op == OP_SEARCH_RESULT_DONE:
            self._root_dse_ids.discard(message_id)

    def _starttls_answer(self, code: int) -> None:
        self._starttls_id = None
        if code == RESULT_SUCCESS:
            self._emit(StartTlsAccepted(str(code)))
            if self._client:
                self._anomaly(LdapAnomaly.DATA_AFTER_STARTTLS)
            self.switch()
        else:
            self._emit(StartTlsRejected(str(code)))
            self.release_client()

    def _root_dse(self, body: BerReader) -> None:
        extensions: list[str] | None = None
        mechanisms: list[str] = []
        _, attributes = body.enter(TAG_SEQUENCE)
        try:
            while not attributes.eof():
                _, attribute = attributes.enter(TAG_SEQUENCE)
                kind = attribute.value(TAG_OCTET_STRING).decode("ascii", "replace").lower()
                if kind not in (ROOT_DSE_EXTENSIONS, ROOT_DSE_SASL_MECHANISMS):
                    continue
                _, values = attribute.enter(TAG_SET)
                found = []
                while not values.eof():
                    found.append(values.value(TAG_OCTET_STRING))
                if kind == ROOT_DSE_EXTENSIONS:
                    extensions = [oid.decode() for oid in found if _OID.match(oid)]
                else:
                    mechanisms = [m for m in (raw.decode("ascii", "replace").upper() for raw in found) if is_token(m)]
        except BerError:
            if not self._cut:
                raise
            # An entry longer than MAX_HEAD: what its head held is kept, the rest was skipped unread.
        if extensions is not None:
            self._emit(CapabilitiesOffered(tuple(extensions)))
            if STARTTLS_OID.decode() in extensions:
                self._emit(StartTlsOffered())
        if mechanisms:
            self._emit(AuthMechanismsOffered(tuple(mechanisms)))


def probe(is_orig: bool, data: bytes, server_port: int) -> bool | None:
    """Is this an LDAPMessage? SEQUENCE, messageID, then a request (client) or response (server) protocolOp.

    Checked byte by byte as far as ``data`` goes, so text and other binary protocols are refused early.
    """
    try:
        return _probe(data, REQUEST_OPS if is_orig else RESPONSE_OPS)
    except BerError:
        return False


def _probe(data: bytes, ops: frozenset[int]) -> bool | None:
    if data[:1] != bytes((TAG_SEQUENCE,)):
        return False
    envelope = read_header(data, 0, len(data))
    if envelope is None:
        return None
    _, start, length = envelope
    end = start + length
    if start >= len(data):
        return None
    if data[start] != TAG_INTEGER:
        return False
    message_id = read_header(data, start, min(end, len(data)))
    if message_id is None:
        return None if len(data) < end else False
    _, id_start, id_length = message_id
    op_at = id_start + id_length
    if not 0 < id_length <= 4 or op_at >= end:
        return False
    if op_at >= len(data):
        return None
    if data[op_at] not in ops:
        return False
    op = read_header(data, op_at, min(end, len(data)))
    if op is None:
        return None if len(data) < end else False
    return op[1] + op[2] <= end
