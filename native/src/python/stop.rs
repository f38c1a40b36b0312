//! `tlsmon._native.Stop`: a flag one Python thread sets while another runs a pass without the GIL
//! (`Tracker.read_ahead`, tlsmon/readahead.py). Frozen: setting it takes no borrow of anything the pass holds.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pyo3::prelude::*;

#[pyclass(module = "tlsmon._native", name = "Stop", frozen)]
#[derive(Default)]
pub struct PyStop(Arc<AtomicBool>);

impl PyStop {
    /// The flag itself, for a pass to look at without the GIL.
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.0)
    }
}

#[pymethods]
impl PyStop {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// Ask the pass to stop (after the frame it is on).
    fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    #[getter]
    fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyStop>()
}
