"""RDP connection initiation: X.224 negotiation of the TLS security layer (MS-RDPBCGR 2.2.1.1, 2.2.1.2, 5.4.5).

Theory of operation: both first PDUs are TPKTs (RFC 1006 §6: version 3, reserved 0, a 16-bit length counting
the 4-octet header) carrying an X.224 TPDU (ITU-T X.224 §13.3-13.4: length indicator, code, DST-REF, SRC-REF,
class option, then variable data):

- the client's Connection Request (code 0xE0) holds an optional routing token or ``Cookie: mstshash=…`` line
  ended by CRLF, then an optional RDP_NEG_REQ (type 1, length 8) whose ``requestedProtocols`` flags name the
  security protocols the client can use: PROTOCOL_SSL (TLS), PROTOCOL_HYBRID (CredSSP over TLS),
  PROTOCOL_RDSTLS, PROTOCOL_HYBRID_EX, PROTOCOL_RDSAAD, all run inside TLS; none of them set (0) means
  standard RDP security, RDP's own encryption, without TLS;
- the server's Connection Confirm (code 0xD0) holds an RDP_NEG_RSP (type 2) with the ``selectedProtocol``, or
  an RDP_NEG_FAILURE (type 3) with a failure code, or nothing (a server predating negotiation: standard RDP
  security).

The requested protocol names are the row's capabilities; requesting a TLS-based one is the offer and the
upgrade command (``RDP_NEG_REQ``). A Connection Confirm selecting a TLS-based protocol accepts (the reply is
the protocol's name, as Zeek's rdp.log ``security_protocol`` spells it): the TLS handshake starts at the next
byte of each direction (MS-RDPBCGR 1.3.1.1, 5.4.5.1). Selecting standard RDP security or a failure refuses;
failure codes saying the server requires TLS or CredSSP mark the upgrade as required. Either way nothing after
the confirm can change the row (standard RDP security is encrypted with RDP's own keys): ``done``.

Privacy: the cookie (a user name) and routing token are skipped unread.
"""

from __future__ import annotations

import struct
from enum import StrEnum
from typing import ClassVar

from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.protocols.binary import BinaryProtocol
from tlsmon.protocols.events import (
    CapabilitiesOffered,
    StartTlsAccepted,
    StartTlsOffered,
    StartTlsRejected,
    StartTlsRequested,
)

PORTS = frozenset({3389})  # IANA "ms-wbt-server"

# RFC 1006 §6 TPKT
TPKT_VERSION = 3
TPKT_HEADER = 4
# ITU-T X.224 TPDU codes (high nibble; the low nibble of CR/CC is the credit, 0 in class 0)
X224_CONNECTION_REQUEST = 0xE0
X224_CONNECTION_CONFIRM = 0xD0
X224_FIXED = 7  # LI, code, DST-REF (2), SRC-REF (2), class option
MIN_CONNECTION_PDU = TPKT_HEADER + X224_FIXED

# MS-RDPBCGR 2.2.1.1.1, 2.2.1.2.1, 2.2.1.2.2: negotiation structures, all 8 octets
TYPE_RDP_NEG_REQ = 0x01
TYPE_RDP_NEG_RSP = 0x02
TYPE_RDP_NEG_FAILURE = 0x03
NEG_LENGTH = 8
COOKIE_PREFIX = b"Cookie: "  # "Cookie: mstshash=<id>" or a routing token "Cookie: msts=<token>", CRLF-ended
TOKEN_END = b"\r\n"

# Security protocol flags (requestedProtocols / selectedProtocol), named as Zeek's RDP::security_protocols.
PROTOCOL_RDP = 0x00
PROTOCOL_SSL = 0x01
PROTOCOL_HYBRID = 0x02
PROTOCOL_RDSTLS = 0x04
PROTOCOL_HYBRID_EX = 0x08
PROTOCOL_RDSAAD = 0x10
PROTOCOL_NAMES: dict[int, str] = {
    PROTOCOL_RDP: "RDP",
    PROTOCOL_SSL: "SSL",
    PROTOCOL_HYBRID: "HYBRID",
    PROTOCOL_RDSTLS: "RDSTLS",
    PROTOCOL_HYBRID_EX: "HYBRID_EX",
    PROTOCOL_RDSAAD: "RDSAAD",
}
# Every protocol but standard RDP security runs inside TLS (MS-RDPBCGR 5.4.5).
TLS_PROTOCOLS = PROTOCOL_SSL | PROTOCOL_HYBRID | PROTOCOL_RDSTLS | PROTOCOL_HYBRID_EX | PROTOCOL_RDSAAD

# RDP_NEG_FAILURE failureCode (MS-RDPBCGR 2.2.1.2.2), named as Zeek's RDP::failure_codes.
FAILURE_CODES: dict[int, str] = {
    0x01: "SSL_REQUIRED_BY_SERVER",
    0x02: "SSL_NOT_ALLOWED_BY_SERVER",
    0x03: "SSL_CERT_NOT_ON_SERVER",
    0x04: "INCONSISTENT_FLAGS",
    0x05: "HYBRID_REQUIRED_BY_SERVER",
    0x06: "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER",
}
TLS_REQUIRED_FAILURES = frozenset({0x01, 0x05, 0x06})

UPGRADE_COMMAND = "RDP_NEG_REQ"

_TPKT = struct.Struct(">BBH")
_NEG = struct.Struct("<BBHI")  # type, flags, length, requestedProtocols / selectedProtocol / failureCode


class RdpAnomaly(StrEnum):
    # A TPKT whose version is not 3 or whose length is shorter than a connection TPDU (RFC 1006 §6).
    BAD_TPKT = "rdp.bad_tpkt"
    # The client's first TPDU is not a Connection Request, or the server's answer not a Connection Confirm
    # (an X.224 Disconnect Request, say).
    UNEXPECTED_TPDU = "rdp.unexpected_tpdu"
    # An RDP_NEG_* structure of the wrong type for its direction or with a length other than 8
    # (MS-RDPBCGR 2.2.1.1.1, 2.2.1.2.1, 2.2.1.2.2).
    MALFORMED_NEGOTIATION = "rdp.malformed_negotiation"
    # The selectedProtocol is not among the requested ones (MS-RDPBCGR 3.3.5.3.1), or is no known protocol.
    UNREQUESTED_PROTOCOL = "rdp.unrequested_protocol"
    # The server sent bytes before the client's Connection Request.
    REPLY_WITHOUT_REQUEST = "rdp.reply_without_request"
    # The client sent bytes after its Connection Request before the Connection Confirm (MS-RDPBCGR 1.3.1.1: the
    # TLS handshake starts after the confirm).
    DATA_BEFORE_CONFIRM = "rdp.data_before_confirm"


class RdpAnalyzer(BinaryProtocol):
    name: ClassVar[str] = "rdp"

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(limits)
        self._requested: int | None = None  # requestedProtocols; None before the request or without RDP_NEG_REQ
        self._request_seen = False

    # -- client: the Connection Request --------------------------------------------------------------------
    def client_message(self, buf: bytearray) -> int | None:
        length = self._tpkt_length(buf)
        if not length:
            return length
        if len(buf) < length:
            return None  # the whole TPKT first: its end is the hand-off point
        if buf[5] & 0xF0 != X224_CONNECTION_REQUEST:
            return self._stop(RdpAnomaly.UNEXPECTED_TPDU)
        neg = _negotiation(_after_token(bytes(buf[MIN_CONNECTION_PDU:length])))
        if neg is not None and (neg[0] != TYPE_RDP_NEG_REQ or neg[2] != NEG_LENGTH):
            return self._stop(RdpAnomaly.MALFORMED_NEGOTIATION)
        self._request_seen = True
        if neg is not None:
            self._requested = requested = neg[3]
            self._emit(CapabilitiesOffered(protocol_names(requested)))
            if requested & TLS_PROTOCOLS:
                self._emit(StartTlsOffered())
                self._emit(StartTlsRequested(UPGRADE_COMMAND))
        self.hold_client()  # the client waits for the confirm: what it sends next depends on the selection
        return length

    # -- server: the Connection Confirm --------------------------------------------------------------------
    def server_message(self, buf: bytearray) -> int | None:
        if not self._request_seen:
            return self._stop(RdpAnomaly.REPLY_WITHOUT_REQUEST)
        length = self._tpkt_length(buf)
        if not length:
            return length
        if len(buf) < length:
            return None  # the whole TPKT first: its end is the hand-off point
        if buf[5] & 0xF0 != X224_CONNECTION_CONFIRM:
            return self._stop(RdpAnomaly.UNEXPECTED_TPDU)
        neg = _negotiation(bytes(buf[MIN_CONNECTION_PDU:length]))
        if neg is None:
            self._selected(PROTOCOL_RDP)  # a server without negotiation support: standard RDP security
        elif neg[2] != NEG_LENGTH or neg[0] not in (TYPE_RDP_NEG_RSP, TYPE_RDP_NEG_FAILURE):
            return self._stop(RdpAnomaly.MALFORMED_NEGOTIATION)
        elif neg[0] == TYPE_RDP_NEG_RSP:
            self._selected(neg[3])
        else:
            self._failed(neg[3])
        return length

    def _selected(self, protocol: int) -> None:
        requested = self._requested or PROTOCOL_RDP
        known = protocol in PROTOCOL_NAMES
        if not known or (protocol and not protocol & requested):
            self._anomaly(RdpAnomaly.UNREQUESTED_PROTOCOL)
        if known and protocol & TLS_PROTOCOLS:
            self._emit(StartTlsAccepted(PROTOCOL_NAMES[protocol]))
            if self._client:
                self._anomaly(RdpAnomaly.DATA_BEFORE_CONFIRM)
            self.switch()
            return
        if requested & TLS_PROTOCOLS:
            self._emit(StartTlsRejected(protocol_name(protocol)))
        self.done = True

    def _failed(self, code: int) -> None:
        if code in TLS_REQUIRED_FAILURES:
            self._emit(StartTlsOffered(required=True))
        if (self._requested or PROTOCOL_RDP) & TLS_PROTOCOLS:
            self._emit(StartTlsRejected(FAILURE_CODES.get(code, f"unknown-{code}")))
        self.done = True

    # -- shared --------------------------------------------------------------------------------------------
    def _tpkt_length(self, buf: bytearray) -> int | None:
        """The TPKT's length; None while its header is incomplete; 0 after naming a bad header."""
        if len(buf) < TPKT_HEADER:
            return None if buf[0] == TPKT_VERSION else self._stop(RdpAnomaly.BAD_TPKT)
        version, _, length = _TPKT.unpack_from(buf)
        if version != TPKT_VERSION or length < MIN_CONNECTION_PDU:
            return self._stop(RdpAnomaly.BAD_TPKT)
        return length

    def _stop(self, anomaly: RdpAnomaly) -> int:
        self._anomaly(anomaly)
        self.done = True
        return 0


def protocol_name(protocol: int) -> str:
    return PROTOCOL_NAMES.get(protocol, f"unknown-{protocol}")


def protocol_names(flags: int) -> tuple[str, ...]:
    """The names of the protocols set in a requestedProtocols value; ``("RDP",)`` when none is."""
    if not flags:
        return (PROTOCOL_NAMES[PROTOCOL_RDP],)
    return tuple(protocol_name(1 << bit) for bit in range(32) if flags >> bit & 1)


def _after_token(data: bytes) -> bytes:
    """A Connection Request's variable data past the cookie or routing token (ended by CRLF), if any."""
    if data[:1] == bytes((TYPE_RDP_NEG_REQ,)) and len(data) >= NEG_LENGTH:
        return data
    end = data.find(TOKEN_END)
    return data[end + len(TOKEN_END) :] if end >= 0 else b""


def _negotiation(data: bytes) -> tuple[int, int, int, int] | None:
    """(type, flags, length, value) of the RDP_NEG_* structure at the start of ``data``; None when absent."""
    if len(data) < _NEG.size:
        return None
    kind, flags, length, value = _NEG.unpack_from(data)
    return kind, flags, length, value


def probe(is_orig: bool, data: bytes, server_port: int) -> bool | None:
    """Is this an RDP Connection Request? TPKT + X.224 CR whose variable data starts with a cookie, an
    RDP_NEG_REQ or nothing; other TPKT users (ISO-TSAP, S7comm) put COTP parameters there. Decided on the
    client's first PDU (the server never speaks first); an unknown routing token is RDP only on 3389."""
    if not is_orig or not _plausible_header(data):
        return False
    if len(data) < MIN_CONNECTION_PDU:
        return None
    length = _TPKT.unpack_from(data)[2]
    if length == MIN_CONNECTION_PDU:
        return True
    variable = data[MIN_CONNECTION_PDU:length]
    if variable[:1] == bytes((TYPE_RDP_NEG_REQ,)):
        return None if len(variable) < 4 else variable[2:4] == NEG_LENGTH.to_bytes(2, "little")
    if COOKIE_PREFIX.startswith(variable[: len(COOKIE_PREFIX)]):
        return True if len(variable) >= len(COOKIE_PREFIX) else None
    # Another routing token is text too; COTP parameters (codes 0x80-0xF0) are not.
    return 0x20 <= variable[0] < 0x7F and server_port in PORTS


def _plausible_header(data: bytes) -> bool:
    """Whether the fixed part, as far as ``data`` goes, fits a TPKT carrying an X.224 Connection Request."""
    n = len(data)
    if data[:2] != bytes((TPKT_VERSION, 0))[:n]:
        return False
    length = (data[2] << 8) | data[3] if n >= TPKT_HEADER else MIN_CONNECTION_PDU
    if length < MIN_CONNECTION_PDU or (n >= 5 and data[4] != length - 5):
        return False  # the length indicator counts the TPDU octets after itself
    if n >= 6 and data[5] != X224_CONNECTION_REQUEST:
        return False
    if n >= 8 and data[6:8] != b"\x00\x00":
        return False  # DST-REF is 0 in a Connection Request
    return n < MIN_CONNECTION_PDU or data[10] == 0  # class 0, no options
