"""A Python TlsAnalyzer that hands every call on to a native one too, and the comparison of the two.

Theory of operation: :class:`TeeAnalyzer` replaces ``TlsAnalyzer`` where the TCP dispatcher and the QUIC and
DTLS analyzers make theirs, for the duration of a run (:func:`teeing`), so the Python engine drives both
analyzers with exactly the data/record/gap/end sequence it produces on a real capture; every analyzer made is
kept, with the bytes it was given (``calls``).
:func:`differences` lists what differs between the two at the end: each summary field, the anomaly list, the
dropped-anomaly count and ``finished``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.native_engine import native_tls_analyzer
from tlsmon.tls import factory as tls_factory
from tlsmon.tls.analyzer import TlsAnalyzer
from tlsmon.tls.summary import TlsSummary

#: summary fields not yet ported; empty: every field is compared
NOT_PORTED: frozenset[str] = frozenset()


def native_analyzer(transport: str = "t", limits: Limits = DEFAULT_LIMITS) -> Any:
    return native_tls_analyzer(transport, limits)


class TeeAnalyzer(TlsAnalyzer):
    __slots__ = ("calls", "native", "records")

    made: list[TeeAnalyzer] = []  # noqa: RUF012 - reset by teeing()

    def __init__(self, transport: str = "t", limits: Limits = DEFAULT_LIMITS) -> None:
        super().__init__(transport, limits)
        self.native = native_analyzer(transport, limits)
        #: the bytes of every data call, per direction, in order (the handshake streams the engine delivered)
        self.calls: list[tuple[bool, bytes]] = []
        #: every record() call: (is_orig, content_type, body), the QUIC/DTLS path
        self.records: list[tuple[bool, int, bytes]] = []
        TeeAnalyzer.made.append(self)

    def data(self, is_orig: bool, data: bytes) -> None:
        super().data(is_orig, data)
        self.native.data(is_orig, bytes(data))
        self.calls.append((is_orig, bytes(data)))

    def record(self, is_orig: bool, content_type: int, body: bytes) -> None:
        super().record(is_orig, content_type, body)
        self.native.record(is_orig, content_type, bytes(body))
        self.records.append((is_orig, content_type, bytes(body)))

    def gap(self, is_orig: bool, length: int) -> None:
        super().gap(is_orig, length)
        self.native.gap(is_orig, length)

    def end(self) -> None:
        super().end()
        self.native.end()


@contextmanager
def teeing() -> Iterator[list[TeeAnalyzer]]:
    """Every TlsAnalyzer the dispatcher makes inside the block is a TeeAnalyzer; yields the list of them."""
    TeeAnalyzer.made = []
    with replaced_tls_analyzer(TeeAnalyzer):
        yield TeeAnalyzer.made


@contextmanager
def replaced_tls_analyzer(factory: Callable[..., object]) -> Iterator[None]:
    """Inside the block every TlsAnalyzer the engine makes is ``factory(transport, limits)``'s: the TCP
    dispatcher and the QUIC and DTLS analyzers make theirs with tlsmon.tls.factory.python_tls_analyzer."""
    saved = tls_factory.python_tls_analyzer
    tls_factory.python_tls_analyzer = factory  # type: ignore[assignment]
    try:
        yield
    finally:
        tls_factory.python_tls_analyzer = saved


def differences(python: TlsAnalyzer, native: Any) -> dict[str, tuple[object, object]]:
    """``{what: (python value, native value)}`` for everything that differs; empty when equal."""
    diffs: dict[str, tuple[object, object]] = {}
    theirs = TlsSummary(**native.summary_fields())
    for f in dataclasses.fields(TlsSummary):
        if f.name in NOT_PORTED:
            continue
        mine, other = getattr(python.summary, f.name), getattr(theirs, f.name)
        if mine != other:
            diffs[f.name] = (mine, other)
    for attr in ("anomalies", "anomalies_dropped", "finished"):
        mine, other = getattr(python, attr), getattr(native, attr)
        if attr == "anomalies":
            mine = [str(a) for a in mine]
        if mine != other:
            diffs[attr] = (mine, other)
    return diffs
