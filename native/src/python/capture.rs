//! `tlsmon._native.CaptureSource`: the native capture reader with the interface of
//! `tlsmon.capture.CaptureSource` — an iterable of `(ts_ns, linktype, frame_bytes)` with `warnings`,
//! `packets`, `bytes_read`, `total_bytes`, `filtered_out` and `counters`, raising Python's
//! `tlsmon.capture.CaptureError` with the same one-line message.
//!
//! Frames are read a batch at a time; each `__next__` only hands out the next frame of the current batch.
//! The warnings of a batch are given (appended to `warnings`, passed to `on_warning`) once its frames have
//! all been handed out, which is where Python's reader gives them.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::capture::{CaptureError, CaptureSource, FrameBatch};

/// Python's `tlsmon.capture.CaptureError` carrying `err`'s message.
pub fn capture_error(py: Python<'_>, err: &CaptureError) -> PyErr {
    let class = py
        .import("tlsmon.capture.errors")
        .and_then(|m| m.getattr("CaptureError"));
    match class.and_then(|class| class.call1((err.0.clone(),))) {
        Ok(value) => PyErr::from_value(value),
        Err(import_failed) => import_failed,
    }
}

/// Sendable to another Python thread (`tlsmon read` runs its first passes on one: tlsmon/readahead.py);
/// the reader sits in a mutex only because a pyclass must be `Sync`: every access has `&mut self` or is a
/// getter, never concurrent with a pass (PyO3's borrow flag).
#[pyclass(name = "CaptureSource", module = "tlsmon._native")]
pub struct PyCaptureSource {
    inner: Mutex<CaptureSource>,
    batch: FrameBatch,
    index: usize,
    due: Vec<String>,
    warnings: Vec<String>,
    on_warning: Option<Py<PyAny>>,
    done: bool,
}

impl PyCaptureSource {
    /// Hands the next frames to `take` until it returns false (after the frame it was given) or the input
    /// ends; Ok(true) once every frame was handed out. Warnings are given as `__next__` gives them.
    pub(crate) fn for_each_frame(
        &mut self,
        py: Python<'_>,
        mut take: impl FnMut(i64, u32, &[u8]) -> bool,
    ) -> PyResult<bool> {
        loop {
            let inner = self.inner.get_mut().unwrap_or_else(PoisonError::into_inner);
            if !hand_out(inner, &self.batch, &mut self.index, &mut take) {
                return Ok(false);
            }
            if self.refill(py)? {
                return Ok(true);
            }
        }
    }

    /// As `for_each_frame`, without the GIL from the first frame to the last of the pass (reading the next
    /// batches included): `take` is the native packet path, and a Python thread may run meanwhile (`tlsmon
    /// read` makes certificate columns and imports on one). The pass's warnings are given at its end.
    pub(crate) fn for_each_frame_detached(
        &mut self,
        py: Python<'_>,
        mut take: impl FnMut(i64, u32, &[u8]) -> bool + Send,
    ) -> PyResult<bool> {
        let inner = self.inner.get_mut().unwrap_or_else(PoisonError::into_inner);
        let (batch, index) = (&mut self.batch, &mut self.index);
        let (done, due) = (&mut self.done, &mut self.due);
        let outcome = py.detach(|| loop {
            if !hand_out(inner, batch, index, &mut take) {
                return Ok(false);
            }
            if *done {
                return Ok(true);
            }
            *index = 0;
            let more = inner.next_batch(batch);
            due.extend(inner.take_warnings());
            match more {
                Ok(true) => {}
                Ok(false) => *done = true,
                Err(err) => {
                    *done = true;
                    return Err(err);
                }
            }
        });
        self.give_warnings(py)?;
        outcome.map_err(|err| capture_error(py, &err))
    }

    /// After a batch: its warnings, then the next batch read (Ok(false)), or Ok(true) at the end.
    fn refill(&mut self, py: Python<'_>) -> PyResult<bool> {
        self.give_warnings(py)?;
        if self.done {
            return Ok(true);
        }
        self.index = 0;
        let inner = self.inner.get_mut().unwrap_or_else(PoisonError::into_inner);
        let batch = &mut self.batch;
        let more = py.detach(|| inner.next_batch(batch)); // reading and inflating need no GIL
        self.due = inner.take_warnings();
        match more {
            Ok(true) => Ok(false),
            Ok(false) => {
                self.done = true;
                Ok(false)
            }
            Err(err) => {
                self.done = true;
                self.give_warnings(py)?;
                Err(capture_error(py, &err))
            }
        }
    }

    fn reader(&self) -> MutexGuard<'_, CaptureSource> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn give_warnings(&mut self, py: Python<'_>) -> PyResult<()> {
        for line in std::mem::take(&mut self.due) {
            self.warnings.push(line.clone());
            if let Some(callback) = &self.on_warning {
                callback.call1(py, (line,))?;
            }
        }
        Ok(())
    }
}

#[pymethods]
impl PyCaptureSource {
    #[new]
    #[pyo3(signature = (paths, bpf=None, on_warning=None))]
    #[allow(clippy::needless_pass_by_value)] // PyO3 extracts the argument by value
    fn new(
        py: Python<'_>,
        paths: Vec<PathBuf>,
        bpf: Option<&str>,
        on_warning: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let inner = CaptureSource::open(&paths, bpf).map_err(|e| capture_error(py, &e))?;
        Ok(Self {
            inner: Mutex::new(inner),
            batch: FrameBatch::new(),
            index: 0,
            due: Vec::new(),
            warnings: Vec::new(),
            on_warning,
            done: false,
        })
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(
        &mut self,
        py: Python<'py>,
    ) -> PyResult<Option<(i64, u32, Bound<'py, PyBytes>)>> {
        let mut next = None;
        self.for_each_frame(py, |ts, linktype, frame| {
            next = Some((ts, linktype, PyBytes::new(py, frame)));
            false
        })?;
        Ok(next)
    }

    /// Reads the files on a thread of their own from now on: the kernel's copy of the page cache (or the
    /// inflating) runs beside the decoding. Worth it where a core is free for it (tlsmon.engines).
    fn use_reader_thread(&self) {
        self.reader().use_reader_thread();
    }

    /// Warning lines given so far, in order.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    #[getter]
    fn packets(&self) -> u64 {
        self.reader().packets()
    }

    #[getter]
    fn bytes_read(&self) -> u64 {
        self.reader().bytes_read()
    }

    #[getter]
    fn total_bytes(&self) -> u64 {
        self.reader().total_bytes()
    }

    #[getter]
    fn filtered_out(&self) -> u64 {
        self.reader().filtered_out()
    }

    /// The capture stage's named counters, every name, zeros included.
    #[getter]
    fn counters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (name, value) in self.reader().counters() {
            dict.set_item(name, value)?;
        }
        Ok(dict)
    }
}

/// Registers the capture stage's classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCaptureSource>()
}

/// The batch's frames from `index` on to `take`; false when `take` stopped (`index` is past its frame).
fn hand_out(
    inner: &mut CaptureSource,
    batch: &FrameBatch,
    index: &mut usize,
    take: &mut impl FnMut(i64, u32, &[u8]) -> bool,
) -> bool {
    while *index < batch.len() {
        let (ts, linktype, frame) = inner.frame(batch, *index);
        *index += 1;
        if !take(ts, linktype, frame) {
            return false;
        }
    }
    true
}
