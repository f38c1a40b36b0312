"""HTTP CONNECT tunnels through a proxy (RFC 9110 §9.3.6, RFC 9112 §3.2.3 authority-form, §6.3 body length).

Theory of operation: the client's request line ``CONNECT host:port HTTP/1.x`` and its header section (up to the
empty line) are the upgrade command; the client direction is then held. The proxy's answer is a status line
and a header section: 1xx responses are interim and skipped; a 2xx final response opens the tunnel, so the
byte after its empty line (server) and the byte after the request's empty line (client) are the first tunnel
bytes — TLS when the client tunnels HTTPS. A client MUST ignore Content-Length and Transfer-Encoding in a 2xx
answer to CONNECT (RFC 9110 §9.3.6), and so does this analyzer.

Any other final status (407 Proxy Authentication Required, 403, 502 …) is a refusal. Its body is framed as
RFC 9112 §6.3 says (204/304 none, ``Transfer-Encoding: chunked``, ``Content-Length``) and skipped unread, and
the client's next request is parsed: a second CONNECT, typically with credentials, may follow on the same
connection. A body delimited by the connection's end leaves nothing to follow. A request with another method
is plain HTTP through the proxy, which tlsmon does not follow: ``done``. ``Proxy-Authenticate`` challenges
offer their scheme names (the first token of each header field).

Privacy: the CONNECT target (host and port) is not kept: the STARTTLS columns hold the verb ``CONNECT`` only.
``Proxy-Authorization`` is reported by scheme (``Proxy-Authorization BASIC``); its credentials are never read.
"""

from __future__ import annotations

import re
from enum import IntEnum, StrEnum
from typing import ClassVar

from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.protocols.base import LineProtocol
from tlsmon.protocols.events import PlaintextAuth, StartTlsRequested
from tlsmon.protocols.text import is_token

UPGRADE_COMMAND = "CONNECT"
_CONNECT_PREFIX = b"CONNECT "
# RFC 9112 §3: request-line = method SP request-target SP HTTP-version; CONNECT takes the authority-form
# (§3.2.3, host ":" port), so the target holds no space.
_CONNECT_LINE = re.compile(rb"CONNECT [^\s]+ HTTP/1\.[0-9]\Z")
# Any other request line (RFC 9110 §5.6.2 token as method): plain HTTP through the proxy.
_REQUEST_LINE = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+ [^\s]+ HTTP/[0-9]\.[0-9]\Z")
# RFC 9112 §4: status-line = HTTP-version SP status-code SP [reason-phrase]; the second SP is often missing.
_STATUS_LINE = re.compile(rb"HTTP/[0-9]\.[0-9] ([0-9]{3})(?: .*)?\Z")
_HEADER_NAME = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
# An incomplete first line: the start of "HTTP/1.x" after the target.
_VERSION_PREFIX = re.compile(rb"(?:H(?:T(?:T(?:P(?:/(?:1(?:\.[0-9]?)?)?)?)?)?)?)?\Z")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}\Z")
# Probe: the longest CONNECT line considered (a host name is at most 253 octets, RFC 1035 §2.3.4).
_MAX_PROBE_LINE = 512


class HttpProxyAnomaly(StrEnum):
    # A client line where a request line was due that is not "method SP target SP HTTP/x.y" (RFC 9112 §3).
    MALFORMED_REQUEST = "http-proxy.malformed_request"
    # A server line where a status line was due that is not "HTTP/x.y NNN [reason]" (RFC 9112 §4).
    MALFORMED_STATUS = "http-proxy.malformed_status"
    # A header field line without "name:" (RFC 9112 §5), or obsolete line folding (§5.2).
    MALFORMED_HEADER = "http-proxy.malformed_header"
    # A response arrived while no complete CONNECT request was waiting for one.
    RESPONSE_WITHOUT_REQUEST = "http-proxy.response_without_request"
    # A refusal's Content-Length is not a number, or several disagree (RFC 9112 §6.3 rule 5: unrecoverable).
    BAD_CONTENT_LENGTH = "http-proxy.bad_content_length"
    # A chunk-size line of a refusal's chunked body is not hexadecimal (RFC 9112 §7.1).
    MALFORMED_CHUNK = "http-proxy.malformed_chunk"
    # The client sent tunnel bytes after CONNECT before the proxy's answer (optimistic tunnelling: had the proxy
    # refused, they would have been read as the next HTTP request).
    DATA_BEFORE_REPLY = "http-proxy.data_before_reply"


class _Client(IntEnum):
    REQUEST = 0  # a request line is due
    HEADERS = 1  # inside a CONNECT request's header section


class _Server(IntEnum):
    STATUS = 0  # a status line is due
    HEADERS = 1  # inside a response's header section
    CHUNK_SIZE = 2  # a refusal's chunked body: a chunk-size line is due
    CHUNK_END = 3  # the empty line after a chunk's data
    TRAILERS = 4  # the trailer section after the last chunk


class HttpConnectAnalyzer(LineProtocol):
    name: ClassVar[str] = "http-proxy"
    tunnel: ClassVar[bool] = True

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(limits)
        self._client_state = _Client.REQUEST
        self._server_state = _Server.STATUS
        self._pending = False  # a complete CONNECT request awaits its final response
        self._status = ""
        self._content_length: int | None = None
        self._chunked = False
        self._framing_error = False

    # -- client --------------------------------------------------------------------------------------
    def client_line(self, line: bytes) -> None:
        if self._client_state == _Client.HEADERS:
            self._request_header(line)
        elif not line:
            pass  # RFC 9112 §2.2: empty lines before a request line are ignored
        elif _CONNECT_LINE.match(line):
            self._client_state = _Client.HEADERS
        else:
            if not _REQUEST_LINE.match(line):
                self._anomaly(HttpProxyAnomaly.MALFORMED_REQUEST)
            self.done = True

    def _request_header(self, line: bytes) -> None:
        if not line:
            # A CONNECT request has no content (RFC 9110 §9.3.6): what follows is tunnel data.
            self._client_state = _Client.REQUEST
            self._pending = True
            self._emit(StartTlsRequested(UPGRADE_COMMAND))
            self.hold_client()
            return
        field = _header(line)
        if field is None:
            self._anomaly(HttpProxyAnomaly.MALFORMED_HEADER)
        elif field[0] == b"proxy-authorization":
            scheme = field[1].split(None, 1)[0] if field[1] else b""
            text = scheme.decode("ascii", "replace").upper()
            self._emit(PlaintextAuth(f"Proxy-Authorization {text}" if is_token(text) else "Proxy-Authorization"))

    # -- server --------------------------------------------------------------------------------------
    def server_line(self, line: bytes) -> None:
        state = self._server_state
        if state == _Server.STATUS:
            self._status_line(line)
        elif state == _Server.HEADERS:
            self._response_header(line)
        elif state == _Server.CHUNK_SIZE:
            self._chunk_size(line)
        elif state == _Server.CHUNK_END:
            self._server_state = _Server.CHUNK_SIZE
        elif not line:  # TRAILERS: the empty line ends the message
            self._server_state = _Server.STATUS

    def _status_line(self, line: bytes) -> None:
        if not line:
            return  # tolerated like the client's leading empty lines
        found = _STATUS_LINE.match(line)
        if found is None:
            self._stop(HttpProxyAnomaly.MALFORMED_STATUS)
        elif not self._pending:
            self._stop(HttpProxyAnomaly.RESPONSE_WITHOUT_REQUEST)
        else:
            self._status = found[1].decode()
            self._content_length = None
            self._chunked = False
            self._framing_error = False
            self._server_state = _Server.HEADERS

    def _response_header(self, line: bytes) -> None:
        if not line:
            self._response_complete()
            return
        field = _header(line)
        if field is None:
            self._anomaly(HttpProxyAnomaly.MALFORMED_HEADER)
            return
        name, value = field
        if name == b"proxy-authenticate":
            self._offer_mechanisms(value.decode("ascii", "replace").split(None, 1)[:1])
        elif name == b"transfer-encoding":
            # RFC 9112 §6.3 rule 4: chunked as the final coding frames the body (and overrides Content-Length).
            self._chunked = value.rsplit(b",", 1)[-1].strip().lower() == b"chunked"
            self._content_length = None if self._chunked else -1
        elif name == b"content-length" and not self._chunked:
            self._set_content_length(value)

    def _set_content_length(self, value: bytes) -> None:
        # RFC 9110 §8.6: a list of identical values is a single value.
        values = {v.strip() for v in value.split(b",")}
        length = int(values.pop()) if len(values) == 1 and next(iter(values)).isdigit() else -1
        if length < 0 or (self._content_length is not None and self._content_length not in (length, -1)):
            self._framing_error = True
        elif self._content_length is None:
            self._content_length = length

    def _response_complete(self) -> None:
        code = self._status
        if code.startswith("1"):
            self._server_state = _Server.STATUS  # interim (100 Continue …): the final response follows
            return
        self._pending = False
        if code.startswith("2"):
            self.upgrade_answer(code, True, HttpProxyAnomaly.DATA_BEFORE_REPLY)
            return
        self._frame_refusal_body(code)
        self.upgrade_answer(code, False, HttpProxyAnomaly.DATA_BEFORE_REPLY)

    def _frame_refusal_body(self, code: str) -> None:
        self._server_state = _Server.STATUS
        if code in ("204", "304"):
            return  # RFC 9112 §6.3 rule 1: no body
        if self._framing_error:
            self._stop(HttpProxyAnomaly.BAD_CONTENT_LENGTH)
        elif self._chunked:
            self._server_state = _Server.CHUNK_SIZE
        elif self._content_length is None or self._content_length < 0:
            self.done = True  # rule 8: the body lasts until the connection closes, nothing can follow it
        elif self._content_length:
            self._server.skip(self._content_length)

    def _chunk_size(self, line: bytes) -> None:
        size = line.split(b";", 1)[0].strip()  # chunk extensions (RFC 9112 §7.1.1) are ignored
        if not _CHUNK_SIZE.match(size):
            self._stop(HttpProxyAnomaly.MALFORMED_CHUNK)
            return
        length = int(size, 16)
        if length:
            self._server.skip(length)
            self._server_state = _Server.CHUNK_END
        else:
            self._server_state = _Server.TRAILERS

    # -- shared --------------------------------------------------------------------------------------
    def _resynchronised(self, is_orig: bool) -> None:
        # Lost bytes inside a header section or body: HTTP framing cannot be recovered from a later line.
        self.done = True

    def _stop(self, anomaly: HttpProxyAnomaly) -> None:
        self._anomaly(anomaly)
        self.done = True


def _header(line: bytes) -> tuple[bytes, bytes] | None:
    """A header field line as (lower-case name, value without surrounding whitespace); None when malformed."""
    name, colon, value = line.partition(b":")
    if not colon or not _HEADER_NAME.match(name):
        return None
    return name.lower(), value.strip()


def probe(is_orig: bool, data: bytes, server_port: int) -> bool | None:
    """Is this a CONNECT request? Only the client's first line decides (a proxy never speaks first); a plain
    HTTP request with another method is not this protocol."""
    if not is_orig:
        return False
    end = data.find(b"\n")
    line = (data if end < 0 else data[:end]).rstrip(b"\r")
    if len(line) > _MAX_PROBE_LINE:
        return False
    if end >= 0:
        return bool(_CONNECT_LINE.match(line))
    if len(line) < len(_CONNECT_PREFIX):
        return None if _CONNECT_PREFIX.startswith(line) else False
    if not line.startswith(_CONNECT_PREFIX):
        return False
    _, space, version = line[len(_CONNECT_PREFIX) :].partition(b" ")
    if not space:
        return None
    return None if _VERSION_PREFIX.match(version) else False
