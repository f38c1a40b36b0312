//! Zeek's conn.log `duration` and `service` of a natively written row (`tlsmon/records/zeek.py`).

/// The TLS anomalies that are Zeek's protocol violations of its SSL analyzer (they take `ssl` back).
const TLS_VIOLATIONS: [&str; 2] = ["tls.unknown_content_type", "tls.bad_record_version"];

/// Spans of this many nanoseconds and more are not exact as a double: the row goes to Python's writer.
pub const MAX_EXACT_SPAN: i64 = 1 << 53;

/// Seconds from the first to the last packet; None when that is not above zero (Zeek leaves it unset).
/// Exact (Python's int / int) below `MAX_EXACT_SPAN`, which rows of longer spans do not reach here.
#[allow(clippy::cast_precision_loss)]
pub fn duration(ts_start: i64, ts_end: i64) -> Option<f64> {
    let span = ts_end.checked_sub(ts_start)?;
    (span > 0).then(|| span as f64 / 1e9)
}

/// `service` of a connection TLS from its first byte: `ssl`, unless the analyzer met a record header it could
/// not read before any ServerHello (Zeek's early protocol violation).
pub fn tls_service<'a>(
    server_hello: bool,
    mut anomalies: impl Iterator<Item = &'a str>,
) -> Option<&'static str> {
    (server_hello || !anomalies.any(|a| TLS_VIOLATIONS.contains(&a))).then_some("ssl")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_is_null_unless_above_zero() {
        assert_eq!(duration(1_000, 1_000), None);
        assert_eq!(duration(2_000, 1_000), None);
        assert_eq!(duration(0, 3_376_543_000), Some(3.376_543));
    }

    #[test]
    fn an_early_violation_takes_ssl_back() {
        assert_eq!(
            tls_service(false, ["tls.unknown_content_type"].into_iter()),
            None
        );
        assert_eq!(
            tls_service(true, ["tls.unknown_content_type"].into_iter()),
            Some("ssl")
        );
        assert_eq!(
            tls_service(false, ["tcp.overlap_mismatch"].into_iter()),
            Some("ssl")
        );
    }
}
