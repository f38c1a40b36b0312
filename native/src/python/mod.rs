//! The `tlsmon._native` extension module: the only code that touches Python objects. Each stage registers
//! its classes from its own file here.

use pyo3::prelude::*;

pub(crate) mod capture;
mod decode;
pub(crate) mod live;
mod records;
mod stop;
mod tcp;
mod tls;

#[pymodule]
#[pyo3(name = "_native")]
fn native_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    tcp::register(m)?;
    decode::register(m)?;
    capture::register(m)?;
    live::register(m)?;
    tls::register(m)?;
    records::register(m)?;
    stop::register(m)?;
    Ok(())
}
