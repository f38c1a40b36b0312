"""NNTP (RFC 3977), its STARTTLS (RFC 4642) and AUTHINFO (RFC 4643).

Theory of operation: every server response is matched, in order, to what it answers — a queue holds the
greeting (200/201, or 400/502 when the server turns the client away) and each client command not yet answered.
A response is one status line ``ddd text``; some responses also carry a multi-line data block that ends with a
line holding a single ``.`` (RFC 3977 §3.1.1, lines starting with a dot are dot-stuffed). Whether a block
follows depends on the code and, for 211, on the command (RFC 3977 §3.2: multi-line only for LISTGROUP), so
the block is skipped without being mistaken for further responses.

The 101 answer to ``CAPABILITIES`` lists the server's capabilities (RFC 3977 §5.2); they are the row's
capabilities, ``STARTTLS`` among them is the offer and ``SASL <mechanisms>`` (RFC 4643 §2.1) the
authentication mechanisms. ``STARTTLS`` holds the client direction; ``382`` switches both directions to TLS at
the next byte (RFC 4642 §2.2.2), ``580``, ``502`` or any other response is a refusal and plaintext continues.
A ``483`` response to any command means the server requires privacy first (RFC 3977 §3.2.1): TLS required.

Privacy: only command verbs are looked at; ``AUTHINFO`` keeps its sub-command (USER, PASS, SASL) and, for
SASL, the mechanism; SASL responses sent in reply to ``383`` challenges are never parsed. ``done`` after
successful authentication (281: RFC 4642 §2.2.2 forbids STARTTLS once authenticated), when articles start to
flow (ARTICLE, BODY, HEAD, POST, IHAVE, TAKETHIS: the session set-up is over, as SMTP's DATA) and at QUIT.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum
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
from tlsmon.protocols.text import (
    GREETING,
    Listing,
    answered,
    first_line,
    is_token,
    reply_code,
    tokens,
    unstuff,
    verb_of,
)

PORTS = frozenset({119, 433})  # NNTP (RFC 3977), NNSP; 563 is implicit NNTPS

_SASL_RESPONSE = "<sasl>"
_GREETING_CODES = frozenset({"200", "201", "400", "502"})  # RFC 3977 §5.1.1
_READY = "382"  # RFC 4642 §2.2.2: "382 Continue with TLS negotiation"
_AUTHENTICATED = "281"  # RFC 4643 §2.3.2 / §2.4.2: authentication accepted
_CHALLENGE = "383"  # RFC 4643 §2.4.2: SASL challenge, a client response follows
_PRIVACY_REQUIRED = "483"  # RFC 3977 §3.2.1: command unavailable until suitable privacy has been arranged
# RFC 3977 §3.1.1 and the command descriptions (plus RFC 2980's XGTITLE 282): responses followed by a block.
_BLOCK_CODES = frozenset({"100", "101", "215", "220", "221", "222", "224", "225", "230", "231", "282"})
_ARTICLE_VERBS = frozenset({"ARTICLE", "BODY", "HEAD", "POST", "IHAVE", "TAKETHIS"})


class NntpAnomaly(StrEnum):
    # A response arrived while no command (nor the greeting) was waiting for one.
    RESPONSE_WITHOUT_COMMAND = "nntp.response_without_command"
    # A status line that is not three digits followed by ' ' or the line end (RFC 3977 §3.2).
    MALFORMED_RESPONSE = "nntp.malformed_response"
    # A capability list longer than Limits.max_reply_lines lines (RFC 3977 sets no limit, real lists have
    # about a dozen); the rest is not kept.
    CAPABILITIES_TOO_LONG = "nntp.capabilities_too_long"
    # The client sent bytes after STARTTLS before the server's answer (RFC 4642 §2.2.2: STARTTLS must not be
    # pipelined; the STARTTLS command-injection shape).
    DATA_AFTER_STARTTLS = "nntp.data_after_starttls"
    # More than Limits.max_pending_commands unanswered: tracking stops (bounded state).
    TOO_MANY_PENDING_COMMANDS = "nntp.too_many_pending_commands"


class NntpAnalyzer(LineProtocol):
    name: ClassVar[str] = "nntp"

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(limits)
        self._pending: deque[str] = deque([GREETING])
        self._block: str | None = None  # the command whose data block is being read
        self._block_lines = Listing[bytes](limits.max_reply_lines)
        self._sasl = False  # a 383 challenge was sent: the client's next line is a SASL response

    # -- client --------------------------------------------------------------------------------------
    def client_line(self, line: bytes) -> None:
        if not self._pending_fits(len(self._pending)):
            return
        if self._sasl:
            self._sasl = False
            self._pending.append(_SASL_RESPONSE)
            return
        verb = verb_of(line)
        self._pending.append(verb)
        if verb == "STARTTLS":
            self._emit(StartTlsRequested(verb))
            self.hold_client()
        elif verb == "AUTHINFO":
            self._emit(PlaintextAuth(_authinfo_command(line)))
        elif verb in _ARTICLE_VERBS or verb == "QUIT":
            self.done = True

    # -- server --------------------------------------------------------------------------------------
    def server_line(self, line: bytes) -> None:
        if self._block is not None:
            self._block_line(line)
            return
        code, more = reply_code(line)
        if code is None or more:
            self._anomaly(NntpAnomaly.MALFORMED_RESPONSE)
            return
        if not self._pending:
            self._anomaly(NntpAnomaly.RESPONSE_WITHOUT_COMMAND)
            return
        command = answered(self._pending, code, _GREETING_CODES)
        if code in _BLOCK_CODES or (code == "211" and command == "LISTGROUP"):
            self._block = command
            return
        self._status(command, code)

    def _block_line(self, line: bytes) -> None:
        if line == b".":
            command, self._block = self._block, None
            lines = self._block_lines.take()
            if command == "CAPABILITIES":
                self._capabilities(lines)
        elif self._block == "CAPABILITIES" and self._block_lines.add(unstuff(line)):
            self._anomaly(NntpAnomaly.CAPABILITIES_TOO_LONG)

    def _capabilities(self, lines: list[bytes]) -> None:
        capabilities = tokens(lines)
        self._emit(CapabilitiesOffered(capabilities))
        for token in capabilities:
            label, _, args = token.partition(" ")
            label = label.upper()
            if label == "STARTTLS":
                self._emit(StartTlsOffered())
            elif label == "SASL":
                self._offer_mechanisms(args.split())

    def _status(self, command: str, code: str) -> None:
        if code == _PRIVACY_REQUIRED:
            self._emit(Detail("starttls_required", True))
        if command == "STARTTLS":
            self.upgrade_answer(code, code == _READY, NntpAnomaly.DATA_AFTER_STARTTLS)
        elif command in ("AUTHINFO", _SASL_RESPONSE):
            if code == _AUTHENTICATED:
                self.done = True
            elif code == _CHALLENGE:
                self._sasl = True


def _authinfo_command(line: bytes) -> str:
    """``AUTHINFO USER``, ``AUTHINFO PASS``, ``AUTHINFO SASL <MECH>``: never the user, password or response."""
    parts = line.split(None, 3)
    if len(parts) < 2:
        return "AUTHINFO"
    sub = parts[1].decode("ascii", "replace").upper()
    if not is_token(sub):
        return "AUTHINFO"
    if sub == "SASL" and len(parts) >= 3:
        mech = parts[2].decode("ascii", "replace").upper()
        if is_token(mech):
            return f"AUTHINFO SASL {mech}"
    return f"AUTHINFO {sub}"


# Words of real NNTP greetings (INN "NNRP"/"InterNetNews", Leafnode, "posting allowed"): content decides.
_GREETING_WORDS = (b"NNTP", b"NNRP", b"INTERNETNEWS", b"LEAFNODE", b"NEWS", b"POSTING")
_CLIENT_OPENERS = frozenset({"CAPABILITIES"})
_CLIENT_PORT_OPENERS = frozenset({"STARTTLS", "AUTHINFO", "LIST", "GROUP"})


def probe(is_orig: bool, data: bytes, server_port: int) -> bool | None:
    """Is this NNTP? True/False, or None while the first line is incomplete and could still be NNTP."""
    line, complete = first_line(data)
    if not complete:
        if is_orig:
            return None if data[:1].isalpha() and len(data) < 64 else False
        head = data[:3]
        return None if b"200".startswith(head) or b"201".startswith(head) else False
    if is_orig:
        verb = verb_of(line)
        if verb == "MODE":
            return verb_of(line[4:]) in ("READER", "STREAM")
        return verb in _CLIENT_OPENERS or (verb in _CLIENT_PORT_OPENERS and server_port in PORTS)
    if line[:3] not in (b"200", b"201") or line[3:4] not in (b" ", b""):
        return False
    upper = line.upper()
    return any(word in upper for word in _GREETING_WORDS) or server_port in PORTS
