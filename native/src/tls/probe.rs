//! Recognise TLS by content: does a direction's first payload start like a TLS or SSLv2 hello? The twin of
//! `tlsmon/tls/probe.py` (its docstring has the rules): `None` while the bytes are consistent with TLS but too
//! few to decide, `Some(false)` as soon as one byte rules TLS out.

use crate::tls::codes::{
    ALERT_LEVEL_FATAL, ALERT_LEVEL_WARNING, CT_ALERT, CT_HANDSHAKE, HT_CLIENT_HELLO,
    HT_SERVER_HELLO, MAX_RECORD_LENGTH, SSL2_MT_CLIENT_HELLO, SSL2_MT_SERVER_HELLO,
};

/// The dispatcher probes at most this many first bytes (`_TLS_PROBE_BYTES` in tlsmon/dispatch.py).
pub const TLS_PROBE_BYTES: usize = 64;

/// Message type, version and three 2-byte lengths.
const SSLV2_CLIENT_HELLO_MIN: usize = 9;

pub fn looks_like_tls(data: &[u8]) -> Option<bool> {
    let first = u32::from(*data.first()?);
    if first == CT_HANDSHAKE || first == CT_ALERT {
        return tls_record(data);
    }
    if first & 0x80 != 0 {
        return sslv2_hello(data);
    }
    Some(false)
}

fn tls_record(data: &[u8]) -> Option<bool> {
    if data.len() >= 2 && data[1] != 3 {
        return Some(false);
    }
    if data.len() >= 3 && data[2] > 4 {
        return Some(false);
    }
    if data.len() < 5 {
        return None;
    }
    let length = (usize::from(data[3]) << 8) | usize::from(data[4]);
    let next = data.get(5).map(|&b| u32::from(b));
    if u32::from(data[0]) == CT_HANDSHAKE {
        if !(4..=MAX_RECORD_LENGTH).contains(&length) {
            return Some(false);
        }
        return Some(next.is_none_or(|t| t == HT_CLIENT_HELLO || t == HT_SERVER_HELLO));
    }
    if !(2..=MAX_RECORD_LENGTH).contains(&length) {
        return Some(false);
    }
    Some(next.is_none_or(|l| l == ALERT_LEVEL_WARNING || l == ALERT_LEVEL_FATAL))
}

fn sslv2_hello(data: &[u8]) -> Option<bool> {
    if data.len() < 3 {
        return None;
    }
    let length = (usize::from(data[0] & 0x7F) << 8) | usize::from(data[1]);
    let msg_type = u32::from(data[2]);
    if msg_type == SSL2_MT_CLIENT_HELLO {
        if length < SSLV2_CLIENT_HELLO_MIN {
            return Some(false);
        }
        if data.len() < 5 {
            return None;
        }
        return Some((data[3] == 3 && data[4] <= 4) || (data[3] == 0 && data[4] == 2));
    }
    if msg_type != SSL2_MT_SERVER_HELLO {
        return Some(false);
    }
    if data.len() < 7 {
        return None;
    }
    Some(data[5] == 0 && data[6] == 2)
}

#[cfg(test)]
mod tests {
    use super::looks_like_tls;

    #[test]
    fn a_client_hello_record_header_is_tls() {
        assert_eq!(looks_like_tls(&[0x16, 3, 1, 0, 200, 1]), Some(true));
    }

    #[test]
    fn a_record_header_cut_short_is_undecided() {
        assert_eq!(looks_like_tls(&[0x16, 3, 1]), None);
        assert_eq!(looks_like_tls(&[]), None);
    }

    #[test]
    fn a_handshake_record_holding_no_hello_is_not_tls() {
        assert_eq!(looks_like_tls(&[0x16, 3, 3, 0, 200, 11]), Some(false));
    }

    #[test]
    fn an_alert_needs_a_known_level() {
        assert_eq!(looks_like_tls(&[0x15, 3, 3, 0, 2, 2, 40]), Some(true));
        assert_eq!(looks_like_tls(&[0x15, 3, 3, 0, 2, 9, 40]), Some(false));
    }

    #[test]
    fn an_sslv2_client_hello_offering_tls_1_0_is_tls() {
        assert_eq!(looks_like_tls(&[0x80, 0x2e, 1, 3, 1]), Some(true));
        assert_eq!(looks_like_tls(&[0x80, 0x2e, 1, 5, 1]), Some(false));
    }

    #[test]
    fn plaintext_is_not_tls() {
        assert_eq!(looks_like_tls(b"EHLO x\r\n"), Some(false));
    }
}
