//! Fuzz target `tls`: random bytes as the two directions of one connection, fed to the native TLS analyzer
//! (`tlsmon_native::tls`) under tiny limits, in two chunkings at once.
//!
//! Input layout: bytes 0-3 pick the limits (each 1-4, so every cut is reached), byte 4 the JA4 transport
//! (t, q, d or an invalid one); then calls of `[control, length high, length low, bytes …]`: control bit 0 is
//! the direction, bits 1-3 pick the call: 0 a gap of `length` bytes, 1 a `record()` (the first byte is the
//! content type, the rest the body: the QUIC/DTLS path), else data, which the second analyzer gets in pieces
//! of the size bits 4-7 pick (1 byte to 4 KiB). At the end both get `end()`. Checks:
//! no panic; both analyzers agree on every summary field, the anomaly list and `finished` (chunking never
//! changes the result); every list stays within its limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tlsmon_native::tls::{Limits, TlsAnalyzer};

const TRANSPORTS: [&str; 4] = ["t", "q", "d", "x"];

fuzz_target!(|data: &[u8]| {
    if data.len() < 5 {
        return;
    }
    let limit = |b: u8| usize::from(b % 4) + 1;
    let limits = Limits {
        max_certificates_per_chain: limit(data[0]),
        max_certificates_per_connection: limit(data[1]),
        max_alerts: limit(data[2]),
        max_anomalies: limit(data[3]),
    };
    let transport = TRANSPORTS[usize::from(data[4]) % TRANSPORTS.len()];
    let mut whole = TlsAnalyzer::new(transport, limits);
    let mut pieces = TlsAnalyzer::new(transport, limits);
    let mut rest = &data[5..];
    while rest.len() >= 3 {
        let control = rest[0];
        let length = usize::from(u16::from_be_bytes([rest[1], rest[2]]));
        let is_orig = control & 1 == 1;
        if (control >> 1) & 7 == 0 {
            rest = &rest[3..];
            whole.gap(is_orig, length as u64);
            pieces.gap(is_orig, length as u64);
            continue;
        }
        let (chunk, next) = rest[3..].split_at(length.min(rest.len() - 3));
        rest = next;
        if (control >> 1) & 7 == 1 {
            if let Some((&content_type, body)) = chunk.split_first() {
                whole.record(is_orig, u32::from(content_type), body);
                pieces.record(is_orig, u32::from(content_type), body);
            }
        } else {
            whole.data(is_orig, chunk);
            for piece in chunk.chunks(1 << (usize::from(control >> 4) % 13)) {
                pieces.data(is_orig, piece);
            }
        }
        assert_eq!(whole.summary, pieces.summary);
        assert_eq!(whole.anomalies, pieces.anomalies);
        assert_eq!(whole.finished, pieces.finished);
    }
    whole.end();
    pieces.end();
    assert!(whole.finished && pieces.finished);
    let s = &whole.summary;
    assert!(whole.anomalies.len() <= limits.max_anomalies + 1);
    assert!(s.alerts.len() <= limits.max_alerts);
    assert!(s.client_cert_chain.len() <= limits.max_certificates_per_chain);
    // an SSLv2 SERVER-HELLO's one certificate is outside the TLS budget, as in Python
    assert!(s.cert_chain.len() <= limits.max_certificates_per_chain.max(1));
    assert!(
        s.cert_chain.len() + s.client_cert_chain.len()
            <= limits.max_certificates_per_connection + 1
    );
    assert_eq!(s.cert_chain.len(), s.cert_chain_fps.len());
    assert!(s.ssl_history.len() <= 101); // 100 letters and the direction flip
});
