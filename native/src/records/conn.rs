//! The transport half of a connection row computed natively (`tlsmon/records/conn.py`): the uid, the
//! Community ID and the addresses' text, byte for byte what the Python functions write.

use std::fmt::Write as _;

use base64::Engine as _;
use blake2::digest::consts::U13;
use blake2::{Blake2b, Digest};
use sha1::Sha1;

use crate::decode::Addr;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The address as `format_address` writes it: dotted quad, or IPv6 as glibc's `inet_ntop` (RFC 5952's
/// compression, the first of equally long zero runs, IPv4-mapped and IPv4-compatible forms dotted).
pub fn address_text(addr: Addr) -> String {
    match addr {
        Addr::V4(a) => ipv4_text(a.to_be_bytes()),
        Addr::V6(a) => ipv6_text(&a),
    }
}

fn ipv4_text(b: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
}

fn ipv6_text(a: &[u8; 16]) -> String {
    let words: [u16; 8] = std::array::from_fn(|i| u16::from_be_bytes([a[2 * i], a[2 * i + 1]]));
    // The longest run of zero words (the first of equal ones), compressed only from two words on.
    // (first word, length) of a run of zero words.
    let mut best: Option<(usize, usize)> = None;
    let mut cur: Option<(usize, usize)> = None;
    for (i, &w) in words.iter().enumerate() {
        if w == 0 {
            cur = Some(cur.map_or((i, 1), |(base, len)| (base, len + 1)));
        } else if let Some(run) = cur.take() {
            if best.is_none_or(|b| run.1 > b.1) {
                best = Some(run);
            }
        }
    }
    if let Some(run) = cur {
        if best.is_none_or(|b| run.1 > b.1) {
            best = Some(run);
        }
    }
    let best = best.filter(|&(_, len)| len >= 2);
    let mut out = String::with_capacity(39);
    let mut i = 0;
    while i < 8 {
        if let Some((base, len)) = best {
            if i == base {
                out.push(':');
                i += len;
                if i == 8 {
                    out.push(':');
                }
                continue;
            }
        }
        if i != 0 {
            out.push(':');
        }
        if i == 6
            && best.is_some_and(|(base, len)| {
                base == 0 && (len == 6 || (len == 5 && words[5] == 0xffff))
            })
        {
            out.push_str(&ipv4_text([a[12], a[13], a[14], a[15]]));
            break;
        }
        let _ = write!(out, "{:x}", words[i]);
        i += 1;
    }
    out
}

/// The address as Python's `repr` writes the value the tracker hands over (an int for IPv4, 16 bytes for
/// IPv6): `make_uid` hashes that text.
pub fn python_repr(addr: Addr) -> String {
    match addr {
        Addr::V4(a) => a.to_string(),
        Addr::V6(a) => bytes_repr(&a),
    }
}

fn bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(4 * b.len() + 3);
    out.push('b');
    out.push(quote);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if c as char == quote => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(c as char),
            _ => {
                let _ = write!(out, "\\x{c:02x}");
            }
        }
    }
    out.push(quote);
    out
}

/// The connection's uid (`make_uid`): 'C' and 17 base-62 digits of a 13-byte BLAKE2b over the row's
/// sequence number, first timestamp and endpoints, least significant digit first.
pub fn uid(
    sequence: u64,
    start_ts: i64,
    orig_h: Addr,
    orig_p: u16,
    resp_h: Addr,
    resp_p: u16,
) -> String {
    let text = format!(
        "{sequence}|{start_ts}|{}|{orig_p}|{}|{resp_p}",
        python_repr(orig_h),
        python_repr(resp_h)
    );
    let digest = Blake2b::<U13>::digest(text.as_bytes());
    let mut n = digest.iter().fold(0u128, |n, &b| (n << 8) | u128::from(b));
    let mut out = String::with_capacity(18);
    out.push('C');
    for _ in 0..17 {
        out.push(BASE62[(n % 62) as usize] as char);
        n /= 62;
    }
    out
}

/// Community ID v1 with seed 0 (`community_id`): base64 of the SHA-1 of the ordered endpoints.
pub fn community_id(orig_h: Addr, orig_p: u16, resp_h: Addr, resp_p: u16, proto: u8) -> String {
    let (a, b) = (addr_bytes(orig_h), addr_bytes(resp_h));
    let ((a, pa), (b, pb)) = if (a.as_slice(), orig_p) > (b.as_slice(), resp_p) {
        ((b, resp_p), (a, orig_p))
    } else {
        ((a, orig_p), (b, resp_p))
    };
    let mut hash = Sha1::new();
    hash.update(0u16.to_be_bytes());
    hash.update(&a);
    hash.update(&b);
    hash.update([proto, 0]);
    hash.update(pa.to_be_bytes());
    hash.update(pb.to_be_bytes());
    format!(
        "1:{}",
        base64::engine::general_purpose::STANDARD.encode(hash.finalize())
    )
}

fn addr_bytes(addr: Addr) -> Vec<u8> {
    match addr {
        Addr::V4(a) => a.to_be_bytes().to_vec(),
        Addr::V6(a) => a.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(text: &str) -> Addr {
        Addr::V6(text.parse::<std::net::Ipv6Addr>().unwrap().octets())
    }

    #[test]
    fn ipv6_text_is_glibcs() {
        for (addr, text) in [
            ("2001:db8::1", "2001:db8::1"),
            ("::", "::"),
            ("::1", "::1"),
            ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
            ("::192.0.2.1", "::192.0.2.1"),
            ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
            ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4"),
            ("1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"),
            ("fe80::", "fe80::"),
        ] {
            assert_eq!(address_text(v6(addr)), text, "{addr}");
        }
    }

    #[test]
    fn ipv4_repr_is_an_int_and_ipv6_a_bytes_literal() {
        assert_eq!(python_repr(Addr::V4(0xc000_0201)), "3221225985");
        // A quote but no double quote: Python switches to double quotes.
        assert_eq!(
            python_repr(v6("2001:db8::27:5c0a")),
            r#"b" \x01\r\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00'\\\n""#
        );
        // Both: single quotes, the single one escaped.
        let both = Addr::V6(*b" \x01\r\xb8\x00\x00\x00\x00\x00\x00\x00'\r\n'\"");
        assert_eq!(
            python_repr(both),
            r#"b' \x01\r\xb8\x00\x00\x00\x00\x00\x00\x00\'\r\n\'"'"#
        );
    }

    #[test]
    fn uid_and_community_id_are_pythons() {
        // Values printed by tlsmon.records.conn.make_uid and community_id.
        let (client, server) = (Addr::V4(0xc000_020a), Addr::V4(0xc633_6407));
        assert_eq!(
            uid(7, 1_714_564_800_123_456_789, client, 52344, server, 443),
            "CQMeEAMY3VYzTmXOjH"
        );
        assert_eq!(
            community_id(client, 52344, server, 443, 6),
            "1:IhI+4zQAXWLndk2IwGeSW2uNsTI="
        );
        let a = v6("2001:db8::27:5c0a");
        let b = Addr::V6(*b" \x01\r\xb8\x00\x00\x00\x00\x00\x00\x00'\r\n'\"");
        assert_eq!(uid(12_345_678_901, -5, a, 443, b, 1), "CRc8K2JVeiawqktIUO");
        assert_eq!(
            community_id(a, 443, b, 1, 17),
            "1:I0v7oZry6GV4NDKsYBWHdUYIvPM="
        );
    }
}
