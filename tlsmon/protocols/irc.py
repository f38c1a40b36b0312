"""IRC STARTTLS (RFC 1459/2812 message format, IRCv3 ``tls`` extension, IRCv3 capability negotiation and SASL).

Theory of operation: both directions are CRLF lines (bare LF accepted), each ``[@tags] [:prefix] COMMAND
params`` (RFC 2812 §2.3.1, IRCv3 message-tags). The client speaks first, usually ``CAP LS [302]``; the server
answers ``CAP * LS [*] :token …`` — a ``*`` before the list means more lines follow (CAP LS 302) — and those
tokens are the row's capabilities: ``tls`` offers STARTTLS, ``sasl=PLAIN,EXTERNAL`` lists SASL mechanisms.
``STARTTLS`` holds the client direction; the server's ``670`` (RPL_STARTTLS) switches both directions to TLS
at the next byte, ``691`` (ERR_STARTTLS) or ``421 … STARTTLS`` (unknown command) refuses it and plaintext
goes on. Server lines that answer something else (NOTICE, PING …) may arrive in between and are skipped.

STARTTLS is only allowed before registration completes (IRCv3 tls: servers answer 691 afterwards), so
``001`` (RPL_WELCOME), ``ERROR`` and ``QUIT`` end the interest in the session: ``done``.

Privacy: only command verbs are looked at. ``PASS`` is recorded as a verb; ``AUTHENTICATE`` keeps the
mechanism of the first line of a SASL exchange only, never the base64 lines that follow it.
"""

from __future__ import annotations

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
from tlsmon.protocols.text import first_line, is_token, verb_of

# IANA "irc" 194, the customary plaintext range 6665-6669 and 7000 (RFC 7194 §1 mentions 6667 as the usual one).
PORTS = frozenset({194, 6665, 6666, 6667, 6668, 6669, 7000})

_UPGRADE = "STARTTLS"
_RPL_STARTTLS = "670"  # IRCv3 tls: "STARTTLS successful, go ahead with TLS handshake"
_ERR_STARTTLS = "691"  # IRCv3 tls: "STARTTLS failed"
_ERR_UNKNOWNCOMMAND = "421"  # RFC 2812 §5.2: a server without STARTTLS support answers this
_RPL_WELCOME = "001"  # RFC 2812 §5.1: registration complete
# IRCv3 sasl-3.1 numerics 900-908 end (or report on) a SASL exchange; a new AUTHENTICATE may follow.
_SASL_NUMERICS = frozenset({"900", "901", "902", "903", "904", "905", "906", "907", "908"})
_CAP_LISTS = frozenset({"LS", "NEW"})  # CAP NEW (cap-notify) lists caps added later, in the same form


class IrcAnomaly(StrEnum):
    # 670 with no STARTTLS waiting for it: an upgrade the client never asked for is not followed.
    REPLY_WITHOUT_STARTTLS = "irc.reply_without_starttls"
    # The client sent bytes after STARTTLS before the 670 (IRCv3 tls: the client waits for the numeric, then
    # starts the handshake; Suricata's invalid_pipelined_sequence is the SMTP twin).
    DATA_AFTER_STARTTLS = "irc.data_after_starttls"
    # A line with tags or a prefix and no command after them (RFC 2812 §2.3.1 requires a command).
    MALFORMED_MESSAGE = "irc.malformed_message"
    # A CAP LS listing (all its continuation lines) with more than Limits.max_capabilities tokens; the rest
    # is not kept.
    TOO_MANY_CAPABILITIES = "irc.too_many_capabilities"


class IrcAnalyzer(LineProtocol):
    name: ClassVar[str] = "irc"

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(limits)
        self._starttls_pending = False
        self._in_sasl = False  # an AUTHENTICATE exchange is under way: its later lines are credentials
        self._cap_tokens: list[str] = []
        self._cap_full = False  # the listing being read reached Limits.max_capabilities

    # -- client --------------------------------------------------------------------------------------
    def client_line(self, line: bytes) -> None:
        body = _command_part(line)
        if body is None:
            self._anomaly(IrcAnomaly.MALFORMED_MESSAGE)
            return
        verb = verb_of(body)
        if verb == _UPGRADE:
            self._starttls_pending = True
            self._emit(StartTlsRequested(_UPGRADE))
            self.hold_client()
        elif verb == "PASS":
            self._emit(PlaintextAuth("PASS"))
        elif verb == "AUTHENTICATE":
            if not self._in_sasl:
                self._in_sasl = True
                self._emit(PlaintextAuth(_authenticate_command(body)))
        elif verb == "QUIT":
            self.done = True

    # -- server --------------------------------------------------------------------------------------
    def server_line(self, line: bytes) -> None:
        body = _command_part(line)
        if body is None:
            self._anomaly(IrcAnomaly.MALFORMED_MESSAGE)
            return
        parts = body.split(b" ")
        command = parts[0].decode("ascii", "replace").upper()
        if command == "CAP":
            self._cap(parts[1:])
        elif command == _RPL_STARTTLS:
            self._upgrade_answer(command, True)
        elif command == _ERR_STARTTLS or (command == _ERR_UNKNOWNCOMMAND and _names_starttls(parts)):
            self._upgrade_answer(command, False)
        elif command in _SASL_NUMERICS:
            self._in_sasl = False
        elif command in (_RPL_WELCOME, "ERROR"):
            self.done = True

    def _cap(self, params: list[bytes]) -> None:
        # CAP <target> LS [*] :tok tok …  — params[0] is the target, params[1] the subcommand.
        params = [p for p in params if p]
        if len(params) < 3 or params[1].decode("ascii", "replace").upper() not in _CAP_LISTS:
            return
        more = params[2] == b"*"
        listing = params[3:] if more else params[2:]
        text = b" ".join(listing)
        if text.startswith(b":"):
            text = text[1:]
        room = self.limits.max_capabilities - len(self._cap_tokens)
        found = [t for t in text.decode("ascii", "replace").split(" ") if t]
        if len(found) > room and not self._cap_full:
            self._cap_full = True
            self._anomaly(IrcAnomaly.TOO_MANY_CAPABILITIES)
        self._cap_tokens += found[:room]
        if not more:
            self._emit_caps()

    def _emit_caps(self) -> None:
        tokens, self._cap_tokens, self._cap_full = tuple(self._cap_tokens), [], False
        self._emit(CapabilitiesOffered(tokens))
        for token in tokens:
            name, _, value = token.partition("=")
            name = name.lower()
            if name == "tls":
                self._emit(StartTlsOffered())
            elif name == "sasl" and value:
                self._offer_mechanisms(value.split(","))

    def _upgrade_answer(self, code: str, accepted: bool) -> None:
        if not self._starttls_pending:
            if accepted:  # an upgrade the client never asked for is not followed
                self._anomaly(IrcAnomaly.REPLY_WITHOUT_STARTTLS)
            return
        self._starttls_pending = False
        self.upgrade_answer(code, accepted, IrcAnomaly.DATA_AFTER_STARTTLS)


def _command_part(line: bytes) -> bytes | None:
    """The line from its command on: IRCv3 tags and the RFC 2812 prefix removed; None when no command follows."""
    rest = line
    had_header = False
    for marker in (b"@", b":"):
        if rest.startswith(marker):
            rest = rest.partition(b" ")[2]
            rest = rest.lstrip(b" ")
            had_header = True
    if had_header and not rest.strip():
        return None
    return rest


def _names_starttls(parts: list[bytes]) -> bool:
    """``:server 421 nick STARTTLS :Unknown command``: the unknown command is the parameter after the target."""
    return len(parts) >= 3 and parts[2].upper() == b"STARTTLS"


def _authenticate_command(body: bytes) -> str:
    """``AUTHENTICATE <MECH>`` when the argument is a mechanism name (upper case per RFC 4422 §3.1)."""
    parts = body.split(None, 2)
    if len(parts) >= 2:
        mech = parts[1].decode("ascii", "replace")
        if is_token(mech) and mech == mech.upper():
            return f"AUTHENTICATE {mech}"
    return "AUTHENTICATE"


def probe(is_orig: bool, data: bytes, server_port: int) -> bool | None:
    """Is this IRC? True/False, or None while the first line is incomplete."""
    line, complete = first_line(data)
    if not complete:
        return None
    return _client_probe(line, server_port) if is_orig else _server_probe(line)


def _client_probe(line: bytes, server_port: int) -> bool:
    parts = line.split()
    if not parts:
        return False
    verb = parts[0].upper()
    if verb == b"CAP":
        return len(parts) >= 2 and parts[1].upper() in (b"LS", b"REQ", b"END")
    if verb == b"NICK":
        return len(parts) == 2
    if verb == b"USER":
        return len(parts) >= 5  # RFC 2812 §3.1.3: USER <user> <mode> <unused> :<realname>
    if verb in (b"PASS", b"STARTTLS"):
        # POP3 also has PASS, and a lone STARTTLS could be any protocol's client seen without its server.
        return server_port in PORTS
    return False


def _server_probe(line: bytes) -> bool:
    """``:server.name NNN …`` / ``:server.name NOTICE …``, or an unprefixed NOTICE, PING or ERROR."""
    if line.startswith(b"@"):
        _, _, line = line.partition(b" ")
    if line.startswith(b":"):
        parts = line.split(b" ", 2)
        if len(parts) < 2 or len(parts[0]) < 2:
            return False
        command = parts[1]
        return (len(command) == 3 and command.isdigit()) or (command.isalpha() and command.isupper())
    word = line.split(b" ", 1)[0]
    return word in (b"NOTICE", b"PING", b"ERROR") and b" " in line
