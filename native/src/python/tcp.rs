//! `tlsmon._native.Tracker`: the native flow table and reassembly, fed decoded segments (see tcp/events.rs
//! for what comes back and why).

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyCapsule, PyList, PyTuple};

use crate::decode::Addr;
use crate::decode::Decoder;
use crate::dispatch::TlsRow;
use crate::python::capture::{capture_error, PyCaptureSource};
use crate::python::live::PyLiveCapture;
use crate::python::stop::PyStop;
use crate::records::batch::{fits, NativeRows, PreparedRows};
use crate::tcp::connection::{END_EOF, END_INTERRUPTED};
use crate::tcp::events::{ConnEnd, EventBatch, EventKind};
use crate::tcp::tracker::{Tracker, TrackerConfig};
use crate::tls::Limits;
use crate::udp::flows::IPPROTO_UDP;

/// Event kinds as Python sees them (first item after the connection id and epoch).
const DATA: u8 = 0;
const GAP: u8 = 1;
const ANOMALY: u8 = 2;
const CONN_ANOMALY: u8 = 3;
const END: u8 = 4;
const OPEN: u8 = 5;
const INTERIM: u8 = 6;
const OPEN_UDP: u8 = 7;
const DATAGRAM: u8 = 8;
const TLS_END: u8 = 9;
const TLS_INTERIM: u8 = 10;
const TLS_ROW: u8 = 11;

pub fn addr_to_py(py: Python<'_>, addr: Addr) -> PyResult<Bound<'_, PyAny>> {
    match addr {
        Addr::V4(a) => Ok(a.into_pyobject(py)?.into_any()),
        Addr::V6(a) => Ok(PyBytes::new(py, &a).into_any()),
    }
}

/// A connection's transport facts as the tuple `tlsmon.native_engine.NativeConnection` unpacks.
fn facts_to_py<'py>(py: Python<'py>, e: &ConnEnd) -> PyResult<Bound<'py, PyTuple>> {
    // Zeek's size of a UDP endpoint is its payload bytes; a TCP endpoint's is its sequence space.
    let (orig_size, resp_size) = if e.proto == IPPROTO_UDP {
        (e.orig_bytes, e.resp_bytes)
    } else {
        (
            e.seqs.orig.size(&e.seqs.resp),
            e.seqs.resp.size(&e.seqs.orig),
        )
    };
    // A UDP flow's clock never stops; a TCP connection's stops once both endpoints closed.
    let zeek_last_ts = if e.proto == IPPROTO_UDP {
        e.last_ts
    } else {
        e.seqs.last_ts
    };
    PyTuple::new(
        py,
        [
            e.start_ts.into_pyobject(py)?.into_any(),
            e.last_ts.into_pyobject(py)?.into_any(),
            e.ip_version.into_pyobject(py)?.into_any(),
            addr_to_py(py, e.orig_h)?,
            e.orig_p.into_pyobject(py)?.into_any(),
            addr_to_py(py, e.resp_h)?,
            e.resp_p.into_pyobject(py)?.into_any(),
            e.vlan.into_pyobject(py)?.into_any(),
            e.orig_pkts.into_pyobject(py)?.into_any(),
            e.resp_pkts.into_pyobject(py)?.into_any(),
            e.orig_bytes.into_pyobject(py)?.into_any(),
            e.resp_bytes.into_pyobject(py)?.into_any(),
            e.history.as_str().into_pyobject(py)?.into_any(),
            e.end_reason.into_pyobject(py)?.into_any(),
            e.seqs.orig.state.into_pyobject(py)?.into_any(),
            e.seqs.resp.state.into_pyobject(py)?.into_any(),
            orig_size.into_pyobject(py)?.into_any(),
            resp_size.into_pyobject(py)?.into_any(),
            e.orig_seen
                .then(|| e.seqs.orig.start_seq.wrapping_add(1))
                .into_pyobject(py)?
                .into_any(),
            e.orig_seen
                .then_some(e.seqs.orig.last_seq)
                .into_pyobject(py)?
                .into_any(),
            e.resp_seen
                .then(|| e.seqs.resp.start_seq.wrapping_add(1))
                .into_pyobject(py)?
                .into_any(),
            e.resp_seen
                .then_some(e.seqs.resp.last_seq)
                .into_pyobject(py)?
                .into_any(),
            e.proto.into_pyobject(py)?.into_any(),
            zeek_last_ts.into_pyobject(py)?.into_any(),
            e.paths.into_pyobject(py)?.into_any(),
            pyo3::types::PyBool::new(py, e.addresses_changed)
                .to_owned()
                .into_any(),
        ],
    )
}

/// A natively analyzed connection's row parts: `(facts, TLS summary fields, transport anomalies, TLS anomalies,
/// originator's missed bytes, responder's missed bytes)`.
fn tls_row_to_py<'py>(
    py: Python<'py>,
    facts: &ConnEnd,
    row: &TlsRow,
) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(
        py,
        [
            facts_to_py(py, facts)?.into_any(),
            crate::python::tls::fields(py, &row.summary)?.into_any(),
            PyList::new(py, &row.transport_anomalies)?.into_any(),
            PyList::new(py, &row.tls_anomalies)?.into_any(),
            row.missed[1].into_pyobject(py)?.into_any(),
            row.missed[0].into_pyobject(py)?.into_any(),
        ],
    )
}

/// Where natively analyzed connections' rows go when the sink takes Arrow batches: kept natively, and only a
/// `TLS_ROW` marker crosses (with what the certificate analysis needs, when the row has any of it).
#[derive(Default)]
pub struct RowStore {
    pub rows: NativeRows,
    /// Rows taken out by `build_rows`, waiting for `take_rows`.
    prepared: Option<PreparedRows>,
    /// Connections given an interim record: their final row goes the way the interim one went (its uid).
    interim: ahash::AHashSet<u64>,
    certificates: CertificateObjects,
}

/// Distinct certificates handed to Python so far: a chain seen again crosses as the same `bytes` objects
/// (no copy, and Python's certificate store finds them by their cached hash). Bounded: forgotten all at once
/// when full, then handed over again as they come.
#[derive(Default)]
struct CertificateObjects {
    by_fingerprint: ahash::AHashMap<String, Py<PyBytes>>,
}

/// ~15 MB of DER at most, shared with Python's certificate store (which keeps up to 50 000 by default).
const MAX_CERTIFICATE_OBJECTS: usize = 10_000;

impl CertificateObjects {
    fn chain<'py>(
        &mut self,
        py: Python<'py>,
        ders: &[Vec<u8>],
        fingerprints: &[String],
    ) -> PyResult<Bound<'py, PyList>> {
        let objects: Vec<Bound<'py, PyBytes>> = ders
            .iter()
            .zip(fingerprints)
            .map(|(der, fingerprint)| {
                if let Some(object) = self.by_fingerprint.get(fingerprint) {
                    return object.bind(py).clone();
                }
                if self.by_fingerprint.len() >= MAX_CERTIFICATE_OBJECTS {
                    self.by_fingerprint.clear();
                }
                let object = PyBytes::new(py, der);
                self.by_fingerprint
                    .insert(fingerprint.clone(), object.clone().unbind());
                object
            })
            .collect();
        PyList::new(py, objects)
    }
}

impl RowStore {
    /// Keeps the row of a `TlsEnd` natively if it can be; its marker's value (None: no certificates).
    fn keep<'py>(
        &mut self,
        py: Python<'py>,
        batch: &mut EventBatch,
        conn: u64,
        index: usize,
        tls: usize,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let end = &batch.ends[index];
        if self.interim.remove(&conn) || !fits(end, &batch.tls[tls].summary) {
            return Ok(None);
        }
        let row = std::mem::take(&mut batch.tls[tls]);
        let s = &row.summary;
        let marker = if s.cert_chain.is_empty()
            && s.client_cert_chain.is_empty()
            && s.ocsp_response.is_none()
        {
            py.None().into_bound(py)
        } else {
            PyTuple::new(
                py,
                [
                    self.certificates
                        .chain(py, &s.cert_chain, &s.cert_chain_fps)?
                        .into_any(),
                    self.certificates
                        .chain(py, &s.client_cert_chain, &s.client_cert_chain_fps)?
                        .into_any(),
                    s.server_name.as_deref().into_pyobject(py)?.into_any(),
                    s.ocsp_response
                        .as_deref()
                        .map(|r| PyBytes::new(py, r))
                        .into_pyobject(py)?
                        .into_any(),
                    end.start_ts.into_pyobject(py)?.into_any(),
                ],
            )?
            .into_any()
        };
        self.rows.push(end.clone(), row);
        Ok(Some(marker))
    }
}

/// The batch's events as `(conn, epoch, kind, is_orig, value)` tuples; with a row store, natively analyzed
/// connections' rows stay native (`TLS_ROW` markers).
pub fn events_to_py<'py>(
    py: Python<'py>,
    batch: &mut EventBatch,
    mut store: Option<&mut RowStore>,
) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for i in 0..batch.events.len() {
        let ev = batch.events[i];
        let (kind, value): (u8, Bound<'py, PyAny>) = match ev.kind {
            EventKind::Open { resp_p } => (OPEN, resp_p.into_pyobject(py)?.into_any()),
            EventKind::Data { start, len } => {
                (DATA, PyBytes::new(py, batch.data(start, len)).into_any())
            }
            EventKind::Gap { len } => (GAP, len.into_pyobject(py)?.into_any()),
            EventKind::Anomaly { name } => (ANOMALY, name.into_pyobject(py)?.into_any()),
            EventKind::ConnAnomaly { name } => (CONN_ANOMALY, name.into_pyobject(py)?.into_any()),
            EventKind::End { index } => (END, facts_to_py(py, &batch.ends[index])?.into_any()),
            EventKind::OpenUdp { resp_p } => (OPEN_UDP, resp_p.into_pyobject(py)?.into_any()),
            EventKind::Datagram { start, len, ts } => {
                let payload = PyBytes::new(py, batch.data(start, len)).into_any();
                let value = PyTuple::new(py, [ts.into_pyobject(py)?.into_any(), payload])?;
                (DATAGRAM, value.into_any())
            }
            EventKind::Interim { index } => {
                (INTERIM, facts_to_py(py, &batch.ends[index])?.into_any())
            }
            EventKind::TlsEnd { index, tls } => {
                let kept = match store.as_deref_mut() {
                    Some(store) => store.keep(py, batch, ev.conn, index, tls)?,
                    None => None,
                };
                match kept {
                    Some(marker) => (TLS_ROW, marker),
                    None => (
                        TLS_END,
                        tls_row_to_py(py, &batch.ends[index], &batch.tls[tls])?.into_any(),
                    ),
                }
            }
            EventKind::TlsInterim { index, tls } => {
                if let Some(store) = store.as_deref_mut() {
                    store.interim.insert(ev.conn);
                }
                (
                    TLS_INTERIM,
                    tls_row_to_py(py, &batch.ends[index], &batch.tls[tls])?.into_any(),
                )
            }
        };
        let item = PyTuple::new(
            py,
            [
                ev.conn.into_pyobject(py)?.into_any(),
                ev.epoch.into_pyobject(py)?.into_any(),
                kind.into_pyobject(py)?.into_any(),
                pyo3::types::PyBool::new(py, ev.is_orig)
                    .to_owned()
                    .into_any(),
                value,
            ],
        )?;
        list.append(item)?;
    }
    Ok(list)
}

/// `RowCounts` as Python takes them (`tlsmon.records.native_rows.RowCounts`).
type BatchCounts = (
    u64,
    u64,
    u64,
    HashMap<String, u64>,
    HashMap<String, u64>,
    HashMap<String, u64>,
);

pub fn end_reason(reason: &str) -> PyResult<&'static str> {
    match reason {
        "eof" => Ok(END_EOF),
        "interrupted" => Ok(END_INTERRUPTED),
        other => Err(PyValueError::new_err(format!(
            "unknown end reason {other:?}"
        ))),
    }
}

/// One crossing's worth of frames through the decoder and the tracker: stops (returns false) once enough
/// events wait for Python or enough frames were read.
struct Pass<'a> {
    tracker: &'a mut Tracker,
    decoder: &'a mut Decoder,
    /// `TlsEnd` events are not counted against `max_events` (their rows stay native: nothing for Python
    /// to decide about them).
    native_rows: bool,
    max_events: usize,
    max_frames: usize,
    frames: usize,
    last_ts: Option<i64>,
}

impl<'a> Pass<'a> {
    fn new(
        tracker: &'a mut Tracker,
        decoder: &'a mut Decoder,
        native_rows: bool,
        max_events: usize,
        max_frames: usize,
    ) -> Self {
        Pass {
            tracker,
            decoder,
            native_rows,
            max_events,
            max_frames,
            frames: 0,
            last_ts: None,
        }
    }

    fn take(&mut self, ts: i64, linktype: u32, frame: &[u8]) -> bool {
        self.tracker.frame(ts);
        if let Some(seg) = self.decoder.decode(ts, linktype, frame) {
            self.tracker.segment(ts, &seg);
        }
        self.frames += 1;
        self.last_ts = Some(ts);
        let out = &self.tracker.out;
        let waiting = if self.native_rows {
            out.events.len() - out.tls_ends
        } else {
            out.events.len()
        };
        waiting < self.max_events && self.frames < self.max_frames
    }
}

#[pyclass(module = "tlsmon._native", name = "Tracker")]
pub struct PyTracker {
    tracker: Tracker,
    decoder: Decoder,
    /// Rows kept natively (the sink takes Arrow batches), or None: every row crosses as objects.
    rows: Option<RowStore>,
}

impl PyTracker {
    /// A pass of `run_capture`/`run_live` over this tracker.
    fn pass(&mut self, max_events: usize, max_frames: usize) -> Pass<'_> {
        Pass::new(
            &mut self.tracker,
            &mut self.decoder,
            self.rows.is_some(),
            max_events,
            max_frames,
        )
    }
}

#[pymethods]
impl PyTracker {
    #[new]
    #[pyo3(signature = (
        idle_timeout_ns, linger_ns, max_connections, max_buffered_per_direction, max_buffered_total,
        sweep_interval_ns, check_every_packets, service_ports, interim_interval_ns,
        udp_idle_timeout_ns = 60_000_000_000, tls_limits = None, native_rows = false,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        idle_timeout_ns: i64,
        linger_ns: i64,
        max_connections: usize,
        max_buffered_per_direction: usize,
        max_buffered_total: usize,
        sweep_interval_ns: i64,
        check_every_packets: u64,
        service_ports: Vec<u16>,
        interim_interval_ns: Option<i64>,
        udp_idle_timeout_ns: i64,
        tls_limits: Option<(usize, usize, usize, usize)>,
        native_rows: bool,
    ) -> Self {
        let config = TrackerConfig {
            idle_timeout_ns,
            linger_ns,
            max_connections,
            max_buffered_per_direction,
            max_buffered_total,
            sweep_interval_ns,
            check_every_packets,
            service_ports,
            interim_interval_ns,
            udp_idle_timeout_ns,
            tls_limits: tls_limits.map(|(chain, connection, alerts, anomalies)| Limits {
                max_certificates_per_chain: chain,
                max_certificates_per_connection: connection,
                max_alerts: alerts,
                max_anomalies: anomalies,
            }),
        };
        PyTracker {
            tracker: Tracker::new(config),
            decoder: Decoder::default(),
            rows: native_rows.then(RowStore::default),
        }
    }

    /// Decode and track raw frames `(ts_ns, linktype, frame)` natively.
    fn feed_frames(&mut self, frames: &Bound<'_, PyList>) -> PyResult<()> {
        let mut pass = Pass::new(
            &mut self.tracker,
            &mut self.decoder,
            false,
            usize::MAX,
            usize::MAX,
        );
        for item in frames.iter() {
            let t = item.cast::<PyTuple>()?;
            let frame = t.get_item(2)?;
            pass.take(
                t.get_item(0)?.extract()?,
                t.get_item(1)?.extract()?,
                frame.cast::<PyBytes>()?.as_bytes(),
            );
        }
        Ok(())
    }

    /// Read, decode and track frames of a native capture source until at least `max_events` events are
    /// waiting or `max_frames` frames were read; returns the events and whether the input is exhausted.
    /// Returning early after a few events keeps the bypass close behind the Python analyzers.
    fn run_capture<'py>(
        &mut self,
        py: Python<'py>,
        source: &Bound<'py, PyCaptureSource>,
        max_events: usize,
        max_frames: usize,
    ) -> PyResult<(Bound<'py, PyList>, bool)> {
        let mut source = source.borrow_mut();
        let mut pass = self.pass(max_events, max_frames);
        let done = source
            .for_each_frame_detached(py, |ts, linktype, frame| pass.take(ts, linktype, frame))?;
        let events = events_to_py(py, &mut self.tracker.out, self.rows.as_mut())?;
        self.tracker.out.clear();
        Ok((events, done))
    }

    /// Read, decode and track frames of a native capture source without the GIL until `stop` is set, the
    /// input ends, or what waits for Python reaches a bound (`max_events` events, `max_bytes` of stream
    /// data, `max_rows` rows of natively analyzed connections); the events stay for `take_events`. Returns
    /// whether the input is exhausted. A `read` runs this on a thread while it loads (tlsmon/readahead.py).
    fn read_ahead(
        &mut self,
        py: Python<'_>,
        source: &Bound<'_, PyCaptureSource>,
        stop: &Bound<'_, PyStop>,
        max_events: usize,
        max_bytes: usize,
        max_rows: usize,
    ) -> PyResult<bool> {
        let stop = stop.get().flag();
        let mut source = source.borrow_mut();
        let mut pass = self.pass(usize::MAX, usize::MAX);
        source.for_each_frame_detached(py, |ts, linktype, frame| {
            pass.take(ts, linktype, frame);
            let out = &pass.tracker.out;
            out.events.len() < max_events
                && out.payload.len() < max_bytes
                && out.tls.len() < max_rows
                && !stop.load(Ordering::Relaxed)
        })
    }

    /// Read, decode and track the packets a live handle has ready, until at least `max_events` events wait or
    /// `max_frames` packets were read; returns the events, the packets read, whether more may be ready, and
    /// the time of the last packet.
    fn run_live<'py>(
        &mut self,
        py: Python<'py>,
        live: &Bound<'py, PyLiveCapture>,
        max_events: usize,
        max_frames: usize,
    ) -> PyResult<(Bound<'py, PyList>, usize, bool, Option<i64>)> {
        let mut live = live.borrow_mut();
        let mut pass = self.pass(max_events, max_frames);
        let more = live
            .inner
            .read_ready(|ts, linktype, frame| pass.take(ts, linktype, frame))
            .map_err(|e| capture_error(py, &e))?;
        let (frames, last_ts) = (pass.frames, pass.last_ts);
        let events = events_to_py(py, &mut self.tracker.out, self.rows.as_mut())?;
        self.tracker.out.clear();
        Ok((events, frames, more, last_ts))
    }

    /// IP datagrams with fragments held, waiting for the rest.
    #[getter]
    fn pending_fragments(&self) -> usize {
        self.decoder.pending_fragments()
    }

    /// The native decoder's non-zero counters (Python's DecodeCounter names).
    #[getter]
    fn decode_counters(&self) -> Vec<(&'static str, u64)> {
        self.decoder.counters()
    }

    /// End idle connections and write due interim records at time `now` (live capture sweeps on the clock).
    fn sweep(&mut self, now: i64) {
        self.tracker.sweep(now);
    }

    /// Connections in the table (open, or lingering after their close).
    #[getter]
    fn live(&self) -> usize {
        self.tracker.live()
    }

    fn bypass(&mut self, ids: Vec<u64>) {
        for id in ids {
            self.tracker.bypass(id);
        }
    }

    /// End every connection still in the table, without the GIL (a read ends thousands at once; the
    /// certificate thread runs meanwhile).
    fn finish(&mut self, py: Python<'_>, reason: &str) -> PyResult<()> {
        let reason = end_reason(reason)?;
        let tracker = &mut self.tracker;
        py.detach(|| tracker.finish(reason));
        Ok(())
    }

    /// The events produced since the last call, in order.
    fn take_events<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = events_to_py(py, &mut self.tracker.out, self.rows.as_mut())?;
        self.tracker.out.clear();
        Ok(list)
    }

    /// Whether a natively analyzed connection has had a certificate chain or an OCSP response yet.
    #[getter]
    fn certificates_seen(&self) -> bool {
        self.tracker.out.certificates_seen
    }

    /// Rows kept natively, waiting for `take_rows`.
    #[getter]
    fn pending_rows(&self) -> usize {
        self.rows.as_ref().map_or(0, |store| store.rows.len())
    }

    /// Take the first `len(sequences)` rows kept natively out of the store and build their columns (all
    /// but what Python adds), without the GIL: the engine's certificate thread makes the same rows'
    /// certificate columns meanwhile. `sequences`: each row's uid sequence number. `take_rows` then hands
    /// them over.
    #[allow(clippy::needless_pass_by_value)] // PyO3 extracts the list
    fn build_rows(&mut self, py: Python<'_>, sequences: Vec<u64>) -> PyResult<()> {
        let store = self
            .rows
            .as_mut()
            .ok_or_else(|| PyValueError::new_err("the tracker was made without native_rows"))?;
        if store.prepared.is_some() {
            return Err(PyValueError::new_err(
                "rows built already wait for take_rows",
            ));
        }
        let rows = &mut store.rows;
        let prepared = py
            .detach(|| rows.prepare(&sequences))
            .map_err(PyValueError::new_err)?;
        store.prepared = Some(prepared);
        Ok(())
    }

    /// The rows `build_rows` took, with `extra` (anomalies their certificates add, by row index): two
    /// capsules of one struct array (`pyarrow.RecordBatch._import_from_c_capsule`) holding the `conn` and
    /// `tls` columns; then what the run's figures count of them: `(evicted, with gaps, missed bytes, by
    /// version, by cipher, anomalies)`.
    #[allow(clippy::type_complexity, clippy::needless_pass_by_value)] // PyO3 extracts the list
    fn take_rows<'py>(
        &mut self,
        py: Python<'py>,
        extra: Vec<(usize, Vec<String>)>,
    ) -> PyResult<(Bound<'py, PyCapsule>, Bound<'py, PyCapsule>, BatchCounts)> {
        let store = self
            .rows
            .as_mut()
            .ok_or_else(|| PyValueError::new_err("the tracker was made without native_rows"))?;
        let prepared = store
            .prepared
            .take()
            .ok_or_else(|| PyValueError::new_err("no rows built: build_rows first"))?;
        let (array, counts) = prepared.finish(&extra).map_err(PyValueError::new_err)?;
        let (array, schema) = arrow_array::ffi::to_ffi(&arrow_array::Array::to_data(&array))
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok((
            PyCapsule::new_with_value(py, schema, c"arrow_schema")?,
            PyCapsule::new_with_value(py, array, c"arrow_array")?,
            (
                counts.evicted,
                counts.with_gaps,
                counts.missed_bytes,
                counts.versions,
                counts.ciphers,
                counts.anomalies,
            ),
        ))
    }

    /// UDP flows ended early to respect the flow cap.
    #[getter]
    fn udp_evicted(&self) -> u64 {
        self.tracker.udp.evicted
    }

    #[getter]
    fn stats(&self) -> (u64, u64, u64, u64, u64, u64, u64) {
        let s = &self.tracker.stats;
        (
            s.packets,
            s.tcp_packets,
            s.connections,
            s.evicted,
            s.evicted_packets,
            s.buffer_cap_flushes,
            s.bypassed_packets,
        )
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTracker>()
}
