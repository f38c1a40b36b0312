"""Choose a connection's analyzer from its first bytes, by content, on any port; hand STARTTLS over to TLS.

The dispatcher is the StreamConsumer the TCP stage talks to. It holds the first bytes of each direction until
they say what the protocol is — TLS from the first byte (implicit TLS), or a plaintext protocol that may
upgrade — then replays them, in arrival order, to the chosen analyzer and forwards everything after.

When a plaintext analyzer reports the switch (the server accepted STARTTLS), a TLS analyzer takes over at the
exact next byte of each direction: the analyzer's ``trailing`` bytes first, then the rest of the stream. The
row then carries both phases: the STARTTLS columns from the plaintext part, the TLS columns from the rest.

Preambles. A client stream that starts like a PROXY protocol header (``P`` or ``\r``) is first read by
:class:`~tlsmon.protocols.proxy.ProxyHeaderReader`: the header fills the row's preamble columns and the probe
starts at the exact byte after it, so TLS or a plaintext protocol behind a load balancer is read as without
one. A client whose first bytes no probe claims (unknown plaintext, or a header that could not be read) may
still carry TLS after a preamble tlsmon does not know: the client's stream is searched for a TLS record header
holding a ClientHello (content type 22, version 3.0-3.4, a record length within the limit, handshake type 1
with a length that fills the record or continues in the next one, client version 3.0-3.4) that starts within
:attr:`Limits.max_preamble_search` bytes. Found: TLS takes the client's stream at that byte (anomaly
``tls.preamble_skipped``; the skipped client bytes, and the server bytes sent before, in the preamble columns),
and the server's stream from its next byte. Not found within the bound: the connection is bypassed. The search
is one pass over at most that many held bytes; the server's bytes meanwhile are counted, not held, once they
too are unknown, and the search ends as soon as they reach the probe size (1 KiB: a server that has said that
much to unknown plaintext is serving it, an HTTP response say, and a client would not start TLS after it). While
the client's bytes are searched, a server greeting that a probe claims still wins, as before.

A connection that is neither is of no further interest: the dispatcher reports itself finished and the
connection is bypassed. So is one whose analyzer says nothing more can change the row; that analyzer is
released at once, with whatever it buffered (a client that keeps sending after STARTTLS is dropped at
:attr:`Limits.max_held_bytes`, not kept until the connection ends).

A plaintext analyzer may also carry TLS inside its own messages (GridFTP's base64 ``ADAT`` exchange,
:mod:`tlsmon.protocols.ftp`): it reports the decoded bytes as :class:`~tlsmon.protocols.events.TlsPayload`
events, which the dispatcher feeds, per direction and in order, to a TLS analyzer beside the plaintext one.

The :class:`~tlsmon.limits.Limits` given to the dispatcher reach every analyzer it creates (plaintext, STARTTLS
summary, TLS). Bytes held while probing are bounded by the probe sizes below, whatever the limits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.protocols.events import TlsPayload
from tlsmon.protocols.identification import identify
from tlsmon.protocols.proxy import PreambleSummary, ProxyHeaderReader
from tlsmon.protocols.starttls import StartTlsSummary
from tlsmon.tls import factory
from tlsmon.tls.codes import CT_HANDSHAKE, HT_CLIENT_HELLO
from tlsmon.tls.factory import TlsFactory, TlsStreamAnalyzer
from tlsmon.tls.modes import TLS_MODE_IMPLICIT, TLS_MODE_NONE, TLS_MODE_STARTTLS
from tlsmon.tls.probe import looks_like_tls
from tlsmon.tls.record import MAX_RECORD_LENGTH
from tlsmon.tls.summary import TlsSummary

if TYPE_CHECKING:  # annotations only: the analyzers are imported at the first plaintext probe (identification)
    from tlsmon.protocols.base import ProtocolAnalyzer
    from tlsmon.protocols.events import Event

# Undecided bytes held per direction before giving up: a full first line of any protocol fits.
_MAX_PROBE_BYTES = 1024
# The TLS record-header probe needs only the first bytes.
_TLS_PROBE_BYTES = 64

# The client's first bytes were a TLS record while the server spoke a plaintext protocol.
ANOMALY_TLS_WITHOUT_UPGRADE = "starttls.client_tls_without_upgrade"
# The server accepted STARTTLS but what followed was not TLS (RFC 3207 §4.2: nothing but the handshake).
ANOMALY_NOT_TLS_AFTER_UPGRADE = "starttls.not_tls_after_upgrade"
# The client's first bytes were unknown plaintext and the bounded search found a ClientHello after them.
ANOMALY_PREAMBLE_SKIPPED = "tls.preamble_skipped"

# The first bytes a PROXY protocol header can start with (version 1 "PROXY ", version 2 "\r\n\r\n\0\r\nQUIT\n").
_PROXY_FIRST = (b"P", b"\r")
# A ClientHello candidate is judged on its record header (5), handshake header (4) and client_version (2).
_HELLO_HEAD = 11
_RECORD_START = bytes([CT_HANDSHAKE, 3])
# RFC 8446 §4.1.2: legacy_version, random, legacy_session_id, cipher_suites, compression methods (lengths).
_MIN_CLIENT_HELLO = 2 + 32 + 1 + 2 + 1
_MAX_CLIENT_HELLO = 1 << 16  # a fragmented ClientHello (post-quantum key shares are under 2 KiB)


class Dispatcher:
    __slots__ = (
        "_after_upgrade",
        "_client_head",
        "_held",
        "_limits",
        "_orig_no",
        "_orig_prefix",
        "_orig_started",
        "_proxy",
        "_resp_no",
        "_resp_prefix",
        "_resp_skipped",
        "_search_from",
        "_searching",
        "_server_port",
        "_tls_factory",
        "anomalies",
        "app_proto",
        "finished",
        "preamble",
        "proto",
        "starttls",
        "tls",
        "tls_mode",
    )

    def __init__(
        self, server_port: int = 0, limits: Limits = DEFAULT_LIMITS, tls_factory: TlsFactory | None = None
    ) -> None:
        self._limits = limits
        self._tls_factory = tls_factory
        self.finished = False
        self.anomalies: list[str] = []
        self.app_proto: str | None = None
        self.tls_mode = TLS_MODE_NONE
        self.tls: TlsStreamAnalyzer | None = None
        self.proto: ProtocolAnalyzer | None = None
        self.starttls: StartTlsSummary | None = None
        self._after_upgrade: ProtocolAnalyzer | None = None  # switched; waiting to see TLS on the wire
        self._server_port = server_port
        self._held: list[tuple[bool, bytes]] = []
        self._orig_prefix = b""
        self._resp_prefix = b""
        self._orig_no = False
        self._resp_no = False
        self._orig_started = False  # the client sent bytes since the plaintext protocol was identified
        self.preamble: PreambleSummary | None = None
        self._client_head = True  # no client byte seen yet: a PROXY header may start the stream
        self._proxy: ProxyHeaderReader | None = None  # reading what starts like a PROXY header
        self._searching = False  # the client's first bytes were unknown: looking for a ClientHello
        self._search_from = 0  # the first client offset not yet ruled out as a ClientHello start
        self._resp_skipped = 0  # server bytes counted, not held, during the search

    def tls_summary(self) -> TlsSummary | None:
        return self.tls.summary if self.tls is not None else None

    def all_anomalies(self) -> list[str]:
        found = list(self.anomalies)
        if self.starttls is not None:
            found += self.starttls.anomalies
        if self.tls is not None:
            found += self.tls.anomalies
        return found

    # -- StreamConsumer --------------------------------------------------------------------------------
    def data(self, is_orig: bool, data: bytes) -> None:
        tls = self.tls
        if tls is not None and self.proto is None:  # the common case, kept to one call
            tls.data(is_orig, data)
            self.finished = tls.finished
            return
        if is_orig and self._client_head and data:
            data = self._proxy_header(data)
            if not data:
                return
        self._route(is_orig, data)

    def gap(self, is_orig: bool, length: int) -> None:
        if is_orig and self._client_head:
            self._client_head = False
            rest = self._proxy_end(self._proxy.cut()) if self._proxy is not None else b""
            if rest:
                self._route(True, rest)
        if self.proto is not None:
            self._plaintext(self.proto.gap(is_orig, length))
        elif self.tls is not None:
            self.tls.gap(is_orig, length)
            self.finished = self.tls.finished
        elif self._after_upgrade is not None:
            self._after_upgrade = None
            self._give_up()
        elif not self.finished:
            self._give_up()

    def end(self) -> None:
        if self._proxy is not None:
            self._client_head = False
            rest = self._proxy_end(self._proxy.cut())
            if rest:
                self._route(True, rest)
        if self.tls is not None:
            self.tls.end()

    def _route(self, is_orig: bool, data: bytes) -> None:
        if self.proto is not None:
            self._to_plaintext(is_orig, data)
        elif self.tls is not None:
            self.tls.data(is_orig, data)
            self.finished = self.tls.finished
        elif self._after_upgrade is not None:
            self._confirm_tls(is_orig, data)
        elif not self.finished:
            self._probe(is_orig, data)

    # -- a PROXY protocol header first ---------------------------------------------------------------------
    def _proxy_header(self, data: bytes) -> bytes:
        """The client's first bytes: those to probe, or b"" while a PROXY header may still be arriving."""
        reader = self._proxy
        if reader is None:
            if data[:1] not in _PROXY_FIRST:
                self._client_head = False
                return data
            reader = self._proxy = ProxyHeaderReader(self._limits)
        rest = reader.feed(data)
        if rest is None:
            return b""
        self._client_head = False
        return self._proxy_end(rest)

    def _proxy_end(self, rest: bytes) -> bytes:
        reader = self._proxy
        assert reader is not None
        self._proxy = None
        if reader.summary is not None:
            self.preamble = reader.summary
        if reader.anomaly is not None:
            self.anomalies.append(reader.anomaly)
        return rest

    # -- choosing ---------------------------------------------------------------------------------------
    def _probe(self, is_orig: bool, data: bytes) -> None:
        if self._searching:
            if is_orig:
                self._search(self._hold(True, data))
                return
            if self._resp_no:
                self._skip_server(len(data))
                return
        prefix = self._hold(is_orig, data)
        tls = looks_like_tls(prefix[:_TLS_PROBE_BYTES])
        if tls:
            self.app_proto = "tls"
            self.tls_mode = TLS_MODE_IMPLICIT
            self._searching = False
            self._start_tls(self._take_held())
            return
        found = identify(is_orig, prefix, self._server_port)
        if found.protocol is not None:
            self.app_proto = found.protocol.name
            self.proto = found.protocol.analyzer(self._limits)
            self.starttls = StartTlsSummary(limits=self._limits)
            self._searching = False
            for held_orig, chunk in self._take_held():
                self._route(held_orig, chunk)
            return
        # Not TLS from the first byte, claimed by no probe (yet): a ClientHello may follow a preamble.
        if is_orig and tls is False and self._search(prefix):
            return
        undecided = (tls is None or found.need_more) and len(prefix) < _MAX_PROBE_BYTES
        if undecided:
            return
        if is_orig:
            self._orig_no = True
            self._searching = True
            if self._resp_no:
                self._skip_server_held()
            return
        self._resp_no = True
        if self._searching:
            self._skip_server_held()
        elif len(prefix) >= _MAX_PROBE_BYTES:
            self._give_up()

    # -- a ClientHello after unknown plaintext ------------------------------------------------------------
    def _search(self, prefix: bytes) -> bool:
        """Look on through the client's bytes; True when the search ended (TLS found, or the bound reached)."""
        bound = self._limits.max_preamble_search
        start, self._search_from = _find_client_hello(prefix, self._search_from, bound)
        if start >= 0:
            self._found_client_hello(start)
            return True
        if self._search_from >= bound:
            self._give_up()
            return True
        return False

    def _skip_server_held(self) -> None:
        """The server's bytes are unknown too: from now on they are counted, not held."""
        held = len(self._resp_prefix)
        self._resp_prefix = b""
        self._held = [(is_orig, chunk) for is_orig, chunk in self._held if is_orig]
        self._skip_server(held)

    def _skip_server(self, length: int) -> None:
        """A server that answers an unknown preamble at length (an HTTP response with its body) is past the point
        where a client would still start TLS: as many bytes as the probe holds end the search."""
        self._resp_skipped += length
        if self._resp_skipped >= _MAX_PROBE_BYTES:
            self._give_up()

    def _found_client_hello(self, start: int) -> None:
        client = self._orig_prefix[start:]
        preamble = self.preamble
        if preamble is None:
            preamble = self.preamble = PreambleSummary()
        preamble.preamble_orig_bytes = start
        preamble.preamble_resp_bytes = self._resp_skipped + len(self._resp_prefix)
        self.anomalies.append(ANOMALY_PREAMBLE_SKIPPED)
        self._searching = False
        self._take_held()
        self.app_proto = "tls"
        self.tls_mode = TLS_MODE_IMPLICIT
        self._start_tls([(True, client)])

    def _hold(self, is_orig: bool, data: bytes) -> bytes:
        """Keep ``data`` for replay once the protocol is known; return that direction's bytes held so far."""
        self._held.append((is_orig, data))
        if is_orig:
            self._orig_prefix += data
            return self._orig_prefix
        self._resp_prefix += data
        return self._resp_prefix

    def _take_held(self) -> list[tuple[bool, bytes]]:
        held = self._held
        self._held = []
        self._orig_prefix = self._resp_prefix = b""
        return held

    def _give_up(self) -> None:
        self.finished = True
        self._take_held()

    # -- plaintext, then maybe TLS ----------------------------------------------------------------------------
    def _to_plaintext(self, is_orig: bool, data: bytes) -> None:
        proto = self.proto
        assert proto is not None
        if is_orig and not self._orig_started:
            self._orig_started = True
            if looks_like_tls(data[:_TLS_PROBE_BYTES]):
                # The client opened with TLS although the server greeted in plaintext (a TLS client pointed
                # at a plaintext port): keep the handshake it offered, as tshark and Zeek's DPD would.
                self.anomalies.append(ANOMALY_TLS_WITHOUT_UPGRADE)
                self.proto = None
                self.tls_mode = TLS_MODE_IMPLICIT
                self._start_tls([(True, data)])
                return
        self._plaintext(proto.feed(is_orig, data))

    def _plaintext(self, events: list[Event]) -> None:
        proto = self.proto
        assert proto is not None and self.starttls is not None
        for event in events:
            if isinstance(event, TlsPayload):
                self._tls_payload(event)
            else:
                self.starttls.apply(event)
        if proto.switched:
            self.proto = None
            self._after_upgrade = proto
            for is_orig, chunk in ((True, proto.trailing(True)), (False, proto.trailing(False))):
                if chunk:
                    self.data(is_orig, chunk)  # to the check, or to TLS once the first chunk decided it
        elif proto.done:
            self.finished = True
            self.proto = None  # release the analyzer and its buffers: nothing later is parsed

    def _tls_payload(self, event: TlsPayload) -> None:
        """TLS bytes the plaintext protocol carried in its own messages: to a TLS analyzer beside it."""
        tls = self.tls
        if tls is None:
            tls = self.tls = self._new_tls()
            self.tls_mode = TLS_MODE_STARTTLS
        tls.data(event.is_orig, event.data)

    def _confirm_tls(self, is_orig: bool, data: bytes) -> None:
        """After an accepted upgrade or an opened tunnel: hand over to TLS only if TLS is what follows."""
        verdict = looks_like_tls(self._hold(is_orig, data)[:_TLS_PROBE_BYTES])
        if verdict is None:
            return
        upgraded = self._after_upgrade
        assert upgraded is not None
        self._after_upgrade = None
        if verdict:
            self.tls_mode = TLS_MODE_STARTTLS
            self._start_tls(self._take_held())
            return
        # A tunnel (HTTP CONNECT, SOCKS) may carry anything; after STARTTLS proper, plaintext is a broken
        # client or a command-injection attempt.
        if not upgraded.tunnel:
            self.anomalies.append(ANOMALY_NOT_TLS_AFTER_UPGRADE)
        self._give_up()

    def _new_tls(self) -> TlsStreamAnalyzer:
        if self._tls_factory is not None:
            return self._tls_factory("t", self._limits)
        return factory.python_tls_analyzer("t", self._limits)

    def _start_tls(self, chunks: list[tuple[bool, bytes]]) -> None:
        tls = self._new_tls()
        self.tls = tls
        for is_orig, chunk in chunks:
            if chunk:
                tls.data(is_orig, chunk)
        self.finished = tls.finished


def _find_client_hello(data: bytes, start: int, bound: int) -> tuple[int, int]:
    """The offset in ``[start, bound)`` where a plausible ClientHello record starts, or -1; and the offset from
    which the search goes on when more bytes arrive (every earlier one is ruled out)."""
    pos = start
    while True:
        at = data.find(_RECORD_START, pos, bound + 1)
        if at < 0:
            return -1, max(pos, len(data) - 1)
        if at + _HELLO_HEAD > len(data):
            return -1, at
        if _client_hello_at(data, at):
            return at, at
        pos = at + 1


def _client_hello_at(data: bytes, at: int) -> bool:
    if data[at + 2] > 4 or data[at + 5] != HT_CLIENT_HELLO:
        return False
    record = (data[at + 3] << 8) | data[at + 4]
    message = int.from_bytes(data[at + 6 : at + 9], "big")
    if record < 4 or record > MAX_RECORD_LENGTH or message < _MIN_CLIENT_HELLO or message > _MAX_CLIENT_HELLO:
        return False
    # The message fills its record exactly, or goes on in the next ones; nothing follows a ClientHello in its
    # record (RFC 8446 §5.1: the client's first flight is the ClientHello alone).
    if message + 4 < record:
        return False
    return data[at + 9] == 3 and data[at + 10] <= 4
