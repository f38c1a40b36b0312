//! Unit tests of the native TLS analyzer on real handshakes (testdata.rs, from fixtures/pcaps/); the
//! expected values are what the Python analyzer gives on the same bytes. tests/tls_native compares the two
//! on every capture; these pin the behaviour of the Rust side on its own.

use super::analyzer::{Limits, TlsAnalyzer};
use super::anomalies;
use super::parse::parse_client_hello;
use super::testdata::{HANDSHAKE_FAILURE, TLS12_RESUMED, TLS13_BASIC};

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn chunks(data: &[(bool, &str)]) -> Vec<(bool, Vec<u8>)> {
    data.iter()
        .map(|&(is_orig, hex)| (is_orig, unhex(hex)))
        .collect()
}

fn run(data: &[(bool, &str)]) -> TlsAnalyzer {
    let mut analyzer = TlsAnalyzer::new("t", Limits::default());
    for (is_orig, bytes) in chunks(data) {
        analyzer.data(is_orig, &bytes);
    }
    analyzer
}

/// Each direction's bytes delivered `size` bytes at a time, directions in the original order.
fn run_chunked(data: &[(bool, &str)], size: usize) -> TlsAnalyzer {
    let mut analyzer = TlsAnalyzer::new("t", Limits::default());
    for (is_orig, bytes) in chunks(data) {
        for piece in bytes.chunks(size) {
            analyzer.data(is_orig, piece);
        }
    }
    analyzer
}

#[test]
fn a_tls13_handshake_is_established_with_its_version_cipher_and_group() {
    let a = run(TLS13_BASIC);
    let s = &a.summary;
    assert!(s.established);
    assert!(a.finished);
    assert_eq!(s.ssl_history, "CsiI");
    assert_eq!(s.version.as_deref(), Some("TLSv13"));
    assert_eq!(s.cipher.as_deref(), Some("TLS_AES_256_GCM_SHA384"));
    assert_eq!(s.curve.as_deref(), Some("x25519"));
    assert_eq!(s.server_name.as_deref(), Some("example.test"));
    assert_eq!(s.client_alpn, vec!["h2".to_owned(), "http/1.1".to_owned()]);
    assert_eq!(s.forward_secrecy, Some(true));
    assert!(a.anomalies.is_empty());
}

#[test]
fn the_tls13_fingerprints_are_the_python_ones() {
    let s = run(TLS13_BASIC).summary;
    assert_eq!(s.ja3.as_deref(), Some("304734bb1c086c3453b387400cf83f11"));
    assert_eq!(s.ja3s.as_deref(), Some("15af977ce25de452b96affa2addb1036"));
    assert_eq!(
        s.ja4.as_deref(),
        Some("t13d1812h2_85036bcba153_d41ae481755e")
    );
}

#[test]
fn a_client_hello_record_parses_with_its_sni() {
    let first = unhex(TLS13_BASIC[0].1);
    // record header (5) and handshake header (4) removed
    let hello = parse_client_hello(&first[9..], false).unwrap();
    assert_eq!(hello.server_name.as_deref(), Some("example.test"));
    assert_eq!(hello.legacy_version, 0x0303);
    assert!(hello.supported_versions.contains(&0x0304));
    assert!(hello.malformed_extensions.is_empty());
}

#[test]
fn a_session_id_echo_is_a_resumption_without_certificates() {
    let a = run(TLS12_RESUMED);
    let s = &a.summary;
    assert!(s.resumed);
    assert!(s.established);
    assert_eq!(s.ssl_history, "CsiI");
    assert_eq!(s.version.as_deref(), Some("TLSv12"));
    assert!(s.cert_chain.is_empty());
    assert_eq!(s.ja3s.as_deref(), Some("f14f2862ee2df5d0f63a88b60c8eee56"));
}

#[test]
fn a_fatal_alert_is_listed_and_stops_its_sender() {
    let a = run(HANDSHAKE_FAILURE);
    let s = &a.summary;
    assert_eq!(s.ssl_history, "Cl");
    assert_eq!(s.last_alert.as_deref(), Some("protocol_version"));
    assert_eq!(s.alerts.len(), 1);
    assert_eq!(
        (
            s.alerts[0].is_orig,
            s.alerts[0].level,
            s.alerts[0].description
        ),
        (false, 2, 70)
    );
    assert!(!s.established);
}

#[test]
fn records_and_messages_split_into_single_bytes_give_the_same_summary() {
    for data in [TLS13_BASIC, TLS12_RESUMED, HANDSHAKE_FAILURE] {
        let whole = run(data);
        for size in [1, 3, 7] {
            let split = run_chunked(data, size);
            assert_eq!(split.summary, whole.summary);
            assert_eq!(split.anomalies, whole.anomalies);
        }
    }
}

#[test]
fn a_gap_before_encryption_stops_the_direction_with_an_anomaly() {
    let mut a = TlsAnalyzer::new("t", Limits::default());
    a.data(true, &unhex(TLS13_BASIC[0].1)[..100]);
    a.gap(true, 50);
    assert_eq!(a.anomalies, vec![anomalies::GAP_IN_HANDSHAKE]);
    assert!(!a.finished);
}

#[test]
fn a_bad_record_version_stops_both_directions() {
    let mut a = TlsAnalyzer::new("t", Limits::default());
    a.data(true, &[22, 9, 1, 0, 4, 1, 0, 0, 0]);
    assert_eq!(a.anomalies, vec![anomalies::BAD_RECORD_VERSION]);
    assert!(a.finished);
}

#[test]
fn bytes_that_are_no_record_are_an_unknown_content_type() {
    let mut a = TlsAnalyzer::new("t", Limits::default());
    a.data(true, b"GET / HTTP/1.1\r\n");
    assert_eq!(a.anomalies, vec![anomalies::UNKNOWN_CONTENT_TYPE]);
}

#[test]
fn the_alert_list_is_cut_at_max_alerts_with_one_anomaly() {
    let limits = Limits {
        max_alerts: 2,
        ..Limits::default()
    };
    let mut a = TlsAnalyzer::new("t", limits);
    let warning = [21, 3, 3, 0, 2, 1, 0];
    for _ in 0..4 {
        a.data(false, &warning);
    }
    assert_eq!(a.summary.alerts.len(), 2);
    assert_eq!(a.summary.ssl_history, "llll");
    assert_eq!(a.anomalies, vec![anomalies::TOO_MANY_ALERTS]);
}

#[test]
fn an_unknown_transport_fails_the_client_fingerprint_only() {
    let mut a = TlsAnalyzer::new("x", Limits::default());
    for (is_orig, bytes) in chunks(TLS13_BASIC) {
        a.data(is_orig, &bytes);
    }
    assert_eq!(a.anomalies, vec![anomalies::FINGERPRINT_FAILED]);
    assert_eq!(a.summary.ja4, None);
    assert!(a.summary.ja3s.is_some());
}
