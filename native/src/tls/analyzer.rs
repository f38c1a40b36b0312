//! One TCP connection's TLS handshake into a [`Summary`]: the port of `tlsmon/tls/analyzer.py`.
//!
//! Theory of operation (the Python module docstring has the full story; the rules follow Zeek's SSL
//! analyzer): each direction has a record reader and a handshake reassembler and is *clear* or *encrypted*.
//! In TLS <= 1.2 a ChangeCipherSpec turns its sender's direction encrypted; in TLS 1.3 the first
//! application_data record does. `established` becomes true at the first encrypted record while both
//! directions are encrypted, and then [`TlsAnalyzer::finished`] is set. `ssl_history` gets one letter per
//! plaintext handshake message, CCS, alert and heartbeat (client upper case, 100 letters at most); a
//! ClientHello from the TCP responder flips the roles and writes `^`. A direction stops on an over-long
//! message, a gap before encryption or a fatal alert it sent; a record-layer anomaly stops both. The bounds of
//! [`Limits`] cut chains, alerts and anomalies with the same named anomalies, in the same order, as Python.
//! QUIC and DTLS remove the record framing themselves and hand plaintext records to [`TlsAnalyzer::record`];
//! with transport `d` hellos carry a cookie, DTLS 1.0/1.2 follow the TLS <= 1.2 rules and the ClientHello
//! after a HelloVerifyRequest replaces the first one (as Zeek).

use super::anomalies::{self, Anomaly};
use super::codes::{
    alert_description, cipher_kex_name, cipher_suite, dtls_to_tls_version, history_letter,
    is_dtls_pre13_version, is_forward_secret_cipher, is_pre_tls13_version, is_rc4_cipher,
    named_group, version_known, ALERT_LEVEL_FATAL, CT_ALERT, CT_APPLICATION_DATA,
    CT_CHANGE_CIPHER_SPEC, CT_HANDSHAKE, CT_HEARTBEAT, DEFAULT_MAX_ALERTS, DEFAULT_MAX_ANOMALIES,
    DEFAULT_MAX_CERTIFICATES_PER_CHAIN, DEFAULT_MAX_CERTIFICATES_PER_CONNECTION, HISTORY_ALERT,
    HISTORY_CHANGE_CIPHER_SPEC, HISTORY_FLIPPED, HISTORY_HEARTBEAT, HISTORY_HELLO_RETRY,
    HISTORY_UNKNOWN_HANDSHAKE, HT_CERTIFICATE, HT_CERTIFICATE_REQUEST, HT_CERTIFICATE_STATUS,
    HT_CLIENT_HELLO, HT_CLIENT_KEY_EXCHANGE, HT_HELLO_VERIFY_REQUEST, HT_NEW_SESSION_TICKET,
    HT_SERVER_HELLO, HT_SERVER_KEY_EXCHANGE, KEX_OTHER, MAX_ALERTS_PER_RECORD, MAX_HISTORY_LENGTH,
    SSL2_MT_CLIENT_HELLO, SSL2_MT_CLIENT_MASTER_KEY, SSL2_MT_ERROR, SSL2_MT_SERVER_HELLO, TLSV12,
    TLSV13, TLS_EMPTY_RENEGOTIATION_INFO_SCSV, TLS_FALLBACK_SCSV,
};
use super::digest::sha256_hex;
use super::fingerprints;
use super::handshake::HandshakeReassembler;
use super::messages::{ClientHello, ServerHello};
use super::parse::{
    ascii_text, parse_certificate, parse_certificate_request, parse_certificate_status,
    parse_client_hello, parse_new_session_ticket, parse_server_hello, parse_server_key_exchange,
    parse_sslv2_client_hello, parse_sslv2_server_hello,
};
use super::record::{Mode, RecordReader, CT_SSLV2};
use super::summary::{Alert, Summary};

/// The TLS fields of `tlsmon.limits.Limits`; the defaults are Python's (generated into codes.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_certificates_per_chain: usize,
    pub max_certificates_per_connection: usize,
    pub max_alerts: usize,
    pub max_anomalies: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_certificates_per_chain: DEFAULT_MAX_CERTIFICATES_PER_CHAIN,
            max_certificates_per_connection: DEFAULT_MAX_CERTIFICATES_PER_CONNECTION,
            max_alerts: DEFAULT_MAX_ALERTS,
            max_anomalies: DEFAULT_MAX_ANOMALIES,
        }
    }
}

/// Zeek's `version_strings`: TLS 1.3 drafts become `TLSv13-draftNN` (Python's `codes.version_name`).
pub fn version_name(code: u32) -> String {
    if let Some(name) = version_known(code) {
        return name.to_owned();
    }
    if code / 0xFF == 0x7F {
        return format!("TLSv13-draft{}", code % 0x7F);
    }
    format!("unknown-{code}")
}

/// Zeek's `determine_tls13`.
pub fn is_tls13(version: u32) -> bool {
    version == TLSV13 || version / 0xFF == 0x7F
}

fn name_or_unknown(name: Option<&'static str>, code: u32) -> String {
    name.map_or_else(|| format!("unknown-{code}"), str::to_owned)
}

struct Direction {
    records: RecordReader,
    handshake: HandshakeReassembler,
    encrypted: bool,
    stopped: bool,
}

impl Direction {
    fn new(is_orig: bool) -> Self {
        Self {
            records: RecordReader::new(is_orig),
            handshake: HandshakeReassembler::default(),
            encrypted: false,
            stopped: false,
        }
    }
}

#[allow(clippy::struct_excessive_bools)]
pub struct TlsAnalyzer {
    pub transport: String,
    pub limits: Limits,
    pub summary: Summary,
    pub anomalies: Vec<Anomaly>,
    /// anomalies not listed because the list was full
    pub anomalies_dropped: u64,
    pub finished: bool,
    /// the first ClientHello and the last ServerHello
    pub client_hello: Option<ClientHello>,
    pub server_hello: Option<ServerHello>,
    orig: Direction,
    resp: Direction,
    flipped: bool,
    /// transport "d": DTLS hellos carry a cookie, DTLS 1.0/1.2 follow the TLS <= 1.2 rules
    dtls: bool,
    /// DTLS: a HelloVerifyRequest came, so the next ClientHello (with the cookie) is the row's (as Zeek)
    replace_client_hello: bool,
    negotiated: Option<u32>,
    client_session_id: Option<Vec<u8>>,
    ticket_with_empty_session: bool,
    client_key_exchange_seen: bool,
    client_psk_seen: bool,
    alerts_cut: bool,
    certificates_left: usize,
}

impl TlsAnalyzer {
    pub fn new(transport: &str, limits: Limits) -> Self {
        Self {
            transport: transport.to_owned(),
            limits,
            summary: Summary::default(),
            anomalies: Vec::new(),
            anomalies_dropped: 0,
            finished: false,
            client_hello: None,
            server_hello: None,
            orig: Direction::new(true),
            resp: Direction::new(false),
            flipped: false,
            dtls: transport == "d",
            replace_client_hello: false,
            negotiated: None,
            client_session_id: None,
            ticket_with_empty_session: false,
            client_key_exchange_seen: false,
            client_psk_seen: false,
            alerts_cut: false,
            certificates_left: limits.max_certificates_per_connection,
        }
    }

    fn side(&mut self, is_orig: bool) -> &mut Direction {
        if is_orig {
            &mut self.orig
        } else {
            &mut self.resp
        }
    }

    // --- StreamConsumer ---

    pub fn data(&mut self, is_orig: bool, data: &[u8]) {
        if self.finished || self.side(is_orig).stopped {
            return;
        }
        self.side(is_orig).records.feed(data);
        self.drain(is_orig);
    }

    pub fn gap(&mut self, is_orig: bool, _length: u64) {
        if self.finished {
            return;
        }
        let side = self.side(is_orig);
        if side.stopped {
            return;
        }
        let anomaly = if side.encrypted {
            None
        } else {
            Some(anomalies::GAP_IN_HANDSHAKE)
        };
        self.stop(is_orig, anomaly);
    }

    pub fn end(&mut self) {
        self.finished = true;
    }

    // --- records framed by another layer (DTLS records, QUIC CRYPTO frames) ---

    /// One plaintext record whose framing another layer removed; `body` as a TLS record's.
    pub fn record(&mut self, is_orig: bool, content_type: u32, body: &[u8]) {
        if self.finished {
            return;
        }
        let side = self.side(is_orig);
        if side.stopped {
            return;
        }
        if content_type == CT_HANDSHAKE && !side.encrypted {
            self.on_handshake_record(is_orig, body);
        } else {
            self.on_record(is_orig, content_type, body);
        }
    }

    /// The versions that follow the TLS <= 1.2 rules: DTLS 1.0/1.2 too on a DTLS flow.
    fn is_pre_tls13(&self, version: u32) -> bool {
        is_pre_tls13_version(version) || (self.dtls && is_dtls_pre13_version(version))
    }

    // --- records ---

    fn drain(&mut self, is_orig: bool) {
        while let Some(record) = self.side(is_orig).records.next_record() {
            if record.content_type == CT_HANDSHAKE && !self.side(is_orig).encrypted {
                self.on_handshake_record(is_orig, &record.body);
            } else {
                self.on_record(is_orig, record.content_type, &record.body);
            }
            if self.finished || self.side(is_orig).stopped {
                break;
            }
        }
        let side = self.side(is_orig);
        if let Some(error) = side.records.error {
            if !side.stopped {
                self.stop(is_orig, Some(error));
                self.stop(!is_orig, None);
            }
        }
    }

    fn on_record(&mut self, is_orig: bool, content_type: u32, body: &[u8]) {
        if self.side(is_orig).encrypted {
            self.on_ciphertext();
        } else if content_type == CT_APPLICATION_DATA {
            if self.negotiated.is_some_and(|v| !self.is_pre_tls13(v)) {
                self.start_encryption(is_orig);
                self.on_ciphertext();
            }
        } else if content_type == CT_CHANGE_CIPHER_SPEC {
            self.on_change_cipher_spec(is_orig, body);
        } else if content_type == CT_ALERT {
            self.on_alerts(is_orig, body);
        } else if content_type == CT_HEARTBEAT {
            let is_client = self.is_client(is_orig);
            self.history(is_client, HISTORY_HEARTBEAT);
        } else if content_type == CT_SSLV2 {
            self.on_sslv2(is_orig, body);
        }
    }

    fn on_ciphertext(&mut self) {
        if self.orig.encrypted && self.resp.encrypted {
            self.summary.established = true;
            self.finished = true;
        }
    }

    fn start_encryption(&mut self, is_orig: bool) {
        let side = self.side(is_orig);
        side.encrypted = true;
        side.handshake.reset();
        side.records.keep_bodies = false;
    }

    fn on_change_cipher_spec(&mut self, is_orig: bool, body: &[u8]) {
        if body != [1] {
            self.anomaly(anomalies::MALFORMED_CHANGE_CIPHER_SPEC);
        }
        let is_client = self.is_client(is_orig);
        self.history(is_client, HISTORY_CHANGE_CIPHER_SPEC);
        if is_orig {
            self.summary.ccs_orig = true;
        } else {
            self.summary.ccs_resp = true;
        }
        if !self.negotiated.is_some_and(is_tls13) {
            self.start_encryption(is_orig);
        }
        if is_client && self.ticket_with_empty_session && !self.client_key_exchange_seen {
            self.summary.resumed = true;
        }
    }

    fn on_alerts(&mut self, is_orig: bool, body: &[u8]) {
        if body.is_empty() || body.len() % 2 != 0 {
            self.anomaly(anomalies::MALFORMED_ALERT);
        }
        let is_client = self.is_client(is_orig);
        let mut fatal = false;
        let upper = body.len().saturating_sub(1).min(2 * MAX_ALERTS_PER_RECORD);
        for i in (0..upper).step_by(2) {
            let (level, description) = (u32::from(body[i]), u32::from(body[i + 1]));
            let name = name_or_unknown(alert_description(description), description);
            self.history(is_client, HISTORY_ALERT);
            self.summary.last_alert = Some(name.clone());
            if self.summary.alerts.len() < self.limits.max_alerts {
                self.summary.alerts.push(Alert {
                    is_orig,
                    level,
                    description,
                    name,
                });
            } else if !self.alerts_cut {
                self.alerts_cut = true;
                self.anomaly(anomalies::TOO_MANY_ALERTS);
            }
            fatal = fatal || level == ALERT_LEVEL_FATAL;
        }
        if fatal {
            self.stop(is_orig, None);
        }
    }

    // --- handshake messages ---

    fn on_handshake_record(&mut self, is_orig: bool, body: &[u8]) {
        let messages = self.side(is_orig).handshake.feed(body);
        for (msg_type, message) in messages {
            self.on_message(is_orig, msg_type, &message);
            let side = self.side(is_orig);
            if side.stopped || side.encrypted || self.finished {
                return;
            }
        }
        if let Some(error) = self.side(is_orig).handshake.error {
            self.stop(is_orig, Some(error));
        }
    }

    fn on_message(&mut self, is_orig: bool, msg_type: u32, body: &[u8]) {
        if msg_type == HT_CLIENT_HELLO && !is_orig && self.client_hello.is_none() && !self.flipped {
            self.flipped = true;
            self.summary.ssl_history.push(HISTORY_FLIPPED as char);
        }
        let is_client = is_orig != self.flipped;
        if msg_type == HT_CLIENT_HELLO {
            self.history(is_client, b'c');
            match parse_client_hello(body, self.dtls) {
                Ok(hello) => self.on_client_hello(hello),
                Err(_) => self.anomaly(anomalies::MALFORMED_CLIENT_HELLO),
            }
        } else if msg_type == HT_SERVER_HELLO {
            if let Ok(hello) = parse_server_hello(body) {
                let letter = if hello.is_hrr {
                    HISTORY_HELLO_RETRY
                } else {
                    b's'
                };
                self.history(is_client, letter);
                self.on_server_hello(hello);
            } else {
                self.history(is_client, b's');
                self.anomaly(anomalies::MALFORMED_SERVER_HELLO);
            }
        } else {
            self.history(
                is_client,
                history_letter(msg_type).unwrap_or(HISTORY_UNKNOWN_HANDSHAKE),
            );
            match msg_type {
                HT_CERTIFICATE => self.on_certificate(is_client, body),
                HT_SERVER_KEY_EXCHANGE => self.on_server_key_exchange(body),
                HT_CERTIFICATE_REQUEST => self.on_certificate_request(body),
                HT_CERTIFICATE_STATUS => self.on_certificate_status(body),
                HT_NEW_SESSION_TICKET => self.on_new_session_ticket(body),
                HT_CLIENT_KEY_EXCHANGE if is_client => self.client_key_exchange_seen = true,
                HT_HELLO_VERIFY_REQUEST if self.dtls && !is_client => {
                    self.replace_client_hello = true;
                }
                _ => {}
            }
        }
    }

    fn on_client_hello(&mut self, hello: ClientHello) {
        for _ in 0..hello.malformed_extensions.len() {
            self.anomaly(anomalies::MALFORMED_EXTENSION);
        }
        if hello.session_ticket_len.is_some_and(|n| n > 0) {
            self.ticket_with_empty_session = true;
        }
        if !hello.session_id.is_empty() && hello.session_id != [0u8; 32] {
            self.client_session_id = Some(hello.session_id.clone());
            self.ticket_with_empty_session = false;
        }
        if hello.has_pre_shared_key {
            self.client_psk_seen = true;
        }
        if self.client_hello.is_some() && !self.replace_client_hello {
            return;
        }
        self.replace_client_hello = false;
        self.fill_client(&hello);
        self.fingerprint_client(&hello);
        self.client_hello = Some(hello);
    }

    fn fill_client(&mut self, hello: &ClientHello) {
        let s = &mut self.summary;
        s.server_name.clone_from(&hello.server_name);
        s.client_version_code = Some(hello.legacy_version);
        s.client_ciphers.clone_from(&hello.cipher_suites);
        s.client_compression_methods
            .clone_from(&hello.compression_methods);
        s.client_session_id_len = Some(hello.session_id.len() as u32);
        s.client_extensions.clone_from(&hello.extensions);
        s.client_malformed_extensions
            .clone_from(&hello.malformed_extensions);
        s.client_alpn = hello.alpn.iter().map(|p| ascii_text(p)).collect();
        s.client_supported_versions
            .clone_from(&hello.supported_versions);
        s.client_supported_groups
            .clone_from(&hello.supported_groups);
        s.client_key_share_groups
            .clone_from(&hello.key_share_groups);
        s.client_signature_algorithms
            .clone_from(&hello.signature_algorithms);
        s.client_ec_point_formats
            .clone_from(&hello.ec_point_formats);
        s.client_psk_modes.clone_from(&hello.psk_key_exchange_modes);
        s.client_status_request = hello.status_request_type;
        s.client_session_ticket_len = hello.session_ticket_len;
        s.client_heartbeat = hello.heartbeat_mode;
        s.client_ems = hello.extended_master_secret;
        s.client_reneg_info = hello.renegotiation_info;
        s.client_etm = hello.encrypt_then_mac;
        s.client_padding_len = hello.padding_len;
        s.client_record_size_limit = hello.record_size_limit;
        s.client_ech = hello.ech_present;
        s.client_ech_kdf = hello.ech_kdf_id;
        s.client_ech_aead = hello.ech_aead_id;
        s.client_ech_config_id = hello.ech_config_id;
        s.fallback_scsv = hello.cipher_suites.contains(&TLS_FALLBACK_SCSV);
        s.reneg_scsv = hello
            .cipher_suites
            .contains(&TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
        s.sslv2_client_hello = hello.sslv2_format;
    }

    fn on_server_hello(&mut self, hello: ServerHello) {
        for _ in 0..hello.malformed_extensions.len() {
            self.anomaly(anomalies::MALFORMED_EXTENSION);
        }
        if hello.malformed_extension_block {
            self.anomaly(anomalies::MALFORMED_EXTENSION_BLOCK);
        }
        let version = hello.version();
        self.negotiated = Some(version);
        let s = &mut self.summary;
        s.version = Some(version_name(version));
        s.version_code = Some(version);
        s.cipher = Some(name_or_unknown(
            cipher_suite(hello.cipher_suite),
            hello.cipher_suite,
        ));
        s.cipher_code = Some(hello.cipher_suite);
        s.server_version_code = Some(hello.legacy_version);
        s.server_extensions.clone_from(&hello.extensions);
        s.server_malformed_extensions
            .clone_from(&hello.malformed_extensions);
        s.server_malformed_extensions.extend(hello.broken_extension);
        s.server_compression = Some(hello.compression_method);
        if hello.is_hrr {
            s.hrr = true;
            s.hrr_group = hello.key_share_group;
        } else {
            s.server_key_share_group = hello.key_share_group;
        }
        if let Some(group) = hello.key_share_group {
            s.curve = Some(name_or_unknown(named_group(group), group));
            s.curve_code = Some(group);
        }
        if let Some(alpn) = &hello.alpn {
            s.next_protocol = Some(ascii_text(alpn));
        }
        if self
            .client_session_id
            .as_ref()
            .is_some_and(|id| *id == hello.session_id)
            && !is_tls13(version)
        {
            s.resumed = true;
        }
        if hello.has_pre_shared_key && self.client_psk_seen {
            s.resumed = true;
        }
        let pre_tls13 =
            is_pre_tls13_version(version) || (self.dtls && is_dtls_pre13_version(version));
        s.rc4 = Some(is_rc4_cipher(hello.cipher_suite));
        s.forward_secrecy = Some(if pre_tls13 {
            is_forward_secret_cipher(hello.cipher_suite)
        } else {
            s.server_key_share_group.is_some()
        });
        if !hello.is_hrr || self.server_hello.is_none() {
            self.fingerprint_server(&hello);
        }
        self.server_hello = Some(hello);
    }

    fn on_certificate(&mut self, is_client: bool, body: &[u8]) {
        let tls13 = self.negotiated.is_some_and(is_tls13);
        let held = if is_client {
            &self.summary.client_cert_chain
        } else {
            &self.summary.cert_chain
        };
        if !held.is_empty() {
            return; // the first chain of each side is the row's
        }
        let per_chain = self.limits.max_certificates_per_chain;
        let keep = per_chain.min(self.certificates_left);
        let Ok((chain, count)) = parse_certificate(body, tls13, keep) else {
            self.anomaly(anomalies::MALFORMED_CERTIFICATE);
            return;
        };
        if count > per_chain {
            self.anomaly(anomalies::CERTIFICATE_CHAIN_TOO_LONG);
        }
        if self.certificates_left < count.min(per_chain) {
            self.anomaly(anomalies::TOO_MANY_CERTIFICATES);
        }
        self.certificates_left -= chain.len();
        let fps: Vec<String> = chain.iter().map(|der| sha256_hex(der)).collect();
        let s = &mut self.summary;
        if is_client {
            s.client_cert_chain = chain;
            s.client_cert_chain_fps = fps;
        } else {
            s.cert_chain = chain;
            s.cert_chain_fps = fps;
        }
    }

    fn on_server_key_exchange(&mut self, body: &[u8]) {
        let Some(cipher) = self.summary.cipher_code else {
            return;
        };
        let kex = cipher_kex_name(cipher).unwrap_or(KEX_OTHER);
        let Ok(params) = parse_server_key_exchange(body, kex) else {
            self.anomaly(anomalies::MALFORMED_SERVER_KEY_EXCHANGE);
            return;
        };
        if let Some(curve) = params.named_curve {
            self.summary.curve = Some(name_or_unknown(named_group(curve), curve));
            self.summary.curve_code = Some(curve);
        }
        if params.dh_prime_bits.is_some() {
            self.summary.dh_prime_bits = params.dh_prime_bits;
        }
    }

    fn on_certificate_request(&mut self, body: &[u8]) {
        // Python's `self._negotiated or TLSV12`: a negotiated version 0 is falsy too
        let mut version = self.negotiated.filter(|&v| v != 0).unwrap_or(TLSV12);
        if self.dtls {
            version = dtls_to_tls_version(version).unwrap_or(version);
        }
        if parse_certificate_request(body, version).is_err() {
            self.anomaly(anomalies::MALFORMED_CERTIFICATE_REQUEST);
            return;
        }
        self.summary.cert_request = true;
    }

    fn on_certificate_status(&mut self, body: &[u8]) {
        match parse_certificate_status(body) {
            Err(_) => self.anomaly(anomalies::MALFORMED_CERTIFICATE_STATUS),
            Ok(Some(response)) => {
                self.summary.ocsp_stapled = true;
                self.summary.ocsp_response = Some(response);
            }
            Ok(None) => {}
        }
    }

    fn on_new_session_ticket(&mut self, body: &[u8]) {
        if self.negotiated.is_some_and(is_tls13) {
            return;
        }
        match parse_new_session_ticket(body) {
            Ok(hint) => self.summary.session_ticket_lifetime_hint = Some(hint),
            Err(_) => self.anomaly(anomalies::MALFORMED_NEW_SESSION_TICKET),
        }
    }

    // --- SSLv2 ---

    fn on_sslv2(&mut self, is_orig: bool, body: &[u8]) {
        let msg_type = body.first().map(|&b| u32::from(b));
        let is_client = self.is_client(is_orig);
        match msg_type {
            Some(SSL2_MT_CLIENT_HELLO) if is_client => self.on_sslv2_client_hello(body),
            Some(SSL2_MT_SERVER_HELLO) if !is_client => self.on_sslv2_server_hello(body),
            Some(SSL2_MT_CLIENT_MASTER_KEY) if is_client => {
                // both directions are encrypted from here on (draft-hickman-netscape-ssl-00 §2.5)
                self.start_encryption(true);
                self.start_encryption(false);
            }
            Some(SSL2_MT_ERROR) if body.len() >= 3 => {
                self.history(is_client, HISTORY_ALERT);
                let code = u32::from(body[1]) << 8 | u32::from(body[2]);
                self.summary.last_alert = Some(name_or_unknown(alert_description(code), code));
            }
            _ => {}
        }
    }

    fn on_sslv2_client_hello(&mut self, body: &[u8]) {
        let Ok(hello) = parse_sslv2_client_hello(body) else {
            self.anomaly(anomalies::MALFORMED_SSLV2_CLIENT_HELLO);
            return;
        };
        self.history(true, b'c');
        self.on_client_hello(hello);
    }

    fn on_sslv2_server_hello(&mut self, body: &[u8]) {
        let Ok((hello, certificate)) = parse_sslv2_server_hello(body) else {
            self.anomaly(anomalies::MALFORMED_SSLV2_SERVER_HELLO);
            return;
        };
        self.history(false, b's');
        let client = if self.flipped {
            &mut self.resp
        } else {
            &mut self.orig
        };
        if client.records.mode == Mode::V2Hello {
            client.records.mode = Mode::V2;
        }
        self.on_server_hello(hello);
        if !certificate.is_empty() {
            self.summary.cert_chain_fps = vec![sha256_hex(&certificate)];
            self.summary.cert_chain = vec![certificate];
        }
    }

    // --- helpers ---

    fn is_client(&self, is_orig: bool) -> bool {
        is_orig != self.flipped
    }

    /// List `name` while the list has room; past max_anomalies count it, naming the cut once.
    fn anomaly(&mut self, name: Anomaly) {
        if self.anomalies.len() < self.limits.max_anomalies {
            self.anomalies.push(name);
            return;
        }
        if self.anomalies_dropped == 0 {
            self.anomalies.push(anomalies::TOO_MANY_ANOMALIES);
        }
        self.anomalies_dropped += 1;
    }

    fn history(&mut self, is_client: bool, letter: u8) {
        let max = MAX_HISTORY_LENGTH as usize;
        let history = &mut self.summary.ssl_history;
        if history.len() >= max {
            return;
        }
        history.push(if is_client {
            letter.to_ascii_uppercase()
        } else {
            letter.to_ascii_lowercase()
        } as char);
        if history.len() == max {
            self.anomaly(anomalies::HISTORY_TOO_LONG);
        }
    }

    fn stop(&mut self, is_orig: bool, anomaly: Option<Anomaly>) {
        let side = self.side(is_orig);
        side.stopped = true;
        let error = side.records.error;
        side.records.stop(error);
        side.handshake.reset();
        if let Some(anomaly) = anomaly {
            self.anomaly(anomaly);
        }
        if self.orig.stopped && self.resp.stopped {
            self.finished = true;
        }
    }

    fn fingerprint_client(&mut self, hello: &ClientHello) {
        let Some((ja4, ja4_r)) = fingerprints::ja4(hello, &self.transport) else {
            self.anomaly(anomalies::FINGERPRINT_FAILED);
            return;
        };
        self.summary.ja3 = Some(fingerprints::ja3(hello).1);
        self.summary.ja4 = Some(ja4);
        self.summary.ja4_r = Some(ja4_r);
    }

    fn fingerprint_server(&mut self, hello: &ServerHello) {
        self.summary.ja3s = Some(fingerprints::ja3s(hello).1);
    }
}
