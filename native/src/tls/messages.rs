//! Decoded TLS handshake messages (`tlsmon/tls/messages.py`): wire values kept as integers and bytes, lists
//! in wire order with GREASE kept. Nothing here turns a code into a name.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)]
pub struct ClientHello {
    pub legacy_version: u32,
    pub random: Vec<u8>,
    pub session_id: Vec<u8>,
    /// uint16 suites, or the 24-bit CIPHER-KINDs of an SSLv2 CLIENT-HELLO
    pub cipher_suites: Vec<u32>,
    pub compression_methods: Vec<u32>,
    pub extensions: Vec<u32>,
    pub sslv2_format: bool,
    /// first host_name of server_name, ASCII with backslash escapes (Python's "backslashreplace")
    pub server_name: Option<String>,
    pub alpn: Vec<Vec<u8>>,
    pub supported_versions: Vec<u32>,
    pub supported_groups: Vec<u32>,
    pub key_share_groups: Vec<u32>,
    pub signature_algorithms: Vec<u32>,
    pub ec_point_formats: Vec<u32>,
    pub psk_key_exchange_modes: Vec<u32>,
    pub status_request_type: Option<u32>,
    pub session_ticket_len: Option<u32>,
    pub heartbeat_mode: Option<u32>,
    pub extended_master_secret: bool,
    pub encrypt_then_mac: bool,
    pub renegotiation_info: bool,
    pub padding_len: Option<u32>,
    pub record_size_limit: Option<u32>,
    pub ech_present: bool,
    pub ech_kdf_id: Option<u32>,
    pub ech_aead_id: Option<u32>,
    pub ech_config_id: Option<u32>,
    pub has_pre_shared_key: bool,
    pub early_data: bool,
    /// codes of extensions whose body did not match their syntax
    pub malformed_extensions: Vec<u32>,
    /// the code of the extension whose length broke the extension block (when its code could be read)
    pub broken_extension: Option<u32>,
    /// DTLS only: the cookie echoed from a HelloVerifyRequest (RFC 6347 §4.2.1); empty in TLS
    pub cookie: Vec<u8>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)]
pub struct ServerHello {
    pub legacy_version: u32,
    pub random: Vec<u8>,
    pub session_id: Vec<u8>,
    pub cipher_suite: u32,
    pub compression_method: u32,
    pub extensions: Vec<u32>,
    pub sslv2_format: bool,
    /// HelloRetryRequest: the RFC 8446 §4.1.3 random
    pub is_hrr: bool,
    pub selected_version: Option<u32>,
    pub alpn: Option<Vec<u8>>,
    pub key_share_group: Option<u32>,
    pub has_pre_shared_key: bool,
    pub session_ticket_ext: bool,
    pub extended_master_secret: bool,
    pub encrypt_then_mac: bool,
    pub renegotiation_info: bool,
    pub status_request: bool,
    pub ec_point_formats: Vec<u32>,
    pub heartbeat_mode: Option<u32>,
    pub record_size_limit: Option<u32>,
    pub malformed_extensions: Vec<u32>,
    pub malformed_extension_block: bool,
    /// the code of the extension whose length broke the block (when its code could be read)
    pub broken_extension: Option<u32>,
}

impl ServerHello {
    /// The negotiated version: supported_versions when present (TLS 1.3), else the legacy field.
    pub fn version(&self) -> u32 {
        self.selected_version.unwrap_or(self.legacy_version)
    }
}

/// What is read from a TLS <= 1.2 ServerKeyExchange.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerKeyExchange {
    pub named_curve: Option<u32>,
    pub dh_prime_bits: Option<u32>,
}
