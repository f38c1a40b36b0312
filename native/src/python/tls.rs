//! `tlsmon._native.TlsAnalyzer`: the native TLS analyzer (`crate::tls`) with the interface the dispatcher
//! uses of `tlsmon.tls.analyzer.TlsAnalyzer`: `data`, `record`, `gap`, `end`, `finished`, `anomalies` (plain strings),
//! `anomalies_dropped`, `summary` (a `TlsSummary` built on each read) and `server_hello` (the fields the QUIC
//! analyzer reads), plus `summary_fields()`, the summary as a dict (DER chains and OCSP response as bytes).

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use crate::tls::codes;
use crate::tls::summary::Summary;
use crate::tls::{Limits, TlsAnalyzer};

#[pyclass(name = "TlsAnalyzer", module = "tlsmon._native", unsendable)]
pub struct PyTlsAnalyzer {
    inner: TlsAnalyzer,
}

fn ders<'py>(py: Python<'py>, chain: &[Vec<u8>]) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, chain.iter().map(|der| PyBytes::new(py, der)))
}

#[allow(clippy::too_many_lines)]
pub fn fields<'py>(py: Python<'py>, s: &Summary) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(intern!(py, "version"), &s.version)?;
    d.set_item(intern!(py, "version_code"), s.version_code)?;
    d.set_item(intern!(py, "cipher"), &s.cipher)?;
    d.set_item(intern!(py, "cipher_code"), s.cipher_code)?;
    d.set_item(intern!(py, "curve"), &s.curve)?;
    d.set_item(intern!(py, "curve_code"), s.curve_code)?;
    d.set_item(intern!(py, "server_name"), &s.server_name)?;
    d.set_item(intern!(py, "resumed"), s.resumed)?;
    d.set_item(intern!(py, "established"), s.established)?;
    d.set_item(intern!(py, "next_protocol"), &s.next_protocol)?;
    d.set_item(intern!(py, "last_alert"), &s.last_alert)?;
    d.set_item(intern!(py, "ssl_history"), &s.ssl_history)?;
    d.set_item(intern!(py, "client_version_code"), s.client_version_code)?;
    d.set_item(intern!(py, "client_ciphers"), &s.client_ciphers)?;
    d.set_item(
        intern!(py, "client_compression_methods"),
        &s.client_compression_methods,
    )?;
    d.set_item(
        intern!(py, "client_session_id_len"),
        s.client_session_id_len,
    )?;
    d.set_item(intern!(py, "client_extensions"), &s.client_extensions)?;
    d.set_item(
        intern!(py, "client_malformed_extensions"),
        &s.client_malformed_extensions,
    )?;
    d.set_item(intern!(py, "client_alpn"), &s.client_alpn)?;
    d.set_item(
        intern!(py, "client_supported_versions"),
        &s.client_supported_versions,
    )?;
    d.set_item(
        intern!(py, "client_supported_groups"),
        &s.client_supported_groups,
    )?;
    d.set_item(
        intern!(py, "client_key_share_groups"),
        &s.client_key_share_groups,
    )?;
    d.set_item(
        intern!(py, "client_signature_algorithms"),
        &s.client_signature_algorithms,
    )?;
    d.set_item(
        intern!(py, "client_ec_point_formats"),
        &s.client_ec_point_formats,
    )?;
    d.set_item(intern!(py, "client_psk_modes"), &s.client_psk_modes)?;
    d.set_item(
        intern!(py, "client_status_request"),
        s.client_status_request,
    )?;
    d.set_item(
        intern!(py, "client_session_ticket_len"),
        s.client_session_ticket_len,
    )?;
    d.set_item(intern!(py, "client_heartbeat"), s.client_heartbeat)?;
    d.set_item(intern!(py, "client_ems"), s.client_ems)?;
    d.set_item(intern!(py, "client_reneg_info"), s.client_reneg_info)?;
    d.set_item(intern!(py, "client_etm"), s.client_etm)?;
    d.set_item(intern!(py, "client_padding_len"), s.client_padding_len)?;
    d.set_item(
        intern!(py, "client_record_size_limit"),
        s.client_record_size_limit,
    )?;
    d.set_item(intern!(py, "client_ech"), s.client_ech)?;
    d.set_item(intern!(py, "client_ech_kdf"), s.client_ech_kdf)?;
    d.set_item(intern!(py, "client_ech_aead"), s.client_ech_aead)?;
    d.set_item(intern!(py, "client_ech_config_id"), s.client_ech_config_id)?;
    d.set_item(intern!(py, "fallback_scsv"), s.fallback_scsv)?;
    d.set_item(intern!(py, "reneg_scsv"), s.reneg_scsv)?;
    d.set_item(intern!(py, "sslv2_client_hello"), s.sslv2_client_hello)?;
    d.set_item(intern!(py, "server_version_code"), s.server_version_code)?;
    d.set_item(intern!(py, "server_extensions"), &s.server_extensions)?;
    d.set_item(
        intern!(py, "server_malformed_extensions"),
        &s.server_malformed_extensions,
    )?;
    d.set_item(intern!(py, "server_compression"), s.server_compression)?;
    d.set_item(
        intern!(py, "server_key_share_group"),
        s.server_key_share_group,
    )?;
    d.set_item(intern!(py, "hrr"), s.hrr)?;
    d.set_item(intern!(py, "hrr_group"), s.hrr_group)?;
    d.set_item(intern!(py, "dh_prime_bits"), s.dh_prime_bits)?;
    d.set_item(intern!(py, "ocsp_stapled"), s.ocsp_stapled)?;
    d.set_item(
        intern!(py, "ocsp_response"),
        s.ocsp_response.as_deref().map(|r| PyBytes::new(py, r)),
    )?;
    d.set_item(
        intern!(py, "session_ticket_lifetime_hint"),
        s.session_ticket_lifetime_hint,
    )?;
    d.set_item(intern!(py, "cert_request"), s.cert_request)?;
    let alerts = PyList::empty(py);
    for a in &s.alerts {
        let entry = PyDict::new(py);
        entry.set_item(
            intern!(py, "direction"),
            if a.is_orig { "orig" } else { "resp" },
        )?;
        entry.set_item(intern!(py, "level"), a.level)?;
        entry.set_item(intern!(py, "description"), a.description)?;
        entry.set_item(intern!(py, "name"), &a.name)?;
        alerts.append(entry)?;
    }
    d.set_item(intern!(py, "alerts"), alerts)?;
    d.set_item(intern!(py, "ccs_orig"), s.ccs_orig)?;
    d.set_item(intern!(py, "ccs_resp"), s.ccs_resp)?;
    d.set_item(intern!(py, "cert_chain_fps"), &s.cert_chain_fps)?;
    d.set_item(intern!(py, "cert_chain"), ders(py, &s.cert_chain)?)?;
    d.set_item(
        intern!(py, "client_cert_chain_fps"),
        &s.client_cert_chain_fps,
    )?;
    d.set_item(
        intern!(py, "client_cert_chain"),
        ders(py, &s.client_cert_chain)?,
    )?;
    d.set_item(intern!(py, "forward_secrecy"), s.forward_secrecy)?;
    d.set_item(intern!(py, "rc4"), s.rc4)?;
    d.set_item(intern!(py, "ja3"), &s.ja3)?;
    d.set_item(intern!(py, "ja3s"), &s.ja3s)?;
    d.set_item(intern!(py, "ja4"), &s.ja4)?;
    d.set_item(intern!(py, "ja4_r"), &s.ja4_r)?;
    Ok(d)
}

#[pymethods]
impl PyTlsAnalyzer {
    /// `transport` is JA4's first letter; the limits are the TLS fields of `tlsmon.limits.Limits` (defaults:
    /// `DEFAULT_LIMITS`, generated into codes.rs).
    #[new]
    #[pyo3(signature = (
        transport = "t",
        max_certificates_per_chain = codes::DEFAULT_MAX_CERTIFICATES_PER_CHAIN,
        max_certificates_per_connection = codes::DEFAULT_MAX_CERTIFICATES_PER_CONNECTION,
        max_alerts = codes::DEFAULT_MAX_ALERTS,
        max_anomalies = codes::DEFAULT_MAX_ANOMALIES,
    ))]
    fn new(
        transport: &str,
        max_certificates_per_chain: usize,
        max_certificates_per_connection: usize,
        max_alerts: usize,
        max_anomalies: usize,
    ) -> Self {
        let limits = Limits {
            max_certificates_per_chain,
            max_certificates_per_connection,
            max_alerts,
            max_anomalies,
        };
        Self {
            inner: TlsAnalyzer::new(transport, limits),
        }
    }

    fn data(&mut self, is_orig: bool, data: &[u8]) {
        self.inner.data(is_orig, data);
    }

    /// One plaintext record whose framing another layer removed (DTLS records, QUIC CRYPTO bytes).
    fn record(&mut self, is_orig: bool, content_type: u32, body: &[u8]) {
        self.inner.record(is_orig, content_type, body);
    }

    fn gap(&mut self, is_orig: bool, length: u64) {
        self.inner.gap(is_orig, length);
    }

    fn end(&mut self) {
        self.inner.end();
    }

    #[getter]
    fn finished(&self) -> bool {
        self.inner.finished
    }

    #[getter]
    fn anomalies(&self) -> Vec<&'static str> {
        self.inner.anomalies.clone()
    }

    #[getter]
    fn anomalies_dropped(&self) -> u64 {
        self.inner.anomalies_dropped
    }

    /// The summary as a new `tlsmon.tls.summary.TlsSummary` (what the dispatcher reads at the end; a copy:
    /// changing it does not change the analyzer).
    #[getter]
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let class = py.import("tlsmon.tls.summary")?.getattr("TlsSummary")?;
        class.call((), Some(&fields(py, &self.inner.summary)?))
    }

    /// The last ServerHello as a `types.SimpleNamespace` of `is_hrr`, `legacy_version`, `selected_version`,
    /// `cipher_suite` (what the QUIC analyzer reads to know the server has answered), or None.
    #[getter]
    fn server_hello<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let Some(hello) = &self.inner.server_hello else {
            return Ok(None);
        };
        let kwargs = PyDict::new(py);
        kwargs.set_item("is_hrr", hello.is_hrr)?;
        kwargs.set_item("legacy_version", hello.legacy_version)?;
        kwargs.set_item("selected_version", hello.selected_version)?;
        kwargs.set_item("cipher_suite", hello.cipher_suite)?;
        let namespace = py.import("types")?.getattr("SimpleNamespace")?;
        Ok(Some(namespace.call((), Some(&kwargs))?))
    }

    /// Every `TlsSummary` field by name.
    fn summary_fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        fields(py, &self.inner.summary)
    }
}

/// `tlsmon.tls.probe.looks_like_tls`, natively: the probe that sends a connection to the native analyzer.
#[pyfunction]
fn looks_like_tls(data: &[u8]) -> Option<bool> {
    crate::tls::probe::looks_like_tls(data)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTlsAnalyzer>()?;
    m.add_function(wrap_pyfunction!(looks_like_tls, m)?)
}
