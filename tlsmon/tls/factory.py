"""Which TLS analyzer a connection gets: the Python one (tlsmon.tls.analyzer) or the native one (_native).

Theory of operation: every place that makes a TLS analyzer — the TCP dispatcher (implicit TLS, after STARTTLS,
GridFTP's ADAT), the QUIC and DTLS analyzers — takes an optional :data:`TlsFactory`. Without one it makes the
Python analyzer, the reference behind ``--engine python``; the native engine passes
:func:`tlsmon.native_engine.native_tls_analyzer`, so every TLS byte it sees is parsed natively. Both analyzers
have the interface below and are held equal by tests/tls_native.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from tlsmon.limits import Limits
from tlsmon.tls.summary import TlsSummary


class TlsStreamAnalyzer(Protocol):
    """What the dispatcher and the QUIC/DTLS analyzers ask of a TLS analyzer."""

    def data(self, is_orig: bool, data: bytes) -> None: ...

    def record(self, is_orig: bool, content_type: int, body: bytes) -> None: ...

    def gap(self, is_orig: bool, length: int) -> None: ...

    def end(self) -> None: ...

    @property
    def finished(self) -> bool: ...

    @property
    def anomalies(self) -> Sequence[str]: ...

    @property
    def summary(self) -> TlsSummary: ...

    @property
    def server_hello(self) -> Any:  # the last ServerHello's is_hrr, versions and suite, or None
        ...


#: ``(transport, limits)`` → a TLS analyzer; transport is JA4's first letter: ``t`` (TCP), ``q`` (QUIC), ``d``.
TlsFactory = Callable[[str, Limits], TlsStreamAnalyzer]


def python_tls_analyzer(transport: str, limits: Limits) -> TlsStreamAnalyzer:
    """The Python analyzer, the makers' default. Imported at the first connection that needs it: the native
    engine never does (16 ms of start-up). The makers look it up here at each call (tests/tls_native/tee.py
    replaces it)."""
    from tlsmon.tls.analyzer import TlsAnalyzer

    return TlsAnalyzer(transport, limits)
