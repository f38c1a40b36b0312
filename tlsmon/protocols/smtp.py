"""SMTP and SUBMISSION (RFC 5321, RFC 3207 STARTTLS, RFC 4954 AUTH, RFC 2920 PIPELINING).

Theory of operation: the server's greeting (220) and every reply are matched, in order, to what they answer: a
queue holds the greeting and each client command not yet answered, so pipelined commands pair up with their
replies. An EHLO's 250 reply lists the server's extensions; those keywords are the row's capabilities
(``STARTTLS``, ``AUTH PLAIN LOGIN`` and the legacy ``AUTH=PLAIN`` form). ``STARTTLS`` (or Microsoft's
``X-ANONYMOUSTLS``) holds the client direction; a 220 answer switches both directions to TLS at the next byte,
any other answer (454, 501, 502 …) is a refusal and plaintext continues.

Privacy: only command verbs are looked at. ``AUTH`` keeps its mechanism name; MAIL, RCPT and DATA arguments
are never read. ``done`` when DATA is answered 354 or at BDAT (the message body follows, and nothing in it can
change the row), and when QUIT is answered — on the answer, so that replies still due (a pipelined EHLO + QUIT)
are read first.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum
from typing import ClassVar

from tlsmon.protocols.base import LineProtocol
from tlsmon.protocols.events import (
    AuthMechanismsOffered,
    CapabilitiesOffered,
    PlaintextAuth,
    StartTlsAccepted,
    StartTlsOffered,
    StartTlsRejected,
    StartTlsRequested,
)
from tlsmon.protocols.text import is_token, verb_of

PORTS = frozenset({25, 587, 2525})  # SMTP relay, SUBMISSION (RFC 6409), a common alternative

_GREETING = "<greeting>"
_UPGRADE_VERBS = frozenset({"STARTTLS", "X-ANONYMOUSTLS"})
_READY = "220"  # RFC 3207 §4: "220 Ready to start TLS"
_START_MAIL_INPUT = "354"  # RFC 5321 §4.2.2: the message body follows


class SmtpAnomaly(StrEnum):
    # A reply arrived while no command (nor the greeting) was waiting for one.
    REPLY_WITHOUT_COMMAND = "smtp.reply_without_command"
    # A reply line that is not three digits followed by ' ', '-' or the line end (RFC 5321 §4.2).
    MALFORMED_REPLY = "smtp.malformed_reply"
    # The client sent bytes after STARTTLS before the server's answer (RFC 3207 §4.2 forbids pipelining past
    # STARTTLS; Suricata's smtp.invalid_pipelined_sequence, the classic STARTTLS command-injection shape).
    DATA_AFTER_STARTTLS = "smtp.data_after_starttls"


class SmtpAnalyzer(LineProtocol):
    name: ClassVar[str] = "smtp"

    def __init__(self) -> None:
        super().__init__()
        self._pending: deque[str] = deque([_GREETING])
        self._reply_lines: list[bytes] = []

    # -- client --------------------------------------------------------------------------------------
    def client_line(self, line: bytes) -> None:
        verb = verb_of(line)
        self._pending.append(verb)
        if verb in _UPGRADE_VERBS:
            self._emit(StartTlsRequested(verb))
            self.hold_client()
        elif verb == "AUTH":
            self._emit(PlaintextAuth(_auth_command(line)))
        elif verb == "BDAT":
            self.done = True  # the binary chunk follows the command line at once: no more lines to read

    # -- server --------------------------------------------------------------------------------------
    def server_line(self, line: bytes) -> None:
        code, more = _reply_code(line)
        if code is None:
            self._anomaly(SmtpAnomaly.MALFORMED_REPLY)
            return
        self._reply_lines.append(line)
        if more:
            return
        lines, self._reply_lines = self._reply_lines, []
        if not self._pending:
            self._anomaly(SmtpAnomaly.REPLY_WITHOUT_COMMAND)
            return
        command = self._pending.popleft()
        if command in ("EHLO", "LHLO") and code == "250":
            self._extensions(lines[1:])
        elif command in _UPGRADE_VERBS:
            self._upgrade_answer(code)
        elif (command == "DATA" and code == _START_MAIL_INPUT) or command == "QUIT":
            self.done = True

    def _extensions(self, lines: list[bytes]) -> None:
        tokens = [line[4:].decode("ascii", "replace").strip() for line in lines]
        tokens = [t for t in tokens if t]
        self._emit(CapabilitiesOffered(tuple(tokens)))
        for token in tokens:
            keyword, _, params = token.replace("=", " ", 1).partition(" ")
            keyword = keyword.upper()
            if keyword == "STARTTLS":
                self._emit(StartTlsOffered())
            elif keyword == "AUTH":
                mechs = tuple(m.upper() for m in params.split() if is_token(m))
                if mechs:
                    self._emit(AuthMechanismsOffered(mechs))

    def _upgrade_answer(self, code: str) -> None:
        if code == _READY:
            self._emit(StartTlsAccepted(code))
            self.switch()
            if self._trailing_client:
                self._anomaly(SmtpAnomaly.DATA_AFTER_STARTTLS)
        else:
            self._emit(StartTlsRejected(code))
            self.release_client()


def _reply_code(line: bytes) -> tuple[str | None, bool]:
    """The reply's code and whether more lines of the same reply follow (``250-``)."""
    if len(line) < 3 or not line[:3].isdigit():
        return None, False
    if len(line) == 3:
        return line[:3].decode(), False
    sep = line[3:4]
    if sep == b"-":
        return line[:3].decode(), True
    if sep == b" ":
        return line[:3].decode(), False
    return None, False


def _auth_command(line: bytes) -> str:
    """``AUTH <MECH>`` with the mechanism only; the initial response that may follow is never kept."""
    parts = line.split(None, 2)
    if len(parts) >= 2:
        mech = parts[1].decode("ascii", "replace").upper()
        if is_token(mech):
            return f"AUTH {mech}"
    return "AUTH"


def probe(is_orig: bool, data: bytes, server_port: int) -> bool | None:
    """Is this SMTP? True/False, or None while the first line is incomplete."""
    line, complete = _first_line(data)
    if not complete:
        return None
    if is_orig:
        return verb_of(line) in ("EHLO", "HELO")
    if not line.startswith((b"220", b"554")) or (len(line) > 3 and line[3:4] not in (b" ", b"-")):
        return False
    upper = line.upper()
    if b"FTP" in upper:
        return False
    return b"SMTP" in upper or server_port in PORTS


def _first_line(data: bytes) -> tuple[bytes, bool]:
    end = data.find(b"\n")
    if end < 0:
        return data, False
    return data[:end].rstrip(b"\r"), True
