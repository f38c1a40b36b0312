//! `tlsmon._native.LiveCapture`: a libpcap handle on an interface whose packets go straight into the native
//! tracker (`Tracker.run_live`); `tlsmon.capture.live.LiveSource` wraps it (poll, fanout, counters).

use pyo3::prelude::*;

use crate::capture::live::LiveCapture;
use crate::python::capture::capture_error;

#[pyclass(name = "LiveCapture", module = "tlsmon._native", unsendable)]
pub struct PyLiveCapture {
    pub(crate) inner: LiveCapture,
}

#[pymethods]
impl PyLiveCapture {
    #[new]
    #[pyo3(signature = (interface, bpf=None, snaplen=262_144, buffer_bytes=0, promisc=true, timeout_ms=100))]
    fn new(
        py: Python<'_>,
        interface: &str,
        bpf: Option<&str>,
        snaplen: i32,
        buffer_bytes: i32,
        promisc: bool,
        timeout_ms: i32,
    ) -> PyResult<Self> {
        let inner = LiveCapture::open(interface, bpf, snaplen, buffer_bytes, promisc, timeout_ms)
            .map_err(|e| capture_error(py, &e))?;
        Ok(Self { inner })
    }

    fn fileno(&self) -> i32 {
        self.inner.fileno().unwrap_or(-1)
    }

    /// `(received, dropped, if_dropped)` as libpcap keeps them (32-bit), or an empty tuple once closed.
    fn stats(&mut self) -> Vec<u32> {
        self.inner
            .stats()
            .map_or_else(Vec::new, |(r, d, i)| vec![r, d, i])
    }

    fn close(&mut self) {
        self.inner.close();
    }

    #[getter]
    fn linktype(&self) -> u32 {
        self.inner.linktype
    }

    #[getter]
    fn packets(&self) -> u64 {
        self.inner.packets
    }

    #[getter]
    fn bytes(&self) -> u64 {
        self.inner.bytes
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyLiveCapture>()
}
