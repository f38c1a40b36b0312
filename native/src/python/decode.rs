//! `tlsmon._native.Decoder`: the native frame decoder with the Python `tlsmon.decode.Decoder` interface,
//! except that `decode` returns the payload as bytes instead of (buf, offset, length).

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};

use crate::decode::{Addr, Decoder};

/// Python's `tlsmon.decode.packet.FLAG_UDP`.
const FLAG_UDP: u16 = 0x100;

#[pyclass(name = "Decoder", module = "tlsmon._native")]
pub struct PyDecoder {
    inner: Decoder,
}

fn addr(py: Python<'_>, a: Addr) -> Bound<'_, PyAny> {
    match a {
        Addr::V4(v) => v.into_pyobject(py).expect("infallible").into_any(),
        Addr::V6(b) => PyBytes::new(py, &b).into_any(),
    }
}

#[pymethods]
impl PyDecoder {
    #[new]
    #[pyo3(signature = (frag_timeout_ns = Decoder::DEFAULT_FRAG_TIMEOUT_NS, max_frag_bytes = Decoder::DEFAULT_MAX_FRAG_BYTES))]
    fn new(frag_timeout_ns: i64, max_frag_bytes: usize) -> Self {
        PyDecoder {
            inner: Decoder::new(frag_timeout_ns, max_frag_bytes),
        }
    }

    /// `(ip_version, src, dst, sport, dport, flags, seq, ack, payload, vlan)` of the TCP segment or UDP
    /// datagram (flags `FLAG_UDP`, as Python's decoder marks it) in `frame`, or None (counted) for anything
    /// else.
    fn decode<'py>(
        &mut self,
        py: Python<'py>,
        ts_ns: i64,
        linktype: i64,
        frame: &[u8],
    ) -> PyResult<Option<Bound<'py, PyTuple>>> {
        // A link type that is no u32 is no link type tlsmon decodes: u32::MAX is as unsupported.
        let linktype = u32::try_from(linktype).unwrap_or(u32::MAX);
        let Some(s) = self.inner.decode(ts_ns, linktype, frame) else {
            return Ok(None);
        };
        let items: [Bound<'py, PyAny>; 10] = [
            s.ip_version.into_pyobject(py)?.into_any(),
            addr(py, s.src),
            addr(py, s.dst),
            s.sport.into_pyobject(py)?.into_any(),
            s.dport.into_pyobject(py)?.into_any(),
            (u16::from(s.flags) | if s.udp { FLAG_UDP } else { 0 })
                .into_pyobject(py)?
                .into_any(),
            s.seq.into_pyobject(py)?.into_any(),
            s.ack.into_pyobject(py)?.into_any(),
            PyBytes::new(py, s.payload).into_any(),
            s.vlan.into_pyobject(py)?.into_any(),
        ];
        Ok(Some(PyTuple::new(py, items)?))
    }

    /// The non-zero counters by their Python names.
    #[getter]
    fn counters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (name, value) in self.inner.counters() {
            dict.set_item(name, value)?;
        }
        Ok(dict)
    }

    /// Datagrams with fragments held, waiting for the rest.
    #[getter]
    fn pending_fragments(&self) -> usize {
        self.inner.pending_fragments()
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDecoder>()
}
