"""One QUIC flow's Initials -> the TLS ClientHello and ServerHello, parsed by the TCP code (sans-IO).

Theory of operation: :meth:`QuicAnalyzer.datagram` splits each datagram into its coalesced packets
(``packet.py``). Initial packets are unprotected with the Initial keys (``protection.py``); their frames
(``frames.py``) yield CRYPTO data, which one :class:`~tlsmon.quic.crypto.CryptoStream` per direction puts back
in order; the contiguous bytes go to a :class:`~tlsmon.tls.analyzer.TlsAnalyzer` with transport ``q`` as
handshake records (QUIC has no TLS record layer), so the ClientHello, the ServerHello, ``ssl_history``, JA4
(``q`` prefix) and every other TLS column come from the same code as for TCP. Handshake, 0-RTT and 1-RTT
packets are encrypted with keys an observer never has: they are counted, not opened.

Keys: both directions' Initial keys derive from the Destination Connection ID of the client's first Initial,
with the salt of the packet's version (a server answering a v1 Initial in v2, RFC 9368, uses v2's salt on the
same DCID). The client's later Initials carry the server's chosen ID as DCID but keep those keys. Two events
start a new attempt: a Retry (RFC 9000 §17.2.5: the client's next Initial goes to the Retry's SCID, and its
keys derive from that) and a Version Negotiation packet (the client starts over in another version); either way
the client's CRYPTO stream restarts at offset 0, so its stream is renewed and the second ClientHello is
parsed too (``ssl_history`` ``CCs``, as Zeek). If the client's first Initial was missed, a client Initial that
fails with the current keys is tried with keys from its own DCID, and those are kept if they verify.

What Zeek's quic.log holds is kept in :class:`QuicInfo` (version, client_initial_dcid, client_scid,
server_scid) with counters for what could not be read. Nothing from the wire raises: damage becomes a
:class:`~tlsmon.quic.anomalies.QuicAnomaly`. The flow is :attr:`finished` once the server's ServerHello (not a
HelloRetryRequest) was parsed, or the TLS analyzer stopped: everything after it is encrypted.

Bounds: CRYPTO reassembly per direction (Limits.max_quic_crypto_bytes); the anomaly
list (Limits.max_anomalies, then counted); a datagram is walked once, and each packet costs one header-protection
block and one AEAD decryption.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.quic.anomalies import QuicAnomaly
from tlsmon.quic.crypto import CryptoStream
from tlsmon.quic.frames import initial_frames
from tlsmon.quic.packet import (
    HANDSHAKE,
    INITIAL,
    RETRY,
    SHORT,
    UNKNOWN,
    VERSION_NEG,
    ZERO_RTT,
    Packet,
    split_datagram,
)
from tlsmon.quic.protection import InitialKeys, initial_keys
from tlsmon.tls import factory
from tlsmon.tls.codes import CT_HANDSHAKE
from tlsmon.tls.factory import TlsFactory, TlsStreamAnalyzer
from tlsmon.tls.summary import TlsSummary


@dataclass(slots=True)
class QuicInfo:
    """What a QUIC flow's clear headers say (Zeek's quic.log fields) and what could not be read."""

    #: the version of the client's first long header (unknown versions too)
    version: int | None = None
    #: DCID and SCID of the client's first Initial; the SCID of the server's first Initial (Zeek's quic.log)
    client_initial_dcid: bytes | None = None
    client_scid: bytes | None = None
    server_scid: bytes | None = None
    #: the server sent a Retry that the client followed
    retry: bool = False
    #: versions listed by a Version Negotiation packet (empty: none seen)
    offered_versions: list[int] = field(default_factory=list)
    #: packets seen until the flow finished (the ServerHello): Initials, those that did not decrypt, …
    initial_packets: int = 0
    undecryptable_packets: int = 0
    #: Handshake, 0-RTT and 1-RTT (short header) packets, counted unopened
    handshake_packets: int = 0
    zero_rtt_packets: int = 0
    short_packets: int = 0
    #: error code of the first CONNECTION_CLOSE in an Initial (0x0100 + alert for a TLS failure)
    close_error_code: int | None = None


class QuicAnalyzer:
    """The TLS handshake of one QUIC flow; see the module docstring."""

    __slots__ = (
        "_crypto",
        "_keys_dcid",
        "_largest_pn",
        "_retry_scid",
        "anomalies_dropped",
        "finished",
        "info",
        "limits",
        "quic_anomalies",
        "tls",
    )

    def __init__(self, limits: Limits = DEFAULT_LIMITS, tls_factory: TlsFactory | None = None) -> None:
        self.limits = limits
        self.tls: TlsStreamAnalyzer = (
            (tls_factory or factory.python_tls_analyzer)("q", limits)
        )
        self.info = QuicInfo()
        self.quic_anomalies: list[str] = []
        self.anomalies_dropped = 0
        self.finished = False
        self._keys_dcid: bytes | None = None
        self._retry_scid: bytes | None = None
        self._largest_pn = [-1, -1]  # client, server
        self._crypto = [self._new_stream(), self._new_stream()]

    @property
    def summary(self) -> TlsSummary:
        return self.tls.summary

    @property
    def anomalies(self) -> list[str]:
        """QUIC anomalies, then the TLS analyzer's."""
        return [*self.quic_anomalies, *self.tls.anomalies]

    def _new_stream(self) -> CryptoStream:
        return CryptoStream(self.limits.max_quic_crypto_bytes)

    def datagram(self, is_orig: bool, ts: float, payload: bytes) -> None:
        """One UDP payload of the flow; ``is_orig``: sent by the flow's originator (the QUIC client)."""
        if self.finished:
            return
        packets, anomaly = split_datagram(payload)
        for packet in packets:
            self._packet(is_orig, payload, packet)
            if self.finished:
                return
        if anomaly is not None:
            self._anomaly(anomaly)

    def _packet(self, is_orig: bool, datagram: bytes, packet: Packet) -> None:
        info = self.info
        kind = packet.kind
        if kind == SHORT:
            info.short_packets += 1
            return
        if info.version is None and is_orig:
            info.version = packet.version
        if kind == INITIAL:
            info.initial_packets += 1
            self._initial(is_orig, datagram, packet)
        elif kind == HANDSHAKE:
            info.handshake_packets += 1
        elif kind == ZERO_RTT:
            info.zero_rtt_packets += 1
        elif kind == RETRY:
            if not is_orig:
                self._retry_scid = packet.scid
        elif kind == VERSION_NEG:
            if not is_orig:
                info.offered_versions = list(packet.supported_versions)
                self._keys_dcid = None  # the client starts over in another version
        elif kind == UNKNOWN and QuicAnomaly.UNKNOWN_VERSION not in self.quic_anomalies:
            self._anomaly(QuicAnomaly.UNKNOWN_VERSION)

    def _initial(self, is_orig: bool, datagram: bytes, packet: Packet) -> None:
        info = self.info
        if is_orig:
            if self._keys_dcid is None or (self._retry_scid is not None and packet.dcid == self._retry_scid):
                self._new_attempt(packet)
            if info.client_initial_dcid is None:
                info.client_initial_dcid = packet.dcid
                info.client_scid = packet.scid
        elif info.server_scid is None:
            info.server_scid = packet.scid
        plaintext = self._unprotect(is_orig, datagram, packet)
        if plaintext is None:
            info.undecryptable_packets += 1
            self._anomaly(QuicAnomaly.UNDECRYPTABLE_INITIAL)
            return
        frames = initial_frames(plaintext)
        if frames.close_error_code is not None and info.close_error_code is None:
            info.close_error_code = frames.close_error_code
        stream = self._crypto[0 if is_orig else 1]
        tls = self.tls
        for offset, data in frames.crypto:
            contiguous, cut = stream.add(offset, data)
            if cut:
                self._anomaly(QuicAnomaly.CRYPTO_BUFFER_FULL)
            if contiguous:
                tls.record(is_orig, CT_HANDSHAKE, contiguous)
        if frames.anomaly is not None:
            self._anomaly(frames.anomaly)
        server_hello = tls.server_hello
        if tls.finished or (server_hello is not None and not server_hello.is_hrr):
            self.finished = True

    def _new_attempt(self, packet: Packet) -> None:
        """The client's first Initial, or its first after a Retry or Version Negotiation: keys from its DCID."""
        if self.info.client_initial_dcid is not None:  # not the first attempt: the client starts over
            self.info.retry = self.info.retry or self._retry_scid is not None
            self._crypto[0] = self._new_stream()
            self._largest_pn[0] = -1
        self._keys_dcid = packet.dcid
        self._retry_scid = None

    def _unprotect(self, is_orig: bool, datagram: bytes, packet: Packet) -> bytes | None:
        if self._keys_dcid is None:
            return None  # a server Initial before any client Initial: the keys are unknown
        plaintext = self._try(is_orig, datagram, packet, self._keys_dcid)
        if plaintext is None and is_orig and packet.dcid != self._keys_dcid:
            # the client's first Initial was not seen: its later ones may still carry the original DCID
            plaintext = self._try(is_orig, datagram, packet, packet.dcid)
            if plaintext is not None:
                self._keys_dcid = packet.dcid
        return plaintext

    def _try(self, is_orig: bool, datagram: bytes, packet: Packet, dcid: bytes) -> bytes | None:
        keys = initial_keys(packet.version, dcid)
        if keys is None:
            return None
        direction_keys: InitialKeys = keys[0 if is_orig else 1]
        index = 0 if is_orig else 1
        try:
            pn, plaintext = direction_keys.unprotect(
                datagram, packet.start, packet.pn_offset, packet.end, self._largest_pn[index]
            )
        except ValueError:
            return None
        if pn > self._largest_pn[index]:
            self._largest_pn[index] = pn
        return plaintext

    def _anomaly(self, name: str) -> None:
        anomalies = self.quic_anomalies
        if len(anomalies) < self.limits.max_anomalies:
            anomalies.append(name)
            return
        if not self.anomalies_dropped:
            anomalies.append(QuicAnomaly.TOO_MANY_ANOMALIES)
        self.anomalies_dropped += 1
