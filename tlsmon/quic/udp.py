"""The one entry point for a UDP flow that may carry TLS: QUIC or DTLS, picked from its first datagram.

Theory of operation: the flow table creates one :class:`UdpTlsAnalyzer` per UDP flow and calls
:meth:`UdpTlsAnalyzer.datagram` with each payload, in capture order, until :attr:`UdpTlsAnalyzer.finished`.
The first datagram that a probe accepts decides, by content and on any port:
:func:`~tlsmon.quic.probe.looks_like_quic` makes a :class:`~tlsmon.quic.analyzer.QuicAnalyzer`,
:func:`~tlsmon.dtls.probe.looks_like_dtls` a :class:`~tlsmon.dtls.analyzer.DtlsAnalyzer`. WebRTC multiplexes
STUN, DTLS and SRTP on one 5-tuple (RFC 7983) and starts with STUN (Zeek's webrtc-stun trace has 8 STUN
datagrams before the ClientHello), so STUN datagrams (first byte 0-3, RFC 7983 §7) do not count against the
:data:`PROBE_DATAGRAMS` others probed, up to :data:`PROBE_STUN_DATAGRAMS` of them; if no datagram is accepted
by then the flow is finished (``transport`` None) and can be bypassed. The chosen analyzer's :attr:`summary`
is the row's TLS part, :attr:`anomalies` its anomalies (``quic.*`` or ``dtls.*`` first, then ``tls.*``). Both
analyzers are sans-IO: bytes in, state out; ``ts`` is accepted for the flow table's convenience and is not
used yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tlsmon.dtls.analyzer import DtlsAnalyzer
from tlsmon.dtls.probe import looks_like_dtls
from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.quic.probe import looks_like_quic
from tlsmon.tls.factory import TlsFactory
from tlsmon.tls.summary import TlsSummary

if TYPE_CHECKING:
    from tlsmon.quic.analyzer import QuicAnalyzer

_STUN_LAST_FIRST_BYTE = 3
TRANSPORT_QUIC = "quic"
TRANSPORT_DTLS = "dtls"
#: datagrams of a flow probed before it is given up as neither QUIC nor DTLS
PROBE_DATAGRAMS = 8
#: STUN datagrams of a flow passed over while waiting for DTLS (ICE checks precede the DTLS handshake)
PROBE_STUN_DATAGRAMS = 64


class UdpTlsAnalyzer:
    __slots__ = ("_probed", "_stun", "_tls_factory", "analyzer", "finished", "limits", "transport")

    def __init__(self, limits: Limits = DEFAULT_LIMITS, tls_factory: TlsFactory | None = None) -> None:
        self.limits = limits
        self._tls_factory = tls_factory
        #: "quic", "dtls", or None (not decided yet, or neither)
        self.transport: str | None = None
        self.analyzer: QuicAnalyzer | DtlsAnalyzer | None = None
        self.finished = False
        self._probed = 0
        self._stun = 0

    def datagram(self, is_orig: bool, ts: float, payload: bytes) -> None:
        if self.finished:
            return
        analyzer = self.analyzer
        if analyzer is None:
            if looks_like_quic(payload):
                # Imported at the first QUIC flow: its Initial keys need cryptography, which a run without
                # QUIC or certificates never loads.
                from tlsmon.quic.analyzer import QuicAnalyzer

                analyzer = self.analyzer = QuicAnalyzer(self.limits, self._tls_factory)
                self.transport = TRANSPORT_QUIC
            elif looks_like_dtls(payload):
                analyzer = self.analyzer = DtlsAnalyzer(self.limits, self._tls_factory)
                self.transport = TRANSPORT_DTLS
            else:
                if payload and payload[0] <= _STUN_LAST_FIRST_BYTE:
                    self._stun += 1
                else:
                    self._probed += 1
                self.finished = self._probed >= PROBE_DATAGRAMS or self._stun >= PROBE_STUN_DATAGRAMS
                return
        analyzer.datagram(is_orig, ts, payload)
        self.finished = analyzer.finished

    @property
    def summary(self) -> TlsSummary | None:
        return None if self.analyzer is None else self.analyzer.summary

    @property
    def anomalies(self) -> list[str]:
        return [] if self.analyzer is None else self.analyzer.anomalies
