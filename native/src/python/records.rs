//! The natively computed columns of a connection row (`crate::records::conn`), callable from Python so that
//! tests hold them equal to `tlsmon.records.conn` and `tlsmon.decode.packet.format_address`.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::decode::Addr;
use crate::records::conn;

/// An address as the tracker hands it to Python: an int (IPv4) or 16 bytes (IPv6).
fn addr(value: &Bound<'_, PyAny>) -> PyResult<Addr> {
    if let Ok(bytes) = value.cast::<PyBytes>() {
        let octets: [u8; 16] = bytes
            .as_bytes()
            .try_into()
            .map_err(|_| PyValueError::new_err("an IPv6 address is 16 bytes"))?;
        return Ok(Addr::V6(octets));
    }
    Ok(Addr::V4(value.extract()?))
}

/// `format_address`, natively.
#[pyfunction]
fn address_text(address: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(conn::address_text(addr(address)?))
}

/// `make_uid`, natively.
#[pyfunction]
fn conn_uid(
    sequence: u64,
    start_ts: i64,
    orig_h: &Bound<'_, PyAny>,
    orig_p: u16,
    resp_h: &Bound<'_, PyAny>,
    resp_p: u16,
) -> PyResult<String> {
    Ok(conn::uid(
        sequence,
        start_ts,
        addr(orig_h)?,
        orig_p,
        addr(resp_h)?,
        resp_p,
    ))
}

/// `community_id` (seed 0), natively.
#[pyfunction]
fn community_id(
    orig_h: &Bound<'_, PyAny>,
    orig_p: u16,
    resp_h: &Bound<'_, PyAny>,
    resp_p: u16,
    proto: u8,
) -> PyResult<String> {
    Ok(conn::community_id(
        addr(orig_h)?,
        orig_p,
        addr(resp_h)?,
        resp_p,
        proto,
    ))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(address_text, m)?)?;
    m.add_function(wrap_pyfunction!(conn_uid, m)?)?;
    m.add_function(wrap_pyfunction!(community_id, m)?)
}
