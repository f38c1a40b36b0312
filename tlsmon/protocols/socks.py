"""SOCKS 4, 4a and 5 proxy handshakes (SOCKS 4 and 4a protocol notes, RFC 1928, RFC 1929).

Theory of operation: SOCKS is lock-step — every client message waits for the server's answer — so after each
client message the client direction is held until the answer arrives, and each direction's next message is
read with the reader its state calls for. The first byte of the client's first message is the version:

- SOCKS 4: ``VN=4 CD DSTPORT DSTIP USERID NUL``; SOCKS 4a puts ``0.0.0.x`` (x ≠ 0) in DSTIP and the host name,
  NUL-terminated, after the USERID. The 8-byte reply ``VN=0 CD DSTPORT DSTIP`` grants with CD 90 and refuses
  with 91-93.
- SOCKS 5: the greeting ``VER=5 NMETHODS METHODS`` is answered ``VER=5 METHOD``; method 2 (USERNAME/PASSWORD)
  runs the RFC 1929 subnegotiation ``VER=1 ULEN UNAME PLEN PASSWD`` → ``VER=1 STATUS``; then the request
  ``VER=5 CMD RSV ATYP DST.ADDR DST.PORT`` is answered ``VER=5 REP RSV ATYP BND.ADDR BND.PORT``, REP 0
  meaning success. The address length follows ATYP: 1 IPv4 (4 octets), 3 a domain name (length octet + name),
  4 IPv6 (16 octets).

A granted CONNECT (or the second granted reply of a BIND, sent when the peer connected) opens the tunnel: the
next byte of each direction is tunnel data, TLS when the client tunnels HTTPS. A refusal ends the session (the
server closes it, RFC 1928 §6), as do a failed subnegotiation, a method tlsmon cannot follow (GSSAPI wraps what
follows, RFC 1961) and UDP ASSOCIATE (the data goes over UDP). The command is the upgrade command (``CONNECT``,
``BIND``) and the reply code its answer (``90``/``91`` for SOCKS 4, ``0``/``5`` … for SOCKS 5).

Privacy: the SOCKS 4 USERID (only checked to be printable), the destination and the RFC 1929 user name and
password are never kept; the subnegotiation is reported as ``USERNAME/PASSWORD`` only.
"""

from __future__ import annotations

import struct
from enum import IntEnum, StrEnum
from typing import ClassVar

from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.protocols.binary import BinaryProtocol
from tlsmon.protocols.events import (
    AuthMechanismsOffered,
    PlaintextAuth,
    StartTlsAccepted,
    StartTlsRejected,
    StartTlsRequested,
)

PORTS = frozenset({1080})  # IANA "socks"

SOCKS4_VERSION = 4
SOCKS4_REPLY_VERSION = 0  # some servers answer with 4; both are accepted
SOCKS5_VERSION = 5
AUTH_VERSION = 1  # RFC 1929 §2 subnegotiation version

# Commands: SOCKS 4 CD, RFC 1928 §4 CMD
CMD_CONNECT = 1
CMD_BIND = 2
CMD_UDP_ASSOCIATE = 3
COMMANDS: dict[int, str] = {CMD_CONNECT: "CONNECT", CMD_BIND: "BIND", CMD_UDP_ASSOCIATE: "UDP ASSOCIATE"}

# SOCKS 4 reply codes
SOCKS4_GRANTED = 90
SOCKS4_REFUSED = frozenset({91, 92, 93})  # rejected or failed; no identd; identd could not confirm the USERID

# RFC 1928 §6 REP
SOCKS5_SUCCEEDED = 0
SOCKS5_MAX_REPLY = 8  # 0x08 Address type not supported; 0x09-0xFF unassigned

# IANA "SOCKS Methods" (RFC 1928 §3): the names auth_mechs_offered uses for the method the server selected.
METHOD_NONE = 0x00
METHOD_GSSAPI = 0x01
METHOD_USERNAME_PASSWORD = 0x02
METHOD_NO_ACCEPTABLE = 0xFF
METHOD_NAMES: dict[int, str] = {
    METHOD_GSSAPI: "GSSAPI",
    METHOD_USERNAME_PASSWORD: "USERNAME/PASSWORD",
    0x03: "CHAP",  # Challenge-Handshake Authentication Protocol
    0x05: "CRAM",  # Challenge-Response Authentication Method
    0x06: "SSL",  # Secure Sockets Layer
    0x07: "NDS",  # NDS Authentication
    0x08: "MAF",  # Multi-Authentication Framework
    0x09: "JSON-PARAMETER-BLOCK",
}
PRIVATE_METHODS = range(0x80, 0xFF)  # "reserved for private methods"

# RFC 1928 §4/§5 ATYP → address length (0: a length octet precedes the domain name)
ATYP_IPV4 = 1
ATYP_DOMAIN = 3
ATYP_IPV6 = 4
ADDRESS_LENGTHS: dict[int, int] = {ATYP_IPV4: 4, ATYP_DOMAIN: 0, ATYP_IPV6: 16}

# The longest SOCKS 4 USERID or 4a host name read (the protocol sets no limit; a DNS name is ≤ 255 octets).
MAX_FIELD = 255

_SOCKS4_HEAD = struct.Struct(">BBH4s")


class SocksAnomaly(StrEnum):
    # A client message of the wrong version, an unknown command, no methods, or an unterminated USERID/host
    # longer than MAX_FIELD (SOCKS 4 notes, RFC 1928 §3-§4, RFC 1929 §2).
    MALFORMED_REQUEST = "socks.malformed_request"
    # A server message of the wrong version or with an unassigned reply/status code (RFC 1928 §3, §6).
    MALFORMED_REPLY = "socks.malformed_reply"
    # ATYP is none of 1, 3, 4 (RFC 1928 §4-§5): the message length cannot be known.
    BAD_ADDRESS_TYPE = "socks.bad_address_type"
    # The server selected a method the client had not listed (RFC 1928 §3: it selects "from the methods").
    METHOD_NOT_OFFERED = "socks.method_not_offered"
    # The server sent bytes while no client message was waiting for an answer.
    REPLY_WITHOUT_REQUEST = "socks.reply_without_request"
    # The client sent tunnel bytes after CONNECT before the server's reply (optimistic data: had the server
    # refused, they would have gone nowhere).
    DATA_BEFORE_REPLY = "socks.data_before_reply"


class _Client(IntEnum):
    GREETING = 0  # SOCKS 4 request or SOCKS 5 method greeting
    AUTH = 1  # RFC 1929 username/password request
    REQUEST = 2  # SOCKS 5 request


class _Server(IntEnum):
    IDLE = 0  # no answer is due
    METHOD = 1  # SOCKS 5 method selection
    AUTH = 2  # RFC 1929 status
    REPLY4 = 3  # SOCKS 4 reply
    REPLY5 = 4  # SOCKS 5 reply


class SocksAnalyzer(BinaryProtocol):
    name: ClassVar[str] = "socks"
    tunnel: ClassVar[bool] = True

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(limits)
        self._client_state = _Client.GREETING
        self._server_state = _Server.IDLE
        self._methods = b""  # the SOCKS 5 methods the client listed
        self._command = 0
        self._bind_granted = False  # a BIND's first reply (the listening address) was a grant

    # -- client ----------------------------------------------------------------------------------------
    def client_message(self, buf: bytearray) -> int | None:
        if self._client_state == _Client.AUTH:
            return self._auth_request(buf)
        if self._client_state == _Client.REQUEST:
            return self._request5(buf)
        if buf[0] == SOCKS4_VERSION:
            return self._request4(buf)
        if buf[0] == SOCKS5_VERSION:
            return self._greeting(buf)
        return self._stop(SocksAnomaly.MALFORMED_REQUEST)

    def _request4(self, buf: bytearray) -> int | None:
        if len(buf) < 8:
            return None
        _, command, _, address = _SOCKS4_HEAD.unpack_from(buf)
        if command not in (CMD_CONNECT, CMD_BIND):
            return self._stop(SocksAnomaly.MALFORMED_REQUEST)
        end = _field_end(buf, 8)
        if end is not None and end > 0 and _is_socks4a(address):
            end = _field_end(buf, end)
        if end is None:
            return None
        if end < 0:
            return self._stop(SocksAnomaly.MALFORMED_REQUEST)
        self._ask(command, _Server.REPLY4)
        return end

    def _greeting(self, buf: bytearray) -> int | None:
        if len(buf) < 2:
            return None
        count = buf[1]
        if count == 0:
            return self._stop(SocksAnomaly.MALFORMED_REQUEST)
        if len(buf) < 2 + count:
            return None
        self._methods = bytes(buf[2 : 2 + count])
        self._server_state = _Server.METHOD
        self.hold_client()
        return 2 + count

    def _auth_request(self, buf: bytearray) -> int | None:
        if buf[0] != AUTH_VERSION:
            return self._stop(SocksAnomaly.MALFORMED_REQUEST)
        if len(buf) < 2:
            return None
        password_at = 2 + buf[1]  # VER ULEN UNAME, then PLEN PASSWD: neither value is read
        if len(buf) <= password_at or len(buf) < password_at + 1 + buf[password_at]:
            return None
        self._emit(PlaintextAuth(METHOD_NAMES[METHOD_USERNAME_PASSWORD]))
        self._server_state = _Server.AUTH
        self.hold_client()
        return password_at + 1 + buf[password_at]

    def _request5(self, buf: bytearray) -> int | None:
        if buf[0] != SOCKS5_VERSION or (len(buf) >= 2 and buf[1] not in COMMANDS):
            return self._stop(SocksAnomaly.MALFORMED_REQUEST)
        length = self._address_message_length(buf)
        if not length:
            return length
        if len(buf) < length:
            return None  # the whole message (at most 262 octets) first: its end may be the hand-off point
        self._ask(buf[1], _Server.REPLY5)
        return length

    def _ask(self, command: int, answer: _Server) -> None:
        self._command = command
        if command != CMD_UDP_ASSOCIATE:
            self._emit(StartTlsRequested(COMMANDS[command]))
        self._server_state = answer
        self.hold_client()

    # -- server ----------------------------------------------------------------------------------------
    def server_message(self, buf: bytearray) -> int | None:
        state = self._server_state
        if state == _Server.METHOD:
            return self._method(buf)
        if state == _Server.AUTH:
            return self._auth_status(buf)
        if state == _Server.REPLY4:
            return self._reply4(buf)
        if state == _Server.REPLY5:
            return self._reply5(buf)
        return self._stop(SocksAnomaly.REPLY_WITHOUT_REQUEST)

    def _method(self, buf: bytearray) -> int | None:
        if len(buf) < 2:
            return None
        if buf[0] != SOCKS5_VERSION:
            return self._stop(SocksAnomaly.MALFORMED_REPLY)
        method = buf[1]
        if method == METHOD_NO_ACCEPTABLE:
            self.done = True  # RFC 1928 §3: the client MUST close the connection
            return 2
        if method not in self._methods:
            self._anomaly(SocksAnomaly.METHOD_NOT_OFFERED)
        if method != METHOD_NONE:
            self._emit(AuthMechanismsOffered((_method_name(method),)))
        if method == METHOD_NONE:
            self._answered(_Client.REQUEST)
        elif method == METHOD_USERNAME_PASSWORD:
            self._answered(_Client.AUTH)
        else:
            self.done = True  # GSSAPI and the others encapsulate what follows: nothing more to read
        return 2

    def _auth_status(self, buf: bytearray) -> int | None:
        if len(buf) < 2:
            return None
        if buf[0] != AUTH_VERSION:
            return self._stop(SocksAnomaly.MALFORMED_REPLY)
        if buf[1] == 0:
            self._answered(_Client.REQUEST)
        else:
            self.done = True  # RFC 1929 §2: on failure the server MUST close the connection
        return 2

    def _reply4(self, buf: bytearray) -> int | None:
        if len(buf) < 8:
            return None
        code = buf[1]
        if buf[0] not in (SOCKS4_REPLY_VERSION, SOCKS4_VERSION) or (
            code != SOCKS4_GRANTED and code not in SOCKS4_REFUSED
        ):
            return self._stop(SocksAnomaly.MALFORMED_REPLY)
        self._decide(code == SOCKS4_GRANTED, str(code))
        return 8

    def _reply5(self, buf: bytearray) -> int | None:
        if buf[0] != SOCKS5_VERSION or (len(buf) >= 2 and buf[1] > SOCKS5_MAX_REPLY):
            return self._stop(SocksAnomaly.MALFORMED_REPLY)
        length = self._address_message_length(buf)
        if not length:
            return length
        if len(buf) < length:
            return None
        self._decide(buf[1] == SOCKS5_SUCCEEDED, str(buf[1]))
        return length

    def _decide(self, granted: bool, code: str) -> None:
        """The server answered the request: open the tunnel, wait for a BIND's second reply, or stop."""
        command = self._command
        if command == CMD_UDP_ASSOCIATE:
            self.done = True  # the relayed datagrams go over UDP; this connection only keeps the association
        elif not granted:
            self._emit(StartTlsRejected(code))
            self.done = True  # RFC 1928 §6: the server closes the connection after a failure reply
        elif command == CMD_BIND and not self._bind_granted:
            self._bind_granted = True  # the first BIND reply names the listening socket; the second the peer
        else:
            self._server_state = _Server.IDLE
            self._emit(StartTlsAccepted(code))
            if self._client:
                self._anomaly(SocksAnomaly.DATA_BEFORE_REPLY)
            self.switch()

    def _answered(self, next_client: _Client) -> None:
        self._server_state = _Server.IDLE
        self._client_state = next_client
        self.release_client()
        # An optimistic client's next message may already be held, and the server's next message (in the same
        # segment) answers it: read it now, so that the server reader is the one its answer calls for.
        self._drain_client()

    # -- shared ----------------------------------------------------------------------------------------
    def _address_message_length(self, buf: bytearray) -> int | None:
        """Length of a SOCKS 5 request or reply (VER CMD/REP RSV ATYP ADDR PORT); None: more bytes needed;
        0 after naming a bad address type."""
        if len(buf) < 4:
            return None
        atyp = buf[3]
        size = ADDRESS_LENGTHS.get(atyp)
        if size is None:
            return self._stop(SocksAnomaly.BAD_ADDRESS_TYPE)
        if atyp == ATYP_DOMAIN:
            if len(buf) < 5:
                return None
            size = 1 + buf[4]
        return 4 + size + 2

    def _stop(self, anomaly: SocksAnomaly) -> int:
        self._anomaly(anomaly)
        self.done = True
        return 0


def _is_socks4a(address: bytes) -> bool:
    """SOCKS 4a: DSTIP 0.0.0.x with x non-zero means "the host name follows the USERID"."""
    return address[:3] == b"\x00\x00\x00" and address[3] != 0


def _field_end(buf: bytes | bytearray, start: int) -> int | None:
    """The offset after the NUL ending the printable field at ``start``; None while it may still end; -1 when
    it holds a non-printable octet or exceeds MAX_FIELD."""
    end = buf.find(b"\x00", start, start + MAX_FIELD + 1)
    field = buf[start:end] if end >= 0 else buf[start : start + MAX_FIELD + 1]
    if any(c < 0x20 or c > 0x7E for c in field):
        return -1
    if end >= 0:
        return end + 1
    return None if len(field) <= MAX_FIELD else -1


def _method_name(method: int) -> str:
    if method in METHOD_NAMES:
        return METHOD_NAMES[method]
    return f"PRIVATE-{method}" if method in PRIVATE_METHODS else f"unknown-{method}"


def _plausible_method(method: int) -> bool:
    return method == METHOD_NONE or method in METHOD_NAMES or method in PRIVATE_METHODS


def probe(is_orig: bool, data: bytes, server_port: int) -> bool | None:
    """Is this a SOCKS 4/4a request or SOCKS 5 greeting? Decided on the client's first message, by its exact
    structure; the server never speaks first. Bytes after a whole first message (optimistic clients send the
    next message at once) are accepted when they start the expected next message, or on port 1080."""
    if not is_orig:
        return False
    if not data:
        return None
    if data[0] == SOCKS5_VERSION:
        return _probe_greeting(data, server_port)
    if data[0] == SOCKS4_VERSION:
        return _probe_request4(data, server_port)
    return False


def _probe_greeting(data: bytes, server_port: int) -> bool | None:
    if len(data) < 2:
        return None
    count = data[1]
    methods = data[2 : 2 + count]
    if count == 0 or len(set(methods)) != len(methods) or not all(_plausible_method(m) for m in methods):
        return False
    end = 2 + count
    if len(data) < end:
        return None
    if len(data) == end:
        return True
    return data[end] in (SOCKS5_VERSION, AUTH_VERSION) or server_port in PORTS


def _probe_request4(data: bytes, server_port: int) -> bool | None:
    if len(data) >= 2 and data[1] not in (CMD_CONNECT, CMD_BIND):
        return False
    if len(data) >= 4 and data[2:4] == b"\x00\x00" and data[1] == CMD_CONNECT:
        return False  # CONNECT to port 0
    if len(data) < 8:
        return None
    end = _field_end(data, 8)
    if end is not None and end > 0 and _is_socks4a(data[4:8]):
        end = _field_end(data, end)
        if end is not None and end > 0 and data[end - 2] == 0:
            return False  # an empty 4a host name
    if end is None or end < 0:
        return None if end is None else False
    return len(data) == end or server_port in PORTS
