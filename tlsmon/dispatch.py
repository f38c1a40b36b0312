"""Choose a connection's analyzer from its first bytes, by content, on any port; hand STARTTLS over to TLS.

The dispatcher is the StreamConsumer the TCP stage talks to. It holds the first bytes of each direction until
they say what the protocol is — TLS from the first byte (implicit TLS), or a plaintext protocol that may
upgrade — then replays them, in arrival order, to the chosen analyzer and forwards everything after.

When a plaintext analyzer reports the switch (the server accepted STARTTLS), a TLS analyzer takes over at the
exact next byte of each direction: the analyzer's ``trailing`` bytes first, then the rest of the stream. The
row then carries both phases: the STARTTLS columns from the plaintext part, the TLS columns from the rest.

A connection whose first bytes no probe claims is of no further interest: the dispatcher reports itself
finished and the connection is bypassed. So is one whose analyzer says nothing more can change the row; that
analyzer is released at once, with whatever it buffered (a client that keeps sending after STARTTLS is
dropped at :attr:`Limits.max_held_bytes`, not kept until the connection ends).

The :class:`~tlsmon.limits.Limits` given to the dispatcher reach every analyzer it creates (plaintext, STARTTLS
summary, TLS). Bytes held while probing are bounded by the probe sizes below, whatever the limits.
"""

from __future__ import annotations

from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.protocols.base import ProtocolAnalyzer
from tlsmon.protocols.events import Event
from tlsmon.protocols.registry import identify
from tlsmon.protocols.starttls import StartTlsSummary
from tlsmon.tls.analyzer import TlsAnalyzer
from tlsmon.tls.probe import looks_like_tls
from tlsmon.tls.summary import TlsSummary

TLS_MODE_NONE = "none"
TLS_MODE_IMPLICIT = "implicit"
TLS_MODE_STARTTLS = "starttls"

# Undecided bytes held per direction before giving up: a full first line of any protocol fits.
_MAX_PROBE_BYTES = 1024
# The TLS record-header probe needs only the first bytes.
_TLS_PROBE_BYTES = 64

# The client's first bytes were a TLS record while the server spoke a plaintext protocol.
ANOMALY_TLS_WITHOUT_UPGRADE = "starttls.client_tls_without_upgrade"
# The server accepted STARTTLS but what followed was not TLS (RFC 3207 §4.2: nothing but the handshake).
ANOMALY_NOT_TLS_AFTER_UPGRADE = "starttls.not_tls_after_upgrade"


class Dispatcher:
    __slots__ = (
        "_after_upgrade",
        "_held",
        "_limits",
        "_orig_no",
        "_orig_prefix",
        "_orig_started",
        "_resp_no",
        "_resp_prefix",
        "_server_port",
        "anomalies",
        "app_proto",
        "finished",
        "proto",
        "starttls",
        "tls",
        "tls_mode",
    )

    def __init__(self, server_port: int = 0, limits: Limits = DEFAULT_LIMITS) -> None:
        self._limits = limits
        self.finished = False
        self.anomalies: list[str] = []
        self.app_proto: str | None = None
        self.tls_mode = TLS_MODE_NONE
        self.tls: TlsAnalyzer | None = None
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
        if self.tls is not None:
            self.tls.data(is_orig, data)
            self.finished = self.tls.finished
        elif self._after_upgrade is not None:
            self._confirm_tls(is_orig, data)
        elif self.proto is not None:
            self._to_plaintext(is_orig, data)
        elif not self.finished:
            self._probe(is_orig, data)

    def gap(self, is_orig: bool, length: int) -> None:
        if self.tls is not None:
            self.tls.gap(is_orig, length)
            self.finished = self.tls.finished
        elif self._after_upgrade is not None:
            self._after_upgrade = None
            self._give_up()
        elif self.proto is not None:
            self._plaintext(self.proto.gap(is_orig, length))
        elif not self.finished:
            self._give_up()

    def end(self) -> None:
        if self.tls is not None:
            self.tls.end()

    # -- choosing ---------------------------------------------------------------------------------------
    def _probe(self, is_orig: bool, data: bytes) -> None:
        prefix = self._hold(is_orig, data)
        tls = looks_like_tls(prefix[:_TLS_PROBE_BYTES])
        if tls:
            self.app_proto = "tls"
            self.tls_mode = TLS_MODE_IMPLICIT
            self._start_tls(self._take_held())
            return
        found = identify(is_orig, prefix, self._server_port)
        if found.protocol is not None:
            self.app_proto = found.protocol.name
            self.proto = found.protocol.analyzer(self._limits)
            self.starttls = StartTlsSummary(limits=self._limits)
            for held_orig, chunk in self._take_held():
                self.data(held_orig, chunk)
            return
        undecided = (tls is None or found.need_more) and len(prefix) < _MAX_PROBE_BYTES
        if undecided:
            return
        if is_orig:
            self._orig_no = True
        else:
            self._resp_no = True
        if (self._orig_no and self._resp_no) or len(prefix) >= _MAX_PROBE_BYTES:
            self._give_up()

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

    def _start_tls(self, chunks: list[tuple[bool, bytes]]) -> None:
        tls = TlsAnalyzer(limits=self._limits)
        self.tls = tls
        for is_orig, chunk in chunks:
            if chunk:
                tls.data(is_orig, chunk)
        self.finished = tls.finished
