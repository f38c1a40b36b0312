"""The native engine: the compiled core tracks connections and analyzes TLS; Python analyzes the other streams.

Theory of operation. ``tlsmon._native.Tracker`` owns the flow table and reassembly. A connection whose first
stream bytes are TLS is analyzed natively from that byte on (native/src/dispatch.rs): it crosses the boundary
once, at its end, as a ``TLS_END`` event carrying its transport facts and its TLS row part, and the tracker
bypasses it itself once the analyzer is finished. Every other connection (plaintext protocols and STARTTLS,
PROXY headers and preambles) goes to a Python :class:`~tlsmon.dispatch.Dispatcher`, whose TLS part is the
native analyzer too (``_native.TlsAnalyzer``, handed the stream at the byte where TLS starts).

For those the tracker returns, per batch of packets, an ordered list of events ``(conn, epoch, kind, is_orig,
value)``: a connection opened, in-order data, a gap, a reassembly anomaly (first occurrence per direction), a
connection anomaly, or the end of a connection with its transport facts. This module applies them to one
dispatcher per connection, exactly as the Python tracker calls its stream consumer, and reports back which
connections are finished so the tracker bypasses them.

The tracker learns of a bypass only after the batch, so it may produce events for a connection that the
Python engine would have bypassed already. The *epoch* says where they belong: the tracker bumps a
connection's epoch at the point where the Python tracker asks ``consumer.finished``. On the first event of a
new epoch this module asks the dispatcher the same question; once the answer is yes, the connection's later
events are dropped, being exactly those the Python engine never produced. The rows are therefore the same as
the Python engine's whatever the batch size (tests/engines holds them equal).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from itertools import islice
from typing import TYPE_CHECKING

import pyarrow as pa

from tlsmon import _native
from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.native_tracker import (
    ANOMALY,
    CONN_ANOMALY,
    DATA,
    DATAGRAM,
    DEFAULT_MAX_EVENTS,
    END,
    GAP,
    INTERIM,
    OPEN,
    OPEN_UDP,
    TLS_END,
    TLS_INTERIM,
    TLS_ROW,
    Event,
    make_tracker,
    tls_limits,
)
from tlsmon.recorder import BatchSink, Recorder, RecordSink, RunStats, StreamFacts, takes_batches
from tlsmon.records.native_rows import NativeRows, RowCounts, X509Inputs
from tlsmon.tcp.connection import END_EOF, TransportFacts
from tlsmon.tcp.tracker_config import TrackerConfig, TrackerStats
from tlsmon.tls.modes import TLS_MODE_IMPLICIT
from tlsmon.tls.summary import TlsSummary

if TYPE_CHECKING:  # annotations only: neither libpcap's binding nor cryptography is loaded by a file read
    from tlsmon.capture.live import LiveSource
    from tlsmon.dispatch import Dispatcher
    from tlsmon.readahead import ReadAhead
    from tlsmon.udp.dispatcher import UdpDispatcher
    from tlsmon.x509.validate import Validator

DEFAULT_BATCH = 64  # frames per crossing when the frames come from Python
# Rows kept natively cross in batches: at the end of each crossing, before any row Python writes (to keep the
# order), where the sink's current part ends, and at this many rows at most.
ROW_BATCH = 4096
WARM_UP_FRAMES = 4096  # frames per pass until a certificate has been seen (up to MAX_FRAMES read)
SWITCH_INTERVAL_S = 0.0005  # CPython's default is 5 ms: a pass would wait up to that for the GIL
MAX_FRAMES = 1 << 16  # and at least this often: progress, part rotation and signals are seen at each crossing


class NativeConnection:
    """A connection's transport facts as the tracker hands them over at its end (:class:`TransportFacts`)."""

    __slots__ = (
        "addresses_changed",
        "end_reason",
        "history",
        "ip_version",
        "last_ts",
        "orig_bytes",
        "orig_h",
        "orig_missed_bytes",
        "orig_p",
        "orig_pkts",
        "orig_seq_first",
        "orig_seq_next",
        "orig_size",
        "orig_state",
        "paths",
        "proto",
        "resp_bytes",
        "resp_h",
        "resp_missed_bytes",
        "resp_p",
        "resp_pkts",
        "resp_seq_first",
        "resp_seq_next",
        "resp_size",
        "resp_state",
        "start_ts",
        "vlan",
        "zeek_last_ts",
    )

    def __init__(
        self,
        facts: tuple[
            int, int, int, int | bytes, int, int | bytes, int, int | None, int, int, int, int, str, str,
            int, int, int, int, int | None, int | None, int | None, int | None, int, int, int, bool,
        ],
        orig_missed_bytes: int,
        resp_missed_bytes: int,
    ) -> None:
        (
            self.start_ts,
            self.last_ts,
            self.ip_version,
            self.orig_h,
            self.orig_p,
            self.resp_h,
            self.resp_p,
            self.vlan,
            self.orig_pkts,
            self.resp_pkts,
            self.orig_bytes,
            self.resp_bytes,
            self.history,
            self.end_reason,
            self.orig_state,
            self.resp_state,
            self.orig_size,
            self.resp_size,
            self.orig_seq_first,
            self.orig_seq_next,
            self.resp_seq_first,
            self.resp_seq_next,
            self.proto,
            self.zeek_last_ts,
            self.paths,
            self.addresses_changed,
        ) = facts
        self.orig_missed_bytes = orig_missed_bytes
        self.resp_missed_bytes = resp_missed_bytes


def native_tls_analyzer(transport: str, limits: Limits) -> _native.TlsAnalyzer:
    """The TLS analyzer of what Python reads: a TCP connection after STARTTLS or a preamble (``t``), a QUIC
    (``q``) or DTLS (``d``) flow."""
    return _native.TlsAnalyzer(transport, *tls_limits(limits))


class NativeTlsStream:
    """What a row takes from the stream of a connection analyzed natively: implicit TLS from the first byte
    (what :class:`~tlsmon.dispatch.Dispatcher` records for such a connection)."""

    __slots__ = ("summary", "tls_anomalies")

    app_proto = "tls"
    tls_mode = TLS_MODE_IMPLICIT
    starttls = None
    preamble = None

    def __init__(self, fields: dict[str, object], tls_anomalies: list[str]) -> None:
        self.summary = TlsSummary(**fields)  # type: ignore[arg-type]
        self.tls_anomalies = tls_anomalies

    def tls_summary(self) -> TlsSummary:
        return self.summary

    def all_anomalies(self) -> list[str]:
        return self.tls_anomalies


class Flow:
    """The Python side of one native connection: its analyzer and what the row takes from the events."""

    __slots__ = (
        "conn_anomalies",
        "dispatcher",
        "epoch",
        "finished",
        "missed",
        "orig_anomalies",
        "resp_anomalies",
        "uid",
    )

    def __init__(self, server_port: int, limits: Limits) -> None:
        from tlsmon.dispatch import Dispatcher  # the plaintext protocols' stage: a TLS-only read never loads it

        self.dispatcher: Dispatcher = Dispatcher(server_port, limits, native_tls_analyzer)
        self.epoch = 0
        self.finished = False
        self.missed = [0, 0]  # responder, originator (indexed by is_orig)
        self.conn_anomalies: list[str] = []
        self.orig_anomalies: list[str] = []
        self.resp_anomalies: list[str] = []
        self.uid: str | None = None  # given at the connection's first record (interim or final)


class _CertificateWork:
    """Certificate work on a thread, after the work before it; :meth:`wait` joins it and raises what it raised."""

    __slots__ = ("_error", "_thread")

    def __init__(self, job: Callable[[], object], after: _CertificateWork | None) -> None:
        self._error: BaseException | None = None

        def work() -> None:
            try:
                if after is not None:
                    after.wait()
                job()
            except BaseException as exc:  # handed to the thread that waits
                self._error = exc

        self._thread = threading.Thread(target=work, name="tlsmon-certificates", daemon=True)
        self._thread.start()

    def wait(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


class NativeEngine(Recorder):
    """Same interface as :class:`tlsmon.engine.Engine`: ``run(frames)``, then ``close()``."""

    def __init__(
        self,
        sink: RecordSink,
        config: TrackerConfig | None = None,
        on_progress: Callable[[], None] | None = None,
        validator: Validator | None = None,
        limits: Limits = DEFAULT_LIMITS,
        batch: int = DEFAULT_BATCH,
        max_events: int = DEFAULT_MAX_EVENTS,
        native_tls: bool = True,
        read_ahead: ReadAhead | None = None,
    ) -> None:
        super().__init__(sink, validator, limits)
        # A sink that takes Arrow batches gets the rows of natively analyzed connections as columns.
        self._batch_sink: BatchSink | None = sink if native_tls and takes_batches(sink) else None
        self.native_rows = NativeRows() if self._batch_sink is not None else None
        self._certificate_work: _CertificateWork | None = None
        self.config = config or TrackerConfig()
        self.on_progress = on_progress
        self.batch = batch
        self.max_events = max_events
        self._read_ahead = read_ahead
        if read_ahead is None:
            self.tracker = make_tracker(self.config, limits, native_tls, self.native_rows is not None)
        else:  # made for this engine before it was (tlsmon.readahead), of the same arguments
            made_for = (read_ahead.config, read_ahead.limits, True, read_ahead.native_rows, read_ahead.max_events)
            if made_for != (self.config, limits, native_tls, self.native_rows is not None, max_events):
                raise ValueError("the read-ahead's tracker was made for another engine")
            self.tracker = read_ahead.tracker
        self._finished = False
        self.flows: dict[int, Flow] = {}
        self.udp_flows: dict[int, UdpDispatcher] = {}
        self.tls_uids: dict[int, str] = {}  # natively analyzed connections given an interim record

    def run(self, frames: Iterable[tuple[int, int, bytes]] | _native.CaptureSource) -> None:
        """Track every frame; a native capture source is read natively (no Python per packet)."""
        if isinstance(frames, _native.CaptureSource):
            self._run_native(frames)
            return
        it = iter(frames)
        while chunk := list(islice(it, self.batch)):
            self.tracker.feed_frames(chunk)
            self._apply(self.tracker.take_events())
            if self.on_progress is not None:
                self.on_progress()

    def _run_native(self, source: _native.CaptureSource) -> None:
        """The crossings: while the native loop reads the next frames (without the GIL), a thread makes the
        certificate columns of the rows the last crossing ended (:meth:`_summarize_meanwhile`); their batch
        is written once it has, before the new events are applied, so every row keeps its place. The events
        read ahead (:mod:`tlsmon.readahead`) are applied first, as one crossing."""
        run_capture = self.tracker.run_capture
        switch = sys.getswitchinterval()
        # The loop wants the GIL back as soon as a pass ends; the certificate thread gives it up this often.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        # Short passes at first, to start loading cryptography as soon as a certificate has been seen.
        warming = self.native_rows is not None
        frames = WARM_UP_FRAMES if warming else MAX_FRAMES
        read = 0
        try:
            done = self._apply_read_ahead(source)
            if done or self.tracker.certificates_seen:
                warming, frames = False, MAX_FRAMES
            while not done:
                events, done = run_capture(source, self.max_events, frames)
                if warming:
                    read += frames
                    if self.tracker.certificates_seen:
                        self._load_certificates_meanwhile()
                    if self.tracker.certificates_seen or read >= MAX_FRAMES:
                        warming, frames = False, MAX_FRAMES
                self._cross(events)
        finally:
            sys.setswitchinterval(switch)

    def _apply_read_ahead(self, source: _native.CaptureSource) -> bool:
        """Apply the events read ahead, if any, as one crossing; True when they read the capture to its end.
        An error that ended the reading is raised once the events before it are applied (their records are
        kept)."""
        read_ahead, self._read_ahead = self._read_ahead, None
        if read_ahead is None:
            return False
        if read_ahead.source is not source:
            read_ahead.stop()
            raise ValueError("the read-ahead read another capture source than the one given to run()")
        (events, done), error = read_ahead.take()
        if self.tracker.certificates_seen and self.native_rows is not None:
            self._load_certificates_meanwhile()
        self._cross(events)
        if error is not None:
            raise error
        return done

    def _cross(self, events: list[Event]) -> None:
        """One crossing's events: the rows of the one before first (their certificate columns are made by now),
        then these; then progress, and the new rows' certificate columns started on a thread."""
        self.flush_rows()
        self._apply_events(events)
        if self.on_progress is not None:
            self.on_progress()
        self._summarize_meanwhile()

    def run_live(self, source: LiveSource, wait_s: float) -> int | None:
        """Read what the live handle has ready (waiting up to ``wait_s`` for the first packet) and apply it;
        the time of the last packet read, None when none came."""
        live = source.native
        assert live is not None, "a native LiveSource"
        if not source.ready(wait_s):
            return None
        run_live = self.tracker.run_live
        last_ts = None
        more = True
        read = 0
        while more and read < source.max_batch:
            events, frames, more, ts = run_live(live, self.max_events, MAX_FRAMES)
            self._apply(events)
            read += frames
            if ts is not None:
                last_ts = ts
        source.packets = live.packets
        source.bytes = live.bytes
        self.flush_rows()  # live records reach the sink as they end
        return last_ts

    def sweep(self, now: int) -> None:
        """End idle connections and write due interim records at ``now`` (live capture sweeps on its clock)."""
        self.tracker.sweep(now)
        self._apply(self.tracker.take_events())
        self.flush_rows()

    @property
    def active_connections(self) -> int:
        """Connections in the table (open, or lingering after their close)."""
        return self.tracker.live

    def finish(self, reason: str = END_EOF) -> None:
        """End every connection still in the table (``end_reason`` = ``reason`` for those still open)."""
        self.flush_rows()  # the last crossing's rows first
        if not self._finished:
            self._finished = True
            self.tracker.finish(reason)
            self._apply(self.tracker.take_events())

    def close(self, reason: str = END_EOF) -> RunStats:
        self.finish(reason)
        self._wait_for_certificates()
        self.sink.close(self.certificates.records())
        return self.run_stats()

    def run_stats(self) -> RunStats:
        """The run's figures so far (live capture samples them while the run goes on)."""
        packets, tcp_packets, connections, evicted, evicted_packets, buffer_cap_flushes, bypassed = self.tracker.stats
        stats = TrackerStats(
            packets=packets,
            tcp_packets=tcp_packets,
            connections=connections,
            evicted=evicted,
            evicted_packets=evicted_packets,
            buffer_cap_flushes=buffer_cap_flushes,
            bypassed_packets=bypassed,
        )
        run = self.fill_stats(stats, dict(self.tracker.decode_counters), self.tracker.pending_fragments)
        run.tracker_counters.update(self.udp_counters(self.tracker.udp_evicted))
        return run

    def _apply(self, events: list[Event]) -> None:
        """Apply the events and write the rows they ended."""
        self._apply_events(events)
        self.flush_rows()

    def _apply_events(self, events: list[Event]) -> None:
        flows = self.flows
        finished: list[int] = []
        for conn, epoch, kind, is_orig, value in events:
            if kind == OPEN:
                assert isinstance(value, int)
                flows[conn] = Flow(value, self.limits)
                continue
            flow = flows.get(conn)
            if flow is None:  # natively analyzed TLS, or a UDP flow: one lookup more for these only
                if kind == TLS_ROW:
                    self._native_row(value)  # type: ignore[arg-type]
                elif kind == TLS_END or kind == TLS_INTERIM:
                    self._tls_record(conn, kind == TLS_END, value)  # type: ignore[arg-type]
                elif self._apply_udp(conn, kind, is_orig, value):
                    finished.append(conn)
                continue
            if epoch != flow.epoch:
                flow.epoch = epoch
                if not flow.finished and flow.dispatcher.finished:
                    flow.finished = True
                    finished.append(conn)
            if kind == END:
                del flows[conn]
                self._end(flow, value)
            elif kind == INTERIM:
                self._interim(flow, value)
            elif flow.finished:
                continue
            elif kind == DATA:
                assert isinstance(value, bytes)
                flow.dispatcher.data(is_orig, value)
            elif kind == GAP:
                assert isinstance(value, int)
                flow.missed[is_orig] += value
                flow.dispatcher.gap(is_orig, value)
            elif kind == ANOMALY:
                assert isinstance(value, str)
                (flow.orig_anomalies if is_orig else flow.resp_anomalies).append(value)
            elif kind == CONN_ANOMALY:
                assert isinstance(value, str)
                flow.conn_anomalies.append(value)
        if finished:
            self.tracker.bypass(finished)

    def _native_row(self, inputs: X509Inputs | None) -> None:
        """Number a row kept natively (see tlsmon.records.native_rows); its certificate columns come later."""
        assert self.native_rows is not None
        self.native_rows.add(self.next_sequence(), inputs)
        assert self._batch_sink is not None
        if len(self.native_rows) >= min(ROW_BATCH, self._batch_sink.rows_before_part_end()):
            # The part's certificates file counts sightings up to its last row, as with rows written one by one.
            self.flush_rows()

    def _summarize_meanwhile(self) -> None:
        """Start making the waiting rows' certificate columns on a thread (cryptography's parsing and
        validation), to run while the native loop does."""
        rows = self.native_rows
        if rows is None or not rows.unsummarized:
            return
        certificates = self.x509
        self._certificate_work = _CertificateWork(lambda: rows.summarize(certificates), self._certificate_work)

    def _load_certificates_meanwhile(self) -> None:
        """Start :meth:`_load_certificates` on the certificate thread (after the work already there)."""
        self._certificate_work = _CertificateWork(self._load_certificates, self._certificate_work)

    def _load_certificates(self) -> None:
        """Import the X.509 stack and make the validator (the Mozilla roots): 40-60 ms that a run with
        certificates needs before its first row, spent on a thread while the native loop goes on."""
        import tlsmon.x509.certs  # noqa: F401  (cryptography)

        _ = self.x509.validator

    def _wait_for_certificates(self) -> None:
        """The certificate work on threads, finished: the store and the validator are this thread's again."""
        work, self._certificate_work = self._certificate_work, None
        if work is not None:
            work.wait()

    def flush_rows(self) -> None:
        """Hand the rows kept natively to the sink as one batch, and count them."""
        rows = self.native_rows
        if rows is None or not len(rows):
            return
        # Their certificate columns on the thread while the core builds the others without the GIL.
        self._summarize_meanwhile()
        self.tracker.build_rows(rows.sequences)
        self._wait_for_certificates()
        schema, array, counted = self.tracker.take_rows(rows.extra)
        batch = rows.complete(pa.RecordBatch._import_from_c_capsule(schema, array))
        counts = RowCounts(*counted)
        stats = self.stats
        stats.connections += batch.num_rows
        stats.tls_connections += batch.num_rows
        stats.transports["tls"] += batch.num_rows
        stats.versions.update(counts.versions)
        stats.ciphers.update(counts.ciphers)
        stats.anomalies.update(counts.anomalies)
        chains = rows.chains
        rows.clear()
        assert self._batch_sink is not None
        self._batch_sink.connection_batch(batch, chains, counts)

    def record(
        self,
        conn: TransportFacts,
        uid: str,
        dispatcher: StreamFacts,
        transport_anomalies: list[str],
        first_record: bool = True,
    ) -> None:
        """Write a row built in Python, after the rows kept natively that ended before it."""
        self.flush_rows()
        self._wait_for_certificates()  # the row's own chains go to the same store
        super().record(conn, uid, dispatcher, transport_anomalies, first_record)

    def _apply_udp(self, conn: int, kind: int, is_orig: bool, value: object) -> bool:
        """One event of a UDP flow; True when its dispatcher has just finished (the flow is to be bypassed)."""
        if kind == OPEN_UDP:
            from tlsmon.udp.dispatcher import UdpDispatcher  # QUIC and DTLS: loaded by a run with UDP flows

            self.udp_flows[conn] = UdpDispatcher(self.limits, native_tls_analyzer)
            return False
        if kind == END:
            dispatcher = self.udp_flows.pop(conn)
            dispatcher.end()
            self.record_udp(NativeConnection(value, 0, 0), dispatcher)  # type: ignore[arg-type]
            return False
        dispatcher = self.udp_flows[conn]
        if dispatcher.finished:  # the Python engine stops feeding it there too
            return False
        assert kind == DATAGRAM and isinstance(value, tuple)
        dispatcher.datagram(is_orig, value[0], value[1])
        return dispatcher.finished

    def _tls_record(
        self, conn: int, end: bool, value: tuple[object, dict[str, object], list[str], list[str], int, int]
    ) -> None:
        """The row of a natively analyzed connection (``end``), or an interim one with the same uid."""
        facts, fields, transport_anomalies, tls_anomalies, orig_missed, resp_missed = value
        connection = NativeConnection(facts, orig_missed, resp_missed)  # type: ignore[arg-type]
        uid = self.tls_uids.pop(conn, None) if end else self.tls_uids.get(conn)
        first_record = uid is None
        if uid is None:
            uid = self.next_uid(connection)
            if not end:
                self.tls_uids[conn] = uid
        self.record(connection, uid, NativeTlsStream(fields, tls_anomalies), transport_anomalies, first_record)

    def _end(self, flow: Flow, facts: object) -> None:
        flow.dispatcher.end()
        self._record(flow, facts)

    def _interim(self, flow: Flow, facts: object) -> None:
        self._record(flow, facts)

    def _record(self, flow: Flow, facts: object) -> None:
        conn = NativeConnection(facts, flow.missed[True], flow.missed[False])  # type: ignore[arg-type]
        first_record = flow.uid is None  # interim records and the final one share the uid
        if flow.uid is None:
            flow.uid = self.next_uid(conn)
        anomalies = flow.conn_anomalies + flow.orig_anomalies + flow.resp_anomalies
        self.record(conn, flow.uid, flow.dispatcher, anomalies, first_record)
