"""FTP control connection (RFC 959), FEAT (RFC 2389), AUTH TLS (RFC 2228, RFC 4217).

Theory of operation: replies are matched, in order, to what they answer — a queue holds the greeting and each
client command not yet answered. A reply is one line ``ddd text`` or a multi-line block that opens with
``ddd-`` and ends at the first line starting ``ddd `` (RFC 959 §4.2: the lines between may hold anything,
FEAT's features start with a space). A ``1yz`` reply is preliminary (RFC 959 §4.2.1): the command stays
queued for its final reply.

The 211 answer to FEAT lists the server's features; they are the row's capabilities, and ``AUTH TLS`` (or
the older ``AUTH SSL``, ``TLS-C``, ``TLS-P``, RFC 4217 §6) among them is the STARTTLS offer. The client's
``AUTH TLS`` / ``AUTH SSL`` holds the client direction; ``234`` switches both directions to TLS at the next
byte (RFC 4217 §4), any other final reply (``431``, ``500``, ``502``, ``504``, ``534`` …) is a refusal and
plaintext continues.

GridFTP (GSI, Globus): ``AUTH GSSAPI`` answered ``334`` opens the RFC 2228 security data exchange, whose
tokens travel base64-encoded in the client's ``ADAT`` commands and in the ``ADAT=`` of the server's ``335``
(more to come) and ``235`` (exchange complete) replies. GSI's GSSAPI mechanism sends no RFC 2743 token framing:
the tokens are TLS records. As Zeek's FTP_ADAT analyzer does, the first client token decides — a handshake
record (type 22) whose length fills the token — and each token is then decoded and reported as
:class:`~tlsmon.protocols.events.TlsPayload` for the dispatcher's TLS analyzer, client tokens as the client's
stream, server tokens as the server's. That the first TLS token is the client's upgrade request
(``starttls_command`` ``AUTH GSSAPI``); ``235`` is the acceptance, any other final reply to ``ADAT`` a refusal
that ends the exchange. After ``235`` every command is protected (``ENC``/``MIC``, RFC 2228 §3): done. Any
other GSSAPI mechanism (Kerberos: framed tokens) is not read. A token longer than ``Limits.max_line`` is lost
with its line (``ftp.line_too_long``); the TLS analyzer then names the records it cannot follow.

Privacy: only command verbs are looked at, plus the mechanism name of ``AUTH`` and the ``ADAT`` tokens of a
GSI exchange, which are the TLS handshake itself. ``USER`` is recorded as the
plaintext login verb, never its argument. ``done`` at ``QUIT``, and once the client logged in without TLS
(``230``) and the FEAT list has been seen: nothing later can change the row. A logged-in session without FEAT
is followed on (FEAT commonly comes after login); control connections are small.
"""

from __future__ import annotations

import binascii
from collections import deque
from enum import StrEnum
from typing import ClassVar

from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.protocols.base import LineProtocol
from tlsmon.protocols.events import (
    AuthMechanismsOffered,
    CapabilitiesOffered,
    PlaintextAuth,
    StartTlsAccepted,
    StartTlsOffered,
    StartTlsRejected,
    StartTlsRequested,
    TlsPayload,
)
from tlsmon.protocols.text import (
    GREETING,
    Listing,
    answered,
    first_line,
    is_token,
    mechanism,
    reply_code,
    tokens,
    verb_of,
)

PORTS = frozenset({21})  # 990 is implicit FTPS: TLS from the first byte, no analyzer needed

# RFC 4217 §4 and §6: TLS and TLS-C name TLS on the control connection; SSL and TLS-P are legacy names that
# servers still accept (TLS-P also protects data connections).
TLS_MECHANISMS = frozenset({"TLS", "SSL", "TLS-C", "TLS-P"})
_READY = "234"  # RFC 2228 §4 / RFC 4217 §4: "234 Security data exchange complete" — TLS follows
# RFC 959 §5.4: the connection-establishment replies (120 is preliminary and never reaches the queue).
_GREETING_CODES = frozenset({"220", "421"})
_LOGGED_IN = "230"  # RFC 959 §4.2.2: "User logged in, proceed"
_LOGIN_VERBS = frozenset({"USER", "PASS", "ACCT"})
_GSSAPI = "AUTH GSSAPI"
_ADAT = "ADAT"
_ADAT_MUST_FOLLOW = "334"  # RFC 2228 §4: "Security mechanism accepted, ADAT must follow"
_ADAT_CONTINUE = "335"  # RFC 2228 §4: "Security data is acceptable; more data is required"
_ADAT_COMPLETE = "235"  # RFC 2228 §4: "Security data exchange complete"
_ADAT_FIELD = b"ADAT="
# Telnet commands (IAC and what follows, RFC 854) precede ABOR and other urgent commands (RFC 959 §4.1.3).
_TELNET = bytes(range(0xF0, 0x100))


class FtpAnomaly(StrEnum):
    # A final reply arrived while no command (nor the greeting) was waiting for one.
    REPLY_WITHOUT_COMMAND = "ftp.reply_without_command"
    # A reply line that is not three digits followed by ' ', '-' or the line end (RFC 959 §4.2).
    MALFORMED_REPLY = "ftp.malformed_reply"
    # A multi-line reply longer than Limits.max_reply_lines lines (FEAT lists run to a few dozen features,
    # RFC 2389 has no limit); the rest of its lines are not kept.
    REPLY_TOO_LONG = "ftp.reply_too_long"
    # The client sent bytes after AUTH TLS before the server's 234 (RFC 4217 §4: the TLS negotiation starts
    # right after the reply; plaintext pipelined past it is the STARTTLS command-injection shape).
    DATA_AFTER_AUTH_TLS = "ftp.data_after_auth_tls"
    # More than Limits.max_pending_commands unanswered: tracking stops (bounded state).
    TOO_MANY_PENDING_COMMANDS = "ftp.too_many_pending_commands"
    # An ADAT token of a GSI (TLS) exchange that is not base64 (RFC 2228 §3: base64 per RFC 1421); the exchange
    # is no longer followed.
    MALFORMED_ADAT = "ftp.malformed_adat"


class FtpAnalyzer(LineProtocol):
    name: ClassVar[str] = "ftp"

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(limits)
        self._pending: deque[str] = deque([GREETING])
        self._multi: bytes | None = None  # the code of the multi-line reply being read
        self._reply_lines = Listing[bytes](limits.max_reply_lines)
        self._logged_in = False
        self._feat_seen = False
        self._adat = False  # AUTH GSSAPI was answered 334: ADAT tokens follow
        self._adat_tls: bool | None = None  # the tokens are TLS records; None until the first client token

    # -- client --------------------------------------------------------------------------------------
    def client_line(self, line: bytes) -> None:
        if not self._pending_fits(len(self._pending)):
            return
        line = line.lstrip(_TELNET)
        verb = verb_of(line)
        if verb == "AUTH":
            mech = mechanism(line)
            if mech in TLS_MECHANISMS:
                command = f"AUTH {mech}"
                self._pending.append(command)
                self._emit(StartTlsRequested(command))
                self.hold_client()
                return
            self._emit(PlaintextAuth(f"AUTH {mech}" if mech else "AUTH"))
            self._adat = False  # RFC 2228 §3: a new AUTH resets the security state
            if mech == "GSSAPI":
                self._pending.append(_GSSAPI)
                return
        elif verb == _ADAT and self._adat:
            self._client_token(line)
        elif verb == "USER":
            self._emit(PlaintextAuth(verb))
        elif verb == "QUIT":
            self.done = True
        self._pending.append(verb)

    # -- server --------------------------------------------------------------------------------------
    def server_line(self, line: bytes) -> None:
        if self._multi is not None:
            if line[:3] == self._multi and line[3:4] in (b" ", b""):
                self._multi = None
                self._reply(line[:3].decode(), self._reply_lines.take(), line)
            elif self._reply_lines.add(line):
                self._anomaly(FtpAnomaly.REPLY_TOO_LONG)
            return
        code, more = reply_code(line)
        if code is None:
            self._anomaly(FtpAnomaly.MALFORMED_REPLY)
        elif more:
            self._multi = line[:3]
        else:
            self._reply(code, [], line)

    def _reply(self, code: str, lines: list[bytes], last: bytes = b"") -> None:
        if code[0] == "1":
            return
        if not self._pending:
            self._anomaly(FtpAnomaly.REPLY_WITHOUT_COMMAND)
            return
        command = answered(self._pending, code, _GREETING_CODES)
        if command == "FEAT" and code == "211":
            self._features(lines)
        elif command == _GSSAPI:
            self._adat = code == _ADAT_MUST_FOLLOW
            self._adat_tls = None
        elif command == _ADAT and self._adat_tls:
            self._server_token(code, last)
        elif command.startswith("AUTH "):
            self.upgrade_answer(code, code == _READY, FtpAnomaly.DATA_AFTER_AUTH_TLS)
        elif command in _LOGIN_VERBS and code == _LOGGED_IN:
            self._logged_in = True
        if self._logged_in and self._feat_seen:
            self.done = True

    # -- GridFTP's ADAT exchange -----------------------------------------------------------------------------
    def _client_token(self, line: bytes) -> None:
        token = self._decode(line[len(_ADAT) :])
        if token is None:
            return
        if self._adat_tls is None:
            # Zeek's test (FTP_ADAT_Analyzer): a handshake record whose length is the whole token.
            self._adat_tls = len(token) >= 5 and token[0] == 22 and int.from_bytes(token[3:5], "big") == len(token) - 5
            if not self._adat_tls:
                self._adat = False
                return
            self._emit(StartTlsRequested(_GSSAPI))
        if self._adat_tls:
            self._emit(TlsPayload(True, token))

    def _server_token(self, code: str, line: bytes) -> None:
        if code in (_ADAT_CONTINUE, _ADAT_COMPLETE):
            start = line.find(_ADAT_FIELD)
            token = self._decode(line[start + len(_ADAT_FIELD) :]) if start >= 0 else None
            if token:
                self._emit(TlsPayload(False, token))
            if code == _ADAT_CONTINUE:
                return
            self._emit(StartTlsAccepted(code))
            self.done = True  # RFC 2228 §3: every later command and reply is protected
        else:
            self._emit(StartTlsRejected(code))
        self._adat = False
        self._adat_tls = None

    def _decode(self, text: bytes) -> bytes | None:
        try:
            return binascii.a2b_base64(text.strip())
        except binascii.Error:
            self._anomaly(FtpAnomaly.MALFORMED_ADAT)
            self._adat = False
            self._adat_tls = None
            return None

    def _features(self, lines: list[bytes]) -> None:
        self._feat_seen = True
        features = tokens(lines)
        self._emit(CapabilitiesOffered(features))
        for token in features:
            keyword, _, params = token.partition(" ")
            if keyword.upper() != "AUTH":
                continue
            # RFC 4217 §6: "AUTH" SP mechanism *(";" mechanism); some servers separate by spaces.
            mechs = [m.upper() for m in params.replace(";", " ").split() if is_token(m)]
            if any(m in TLS_MECHANISMS for m in mechs):
                self._emit(StartTlsOffered())
            others = tuple(m for m in mechs if m not in TLS_MECHANISMS)
            if others:
                self._emit(AuthMechanismsOffered(others))


# Client commands that only FTP sends first (RFC 2389 FEAT, RFC 4217 AUTH TLS); USER, SYST and the like are
# shared with other protocols or too plain to decide without the port.
_CLIENT_OPENERS = frozenset({"FEAT"})
_CLIENT_PORT_OPENERS = frozenset({"USER", "SYST", "OPTS", "PASV", "EPSV", "PWD"})


def probe(is_orig: bool, data: bytes, server_port: int) -> bool | None:
    """Is this FTP? True/False, or None while the first line is incomplete and could still be FTP."""
    line, complete = first_line(data)
    if not complete:
        if is_orig:
            return None if data[:1].isalpha() and len(data) < 64 else False
        head = data[:3]
        return None if b"220".startswith(head) or b"120".startswith(head) else False
    if is_orig:
        verb = verb_of(line.lstrip(_TELNET))
        if verb == "AUTH":
            return mechanism(line) in TLS_MECHANISMS
        return verb in _CLIENT_OPENERS or (verb in _CLIENT_PORT_OPENERS and server_port in PORTS)
    if line[:3] not in (b"220", b"120") or line[3:4] not in (b" ", b"-", b""):
        return False
    upper = line.upper()
    if b"SMTP" in upper:
        return False
    return b"FTP" in upper or b"FILEZILLA" in upper or server_port in PORTS
