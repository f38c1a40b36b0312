//! Handshake message bodies into the structs of `messages` (`tlsmon/tls/parse.py`).
//!
//! Theory of operation: each `parse_*` reads one complete body (4-byte header removed) with the readers of
//! `wire` and returns [`Malformed`] where the Python parser raises `ValueError`. Extensions follow the Python
//! rules exactly: a hello whose extension block is well formed is kept even if one extension's body is not
//! (its code goes to `malformed_extensions`), each decoder sets its fields in the same order as its Python
//! twin so a half-read extension leaves the same fields set, and a ServerHello whose extension *block* is
//! malformed keeps what was read before the damage.

use std::fmt::Write as _;

use super::codes::{
    CERTIFICATE_STATUS_OCSP, EC_CURVE_TYPE_NAMED, EXT_ALPN, EXT_EARLY_DATA, EXT_EC_POINT_FORMATS,
    EXT_ENCRYPTED_CLIENT_HELLO, EXT_ENCRYPT_THEN_MAC, EXT_EXTENDED_MASTER_SECRET, EXT_HEARTBEAT,
    EXT_KEY_SHARE, EXT_KEY_SHARE_OLD, EXT_PADDING, EXT_PRE_SHARED_KEY, EXT_PSK_KEY_EXCHANGE_MODES,
    EXT_RECORD_SIZE_LIMIT, EXT_RENEGOTIATION_INFO, EXT_SERVER_NAME, EXT_SESSION_TICKET,
    EXT_SIGNATURE_ALGORITHMS, EXT_STATUS_REQUEST, EXT_SUPPORTED_GROUPS, EXT_SUPPORTED_VERSIONS,
    HRR_RANDOM_BYTES, KEX_DHE, KEX_DHE_PSK, KEX_ECDHE, KEX_ECDHE_PSK, SSL2_MT_CLIENT_HELLO,
    SSL2_MT_SERVER_HELLO,
};
use super::messages::{ClientHello, ServerHello, ServerKeyExchange};
use super::wire::{
    block16, block24, block8, opaque8_list16, uint16_at, uint16_list16, uint16_list8, uint8_at,
    uint8_list8, Buffer, Malformed, Result,
};

const HELLO_START_LEN: usize = 34;
const ECH_OUTER: u8 = 0;
const SERVER_NAME_HOST: u8 = 0;

/// Python's `bytes.decode("ascii", "backslashreplace")`.
pub fn ascii_text(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    for &b in raw {
        if b < 0x80 {
            out.push(b as char);
        } else {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

fn read_session_id(body: &[u8], off: usize, end: usize) -> Result<(Vec<u8>, usize)> {
    let (start, stop) = block8(body, off, end)?;
    if stop - start > 32 {
        return Err(Malformed);
    }
    Ok((body[start..stop].to_vec(), stop))
}

/// An extension decoder: (hello, code, data, start, end) -> None for a code it does not know, else the
/// offset where it stopped (the extension is malformed unless that is `end`).
type Decoder<H> = fn(&mut H, u32, &[u8], usize, usize) -> Option<Result<usize>>;

/// Walk the extensions block at `off`: record each code, decode the known ones with `decode`, which
/// returns `Ok(None)` for a code it does not know and the offset where it stopped otherwise.
#[allow(clippy::too_many_arguments)] // the hello and its block, then one accessor per list the walk fills
fn read_extensions<H>(
    hello: &mut H,
    body: &[u8],
    off: usize,
    end: usize,
    codes: fn(&mut H) -> &mut Vec<u32>,
    malformed: fn(&mut H) -> &mut Vec<u32>,
    broken: fn(&mut H) -> &mut Option<u32>,
    decode: Decoder<H>,
) -> Result<()> {
    let (mut pos, stop) = block16(body, off, end)?;
    while pos < stop {
        if pos + 4 > stop {
            if pos + 2 <= stop {
                // the header is cut after its code: that extension broke the block
                *broken(hello) = Some(u32::from(u16::from_be_bytes([body[pos], body[pos + 1]])));
            }
            return Err(Malformed);
        }
        let code = u32::from(u16::from_be_bytes([body[pos], body[pos + 1]]));
        let length = u16::from_be_bytes([body[pos + 2], body[pos + 3]]) as usize;
        let start = pos + 4;
        pos = start + length;
        if pos > stop {
            *broken(hello) = Some(code); // its length runs past the block: it broke the block
            return Err(Malformed);
        }
        codes(hello).push(code);
        match decode(hello, code, body, start, pos) {
            None => {}
            Some(Ok(stopped)) if stopped == pos => {}
            Some(_) => malformed(hello).push(code),
        }
    }
    Ok(())
}

// --- ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2) ---

/// `dtls`: the body is a DTLS ClientHello, with a cookie<0..2^8-1> after session_id (RFC 6347 §4.2.1).
pub fn parse_client_hello(body: &[u8], dtls: bool) -> Result<ClientHello> {
    let end = body.len();
    if end < HELLO_START_LEN {
        return Err(Malformed);
    }
    let legacy_version = u32::from(u16::from_be_bytes([body[0], body[1]]));
    let random = body[2..HELLO_START_LEN].to_vec();
    let (session_id, mut off) = read_session_id(body, HELLO_START_LEN, end)?;
    let mut cookie = Vec::new();
    if dtls {
        let (start, stop) = block8(body, off, end)?;
        cookie = body[start..stop].to_vec();
        off = stop;
    }
    let (cipher_suites, off) = uint16_list16(body, off, end)?;
    if cipher_suites.is_empty() {
        return Err(Malformed);
    }
    let (compression_methods, off) = uint8_list8(body, off, end)?;
    if compression_methods.is_empty() {
        return Err(Malformed);
    }
    let mut hello = ClientHello {
        legacy_version,
        random,
        session_id,
        cipher_suites,
        compression_methods,
        cookie,
        ..Default::default()
    };
    if off < end {
        read_extensions(
            &mut hello,
            body,
            off,
            end,
            |h| &mut h.extensions,
            |h| &mut h.malformed_extensions,
            |h| &mut h.broken_extension,
            client_extension,
        )?;
    }
    Ok(hello)
}

#[allow(clippy::too_many_lines)]
fn client_extension(
    ch: &mut ClientHello,
    code: u32,
    data: &[u8],
    off: usize,
    end: usize,
) -> Option<Result<usize>> {
    let result = match code {
        EXT_SERVER_NAME => (|| {
            let (mut pos, stop) = block16(data, off, end)?;
            let mut host: Option<&[u8]> = None;
            while pos < stop {
                if pos + 3 > stop {
                    return Err(Malformed);
                }
                let name_type = data[pos];
                let length = u16::from_be_bytes([data[pos + 1], data[pos + 2]]) as usize;
                let start = pos + 3;
                pos = start + length;
                if pos > stop {
                    return Err(Malformed);
                }
                if name_type == SERVER_NAME_HOST && host.is_none() {
                    host = Some(&data[start..pos]);
                }
            }
            if let Some(host) = host {
                ch.server_name = Some(ascii_text(host));
            }
            Ok(stop)
        })(),
        EXT_ALPN => opaque8_list16(data, off, end).map(|(v, o)| {
            ch.alpn = v;
            o
        }),
        EXT_SUPPORTED_VERSIONS => uint16_list8(data, off, end).map(|(v, o)| {
            ch.supported_versions = v;
            o
        }),
        EXT_SUPPORTED_GROUPS => uint16_list16(data, off, end).map(|(v, o)| {
            ch.supported_groups = v;
            o
        }),
        EXT_KEY_SHARE | EXT_KEY_SHARE_OLD => (|| {
            let (mut pos, stop) = block16(data, off, end)?;
            let mut groups = Vec::new();
            while pos < stop {
                if pos + 4 > stop {
                    return Err(Malformed);
                }
                let group = u32::from(u16::from_be_bytes([data[pos], data[pos + 1]]));
                let length = u16::from_be_bytes([data[pos + 2], data[pos + 3]]) as usize;
                pos += 4 + length;
                if pos > stop {
                    return Err(Malformed);
                }
                groups.push(group);
            }
            ch.key_share_groups = groups;
            Ok(stop)
        })(),
        EXT_SIGNATURE_ALGORITHMS => uint16_list16(data, off, end).map(|(v, o)| {
            ch.signature_algorithms = v;
            o
        }),
        EXT_EC_POINT_FORMATS => uint8_list8(data, off, end).map(|(v, o)| {
            ch.ec_point_formats = v;
            o
        }),
        EXT_PSK_KEY_EXCHANGE_MODES => uint8_list8(data, off, end).map(|(v, o)| {
            ch.psk_key_exchange_modes = v;
            o
        }),
        EXT_STATUS_REQUEST => uint8_at(data, off, end).map(|v| {
            ch.status_request_type = Some(u32::from(v));
            end
        }),
        EXT_SESSION_TICKET => {
            ch.session_ticket_len = Some((end - off) as u32);
            Ok(end)
        }
        EXT_HEARTBEAT => uint8_at(data, off, end).map(|v| {
            ch.heartbeat_mode = Some(u32::from(v));
            off + 1
        }),
        EXT_EXTENDED_MASTER_SECRET => {
            ch.extended_master_secret = true;
            Ok(off)
        }
        EXT_ENCRYPT_THEN_MAC => {
            ch.encrypt_then_mac = true;
            Ok(off)
        }
        EXT_RENEGOTIATION_INFO => block8(data, off, end).map(|(_, stop)| {
            ch.renegotiation_info = true;
            stop
        }),
        EXT_PADDING => {
            ch.padding_len = Some((end - off) as u32);
            Ok(end)
        }
        EXT_RECORD_SIZE_LIMIT => uint16_at(data, off, end).map(|v| {
            ch.record_size_limit = Some(u32::from(v));
            off + 2
        }),
        EXT_ENCRYPTED_CLIENT_HELLO => (|| {
            ch.ech_present = true;
            if uint8_at(data, off, end)? != ECH_OUTER {
                return Ok(off + 1);
            }
            ch.ech_kdf_id = Some(u32::from(uint16_at(data, off + 1, end)?));
            ch.ech_aead_id = Some(u32::from(uint16_at(data, off + 3, end)?));
            ch.ech_config_id = Some(u32::from(uint8_at(data, off + 5, end)?));
            let (_, after_enc) = block16(data, off + 6, end)?;
            Ok(block16(data, after_enc, end)?.1)
        })(),
        EXT_PRE_SHARED_KEY => {
            ch.has_pre_shared_key = true;
            Ok(end)
        }
        EXT_EARLY_DATA => {
            ch.early_data = true;
            Ok(off)
        }
        _ => return None,
    };
    Some(result)
}

// --- ServerHello (RFC 8446 §4.1.3-4.1.4, RFC 5246 §7.4.1.3) ---

/// TLS 1.3 drafts before -22 had no legacy_session_id_echo and no compression byte.
fn is_early_draft(version: u32) -> bool {
    (0x7F00..0x7F16).contains(&version)
}

pub fn parse_server_hello(body: &[u8]) -> Result<ServerHello> {
    let end = body.len();
    if end < HELLO_START_LEN {
        return Err(Malformed);
    }
    let legacy_version = u32::from(u16::from_be_bytes([body[0], body[1]]));
    let random = body[2..HELLO_START_LEN].to_vec();
    let (session_id, cipher_suite, compression_method, off) = if is_early_draft(legacy_version) {
        (
            Vec::new(),
            uint16_at(body, HELLO_START_LEN, end)?,
            0,
            HELLO_START_LEN + 2,
        )
    } else {
        let (session_id, off) = read_session_id(body, HELLO_START_LEN, end)?;
        let cipher = uint16_at(body, off, end)?;
        let compression = uint8_at(body, off + 2, end)?;
        (session_id, cipher, compression, off + 3)
    };
    let is_hrr = random == HRR_RANDOM_BYTES;
    let mut hello = ServerHello {
        legacy_version,
        random,
        session_id,
        cipher_suite: u32::from(cipher_suite),
        compression_method: u32::from(compression_method),
        is_hrr,
        ..Default::default()
    };
    if off < end
        && read_extensions(
            &mut hello,
            body,
            off,
            end,
            |h| &mut h.extensions,
            |h| &mut h.malformed_extensions,
            |h| &mut h.broken_extension,
            server_extension,
        )
        .is_err()
    {
        hello.malformed_extension_block = true;
    }
    Ok(hello)
}

fn server_extension(
    sh: &mut ServerHello,
    code: u32,
    data: &[u8],
    off: usize,
    end: usize,
) -> Option<Result<usize>> {
    let result = match code {
        EXT_SUPPORTED_VERSIONS => uint16_at(data, off, end).map(|v| {
            sh.selected_version = Some(u32::from(v));
            off + 2
        }),
        EXT_KEY_SHARE | EXT_KEY_SHARE_OLD => (|| {
            sh.key_share_group = Some(u32::from(uint16_at(data, off, end)?));
            if sh.is_hrr {
                return Ok(off + 2);
            }
            Ok(block16(data, off + 2, end)?.1)
        })(),
        EXT_ALPN => opaque8_list16(data, off, end).and_then(|(mut protocols, o)| {
            if protocols.len() != 1 {
                return Err(Malformed);
            }
            sh.alpn = protocols.pop();
            Ok(o)
        }),
        EXT_PRE_SHARED_KEY => uint16_at(data, off, end).map(|_| {
            sh.has_pre_shared_key = true;
            off + 2
        }),
        EXT_SESSION_TICKET => {
            sh.session_ticket_ext = true;
            Ok(off)
        }
        EXT_EXTENDED_MASTER_SECRET => {
            sh.extended_master_secret = true;
            Ok(off)
        }
        EXT_ENCRYPT_THEN_MAC => {
            sh.encrypt_then_mac = true;
            Ok(off)
        }
        EXT_RENEGOTIATION_INFO => block8(data, off, end).map(|(_, stop)| {
            sh.renegotiation_info = true;
            stop
        }),
        EXT_STATUS_REQUEST => {
            sh.status_request = true;
            Ok(off)
        }
        EXT_EC_POINT_FORMATS => uint8_list8(data, off, end).map(|(v, o)| {
            sh.ec_point_formats = v;
            o
        }),
        EXT_HEARTBEAT => uint8_at(data, off, end).map(|v| {
            sh.heartbeat_mode = Some(u32::from(v));
            off + 1
        }),
        EXT_RECORD_SIZE_LIMIT => uint16_at(data, off, end).map(|v| {
            sh.record_size_limit = Some(u32::from(v));
            off + 2
        }),
        _ => return None,
    };
    Some(result)
}

// --- SSLv2 hellos (draft-hickman-netscape-ssl-00 §2.5, §2.6); `body` starts with the message type ---

pub fn parse_sslv2_client_hello(body: &[u8]) -> Result<ClientHello> {
    let mut buf = Buffer::new(body);
    if buf.pull_uint8()? != SSL2_MT_CLIENT_HELLO {
        return Err(Malformed);
    }
    let version = buf.pull_uint16()?;
    let specs_len = buf.pull_uint16()?;
    let session_id_len = buf.pull_uint16()? as usize;
    let challenge_len = buf.pull_uint16()? as usize;
    if specs_len == 0 || specs_len % 3 != 0 {
        return Err(Malformed);
    }
    let specs = (0..specs_len / 3)
        .map(|_| buf.pull_uint24())
        .collect::<Result<Vec<u32>>>()?;
    let session_id = buf.pull_bytes(session_id_len)?.to_vec();
    let challenge = buf.pull_bytes(challenge_len)?.to_vec();
    Ok(ClientHello {
        legacy_version: version,
        random: challenge,
        session_id,
        cipher_suites: specs,
        sslv2_format: true,
        ..Default::default()
    })
}

/// The hello (cipher = the first spec the server lists, as Zeek reports it) and the certificate DER.
pub fn parse_sslv2_server_hello(body: &[u8]) -> Result<(ServerHello, Vec<u8>)> {
    let mut buf = Buffer::new(body);
    if buf.pull_uint8()? != SSL2_MT_SERVER_HELLO {
        return Err(Malformed);
    }
    buf.pull_uint8()?; // session_id_hit
    buf.pull_uint8()?; // certificate_type
    let version = buf.pull_uint16()?;
    let cert_len = buf.pull_uint16()? as usize;
    let specs_len = buf.pull_uint16()?;
    let connection_id_len = buf.pull_uint16()? as usize;
    if specs_len % 3 != 0 {
        return Err(Malformed);
    }
    let certificate = buf.pull_bytes(cert_len)?.to_vec();
    let specs = (0..specs_len / 3)
        .map(|_| buf.pull_uint24())
        .collect::<Result<Vec<u32>>>()?;
    let connection_id = buf.pull_bytes(connection_id_len)?.to_vec();
    let hello = ServerHello {
        legacy_version: version,
        random: connection_id,
        cipher_suite: specs.first().copied().unwrap_or(0),
        sslv2_format: true,
        ..Default::default()
    };
    Ok((hello, certificate))
}

// --- Certificate (RFC 5246 §7.4.2, RFC 8446 §4.4.2) ---

/// The DER of the first `keep` certificates in the order sent and the number of entries in the message;
/// entries past `keep` are checked but not copied.
pub fn parse_certificate(body: &[u8], tls13: bool, keep: usize) -> Result<(Vec<Vec<u8>>, usize)> {
    let end = body.len();
    let off = if tls13 { block8(body, 0, end)?.1 } else { 0 };
    let (mut pos, stop) = block24(body, off, end)?;
    let mut chain = Vec::new();
    let mut count = 0;
    while pos < stop {
        let (start, der_end) = block24(body, pos, stop)?;
        if start == der_end {
            return Err(Malformed);
        }
        pos = if tls13 {
            block16(body, der_end, stop)?.1
        } else {
            der_end
        };
        if count < keep {
            chain.push(body[start..der_end].to_vec());
        }
        count += 1;
    }
    if stop != end {
        return Err(Malformed);
    }
    Ok((chain, count))
}

// --- ServerKeyExchange (RFC 5246 §7.4.3, RFC 8422 §5.4, RFC 4279 §3, RFC 5489 §2) ---

fn bit_length(big_endian: &[u8]) -> u32 {
    match big_endian.iter().position(|&b| b != 0) {
        None => 0,
        Some(i) => ((big_endian.len() - i - 1) * 8) as u32 + (8 - big_endian[i].leading_zeros()),
    }
}

/// Read the DH prime length or the named curve; `kex` is the suite's key-exchange family (codes::KEX_*).
pub fn parse_server_key_exchange(body: &[u8], kex: &str) -> Result<ServerKeyExchange> {
    let mut buf = Buffer::new(body);
    if kex == KEX_ECDHE_PSK || kex == KEX_DHE_PSK {
        buf.pull_opaque(2)?; // psk_identity_hint
    }
    if kex == KEX_ECDHE || kex == KEX_ECDHE_PSK {
        if buf.pull_uint8()? != EC_CURVE_TYPE_NAMED {
            return Ok(ServerKeyExchange::default());
        }
        let curve = buf.pull_uint16()?;
        buf.pull_opaque(1)?; // the server's public point
        return Ok(ServerKeyExchange {
            named_curve: Some(curve),
            dh_prime_bits: None,
        });
    }
    if kex == KEX_DHE || kex == KEX_DHE_PSK {
        let prime = buf.pull_opaque(2)?;
        buf.pull_opaque(2)?; // dh_g
        buf.pull_opaque(2)?; // dh_Ys
        if prime.is_empty() {
            return Err(Malformed);
        }
        return Ok(ServerKeyExchange {
            named_curve: None,
            dh_prime_bits: Some(bit_length(prime)),
        });
    }
    Ok(ServerKeyExchange::default())
}

// --- CertificateRequest (RFC 5246 §7.4.4; RFC 8446 §4.3.2) ---

pub fn parse_certificate_request(body: &[u8], version: u32) -> Result<()> {
    let mut buf = Buffer::new(body);
    if version >= 0x0304 {
        buf.pull_opaque(1)?; // certificate_request_context
        buf.pull_opaque(2)?; // extensions
        return Ok(());
    }
    buf.pull_opaque(1)?; // certificate_types
    if version >= 0x0303 {
        buf.pull_uint16_vector(2)?; // supported_signature_algorithms
    }
    buf.pull_list_count(2, |b| b.pull_opaque(2).map(|_| ()))?; // certificate_authorities
    Ok(())
}

// --- CertificateStatus (RFC 6066 §8) ---

/// The DER OCSPResponse of an `ocsp` status, or None for another status type.
pub fn parse_certificate_status(body: &[u8]) -> Result<Option<Vec<u8>>> {
    let mut buf = Buffer::new(body);
    if buf.pull_uint8()? != CERTIFICATE_STATUS_OCSP {
        return Ok(None);
    }
    let response = buf.pull_opaque(3)?;
    if response.is_empty() {
        return Err(Malformed);
    }
    Ok(Some(response.to_vec()))
}

// --- NewSessionTicket (RFC 5077 §3.3) ---

/// The ticket_lifetime_hint in seconds.
pub fn parse_new_session_ticket(body: &[u8]) -> Result<u32> {
    let mut buf = Buffer::new(body);
    let lifetime = buf.pull_uint32()?;
    buf.pull_opaque(2)?; // ticket
    Ok(lifetime)
}
