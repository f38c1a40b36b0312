"""IMAP (RFC 9051, RFC 3501) with STARTTLS (RFC 3501 §6.2.1, RFC 2595 §3).

Theory of operation: the server's capabilities come from the ``[CAPABILITY …]`` response code of the greeting
(or of any other OK response) and from untagged ``* CAPABILITY`` responses (RFC 9051 §7.2.2); the tokens
``STARTTLS``, ``LOGINDISABLED`` and ``AUTH=<mechanism>`` are read from them. The client's ``<tag> STARTTLS``
holds the client direction; the server's tagged response with the same tag decides: ``OK`` switches both
directions to TLS after that response's line end (RFC 2595 §3.1), ``NO``/``BAD`` is a refusal and plaintext
continues. Untagged responses in between do not answer the command.

Literals (RFC 9051 §4.3): a line ending in ``{n}`` or ``{n+}`` is followed by n raw octets that are not lines,
then the same command or response goes on. A synchronising client literal ``{n}`` is only sent after the
server's ``+`` continuation; if the server answers the command with a tagged response instead, no literal
follows. So the client direction waits for the server there, as it does after ``AUTHENTICATE``, whose SASL
responses (one line per ``+`` challenge) are not commands. Server literals are always sent at once.

``done`` once a ``LOGIN``/``AUTHENTICATE`` succeeded or a ``PREAUTH`` greeting was seen (STARTTLS is only valid
in the not-authenticated state), at the answer to ``LOGOUT`` and at ``* BYE``.

Privacy: command arguments, SASL responses and literals are skipped unread; ``AUTHENTICATE`` keeps its mechanism
name only.
"""

from __future__ import annotations

import re
from enum import IntEnum, StrEnum
from typing import ClassVar

from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.protocols.base import LineProtocol
from tlsmon.protocols.events import (
    AuthMechanismsOffered,
    CapabilitiesOffered,
    Detail,
    PlaintextAuth,
    StartTlsOffered,
    StartTlsRequested,
)
from tlsmon.protocols.text import first_line, is_token, mechanism

PORTS = frozenset({143})

# RFC 9051 §9 tag: 1*<any ASTRING-CHAR except "+">, i.e. printable ASCII but atom-specials other than "]".
_TAG = re.compile(rb"[\x21\x23\x24\x26\x27\x2c-\x5b\x5d-\x7a\x7c-\x7e]{1,64}\Z")
# RFC 9051 §4.3 literal / RFC 7888 literal-nonsync (and RFC 3516's ~{n} binary form): at a line's end.
_LITERAL = re.compile(rb"\{(\d{1,19})(\+?)\}\Z")
_CAPABILITY_CODE = b"[CAPABILITY "
_STATUS = frozenset({b"OK", b"NO", b"BAD"})
_AUTH_VERBS = frozenset({"LOGIN", "AUTHENTICATE"})


class ImapAnomaly(StrEnum):
    # A tagged response whose tag no pending command carries (RFC 9051 §2.2.2: tags pair command and result).
    RESPONSE_WITHOUT_COMMAND = "imap.response_without_command"
    # A server line that is neither "* …", "+ …" nor "<tag> OK|NO|BAD …" (RFC 9051 §2.2.2).
    MALFORMED_RESPONSE = "imap.malformed_response"
    # A client line that is not "<tag> SP <command>" with a valid tag (RFC 9051 §2.2.1, §9 "tag").
    MALFORMED_COMMAND = "imap.malformed_command"
    # The client sent bytes after STARTTLS before the server's answer (RFC 2595 §3.1: it MUST NOT; the
    # STARTTLS command-injection shape).
    DATA_AFTER_STARTTLS = "imap.data_after_starttls"
    # More than Limits.max_pending_commands unanswered: tracking stops (Suricata's TooManyTransactions).
    TOO_MANY_PENDING_COMMANDS = "imap.too_many_pending_commands"


class _Wait(IntEnum):
    """Why the client direction waits for the server (beside the STARTTLS hold)."""

    NONE = 0
    LITERAL = 1  # a synchronising literal: "+" sends its octets, a tagged response cancels it
    SASL = 2  # AUTHENTICATE: each "+" challenge is answered by one line, a tagged response ends it


class ImapAnalyzer(LineProtocol):
    name: ClassVar[str] = "imap"

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(limits)
        self._pending: dict[bytes, str] = {}  # tag → command verb, in command order
        self._starttls_tag: bytes | None = None
        self._command_tag = b""  # the tag of the command the client is sending (its lines go on after literals)
        self._logindisabled = False
        # per direction: the next line continues a command or response after a literal
        self._client_continues = False
        self._server_continues = False
        self._wait = _Wait.NONE
        self._wait_tag = b""
        self._wait_literal = 0
        self._sasl_line = False  # a "+" challenge came: the client's next line is a SASL response

    # -- client --------------------------------------------------------------------------------------
    def _client_waits(self) -> bool:
        return self._client_held or (self._wait is not _Wait.NONE and not self._sasl_line)

    def client_line(self, line: bytes) -> None:
        if self._sasl_line:
            self._sasl_line = False  # a SASL response (or "*" to cancel): never read
            return
        if self._client_continues:
            self._client_continues = False
            self._client_literal(line)
            return
        tag, _, rest = line.partition(b" ")
        verb = rest.split(None, 1)[0].decode("ascii", "replace").upper() if rest.strip() else ""
        if not verb or not _TAG.match(tag):
            self._anomaly(ImapAnomaly.MALFORMED_COMMAND)
            return
        self._command_tag = tag
        self._track(tag, verb)
        if verb == "STARTTLS":
            self._starttls_tag = tag
            self._emit(StartTlsRequested(verb))
            self.hold_client()
            return
        if verb == "LOGIN":
            self._emit(PlaintextAuth(verb))
        elif verb == "AUTHENTICATE":
            mech = mechanism(rest)
            self._emit(PlaintextAuth(f"AUTHENTICATE {mech}" if mech else "AUTHENTICATE"))
            self._wait_for_server(_Wait.SASL, tag)
        self._client_literal(line)

    def _track(self, tag: bytes, verb: str) -> None:
        if self._pending_fits(len(self._pending)):
            self._pending[tag] = verb

    def _client_literal(self, line: bytes) -> None:
        """A literal at the line's end: pass over it now ({n+}) or once the server says so ({n})."""
        found = _LITERAL.search(line)
        if found is None:
            return
        size = int(found[1])
        if found[2]:
            self._client.skip(size)
            self._client_continues = True
        else:
            self._wait_for_server(_Wait.LITERAL, self._command_tag, size)

    def _wait_for_server(self, why: _Wait, tag: bytes, literal: int = 0) -> None:
        self._wait = why
        self._wait_tag = tag
        self._wait_literal = literal

    # -- server --------------------------------------------------------------------------------------
    def server_line(self, line: bytes) -> None:
        if self._server_continues:
            self._server_continues = False
            self._server_literal(line)
            return
        if line[:1] == b"+":
            self._continuation()
        elif line[:2] == b"* ":
            self._untagged(line)
            self._server_literal(line)
        else:
            self._tagged(line)

    def _server_literal(self, line: bytes) -> None:
        found = _LITERAL.search(line)
        if found is not None:
            self._server.skip(int(found[1]))
            self._server_continues = True

    def _continuation(self) -> None:
        """``+ …``: the server is ready for the client's literal or SASL response."""
        if self._wait is _Wait.LITERAL:
            self._client.skip(self._wait_literal)
            self._client_continues = True
            self._wait = _Wait.NONE
            self._drain(True)
        elif self._wait is _Wait.SASL:
            self._sasl_line = True
            self._drain(True)

    def _untagged(self, line: bytes) -> None:
        parts = line.split(None, 2)
        kind = parts[1].upper() if len(parts) > 1 else b""
        rest = parts[2] if len(parts) > 2 else b""
        if kind == b"CAPABILITY":
            self._capabilities(rest.split())
        elif kind in (b"OK", b"PREAUTH"):
            self._capability_code(rest)
            if kind == b"PREAUTH":
                self.done = True
        elif kind == b"BYE":
            self.done = True

    def _tagged(self, line: bytes) -> None:
        parts = line.split(None, 2)
        if len(parts) < 2 or parts[1].upper() not in _STATUS or not _TAG.match(parts[0]):
            self._anomaly(ImapAnomaly.MALFORMED_RESPONSE)
            return
        tag, status = parts[0], parts[1].upper().decode()
        verb = self._pending.pop(tag, None)
        if verb is None:
            self._anomaly(ImapAnomaly.RESPONSE_WITHOUT_COMMAND)
            return
        if verb == "STARTTLS" and tag == self._starttls_tag:
            self._starttls_tag = None
            self.upgrade_answer(status, status == "OK", ImapAnomaly.DATA_AFTER_STARTTLS)
            return
        if (verb in _AUTH_VERBS and status == "OK") or verb == "LOGOUT":
            # logged in without TLS (STARTTLS is no longer valid, RFC 9051 §6.2.1), or the session ended
            self.done = True
            return
        if status == "OK":
            self._capability_code(parts[2] if len(parts) > 2 else b"")
        if self._wait is not _Wait.NONE and tag == self._wait_tag:
            # the command ended without (more of) its literal or SASL exchange: the client's next line is new
            self._wait = _Wait.NONE
            self._sasl_line = False
            self._drain(True)

    def _capability_code(self, text: bytes) -> None:
        """``[CAPABILITY a b c] human text`` at the start of an OK/PREAUTH response's text."""
        if text[: len(_CAPABILITY_CODE)].upper() != _CAPABILITY_CODE:
            return
        end = text.find(b"]")
        if end < 0:
            self._anomaly(ImapAnomaly.MALFORMED_RESPONSE)
            return
        self._capabilities(text[len(_CAPABILITY_CODE) : end].split())

    def _capabilities(self, words: list[bytes]) -> None:
        tokens = tuple(w.decode("ascii", "replace") for w in words)
        upper = [t.upper() for t in tokens]
        self._logindisabled = self._logindisabled or "LOGINDISABLED" in upper
        self._emit(CapabilitiesOffered(tokens))
        if "STARTTLS" in upper:
            self._emit(StartTlsOffered(required=self._logindisabled))
        mechs = tuple(t[5:] for t in upper if t.startswith("AUTH=") and is_token(t[5:]))
        if mechs:
            self._emit(AuthMechanismsOffered(mechs))
        self._emit(Detail("imap_logindisabled", self._logindisabled))

    # -- lost bytes ----------------------------------------------------------------------------------
    def _resynchronised(self, is_orig: bool) -> None:
        if is_orig:
            self._client_continues = self._sasl_line = False
        else:
            self._server_continues = False


def probe(is_orig: bool, data: bytes, server_port: int) -> bool | None:
    """Is this IMAP? The server's untagged greeting, or a client's tagged first command; None: need more."""
    line, complete = first_line(data)
    if len(line) > _MAX_PROBE_LINE:
        return False
    if is_orig:
        return _probe_client(line, complete)
    for greeting in (b"* OK", b"* PREAUTH", b"* BYE"):
        head = line[: len(greeting)].upper()
        if head == greeting:
            if len(line) > len(greeting):
                return line[len(greeting) : len(greeting) + 1] == b" "
            return True if complete else None
        if greeting.startswith(head) and not complete:
            return None
    return False


# Longer first lines are not an IMAP greeting or opening command worth waiting for.
_MAX_PROBE_LINE = 1000
# The commands a client can open with (not-authenticated state, RFC 9051 §6.1 and §6.2, RFC 2971 ID) and the
# fewest and most space-separated words their arguments take (quoted strings may hold spaces).
_FIRST_COMMANDS = {
    b"CAPABILITY": (0, 0),
    b"NOOP": (0, 0),
    b"LOGOUT": (0, 0),
    b"STARTTLS": (0, 0),
    b"ID": (1, 99),
    b"LOGIN": (1, 99),
    b"AUTHENTICATE": (1, 2),
}


def _probe_client(line: bytes, complete: bool) -> bool | None:
    words = line.split(b" ")
    if len(words) > 1 and not _TAG.match(words[0]):
        return False
    if not complete:
        if len(words) == 2:
            partial = words[1].upper()
            return None if any(c.startswith(partial) for c in _FIRST_COMMANDS) else False
        if len(words) > 2 and words[1].upper() not in _FIRST_COMMANDS:
            return False
        return None if len(words) > 1 or _TAG.match(words[0]) or not words[0] else False
    if len(words) < 2:
        return False
    arity = _FIRST_COMMANDS.get(words[1].upper())
    return arity is not None and arity[0] <= len(words) - 2 <= arity[1]
