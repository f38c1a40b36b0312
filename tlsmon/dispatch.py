"""Choose a connection's analyzer from the first bytes of its stream, by content, on any port.

The dispatcher is the StreamConsumer the TCP stage talks to. It holds the first bytes of each direction until
they say what the protocol is, then hands them, in the order they arrived, to the chosen analyzer and forwards
everything after. A connection whose first bytes are not TLS is of no further interest here (STARTTLS
protocols are recognised in a later stage), so the dispatcher reports itself finished and the connection is
bypassed.
"""

from __future__ import annotations

from tlsmon.tls.analyzer import TlsAnalyzer
from tlsmon.tls.probe import looks_like_tls
from tlsmon.tls.summary import TlsSummary

TLS_MODE_NONE = "none"
TLS_MODE_IMPLICIT = "implicit"

# More than this many undecided bytes in one direction means the probe will not decide: give up.
_MAX_PROBE_BYTES = 64


class Dispatcher:
    __slots__ = ("_held", "_orig_prefix", "_resp_prefix", "anomalies", "app_proto", "finished", "tls")

    def __init__(self) -> None:
        self.finished = False
        self.anomalies: list[str] = []
        self.app_proto: str | None = None
        self.tls: TlsAnalyzer | None = None
        self._held: list[tuple[bool, bytes]] = []
        self._orig_prefix = b""
        self._resp_prefix = b""

    @property
    def tls_mode(self) -> str:
        return TLS_MODE_IMPLICIT if self.tls is not None else TLS_MODE_NONE

    def tls_summary(self) -> TlsSummary | None:
        return self.tls.summary if self.tls is not None else None

    def all_anomalies(self) -> list[str]:
        if self.tls is None:
            return self.anomalies
        return self.anomalies + self.tls.anomalies

    def data(self, is_orig: bool, data: bytes) -> None:
        tls = self.tls
        if tls is not None:
            tls.data(is_orig, data)
            self.finished = tls.finished
            return
        if self.finished:
            return
        self._held.append((is_orig, data))
        if is_orig:
            self._orig_prefix += data
            prefix = self._orig_prefix
        else:
            self._resp_prefix += data
            prefix = self._resp_prefix
        verdict = looks_like_tls(prefix[:_MAX_PROBE_BYTES])
        if verdict is None and len(prefix) < _MAX_PROBE_BYTES:
            return
        if verdict:
            self._start_tls()
        else:
            self._give_up()

    def _start_tls(self) -> None:
        tls = TlsAnalyzer()
        self.tls = tls
        self.app_proto = "tls"
        held = self._held
        self._held = []
        self._orig_prefix = self._resp_prefix = b""
        for is_orig, chunk in held:
            tls.data(is_orig, chunk)
        self.finished = tls.finished

    def _give_up(self) -> None:
        self.finished = True
        self._held = []
        self._orig_prefix = self._resp_prefix = b""

    def gap(self, is_orig: bool, length: int) -> None:
        if self.tls is not None:
            self.tls.gap(is_orig, length)
            self.finished = self.tls.finished
        elif not self.finished:
            self._give_up()

    def end(self) -> None:
        if self.tls is not None:
            self.tls.end()
