"""MySQL and MariaDB client/server protocol up to the login (MySQL source docs, "Connection Phase").

Theory of operation: every packet is a 3-byte little-endian payload length, a 1-byte sequence id and the
payload. The server speaks first with the Initial Handshake Packet, protocol version 10: server version
(NUL-terminated), connection id, the first scramble part, the lower capability flags, character set, status,
the upper capability flags, scramble length, ten reserved bytes (MariaDB 10.2+ puts its extended capabilities
in the last four when it clears the ``CLIENT_MYSQL`` bit), the second scramble part and the default auth
plugin name. The capability flags set are the row's capabilities; ``CLIENT_SSL`` (0x0800) is the upgrade offer
and the plugin name the authentication method offered.

The client answers with one of two packets (sequence id 1):

- the SSL Request, a HandshakeResponse cut short after the 32 fixed bytes (capability flags with CLIENT_SSL,
  max packet size, character set, 23 filler bytes), 5 bytes in the pre-4.1 form. No reply follows: the client's
  next byte is its TLS ClientHello and the server's next byte its TLS ServerHello. The analyzer holds the
  client and lets the server's next bytes decide: a TLS record is the acceptance (reply ``TLS``), a MySQL ERR
  packet the refusal (reply ``ERR``; the server then closes);
- the full HandshakeResponse: a plaintext login. Only the auth plugin name is read from it (the user name and
  the scrambled password before it are skipped unread); nothing can upgrade after it.

A first packet that is an ERR (too many connections, host not allowed) ends the session.
"""

from __future__ import annotations

import struct
from enum import StrEnum
from typing import ClassVar

from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.protocols.binary import BinaryProtocol
from tlsmon.protocols.events import (
    AuthMechanismsOffered,
    CapabilitiesOffered,
    PlaintextAuth,
    StartTlsAccepted,
    StartTlsOffered,
    StartTlsRejected,
    StartTlsRequested,
)

PORTS = frozenset({3306})

PROTOCOL_V10 = 0x0A
PACKET_ERR = 0xFF
HEADER_LENGTH = 4
# The SSL Request payload: 4.1 form (caps 4, max packet 4, charset 1, filler 23) and pre-4.1 (caps 2, max 3).
SSL_REQUEST_LENGTH = 32
SSL_REQUEST_LENGTH_320 = 5
# A greeting is ~80-130 bytes; the server version string is short. Anything far larger is not a greeting.
MAX_GREETING = 1024
MAX_VERSION = 64
MAX_PLUGIN_NAME = 64
# The head of a HandshakeResponse read for the plugin name (user names are ≤ 32 chars, scramble ≤ 255 bytes).
MAX_RESPONSE_HEAD = 2048
# TLS record content types the server's first bytes after an SSL Request may carry (alert, handshake).
TLS_FIRST_BYTES = frozenset({0x15, 0x16})

# Capability flags (include/mysql_com.h; MariaDB include/mysql_com.h for bit 0 and bits 32-37).
CLIENT_MYSQL = 1 << 0  # MySQL's CLIENT_LONG_PASSWORD; cleared by MariaDB 10.2+ servers
CLIENT_CONNECT_WITH_DB = 1 << 3
CLIENT_PROTOCOL_41 = 1 << 9
CLIENT_SSL = 1 << 11
CLIENT_SECURE_CONNECTION = 1 << 15
CLIENT_PLUGIN_AUTH = 1 << 19
CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA = 1 << 21
CAPABILITY_NAMES: dict[int, str] = {
    0: "CLIENT_LONG_PASSWORD",
    1: "CLIENT_FOUND_ROWS",
    2: "CLIENT_LONG_FLAG",
    3: "CLIENT_CONNECT_WITH_DB",
    4: "CLIENT_NO_SCHEMA",
    5: "CLIENT_COMPRESS",
    6: "CLIENT_ODBC",
    7: "CLIENT_LOCAL_FILES",
    8: "CLIENT_IGNORE_SPACE",
    9: "CLIENT_PROTOCOL_41",
    10: "CLIENT_INTERACTIVE",
    11: "CLIENT_SSL",
    12: "CLIENT_IGNORE_SIGPIPE",
    13: "CLIENT_TRANSACTIONS",
    14: "CLIENT_RESERVED",
    15: "CLIENT_SECURE_CONNECTION",
    16: "CLIENT_MULTI_STATEMENTS",
    17: "CLIENT_MULTI_RESULTS",
    18: "CLIENT_PS_MULTI_RESULTS",
    19: "CLIENT_PLUGIN_AUTH",
    20: "CLIENT_CONNECT_ATTRS",
    21: "CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA",
    22: "CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS",
    23: "CLIENT_SESSION_TRACK",
    24: "CLIENT_DEPRECATE_EOF",
    25: "CLIENT_OPTIONAL_RESULTSET_METADATA",
    26: "CLIENT_ZSTD_COMPRESSION_ALGORITHM",
    27: "CLIENT_QUERY_ATTRIBUTES",
    28: "MULTI_FACTOR_AUTHENTICATION",
    29: "CLIENT_CAPABILITY_EXTENSION",
    30: "CLIENT_SSL_VERIFY_SERVER_CERT",
    31: "CLIENT_REMEMBER_OPTIONS",
    32: "MARIADB_CLIENT_PROGRESS",
    33: "MARIADB_CLIENT_COM_MULTI",
    34: "MARIADB_CLIENT_STMT_BULK_OPERATIONS",
    35: "MARIADB_CLIENT_EXTENDED_METADATA",
    36: "MARIADB_CLIENT_CACHE_METADATA",
    37: "MARIADB_CLIENT_BULK_UNIT_RESULTS",
}

_HEADER = struct.Struct("<HBB")  # length low 16 bits, length high 8 bits, sequence id
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")

_GREETING = "greeting"  # the server's next packet is the Initial Handshake
_LOGIN = "login"  # the client's next packet is the SSL Request or the HandshakeResponse
_ANSWER = "answer"  # the server's next bytes answer the SSL Request


class MysqlAnomaly(StrEnum):
    # The first server packet is neither a protocol 10 greeting nor an ERR packet (protocol 9 predates 3.22).
    BAD_GREETING = "mysql.bad_greeting"
    # The client sent an SSL Request although the greeting did not offer CLIENT_SSL.
    SSL_REQUEST_NOT_OFFERED = "mysql.ssl_request_not_offered"
    # A full HandshakeResponse with CLIENT_SSL set but no SSL Request before it: the client claims TLS and
    # logs in in plaintext.
    SSL_FLAG_IN_PLAINTEXT_LOGIN = "mysql.ssl_flag_in_plaintext_login"
    # After the SSL Request the server sent neither TLS nor an ERR packet.
    BAD_SSL_ANSWER = "mysql.bad_ssl_answer"
    # The client spoke before the server's greeting (the server always speaks first).
    CLIENT_BEFORE_GREETING = "mysql.client_before_greeting"
    # The client sent bytes after the SSL Request that are not a TLS record.
    PLAINTEXT_AFTER_SSL_REQUEST = "mysql.plaintext_after_ssl_request"


class MysqlAnalyzer(BinaryProtocol):
    name: ClassVar[str] = "mysql"

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(limits)
        self._state = _GREETING
        self._offered = False

    # -- server ----------------------------------------------------------------------------------------
    def server_message(self, buf: bytearray) -> int | None:
        if self._state == _ANSWER:
            return self._ssl_answer(buf)
        if len(buf) < HEADER_LENGTH:
            return None
        length, seq = _packet_header(buf)
        total = HEADER_LENGTH + length
        if self._state != _GREETING:
            return total  # nothing the server says between the greeting and the client's login matters
        if length > MAX_GREETING or length < 1:
            return self._stop(MysqlAnomaly.BAD_GREETING)
        if len(buf) < total:
            return None
        payload = bytes(buf[HEADER_LENGTH:total])
        if payload[0] == PACKET_ERR:
            self.done = True
            return total
        greeting = _parse_greeting(payload) if payload[0] == PROTOCOL_V10 and seq == 0 else None
        if greeting is None:
            return self._stop(MysqlAnomaly.BAD_GREETING)
        capabilities, plugin = greeting
        self._state = _LOGIN
        self._offered = bool(capabilities & CLIENT_SSL)
        self._emit(CapabilitiesOffered(_capability_names(capabilities)))
        if self._offered:
            self._emit(StartTlsOffered())
        if plugin:
            self._emit(AuthMechanismsOffered((plugin,)))
        return total

    def _ssl_answer(self, buf: bytearray) -> int | None:
        if len(buf) < 2:
            return None
        if _tls_record_start(buf):
            self._emit(StartTlsAccepted("TLS"))
            if self._client and not _tls_record_start(self._client[:2]):
                self._anomaly(MysqlAnomaly.PLAINTEXT_AFTER_SSL_REQUEST)
            self.switch()
            return 0
        if len(buf) < HEADER_LENGTH + 1:
            return None
        if buf[HEADER_LENGTH] == PACKET_ERR:
            self._emit(StartTlsRejected("ERR"))
            self.done = True
            return 0
        return self._stop(MysqlAnomaly.BAD_SSL_ANSWER)

    # -- client ----------------------------------------------------------------------------------------
    def client_message(self, buf: bytearray) -> int | None:
        if len(buf) < HEADER_LENGTH:
            return None
        length, _ = _packet_header(buf)
        total = HEADER_LENGTH + length
        if self._state == _GREETING:
            self._anomaly(MysqlAnomaly.CLIENT_BEFORE_GREETING)
            return total
        if self._state != _LOGIN:
            return total
        if len(buf) < min(total, HEADER_LENGTH + MAX_RESPONSE_HEAD):
            return None
        payload = bytes(buf[HEADER_LENGTH : min(total, HEADER_LENGTH + MAX_RESPONSE_HEAD)])
        capabilities = _client_capabilities(payload)
        if capabilities & CLIENT_SSL and length in (SSL_REQUEST_LENGTH, SSL_REQUEST_LENGTH_320):
            if not self._offered:
                self._anomaly(MysqlAnomaly.SSL_REQUEST_NOT_OFFERED)
            self._emit(StartTlsRequested("CLIENT_SSL"))
            self._state = _ANSWER
            self.hold_client()
            return total
        if capabilities & CLIENT_SSL:
            self._anomaly(MysqlAnomaly.SSL_FLAG_IN_PLAINTEXT_LOGIN)
        plugin = _response_plugin(payload, capabilities)
        self._emit(PlaintextAuth(f"HandshakeResponse {plugin}" if plugin else "HandshakeResponse"))
        self.done = True
        return total

    def _stop(self, anomaly: MysqlAnomaly) -> int:
        self._anomaly(anomaly)
        self.done = True
        return 0


def _tls_record_start(buf: bytes | bytearray) -> bool:
    """A TLS record's content type and major version 3; a MySQL header there would have a length byte 0."""
    return len(buf) >= 2 and buf[0] in TLS_FIRST_BYTES and buf[1] == 3


def _packet_header(buf: bytes | bytearray) -> tuple[int, int]:
    low, high, seq = _HEADER.unpack_from(buf)
    return low | high << 16, seq


def _parse_greeting(payload: bytes) -> tuple[int, str] | None:
    """A protocol 10 greeting's capability flags and auth plugin name; None when it is not one."""
    end = payload.find(b"\x00", 1, 1 + MAX_VERSION + 1)
    if end < 2 or not _plausible_version(payload[1:end]):
        return None
    pos = end + 1 + 4 + 8 + 1  # connection id, scramble part 1, filler
    if len(payload) < pos + 2:
        return None
    capabilities = _U16.unpack_from(payload, pos)[0]
    pos += 2
    if len(payload) < pos + 1 + 2 + 2 + 1 + 10:
        return capabilities, ""  # pre-4.1 servers stop after the lower flags (or after charset and status)
    capabilities |= _U16.unpack_from(payload, pos + 3)[0] << 16
    scramble_length = payload[pos + 5]
    if not capabilities & CLIENT_MYSQL:
        capabilities |= _U32.unpack_from(payload, pos + 12)[0] << 32
    pos += 16
    if capabilities & CLIENT_SECURE_CONNECTION:
        pos += max(13, scramble_length - 8)
    if not capabilities & CLIENT_PLUGIN_AUTH or pos >= len(payload):
        return capabilities, ""
    return capabilities, _plugin_name(payload[pos:])


def _plausible_version(version: bytes) -> bool:
    return version[:1].isdigit() and all(0x20 < c < 0x7F for c in version)


def _capability_names(capabilities: int) -> tuple[str, ...]:
    bits = [bit for bit in range(capabilities.bit_length()) if capabilities >> bit & 1]
    return tuple(CAPABILITY_NAMES.get(bit, f"unknown-{bit}") for bit in bits)


def _client_capabilities(payload: bytes) -> int:
    if len(payload) < 2:
        return 0
    low = _U16.unpack_from(payload)[0]
    if low & CLIENT_PROTOCOL_41 and len(payload) >= 4:
        return int(_U32.unpack_from(payload)[0])
    return int(low)


def _response_plugin(payload: bytes, capabilities: int) -> str:
    """The auth plugin name at the end of a 4.1 HandshakeResponse; the user name and auth data are skipped."""
    if not capabilities & CLIENT_PROTOCOL_41 or not capabilities & CLIENT_PLUGIN_AUTH:
        return ""
    pos = _skip_cstring(payload, SSL_REQUEST_LENGTH)  # the user name
    if pos < 0 or pos >= len(payload):
        return ""
    if capabilities & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA:
        pos = _skip_lenenc(payload, pos)
    elif capabilities & CLIENT_SECURE_CONNECTION:
        pos += 1 + payload[pos]
    else:
        pos = _skip_cstring(payload, pos)
    if pos < 0:
        return ""
    if capabilities & CLIENT_CONNECT_WITH_DB:
        pos = _skip_cstring(payload, pos)  # the database name
    if pos < 0 or pos >= len(payload):
        return ""
    return _plugin_name(payload[pos:])


def _skip_cstring(payload: bytes, pos: int) -> int:
    end = payload.find(b"\x00", pos)
    return -1 if end < 0 else end + 1


def _skip_lenenc(payload: bytes, pos: int) -> int:
    """Past a length-encoded string; only the 1- and 2-byte-length forms fit in a login packet head."""
    if pos >= len(payload):
        return -1
    first = payload[pos]
    if first < 0xFB:
        return pos + 1 + first
    if first == 0xFC and pos + 3 <= len(payload):
        return pos + 3 + _U16.unpack_from(payload, pos + 1)[0]
    return -1


def _plugin_name(data: bytes) -> str:
    """A NUL-terminated plugin name (some servers omit the NUL, MySQL bug #59453); '' when implausible."""
    name = data.split(b"\x00", 1)[0]
    if not 0 < len(name) <= MAX_PLUGIN_NAME:
        return ""
    text = name.decode("ascii", "replace")
    return text if all(c.isalnum() or c in "_-" for c in text) else ""


def probe(is_orig: bool, data: bytes, server_port: int) -> bool | None:
    """Is this a MySQL/MariaDB server greeting? Decided on the server's first packet (it speaks first)."""
    if is_orig:
        return False
    if len(data) < HEADER_LENGTH + 1:
        # A greeting's length is below MAX_GREETING (second byte ≤ 3, third 0) and its sequence id is 0.
        plausible = (len(data) < 2 or data[1] <= 3) and all(b == 0 for b in data[2:4])
        return None if plausible else False
    length, seq = _packet_header(data)
    if seq != 0 or not 0 < length <= MAX_GREETING:
        return False
    kind = data[HEADER_LENGTH]
    if kind == PACKET_ERR:
        # An error instead of a greeting ("Host … is not allowed to connect"): only the port can say MySQL.
        return server_port in PORTS
    if kind != PROTOCOL_V10:
        return False
    version = data[HEADER_LENGTH + 1 : HEADER_LENGTH + length]
    end = version.find(b"\x00")
    if end < 0:
        if len(version) > MAX_VERSION or not _plausible_version(version[:1] or b"0"):
            return False
        return None if all(0x20 < c < 0x7F for c in version) else False
    return 0 < end <= MAX_VERSION and _plausible_version(version[:end])
