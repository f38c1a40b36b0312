"""POP3 (RFC 1939) with CAPA (RFC 2449), STLS (RFC 2595 §4) and SASL AUTH (RFC 5034).

Theory of operation: every server reply starts with a status line, ``+OK`` or ``-ERR``, and replies come in
the order of the commands (RFC 2449 §6.6 PIPELINING), so a queue holds the greeting and each command not yet
answered. The greeting's APOP timestamp ``<…@…>`` (RFC 1939 §7) is noted. A ``+OK`` to ``CAPA`` is followed by
a multi-line list ending in a line ``.`` (RFC 1939 §3, byte-stuffed): its lines are the row's capabilities,
``STLS`` the upgrade offer and ``SASL <mechanisms>`` the authentication mechanisms. ``STLS`` holds the client
direction; ``+OK`` switches both directions to TLS after that line, ``-ERR`` is a refusal and plaintext goes on.

``AUTH <mechanism>`` starts a SASL exchange: ``+ <challenge>`` lines from the server and one response line
from the client per challenge, until the final ``+OK``/``-ERR``; the client's lines there are not commands.

``done`` once the client is logged in (``+OK`` to ``PASS``, ``APOP`` or ``AUTH``: STLS is only valid in the
AUTHORIZATION state, RFC 2595 §4), at the answer to ``QUIT`` and at a ``-ERR`` greeting.

Privacy: only command verbs are looked at; ``AUTH`` keeps its mechanism name. User names, passwords, APOP
digests and SASL responses are never read, nor the text of any reply.
"""

from __future__ import annotations

import re
from collections import deque
from enum import IntEnum, StrEnum
from typing import ClassVar

from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.protocols.base import LineProtocol
from tlsmon.protocols.events import (
    CapabilitiesOffered,
    Detail,
    PlaintextAuth,
    StartTlsOffered,
    StartTlsRequested,
)
from tlsmon.protocols.text import GREETING, Listing, mechanism, tokens, unstuff, verb_of

PORTS = frozenset({110})

_OK = "+OK"
_ERR = "-ERR"
# RFC 1939 §7: the APOP timestamp is a msg-id, "<" … "@" … ">", somewhere in the greeting.
_APOP_TIMESTAMP = re.compile(rb"<[^<>\s@]+@[^<>\s]+>")
_LOGIN_VERBS = frozenset({"PASS", "APOP", "AUTH"})
_PLAINTEXT_AUTH_VERBS = frozenset({"USER", "PASS", "APOP"})


class Pop3Anomaly(StrEnum):
    # A status line arrived while no command (nor the greeting) was waiting for one.
    REPLY_WITHOUT_COMMAND = "pop3.reply_without_command"
    # A line where a status line was due that starts with neither "+OK" nor "-ERR" (RFC 1939 §3).
    MALFORMED_REPLY = "pop3.malformed_reply"
    # The client sent bytes after STLS before the server's answer (RFC 2595 §4: it MUST NOT; the STARTTLS
    # command-injection shape).
    DATA_AFTER_STLS = "pop3.data_after_stls"
    # More than Limits.max_pending_commands unanswered: tracking stops (bounded state).
    TOO_MANY_PENDING_COMMANDS = "pop3.too_many_pending_commands"
    # A CAPA list longer than Limits.max_reply_lines lines (RFC 2449 §9 registers a dozen): the rest is not
    # kept.
    TOO_MANY_CAPABILITIES = "pop3.too_many_capabilities"


class _Reply(IntEnum):
    """What the ``+OK`` answer to a command looks like."""

    SINGLE = 0  # one status line
    MULTI = 1  # a status line, then lines up to "." (RFC 1939 §3)
    SASL = 2  # "+ " challenges until the final status line (RFC 5034 §4)


class Pop3Analyzer(LineProtocol):
    name: ClassVar[str] = "pop3"

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(limits)
        self._pending: deque[tuple[str, _Reply]] = deque([(GREETING, _Reply.SINGLE)])
        self._body_of: str | None = None  # the command whose multi-line body is being read
        self._body = Listing[bytes](limits.max_reply_lines)
        self._sasl = False  # the client's lines are SASL responses, not commands

    # -- client --------------------------------------------------------------------------------------
    def client_line(self, line: bytes) -> None:
        if self._sasl:
            return  # a SASL response (or "*" to cancel): never read
        if not self._pending_fits(len(self._pending)):
            return
        verb = verb_of(line)
        args = line.split(None, 2)[1:]
        self._pending.append((verb, _reply_shape(verb, args)))
        if verb == "STLS":
            self._emit(StartTlsRequested(verb))
            self.hold_client()
        elif verb in _PLAINTEXT_AUTH_VERBS:
            self._emit(PlaintextAuth(verb))
        elif verb == "AUTH" and args:
            mech = mechanism(line)
            self._emit(PlaintextAuth(f"AUTH {mech}" if mech else "AUTH"))
            self._sasl = True

    # -- server --------------------------------------------------------------------------------------
    def server_line(self, line: bytes) -> None:
        if self._body_of is not None:
            self._body_line(line)
            return
        status = _status(line)
        if status is None:
            if self._sasl and (line == b"+" or line[:2] == b"+ "):
                return  # a SASL challenge: the AUTH command is still going on
            self._anomaly(Pop3Anomaly.MALFORMED_REPLY)
            return
        if not self._pending:
            self._anomaly(Pop3Anomaly.REPLY_WITHOUT_COMMAND)
            return
        verb, shape = self._pending.popleft()
        ok = status == _OK
        if shape is _Reply.SASL:
            self._sasl = False
        if verb == GREETING:
            self._greeting(line, ok)
        elif verb == "STLS":
            self.upgrade_answer(status, ok, Pop3Anomaly.DATA_AFTER_STLS)
        elif ok and shape is _Reply.MULTI:
            self._body_of = verb
        elif ok and verb in _LOGIN_VERBS:
            self.done = True  # logged in without TLS: STLS is no longer valid (RFC 2595 §4)
        elif verb == "QUIT":
            self.done = True  # the session ends (replies to commands pipelined before QUIT came first)

    def _greeting(self, line: bytes, ok: bool) -> None:
        if ok:
            self._emit(Detail("pop3_apop", _APOP_TIMESTAMP.search(line) is not None))
        else:
            self.done = True  # the server turned the client away

    def _body_line(self, line: bytes) -> None:
        if line == b".":
            verb, self._body_of = self._body_of, None
            lines = tokens(self._body.take())
            if verb == "CAPA":
                self._capabilities(lines)
            elif verb == "AUTH":
                self._offer_mechanisms(lines)
        elif self._body_of in ("CAPA", "AUTH") and self._body.add(unstuff(line)):
            self._anomaly(Pop3Anomaly.TOO_MANY_CAPABILITIES)

    def _capabilities(self, capabilities: tuple[str, ...]) -> None:
        self._emit(CapabilitiesOffered(capabilities))
        for token in capabilities:
            keyword, _, params = token.partition(" ")
            keyword = keyword.upper()
            if keyword == "STLS":
                self._emit(StartTlsOffered())
            elif keyword == "SASL":
                self._offer_mechanisms(params.split())


def _status(line: bytes) -> str | None:
    """``+OK`` or ``-ERR`` when the line is a status line (status indicators compared case-insensitively)."""
    head, _, _ = line.partition(b" ")
    head = head.upper()
    if head == b"+OK":
        return _OK
    if head == b"-ERR":
        return _ERR
    return None


def _reply_shape(verb: str, args: list[bytes]) -> _Reply:
    if verb == "AUTH":
        return _Reply.SASL if args else _Reply.MULTI  # bare AUTH lists the mechanisms (RFC 1734 usage)
    if verb in ("CAPA", "RETR", "TOP"):
        return _Reply.MULTI
    if verb in ("LIST", "UIDL") and not args:
        return _Reply.MULTI
    return _Reply.SINGLE


def probe(is_orig: bool, data: bytes, server_port: int) -> bool | None:
    """Is this POP3? The ``+OK`` greeting (``-ERR`` on the POP3 port), or a POP3-only first command."""
    end = data.find(b"\n")
    line = (data if end < 0 else data[:end]).rstrip(b"\r")
    complete = end >= 0
    if len(line) > _MAX_PROBE_LINE:
        return False
    if is_orig:
        return _probe_client(line, complete, server_port)
    for status, needs_port in ((b"+OK", False), (b"-ERR", True)):
        head = line[: len(status)].upper()
        if head == status:
            if len(line) > len(status) and line[len(status) : len(status) + 1] != b" ":
                return False
            if not complete:
                return None
            return not needs_port or server_port in PORTS or b"POP" in line.upper()
        if status.startswith(head) and not complete:
            return None
    return False


# Longer first lines are not a POP3 greeting or opening command worth waiting for.
_MAX_PROBE_LINE = 512
# First commands only POP3 has (RFC 1939, RFC 2449, RFC 2595), and those it shares with other protocols
# (FTP's USER, SMTP's and FTP's AUTH), which need the port to decide.
_OWN_COMMANDS = frozenset({b"CAPA", b"STLS", b"APOP"})
_SHARED_COMMANDS = frozenset({b"USER", b"AUTH"})


def _probe_client(line: bytes, complete: bool, server_port: int) -> bool | None:
    word = line.split(b" ", 1)[0].upper()
    if not complete and b" " not in line:
        candidates = _OWN_COMMANDS | _SHARED_COMMANDS
        return None if any(c.startswith(word) for c in candidates) else False
    if word in _OWN_COMMANDS:
        return True
    if word in _SHARED_COMMANDS and server_port in PORTS:
        if word == b"AUTH" and line[5:].upper().strip() in (b"TLS", b"SSL"):
            return False  # FTP's AUTH TLS (RFC 4217) on a POP3 port
        return True if complete else None
    return False
