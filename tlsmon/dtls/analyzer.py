"""One DTLS flow -> a TlsSummary, through the TCP TLS code (sans-IO).

Theory of operation: :meth:`DtlsAnalyzer.datagram` splits a datagram into records (``record.py``). Epoch-0
handshake records go through the fragment reassembler (``handshake.py``); each complete message is handed to a
:class:`~tlsmon.tls.analyzer.TlsAnalyzer` with transport ``d`` as a handshake record with TLS's 4-byte header,
so ``ssl_history``, ``established``, the hellos (the ClientHello parsed with its cookie field), JA4 (``d``
prefix; the version digits d1/d2/d3) and the certificates follow the same rules as for TCP, and ``version``
is spelled DTLSv10/DTLSv12/DTLSv13 as Zeek does. ChangeCipherSpec, alerts and heartbeats of epoch 0 go to the
analyzer as they are. Every record of a later epoch, every DTLS 1.3 unified-header record and every
tls12_cid record is ciphertext: it reaches the analyzer as an application_data record, which is what turns a
direction encrypted in TLS 1.3 and marks the connection ``established`` once both directions are.

A datagram whose first byte is outside 20..63 is not DTLS (RFC 7983 §7: STUN, SRTP and ZRTP share WebRTC's
5-tuple): it is counted and skipped.

HelloVerifyRequest (RFC 6347 §4.2.1): the server answers the first ClientHello with a cookie, and the client
repeats its ClientHello with it; the analyzer writes both to ``ssl_history`` (``CvC``) and takes the second
ClientHello as the row's, as Zeek does. Records are counted per direction with the highest epoch and
sequence number seen (:class:`DtlsInfo`).

Bounds: per direction, the reassembler's (Limits.max_dtls_reassembly_bytes, max_dtls_pending_messages); the
anomaly list (Limits.max_anomalies). A datagram is walked once.
"""

from __future__ import annotations

from dataclasses import dataclass

from tlsmon.dtls.anomalies import DtlsAnomaly
from tlsmon.dtls.handshake import DtlsHandshakeReassembler
from tlsmon.dtls.record import CT_ACK, CT_TLS12_CID, UNIFIED, split_records
from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.tls import factory
from tlsmon.tls.codes import CT_APPLICATION_DATA, CT_HANDSHAKE, HT_HELLO_VERIFY_REQUEST
from tlsmon.tls.factory import TlsFactory, TlsStreamAnalyzer
from tlsmon.tls.summary import TlsSummary

#: RFC 7983 §7: a datagram whose first byte is in 20..63 is DTLS
_DTLS_FIRST_BYTES = (20, 63)


@dataclass(slots=True)
class DtlsInfo:
    """What the DTLS record layer showed."""

    #: record version of the first record (0xfeff DTLS 1.0, 0xfefd DTLS 1.2)
    record_version: int | None = None
    records_orig: int = 0
    records_resp: int = 0
    #: highest epoch and 48-bit sequence number seen in a DTLS 1.0/1.2 header
    max_epoch: int = 0
    max_sequence: int = 0
    #: DTLS 1.3 unified-header records (RFC 9147 §4), counted as seen
    unified_header_records: int = 0
    #: RFC 9147 §7 ACK records
    ack_records: int = 0
    hello_verify_request: bool = False
    #: datagrams of the flow that are not DTLS by RFC 7983's first-byte demultiplexing (STUN, SRTP, ZRTP)
    other_datagrams: int = 0


class DtlsAnalyzer:
    """The TLS handshake of one DTLS flow; see the module docstring."""

    __slots__ = ("_reassemblers", "anomalies_dropped", "dtls_anomalies", "finished", "info", "limits", "tls")

    def __init__(self, limits: Limits = DEFAULT_LIMITS, tls_factory: TlsFactory | None = None) -> None:
        self.limits = limits
        self.tls: TlsStreamAnalyzer = (
            (tls_factory or factory.python_tls_analyzer)("d", limits)
        )
        self.info = DtlsInfo()
        self.dtls_anomalies: list[str] = []
        self.anomalies_dropped = 0
        self.finished = False
        self._reassemblers = (
            DtlsHandshakeReassembler(limits.max_dtls_reassembly_bytes, limits.max_dtls_pending_messages),
            DtlsHandshakeReassembler(limits.max_dtls_reassembly_bytes, limits.max_dtls_pending_messages),
        )

    @property
    def summary(self) -> TlsSummary:
        return self.tls.summary

    @property
    def anomalies(self) -> list[str]:
        """DTLS anomalies, then the TLS analyzer's."""
        return [*self.dtls_anomalies, *self.tls.anomalies]

    def datagram(self, is_orig: bool, ts: float, payload: bytes) -> None:
        """One UDP payload of the flow; ``is_orig``: sent by the flow's originator."""
        if self.finished:
            return
        if not payload or not _DTLS_FIRST_BYTES[0] <= payload[0] <= _DTLS_FIRST_BYTES[1]:
            self.info.other_datagrams += 1  # STUN, RTP, ZRTP sharing the 5-tuple (RFC 7983 §7)
            return
        records, anomaly = split_records(payload)
        info = self.info
        tls = self.tls
        for record in records:
            if is_orig:
                info.records_orig += 1
            else:
                info.records_resp += 1
            content_type = record.content_type
            if content_type == UNIFIED:
                info.unified_header_records += 1
                tls.record(is_orig, CT_APPLICATION_DATA, b"")
            else:
                if info.record_version is None:
                    info.record_version = record.version
                info.max_epoch = max(info.max_epoch, record.epoch)
                info.max_sequence = max(info.max_sequence, record.sequence)
                if content_type == CT_ACK:
                    info.ack_records += 1
                elif record.epoch or content_type in (CT_APPLICATION_DATA, CT_TLS12_CID):
                    tls.record(is_orig, CT_APPLICATION_DATA, b"")
                elif content_type == CT_HANDSHAKE:
                    self._handshake(is_orig, record.body)
                else:
                    tls.record(is_orig, content_type, record.body)
            if tls.finished:
                self.finished = True
                return
        if anomaly is not None:
            self._anomaly(anomaly)

    def _handshake(self, is_orig: bool, body: bytes) -> None:
        messages, anomalies = self._reassemblers[0 if is_orig else 1].feed(body)
        for anomaly in anomalies:
            self._anomaly(anomaly)
        for msg_type, message in messages:
            if msg_type == HT_HELLO_VERIFY_REQUEST and not is_orig:
                self.info.hello_verify_request = True
            header = bytes((msg_type,)) + len(message).to_bytes(3, "big")
            self.tls.record(is_orig, CT_HANDSHAKE, header + message)

    def _anomaly(self, name: str) -> None:
        anomalies = self.dtls_anomalies
        if len(anomalies) < self.limits.max_anomalies:
            anomalies.append(name)
            return
        if not self.anomalies_dropped:
            anomalies.append(DtlsAnomaly.TOO_MANY_ANOMALIES)
        self.anomalies_dropped += 1
