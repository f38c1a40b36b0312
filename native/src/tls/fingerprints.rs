//! JA3, JA3S (salesforce) and JA4 with its raw form JA4_r (FoxIO), as `tlsmon/tls/fingerprints.py` computes
//! them; see that module for the definitions. Pure functions of the decoded hello.

use super::codes::is_grease;
use super::digest::{md5_hex, sha256_hex};
use super::messages::{ClientHello, ServerHello};

const EXT_SERVER_NAME: u32 = 0x0000;
const EXT_ALPN: u32 = 0x0010;
const EMPTY_HASH: &str = "000000000000";

fn decimals(values: &[u32], drop_grease: bool) -> String {
    values
        .iter()
        .filter(|&&v| !(drop_grease && is_grease(v)))
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join("-")
}

/// The JA3 string of a ClientHello and its MD5.
pub fn ja3(ch: &ClientHello) -> (String, String) {
    let text = format!(
        "{},{},{},{},{}",
        ch.legacy_version,
        decimals(&ch.cipher_suites, true),
        decimals(&ch.extensions, true),
        decimals(&ch.supported_groups, true),
        decimals(&ch.ec_point_formats, false)
    );
    let digest = md5_hex(text.as_bytes());
    (text, digest)
}

/// The JA3S string of a ServerHello and its MD5.
pub fn ja3s(sh: &ServerHello) -> (String, String) {
    let text = format!(
        "{},{},{}",
        sh.legacy_version,
        sh.cipher_suite,
        decimals(&sh.extensions, false)
    );
    let digest = md5_hex(text.as_bytes());
    (text, digest)
}

fn version_rank(version: u32) -> u32 {
    if version >> 8 == 0xFE {
        0xFFFF - version
    } else {
        version
    }
}

fn ja4_version(ch: &ClientHello) -> &'static str {
    let offered: Vec<u32> = ch
        .supported_versions
        .iter()
        .copied()
        .filter(|&v| !is_grease(v))
        .collect();
    let version = match offered.iter().max() {
        None => ch.legacy_version,
        Some(&highest) if highest >= 0xFE00 => {
            // max() by rank keeps the first of equal ranks, as Python's max(key=) does
            let mut best = offered[0];
            for &v in &offered[1..] {
                if version_rank(v) > version_rank(best) {
                    best = v;
                }
            }
            best
        }
        Some(&highest) => highest,
    };
    match version {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 | 0x0200 => "s2",
        0x0100 => "s1",
        0xFEFF => "d1",
        0xFEFD => "d2",
        0xFEFC => "d3",
        _ => "00",
    }
}

fn is_alnum(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
}

/// JA4's two ALPN characters.
pub fn ja4_alpn(alpn: &[Vec<u8>]) -> String {
    let Some(first) = alpn.first().filter(|p| !p.is_empty()) else {
        return "00".to_owned();
    };
    let (a, z) = (first[0], first[first.len() - 1]);
    if is_alnum(a) && is_alnum(z) {
        return format!("{}{}", a as char, z as char);
    }
    // the first and last digits of the protocol's lowercase hex
    let hex = b"0123456789abcdef";
    format!(
        "{}{}",
        hex[(a >> 4) as usize] as char,
        hex[(z & 15) as usize] as char
    )
}

fn hash12(text: &str) -> String {
    if text.is_empty() {
        return EMPTY_HASH.to_owned();
    }
    sha256_hex(text.as_bytes())[..12].to_owned()
}

fn hex4(value: u32) -> String {
    format!("{value:04x}")
}

/// The JA4 fingerprint of a ClientHello and its raw form JA4_r; None for a transport other than t, q, d
/// (Python raises ValueError there).
pub fn ja4(ch: &ClientHello, transport: &str) -> Option<(String, String)> {
    if !matches!(transport, "t" | "q" | "d") {
        return None;
    }
    let mut ciphers: Vec<u32> = ch
        .cipher_suites
        .iter()
        .copied()
        .filter(|&c| !is_grease(c))
        .collect();
    ciphers.sort_unstable();
    let cipher_hexes: Vec<String> = ciphers.into_iter().map(hex4).collect();
    let mut exts: Vec<u32> = ch
        .extensions
        .iter()
        .copied()
        .filter(|&e| !is_grease(e) && e != EXT_SERVER_NAME && e != EXT_ALPN)
        .collect();
    exts.sort_unstable();
    let ext_hexes: Vec<String> = exts.into_iter().map(hex4).collect();
    let listed = ch
        .extensions
        .iter()
        .filter(|&&e| e == EXT_SERVER_NAME || e == EXT_ALPN)
        .count();
    let ext_count = ext_hexes.len() + listed;
    let sigalgs = ch
        .signature_algorithms
        .iter()
        .copied()
        .filter(|&s| !is_grease(s))
        .map(hex4)
        .collect::<Vec<_>>()
        .join(",");
    let prefix = format!(
        "{transport}{}{}{:02}{:02}{}",
        ja4_version(ch),
        if ch.extensions.contains(&EXT_SERVER_NAME) {
            'd'
        } else {
            'i'
        },
        cipher_hexes.len().min(99),
        ext_count.min(99),
        ja4_alpn(&ch.alpn)
    );
    let cipher_list = cipher_hexes.join(",");
    let ext_list = ext_hexes.join(",");
    let ext_sig = if sigalgs.is_empty() {
        ext_list.clone()
    } else {
        format!("{ext_list}_{sigalgs}")
    };
    let ext_hash = if ext_list.is_empty() {
        EMPTY_HASH.to_owned()
    } else {
        hash12(&ext_sig)
    };
    let fingerprint = format!("{prefix}_{}_{ext_hash}", hash12(&cipher_list));
    let raw = format!("{prefix}_{cipher_list}_{ext_sig}");
    Some((fingerprint, raw))
}
