"""PostgreSQL frontend/backend protocol up to authentication (PostgreSQL docs, "Frontend/Backend Protocol").

Theory of operation: the client speaks first with an untyped message, an int32 length and an int32 code
(sections "Start-up" and "Message Formats"; section numbers differ between releases):

- ``SSLRequest`` (length 8, code 80877103) asks for TLS. The server answers with ONE byte: ``S`` (the client's
  next byte and the server's next byte are TLS: the upgrade point), ``N`` (refused; the client goes on in
  plaintext, usually with a StartupMessage), or, from servers predating SSL support, an ErrorResponse ``E``.
- ``GSSENCRequest`` (code 80877104) asks for GSSAPI encryption instead; noted as the upgrade command
  ``GSSENCRequest``. ``G`` accepts it: the rest is GSSAPI-wrapped, not TLS, so the analysis ends there (the
  row says ``gssapi-encrypted`` with reply ``G`` and no TLS: it is not a STARTTLS upgrade); ``N`` refuses it
  and the client may send an SSLRequest next.
- ``StartupMessage`` (protocol 3.x, or the obsolete 2.0) begins a plaintext session; no upgrade can follow.
  The server's Authentication requests name the method (cleartext, MD5, SASL with its mechanism list …) and the
  client's next ``p`` message is the plaintext authentication (message name and method only, never its
  content). AuthenticationOk, an ErrorResponse or a Terminate end the interest in the session.
- ``CancelRequest`` (code 80877102) is a connection of its own that carries nothing of interest.

The server never speaks first, so the probe looks at the client's first message only. Direct TLS (PostgreSQL
17 ``sslnegotiation=direct``) starts with a ClientHello and is implicit TLS, found by the TLS probe.
"""

from __future__ import annotations

import struct
from enum import StrEnum
from typing import ClassVar

from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.protocols.binary import BinaryProtocol
from tlsmon.protocols.events import (
    AuthMechanismsOffered,
    OtherEncryptionAccepted,
    PlaintextAuth,
    StartTlsAccepted,
    StartTlsRejected,
    StartTlsRequested,
)
from tlsmon.protocols.text import is_token

# Untyped start-up codes ("Message Formats")
SSL_REQUEST_CODE = 80877103  # 1234 << 16 | 5679
GSSENC_REQUEST_CODE = 80877104  # 1234 << 16 | 5680
CANCEL_REQUEST_CODE = 80877102  # 1234 << 16 | 5678
PROTOCOL_3_MAJOR = 3
PROTOCOL_2_MAJOR = 2  # obsolete (before 7.4), still a plaintext start-up
SSL_REQUEST = struct.pack(">II", 8, SSL_REQUEST_CODE)
GSSENC_REQUEST = struct.pack(">II", 8, GSSENC_REQUEST_CODE)
CANCEL_REQUEST_LENGTH = 16
# src/include/libpq/pqcomm.h MAX_STARTUP_PACKET_LENGTH: the server rejects longer start-up packets.
MAX_STARTUP_LENGTH = 10000

# Answers to SSLRequest / GSSENCRequest
ANSWER_SSL = b"S"[0]
ANSWER_GSS = b"G"[0]
ANSWER_NO = b"N"[0]
ANSWER_ERROR = b"E"[0]

# Typed message kinds ("Message Formats")
MSG_AUTHENTICATION = b"R"[0]
MSG_ERROR = b"E"[0]
MSG_PASSWORD = b"p"[0]  # PasswordMessage, SASLInitialResponse, SASLResponse, GSSResponse
MSG_TERMINATE = b"X"[0]

# AuthenticationXxx codes ("Message Formats"): the method each names, as auth_mechs_offered spells it.
AUTH_OK = 0
AUTH_SASL = 10
AUTH_METHODS: dict[int, str] = {2: "KERBEROS_V5", 3: "PASSWORD", 5: "MD5", 7: "GSS", 9: "SSPI", 10: "SASL"}
# The client's reply to each method, as plaintext_auth_command spells it ("Message Formats" message names).
AUTH_REPLIES: dict[int, str] = {
    2: "PasswordMessage KERBEROS_V5",
    3: "PasswordMessage PASSWORD",
    5: "PasswordMessage MD5",
    7: "GSSResponse",
    9: "GSSResponse",
    10: "SASLInitialResponse",
}

_HEADER = struct.Struct(">II")
_TYPED = struct.Struct(">cI")
_INT32 = struct.Struct(">I")

_STARTUP = "startup"  # the client's next message is untyped
_ANSWER = "answer"  # the server's next byte answers SSLRequest / GSSENCRequest
_SESSION = "session"  # typed messages after the StartupMessage


class PostgresqlAnomaly(StrEnum):
    # An untyped start-up message whose length is below 8 or above MAX_STARTUP_LENGTH (pqcomm.h).
    BAD_STARTUP_LENGTH = "postgresql.bad_startup_length"
    # A start-up code that is none of SSLRequest, GSSENCRequest, CancelRequest or protocol 2/3 ("Message Formats").
    UNKNOWN_STARTUP_CODE = "postgresql.unknown_startup_code"
    # The one-byte answer to SSLRequest/GSSENCRequest was not S/G, N or E (docs: "SSL Session Encryption",
    # "GSSAPI Session Encryption").
    BAD_ENCRYPTION_ANSWER = "postgresql.bad_encryption_answer"
    # The server sent bytes while no start-up message or encryption request was waiting for an answer.
    SERVER_SPOKE_FIRST = "postgresql.server_spoke_first"
    # A typed message whose length field is below 4 (the length counts itself, "Message Formats").
    BAD_MESSAGE_LENGTH = "postgresql.bad_message_length"
    # The client sent bytes after SSLRequest before the server's answer: the frontend must wait for it
    # ("SSL Session Encryption"); the shape of the CVE-2021-23214 injection.
    DATA_AFTER_SSLREQUEST = "postgresql.data_after_sslrequest"


class PostgresqlAnalyzer(BinaryProtocol):
    name: ClassVar[str] = "postgresql"

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(limits)
        self._client_state = _STARTUP
        self._server_state = _STARTUP
        self._request = ""  # the pending encryption request: SSLRequest or GSSENCRequest
        self._auth_method = -1  # the last authentication method the server asked for
        self._auth_seen = False

    # -- client ----------------------------------------------------------------------------------------
    def client_message(self, buf: bytearray) -> int | None:
        if self._client_state == _STARTUP:
            return self._startup(buf)
        return self._client_typed(buf)

    def _startup(self, buf: bytearray) -> int | None:
        if len(buf) < 8:
            return None
        length, code = _HEADER.unpack_from(buf)
        if length < 8 or length > MAX_STARTUP_LENGTH:
            return self._stop(PostgresqlAnomaly.BAD_STARTUP_LENGTH)
        if code in (SSL_REQUEST_CODE, GSSENC_REQUEST_CODE) and length == 8:
            self._request = "SSLRequest" if code == SSL_REQUEST_CODE else "GSSENCRequest"
            self._emit(StartTlsRequested(self._request))
            self._server_state = _ANSWER
            self.hold_client()
            return 8
        if code == CANCEL_REQUEST_CODE and length == CANCEL_REQUEST_LENGTH:
            self.done = True
            return length
        if code >> 16 in (PROTOCOL_3_MAJOR, PROTOCOL_2_MAJOR):
            # The StartupMessage's parameters (user, database …) are skipped unread.
            self._client_state = self._server_state = _SESSION
            return length
        return self._stop(PostgresqlAnomaly.UNKNOWN_STARTUP_CODE)

    def _client_typed(self, buf: bytearray) -> int | None:
        if len(buf) < 5:
            return None
        kind, length = _TYPED.unpack_from(buf)
        if length < 4:
            return self._stop(PostgresqlAnomaly.BAD_MESSAGE_LENGTH)
        total = 1 + length
        if kind[0] == MSG_TERMINATE:
            self.done = True
        elif kind[0] == MSG_PASSWORD and not self._auth_seen:
            if self._auth_method == AUTH_SASL:
                if len(buf) < min(total, 5 + 64):
                    return None
                self._emit(PlaintextAuth(_sasl_initial_response(bytes(buf[5 : min(total, 5 + 64)]))))
            else:
                self._emit(PlaintextAuth(AUTH_REPLIES.get(self._auth_method, "PasswordMessage")))
            self._auth_seen = True
        return total

    # -- server ----------------------------------------------------------------------------------------
    def server_message(self, buf: bytearray) -> int | None:
        if self._server_state == _ANSWER:
            return self._encryption_answer(buf[0])
        if self._server_state == _STARTUP:
            return self._stop(PostgresqlAnomaly.SERVER_SPOKE_FIRST)
        return self._server_typed(buf)

    def _encryption_answer(self, answer: int) -> int:
        request, self._request = self._request, ""
        self._server_state = _STARTUP
        if answer == ANSWER_SSL and request == "SSLRequest":
            self._emit(StartTlsAccepted("S"))
            if self._client:
                self._anomaly(PostgresqlAnomaly.DATA_AFTER_SSLREQUEST)
            self.switch()
        elif answer == ANSWER_GSS and request == "GSSENCRequest":
            self._emit(OtherEncryptionAccepted("G"))
            self.done = True
        elif answer == ANSWER_NO:
            self._emit(StartTlsRejected("N"))
            self.release_client()
        elif answer == ANSWER_ERROR:
            # A server without SSL support answers with an ErrorResponse and closes ("SSL Session Encryption").
            self._emit(StartTlsRejected("E"))
            self.done = True
        else:
            self._anomaly(PostgresqlAnomaly.BAD_ENCRYPTION_ANSWER)
            self.done = True
        return 1

    def _server_typed(self, buf: bytearray) -> int | None:
        if len(buf) < 5:
            return None
        kind, length = _TYPED.unpack_from(buf)
        if length < 4:
            return self._stop(PostgresqlAnomaly.BAD_MESSAGE_LENGTH)
        total = 1 + length
        if kind[0] == MSG_ERROR:
            self.done = True
        elif kind[0] == MSG_AUTHENTICATION and length >= 8:
            if len(buf) < 9:
                return None
            method = _INT32.unpack_from(buf, 5)[0]
            if method == AUTH_OK:
                self.done = True
            elif method == AUTH_SASL:
                if len(buf) < min(total, 1024):
                    return None
                self._offer(method, _sasl_mechanisms(bytes(buf[9 : min(total, 1024)])))
            elif method in AUTH_METHODS:
                self._offer(method, (AUTH_METHODS[method],))
        return total

    def _offer(self, method: int, mechanisms: tuple[str, ...]) -> None:
        self._auth_method = method
        if mechanisms:
            self._emit(AuthMechanismsOffered(mechanisms))

    def _stop(self, anomaly: PostgresqlAnomaly) -> int:
        self._anomaly(anomaly)
        self.done = True
        return 0


def _sasl_mechanisms(body: bytes) -> tuple[str, ...]:
    """AuthenticationSASL's NUL-terminated mechanism names, up to the empty one ("Message Formats")."""
    names = []
    for raw in body.split(b"\x00"):
        if not raw:
            break
        name = raw.decode("ascii", "replace").upper()
        if is_token(name):
            names.append(name)
    return tuple(names)


def _sasl_initial_response(body: bytes) -> str:
    """``SASLInitialResponse <MECHANISM>``: the mechanism name only, never the response data after it."""
    raw, _, _ = body.partition(b"\x00")
    name = raw.decode("ascii", "replace").upper()
    return f"SASLInitialResponse {name}" if is_token(name) else "SASLInitialResponse"


def probe(is_orig: bool, data: bytes, server_port: int) -> bool | None:
    """Is this the PostgreSQL start-up? Decided on the client's first 8 bytes (the server never speaks first)."""
    if not is_orig:
        return False
    if len(data) < 8:
        # Every start-up message begins with a length below 2^16: two zero bytes.
        return None if data[:2] == b"\x00\x00"[: len(data)] else False
    length, code = _HEADER.unpack_from(data)
    if code in (SSL_REQUEST_CODE, GSSENC_REQUEST_CODE):
        return length == 8
    if code == CANCEL_REQUEST_CODE:
        return length == CANCEL_REQUEST_LENGTH
    if code >> 16 == PROTOCOL_3_MAJOR and code & 0xFFFF <= 0xFF and 8 < length <= MAX_STARTUP_LENGTH:
        return _startup_parameters(data[8:length])
    return False


def _startup_parameters(params: bytes) -> bool | None:
    """A StartupMessage's parameters begin with a NUL-terminated lower-case name such as ``user``."""
    end = params.find(b"\x00")
    name = (params if end < 0 else params[:end]).replace(b"_", b"")
    if end < 0:
        return None if len(params) < 64 and (not name or (name.isalpha() and name.islower())) else False
    return bool(name) and name.isalpha() and name.islower()
