//! The TLS stage's anomaly names, spelled exactly as `tlsmon/tls/anomalies.py` and `TlsLimitAnomaly` in
//! `tlsmon/tls/analyzer.py` spell them (a name is never renamed or reused).

pub type Anomaly = &'static str;

pub const RECORD_TOO_LONG: Anomaly = "tls.record_too_long";
pub const UNKNOWN_CONTENT_TYPE: Anomaly = "tls.unknown_content_type";
pub const BAD_RECORD_VERSION: Anomaly = "tls.bad_record_version";
pub const HANDSHAKE_TOO_LONG: Anomaly = "tls.handshake_too_long";
pub const GAP_IN_HANDSHAKE: Anomaly = "tls.gap_in_handshake";
pub const MALFORMED_CLIENT_HELLO: Anomaly = "tls.malformed_client_hello";
pub const MALFORMED_SERVER_HELLO: Anomaly = "tls.malformed_server_hello";
pub const MALFORMED_SSLV2_CLIENT_HELLO: Anomaly = "tls.malformed_sslv2_client_hello";
pub const MALFORMED_SSLV2_SERVER_HELLO: Anomaly = "tls.malformed_sslv2_server_hello";
pub const MALFORMED_EXTENSION: Anomaly = "tls.malformed_extension";
pub const MALFORMED_EXTENSION_BLOCK: Anomaly = "tls.malformed_extension_block";
pub const MALFORMED_CERTIFICATE: Anomaly = "tls.malformed_certificate";
pub const MALFORMED_SERVER_KEY_EXCHANGE: Anomaly = "tls.malformed_server_key_exchange";
pub const MALFORMED_CERTIFICATE_REQUEST: Anomaly = "tls.malformed_certificate_request";
pub const MALFORMED_CERTIFICATE_STATUS: Anomaly = "tls.malformed_certificate_status";
pub const MALFORMED_NEW_SESSION_TICKET: Anomaly = "tls.malformed_new_session_ticket";
pub const MALFORMED_ALERT: Anomaly = "tls.malformed_alert";
pub const MALFORMED_CHANGE_CIPHER_SPEC: Anomaly = "tls.malformed_change_cipher_spec";
pub const HISTORY_TOO_LONG: Anomaly = "tls.ssl_history_too_long";
pub const FINGERPRINT_FAILED: Anomaly = "tls.fingerprint_failed";

// limits (TlsLimitAnomaly)
pub const CERTIFICATE_CHAIN_TOO_LONG: Anomaly = "tls.certificate_chain_too_long";
pub const TOO_MANY_CERTIFICATES: Anomaly = "tls.too_many_certificates";
pub const TOO_MANY_ALERTS: Anomaly = "tls.too_many_alerts";
pub const TOO_MANY_ANOMALIES: Anomaly = "tls.too_many_anomalies";
