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

from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.protocols.base import LineProtocol
from tlsmon.protocols.events import (
    CapabilitiesOffered,
    PlaintextAuth,
    StartTlsOffered,
    StartTlsRequested,
)
from tlsmon.protocols.text import GREETING, Listing, first_line, mechanism, reply_code, tokens, verb_of

PORTS = frozenset({25, 587, 2525})  # SMTP relay, SUBMISSION (RFC 6409), a common alternative

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
    # More than Limits.max_pending_commands unanswered (RFC 2920 pipelining has no limit; Zeek calls this an
    # excessive pending command queue): tracking stops.
    TOO_MANY_PENDING_COMMANDS = "smtp.too_many_pending_commands"
    # A multi-line reply longer than Limits.max_reply_lines lines (an EHLO reply lists a dozen extensions);
    # the rest of its lines are not kept.
    REPLY_TOO_LONG = "smtp.reply_too_long"


class SmtpAnalyzer(LineProtocol):
    name: ClassVar[str] = "smtp"

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(limits)
        self._pending: deque[str] = deque([GREETING])
        self._reply_lines = Listing[bytes](limits.max_reply_lines)

    # -- client --------------------------------------------------------------------------------------
    def client_line(self, line: bytes) -> None:
        if not self._pending_fits(len(self._pending)):
            return
        verb = verb_of(line)
        self._pending.append(verb)
        if verb in _UPGRADE_VERBS:
            self._emit(StartTlsRequested(verb))
            self.hold_client()
        elif verb == "AUTH":
            mech = mechanism(line)
            self._emit(PlaintextAuth(f"AUTH {mech}" if mech else "AUTH"))
        elif verb == "BDAT":
            self.done = True  # the binary chunk follows the command line at once: no more lines to read

    # -- server --------------------------------------------------------------------------------------
    def server_line(self, line: bytes) -> None:
        code, more = reply_code(line)
        if code is None:
            self._anomaly(SmtpAnomaly.MALFORMED_REPLY)
            return
        if self._reply_lines.add(line):
            self._anomaly(SmtpAnomaly.REPLY_TOO_LONG)
        if more:
            return
        lines = self._reply_lines.take()
        if not self._pending:
            self._anomaly(SmtpAnomaly.REPLY_WITHOUT_COMMAND)
            return
        command = self._pending.popleft()
        if command in ("EHLO", "LHLO") and code == "250":
            self._extensions(lines[1:])
        elif command in _UPGRADE_VERBS:
            self.upgrade_answer(code, code == _READY, SmtpAnomaly.DATA_AFTER_STARTTLS)
        elif (command == "DATA" and code == _START_MAIL_INPUT) or command == "QUIT":
            self.done = True

    def _extensions(self, lines: list[bytes]) -> None:
        keywords = tokens(line[4:] for line in lines)
        self._emit(CapabilitiesOffered(keywords))
        for token in keywords:
            keyword, _, params = token.replace("=", " ", 1).partition(" ")
            keyword = keyword.upper()
            if keyword == "STARTTLS":
                self._emit(StartTlsOffered())
            elif keyword == "AUTH":
                self._offer_mechanisms(params.split())


def probe(is_orig: bool, data: bytes, server_port: int) -> bool | None:
    """Is this SMTP? True/False, or None while the first line is incomplete."""
    line, complete = first_line(data)
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
