"""A UDP flow's consumer: QUIC or DTLS recognised by content (tlsmon/quic/udp.py), else the flow is bypassed.

The UDP dispatcher is the :class:`~tlsmon.udp.flows.DatagramConsumer` of every UDP flow. It hands each
datagram to a :class:`~tlsmon.quic.udp.UdpTlsAnalyzer`, which probes the first datagrams for QUIC or DTLS
(passing over WebRTC's STUN) and then runs that analyzer; once it is finished (recognised and the handshake
over, or given up) the flow's later datagrams are only counted. Only recognised flows get a row
(:attr:`UdpDispatcher.recognised`): a campus link carries far more UDP flows (DNS, NTP, media) than the TLS
tables are for; the stats table counts the others (``udp.flows_ignored``).

It offers the row builder the same reads as the TCP :class:`~tlsmon.dispatch.Dispatcher`: ``app_proto``
(``quic`` or ``dtls``), ``tls_mode`` (``implicit``), ``starttls`` and ``preamble`` (None), :meth:`tls_summary`
and :meth:`all_anomalies`.
"""

from __future__ import annotations

from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.protocols.proxy import PreambleSummary
from tlsmon.protocols.starttls import StartTlsSummary
from tlsmon.quic.udp import UdpTlsAnalyzer
from tlsmon.tls.factory import TlsFactory
from tlsmon.tls.modes import TLS_MODE_IMPLICIT, TLS_MODE_NONE
from tlsmon.tls.summary import TlsSummary


class UdpDispatcher:
    __slots__ = ("analyzer", "finished", "preamble", "starttls")

    def __init__(self, limits: Limits = DEFAULT_LIMITS, tls_factory: TlsFactory | None = None) -> None:
        self.analyzer = UdpTlsAnalyzer(limits, tls_factory)
        self.starttls: StartTlsSummary | None = None
        self.preamble: PreambleSummary | None = None
        self.finished = False

    @property
    def recognised(self) -> bool:
        return self.analyzer.transport is not None

    @property
    def app_proto(self) -> str | None:
        """``quic`` or ``dtls`` (the row's ``app_proto``; tlsmon.quic.udp's ``transport``)."""
        return self.analyzer.transport

    @property
    def tls_mode(self) -> str:
        return TLS_MODE_IMPLICIT if self.recognised else TLS_MODE_NONE

    def datagram(self, is_orig: bool, ts: int, payload: bytes) -> None:
        analyzer = self.analyzer
        analyzer.datagram(is_orig, ts / 1e9, payload)
        self.finished = analyzer.finished

    def end(self) -> None:
        """Nothing is held back: a UDP analyzer has parsed each datagram as it came."""

    def tls_summary(self) -> TlsSummary | None:
        return self.analyzer.summary

    def all_anomalies(self) -> list[str]:
        return list(self.analyzer.anomalies)
