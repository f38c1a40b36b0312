"""What both engines share: a row built from an ended connection (:class:`Recorder`), the run's figures
(:class:`RunStats`) and the sinks rows go to. The engines track; the recorder writes."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeGuard

from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.records.conn import ConnSummary, conn_summary, make_uid
from tlsmon.records.tables import ConnectionRecord
from tlsmon.tcp.connection import END_INTERIM, TransportFacts
from tlsmon.tcp.tracker_config import TrackerStats
from tlsmon.tls.summary import TlsSummary
from tlsmon.x509.chains import ConnectionCertificates
from tlsmon.x509.store import CertificateRecord, CertificateStore

if TYPE_CHECKING:  # annotations only: cryptography and the STARTTLS analyzers load when a run needs them
    import pyarrow as pa

    from tlsmon.protocols.proxy import PreambleSummary
    from tlsmon.protocols.starttls import StartTlsSummary
    from tlsmon.records.native_rows import RowCounts
    from tlsmon.udp.dispatcher import UdpDispatcher
    from tlsmon.x509.validate import Validator

# Named run counters of the TCP and UDP stages and the certificate store (the stats table's `counters`).
EVICTED_PACKETS = "tcp.evicted_packets"  # packets of evicted connections, counted on their tombstones
UDP_FLOWS_IGNORED = "udp.flows_ignored"  # UDP flows neither QUIC nor DTLS: counted, no row
UDP_FLOWS_EVICTED = "udp.flows_evicted"  # UDP flows ended early to respect max_connections
CERTIFICATES_EVICTED = "x509.certificates_evicted"  # distinct certificates the bounded store let go


class StreamFacts(Protocol):
    """What a row takes from the analysis of a connection's stream: a Dispatcher, a UdpDispatcher, or the
    native engine's NativeTlsStream."""

    @property
    def app_proto(self) -> str | None: ...

    @property
    def tls_mode(self) -> str: ...

    @property
    def starttls(self) -> StartTlsSummary | None: ...

    @property
    def preamble(self) -> PreambleSummary | None: ...

    def tls_summary(self) -> TlsSummary | None: ...

    def all_anomalies(self) -> list[str]: ...


class RecordSink(Protocol):
    def connection(self, record: ConnectionRecord) -> None: ...

    def close(self, certificates: Iterator[CertificateRecord]) -> None: ...


#: A row of a batch and its server's and client's certificate chains (DER).
RowChains = tuple[int, Sequence[bytes], Sequence[bytes]]


class BatchSink(RecordSink, Protocol):
    """A sink that also takes rows already in columns: the native engine's (tlsmon.records.native_rows)."""

    def connection_batch(self, batch: pa.RecordBatch, chains: Sequence[RowChains], counts: RowCounts) -> None: ...

    def rows_before_part_end(self) -> int:
        """Rows the sink takes before its current part ends (a batch should end there)."""
        ...


def takes_batches(sink: RecordSink) -> TypeGuard[BatchSink]:
    """Whether the sink takes Arrow batches: it has ``connection_batch``, or says so (a sink that wraps
    another takes them when that one does)."""
    says = getattr(sink, "takes_batches", None)
    if says is not None:
        return bool(says)
    return callable(getattr(sink, "connection_batch", None))


@dataclass(slots=True)
class MemorySink:
    """Keeps every record in memory: for tests and small programmatic uses."""

    records: list[ConnectionRecord] = field(default_factory=list)
    certificates: list[CertificateRecord] = field(default_factory=list)

    @property
    def rows(self) -> list[tuple[ConnSummary, TlsSummary | None]]:
        """The (conn, tls) parts of every record: the form most tests want."""
        return [(r.conn, r.tls) for r in self.records]

    def connection(self, record: ConnectionRecord) -> None:
        self.records.append(record)

    def close(self, certificates: Iterator[CertificateRecord]) -> None:
        self.certificates = list(certificates)


@dataclass(slots=True)
class RunStats:
    packets: int = 0
    tcp_packets: int = 0
    bypassed_packets: int = 0
    connections: int = 0
    tls_connections: int = 0
    evicted: int = 0
    transports: Counter[str] = field(default_factory=Counter)  # connections by how TLS was carried
    versions: Counter[str] = field(default_factory=Counter)
    ciphers: Counter[str] = field(default_factory=Counter)
    anomalies: Counter[str] = field(default_factory=Counter)
    decode: dict[str, int] = field(default_factory=dict)  # the decoder's named counters (decode.*, ip.*)
    buffer_cap_flushes: int = 0  # directions flushed early to respect the global reassembly cap
    fragments_pending: int = 0  # IP datagrams with fragments still held when the run ended
    tracker_counters: dict[str, int] = field(default_factory=dict)  # the TCP stage's named counters
    x509_counters: dict[str, int] = field(default_factory=dict)  # the certificate store's named counters


class Recorder:
    """Turns an ended connection (its transport facts and its dispatcher) into a record for the sink.

    Shared by both engines, so a row is built one way whichever engine tracked the connection.
    """

    def __init__(self, sink: RecordSink, validator: Validator | None = None, limits: Limits = DEFAULT_LIMITS) -> None:
        self.sink = sink
        self.limits = limits
        self.certificates = CertificateStore(limits)
        self.x509 = ConnectionCertificates(self.certificates, validator, limits.max_validation_cache)
        self.stats = RunStats()
        self._sequence = 0
        self.udp_ignored = 0

    def fill_stats(self, t: TrackerStats, decode: dict[str, int], fragments_pending: int) -> RunStats:
        """The run's figures from the TCP stage's, the decoder's and the certificate store's."""
        s = self.stats
        s.packets = t.packets
        s.tcp_packets = t.tcp_packets
        s.bypassed_packets = t.bypassed_packets
        s.evicted = t.evicted
        s.buffer_cap_flushes = t.buffer_cap_flushes
        s.tracker_counters = dict(t.counters)
        if t.evicted_packets:
            s.tracker_counters[EVICTED_PACKETS] = t.evicted_packets
        s.decode = decode
        s.fragments_pending = fragments_pending
        if self.certificates.evicted:
            s.x509_counters[CERTIFICATES_EVICTED] = self.certificates.evicted
        return s

    def record_udp(self, flow: TransportFacts, dispatcher: UdpDispatcher) -> None:
        """Write a UDP flow's row if it was QUIC or DTLS; count it otherwise."""
        from tlsmon.udp.flows import path_anomalies  # the Python UDP stage: loaded by a run with UDP flows

        if not dispatcher.recognised:
            self.udp_ignored += 1
            return
        self.record(flow, self.next_uid(flow), dispatcher, path_anomalies(flow))

    def udp_counters(self, evicted: int) -> dict[str, int]:
        counters = {}
        if self.udp_ignored:
            counters[UDP_FLOWS_IGNORED] = self.udp_ignored
        if evicted:
            counters[UDP_FLOWS_EVICTED] = evicted
        return counters

    def next_uid(self, conn: TransportFacts) -> str:
        return make_uid(self.next_sequence(), conn)

    def next_sequence(self) -> int:
        """The next row's number (a uid's input): rows are numbered in the order they are written."""
        self._sequence += 1
        return self._sequence

    def record(
        self,
        conn: TransportFacts,
        uid: str,
        dispatcher: StreamFacts,
        transport_anomalies: list[str],
        first_record: bool = True,
    ) -> None:
        """Write the row; ``transport_anomalies`` are the TCP stage's (connection, then each direction's)."""
        tls = dispatcher.tls_summary()
        starttls, preamble = dispatcher.starttls, dispatcher.preamble
        if conn.end_reason == END_INTERIM:
            # The analyzers go on after an interim record: it keeps what they had said so far, not their live
            # summaries (a sink holding the objects, or converting them a batch later, saw later alerts, CCS…).
            tls, starttls, preamble = copy.deepcopy((tls, starttls, preamble))
        anomalies = transport_anomalies + dispatcher.all_anomalies()
        x509 = None
        if tls is not None:
            x509 = self.x509.summarize(
                tls.cert_chain,
                tls.client_cert_chain,
                tls.server_name,
                tls.ocsp_response,
                conn.start_ts,
                count=first_record,
            )
            if x509 is not None:
                anomalies.extend(x509.anomalies)
        summary = conn_summary(conn, uid, dispatcher.app_proto, dispatcher.tls_mode, anomalies, tls)
        stats = self.stats
        stats.connections += 1
        stats.anomalies.update(anomalies)
        if summary.transport is not None:
            stats.transports[summary.transport] += 1
        if tls is not None:
            stats.tls_connections += 1
            stats.versions[tls.version or "unknown"] += 1
            if tls.cipher:
                stats.ciphers[tls.cipher] += 1
        self.sink.connection(ConnectionRecord(summary, starttls, tls, x509, preamble))


