"""ManageSieve (RFC 5804), the protocol for managing Sieve scripts, and its STARTTLS (RFC 5804 §2.2).

Theory of operation: every server response ends with a line starting ``OK``, ``NO`` or ``BYE`` (any case,
RFC 5804 §4); the lines before it are data. Responses are matched, in order, to what they answer: a queue
holds the greeting and each client command not yet answered. The greeting and the answer to ``CAPABILITY``
are capability listings (RFC 5804 §1.7), one quoted name per line with an optional quoted value:
``"SASL" "PLAIN LOGIN"``, ``"STARTTLS"``. Those lines are the row's capabilities, ``STARTTLS`` the offer, the
``SASL`` value the authentication mechanisms — and an empty ``SASL`` next to ``STARTTLS`` means the client must
upgrade before it can authenticate (RFC 5804 §1.7): TLS required.

Strings may also be literals, ``{n}`` or ``{n+}`` at a line end followed by exactly n octets (RFC 5804 §4),
which can hold line ends; those octets are skipped unread and the line after them continues the same command
or response. During ``AUTHENTICATE`` the client's lines are SASL responses, not commands, until the server's
final answer.

``STARTTLS`` holds the client direction; ``OK`` switches both directions to TLS at the next byte, ``NO`` is a
refusal and plaintext continues, ``BYE`` a refusal that ends the session.

Privacy: only command verbs are looked at; ``AUTHENTICATE`` keeps its mechanism name, never the SASL data.
The ``OWNER`` capability names the logged-in user (RFC 5804 §1.7) and is never kept. ``done`` after a
successful ``AUTHENTICATE``, at ``LOGOUT`` and at ``BYE``.
"""

from __future__ import annotations

import re
from collections import deque
from enum import StrEnum
from typing import ClassVar

from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.protocols.base import LineProtocol
from tlsmon.protocols.events import (
    AuthMechanismsOffered,
    CapabilitiesOffered,
    PlaintextAuth,
    StartTlsOffered,
    StartTlsRequested,
)
from tlsmon.protocols.text import GREETING, Listing, first_line, is_token, verb_of
from tlsmon.wire.linebuffer import LineBuffer

PORTS = frozenset({4190, 2000})  # RFC 5804 §1.8 (4190), and the port used before its assignment

_FINAL = frozenset({"OK", "NO", "BYE"})
# RFC 5804 §1.7 capability names; a first line naming one of them is a ManageSieve greeting.
CAPABILITY_NAMES = frozenset(
    {"IMPLEMENTATION", "SASL", "SIEVE", "STARTTLS", "NOTIFY", "MAXREDIRECTS", "LANGUAGE", "OWNER", "VERSION"}
)
_PRIVATE_CAPABILITIES = frozenset({"OWNER"})  # RFC 5804 §1.7: the authorization identity, a user name
_LITERAL = re.compile(rb"\{([0-9]{1,10})\+?\}\Z")  # RFC 5804 §4 literal-s2c / literal-c2s
# Largest literal followed before authentication: SASL responses and capability values are at most a few
# KiB (a Kerberos GSSAPI token is ~12 KiB). A larger one is not ManageSieve set-up; the analyzer gives up.
MAX_LITERAL = 65536


class SieveAnomaly(StrEnum):
    # A final OK/NO/BYE arrived while no command (nor the greeting) was waiting for one.
    RESPONSE_WITHOUT_COMMAND = "sieve.response_without_command"
    # A server line that is neither a string, a literal nor OK/NO/BYE (RFC 5804 §4 response grammar).
    MALFORMED_RESPONSE = "sieve.malformed_response"
    # A literal longer than MAX_LITERAL before authentication: the analyzer stops following the session.
    LITERAL_TOO_LONG = "sieve.literal_too_long"
    # A capability listing longer than Limits.max_reply_lines lines (RFC 5804 sets no limit, real greetings
    # have under a dozen); the rest is not kept.
    CAPABILITIES_TOO_LONG = "sieve.capabilities_too_long"
    # The client sent bytes after STARTTLS before the server's answer (the STARTTLS command-injection shape).
    DATA_AFTER_STARTTLS = "sieve.data_after_starttls"
    # More than Limits.max_pending_commands unanswered: tracking stops (bounded state).
    TOO_MANY_PENDING_COMMANDS = "sieve.too_many_pending_commands"


class SieveAnalyzer(LineProtocol):
    name: ClassVar[str] = "sieve"

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(limits)
        self._pending: deque[str] = deque([GREETING])
        self._client_continues = False  # the client's next line continues a command after a literal
        self._server_continues = False
        self._authenticating = False
        self._capabilities = Listing[tuple[str, str | None]](limits.max_reply_lines)

    # -- client --------------------------------------------------------------------------------------
    def client_line(self, line: bytes) -> None:
        continues = self._client_continues
        self._client_continues = self._literal(self._client, line)
        if continues or self._authenticating:
            return
        if not self._pending_fits(len(self._pending)):
            return
        verb = verb_of(line)
        self._pending.append(verb)
        if verb == "STARTTLS":
            self._emit(StartTlsRequested(verb))
            self.hold_client()
        elif verb == "AUTHENTICATE":
            self._authenticating = True
            mech = _first_string(line)
            self._emit(PlaintextAuth(f"AUTHENTICATE {mech}" if is_token(mech) else "AUTHENTICATE"))
        elif verb == "LOGOUT":
            self.done = True

    # -- server --------------------------------------------------------------------------------------
    def server_line(self, line: bytes) -> None:
        continues = self._server_continues
        self._server_continues = self._literal(self._server, line)
        if continues:
            return
        if line[:1] in (b'"', b"{"):
            self._data_line(line)
            return
        word = line.split(b" ", 1)[0].split(b"(", 1)[0].upper()
        status = word.decode("ascii", "replace")
        if status not in _FINAL:
            self._anomaly(SieveAnomaly.MALFORMED_RESPONSE)
            return
        self._final(status)

    def _literal(self, buffer: LineBuffer, line: bytes) -> bool:
        """If the line ends with a literal, have its octets skipped; True when the line after continues."""
        found = _LITERAL.search(line)
        if found is None:
            return False
        size = int(found.group(1))
        if size > MAX_LITERAL:
            self._anomaly(SieveAnomaly.LITERAL_TOO_LONG)
            self.done = True
            return False
        buffer.skip(size)
        return True

    def _data_line(self, line: bytes) -> None:
        strings = _strings(line)
        if not strings:
            return
        value = strings[1] if len(strings) > 1 else None
        if self._capabilities.add((strings[0].upper(), value)):
            self._anomaly(SieveAnomaly.CAPABILITIES_TOO_LONG)

    def _final(self, status: str) -> None:
        listing = self._capabilities.take()
        if not self._pending:
            self._anomaly(SieveAnomaly.RESPONSE_WITHOUT_COMMAND)
            return
        command = self._pending.popleft()
        if command in (GREETING, "CAPABILITY") and status == "OK":
            self._capability_listing(listing)
        elif command == "STARTTLS":
            self.upgrade_answer(status, status == "OK", SieveAnomaly.DATA_AFTER_STARTTLS)
        elif command == "AUTHENTICATE":
            self._authenticating = False
            if status == "OK":
                self.done = True
        if status == "BYE":
            self.done = True

    def _capability_listing(self, listing: list[tuple[str, str | None]]) -> None:
        tokens: list[str] = []
        mechs: tuple[str, ...] = ()
        sasl_listed = starttls = False
        for name, value in listing:
            if name in _PRIVATE_CAPABILITIES:
                continue
            tokens.append(f"{name} {value}" if value else name)
            if name == "STARTTLS":
                starttls = True
            elif name == "SASL":
                sasl_listed = value is not None  # a quoted value, possibly "" (not a literal, not absent)
                mechs = tuple(m.upper() for m in (value or "").split() if is_token(m))
        self._emit(CapabilitiesOffered(tuple(tokens)))
        if starttls:
            self._emit(StartTlsOffered(required=sasl_listed and not mechs))
        if mechs:
            self._emit(AuthMechanismsOffered(mechs))


def _strings(line: bytes) -> list[str]:
    """The quoted strings of a line, unescaped (RFC 5804 §4: ``\\"`` and ``\\\\`` inside quotes)."""
    out: list[str] = []
    i, end = 0, len(line)
    while i < end:
        if line[i] != 0x22:
            i += 1
            continue
        text = bytearray()
        i += 1
        while i < end and line[i] != 0x22:
            if line[i] == 0x5C and i + 1 < end:
                i += 1
            text.append(line[i])
            i += 1
        out.append(text.decode("utf-8", "replace"))
        i += 1
    return out


def _first_string(line: bytes) -> str:
    strings = _strings(line)
    return strings[0].upper() if strings else ""


_CLIENT_PORT_OPENERS = frozenset({"CAPABILITY", "STARTTLS", "AUTHENTICATE", "LOGOUT", "NOOP"})


def probe(is_orig: bool, data: bytes, server_port: int) -> bool | None:
    """Is this ManageSieve? True/False, or None while the first line is incomplete and could still be."""
    line, complete = first_line(data)
    if not complete:
        if is_orig:
            return None if data[:1].isalpha() and len(data) < 64 else False
        return None if data[:1] in (b'"', b"") and len(data) < 256 else False
    if is_orig:
        return verb_of(line) in _CLIENT_PORT_OPENERS and server_port in PORTS
    if line[:1] != b'"':
        return False
    strings = _strings(line)
    return (bool(strings) and strings[0].upper() in CAPABILITY_NAMES) or server_port in PORTS
