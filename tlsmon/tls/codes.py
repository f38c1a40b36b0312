"""TLS registry values and their names, spelled as Zeek's ssl.log spells them.

Theory of operation: every table maps a wire code to a name and is looked up through :func:`name_of` (or the
specific helpers), which returns Zeek's ``unknown-N`` for codes that are not listed. Names come from Zeek's
``scripts/base/protocols/ssl/consts.zeek`` where Zeek has a table (versions, alerts, extensions, named groups,
EC point formats, cipher suites in ``tls/ciphers.py``) and from the IANA TLS registries otherwise (signature
schemes, PSK modes, compression methods, handshake and content types). GREASE values (RFC 8701) carry Zeek's
``grease_0xXAXA`` names in the cipher, extension and group tables, as in Zeek.

Derived sets (GREASE values, forward-secret and RC4 suites, the key-exchange family of a suite) are computed
from the tables at import, so each fact is written down exactly once.
"""

from __future__ import annotations

from tlsmon.tls.ciphers import CIPHER_SUITES

# --- protocol versions (RFC 8446 §4.2.1, DTLS RFC 6347/9147, SSLv2 = 0x0002 as Zeek reports it) ---
SSLV2 = 0x0002
SSLV3 = 0x0300
TLSV10 = 0x0301
TLSV11 = 0x0302
TLSV12 = 0x0303
TLSV13 = 0x0304

VERSIONS: dict[int, str] = {
    SSLV2: "SSLv2",
    SSLV3: "SSLv3",
    TLSV10: "TLSv10",
    TLSV11: "TLSv11",
    TLSV12: "TLSv12",
    TLSV13: "TLSv13",
    0xFEFF: "DTLSv10",
    0xFEFD: "DTLSv12",
    0xFEFC: "DTLSv13",
}

#: versions whose records and handshake follow the TLS <= 1.2 rules (Zeek's ``determine_state`` list)
PRE_TLS13_VERSIONS = frozenset({SSLV2, SSLV3, TLSV10, TLSV11, TLSV12})

DTLSV10 = 0xFEFF
DTLSV12 = 0xFEFD
DTLSV13 = 0xFEFC
#: the DTLS versions that follow the TLS <= 1.2 rules (a DTLS analyzer adds them to PRE_TLS13_VERSIONS)
DTLS_PRE13_VERSIONS = frozenset({DTLSV10, DTLSV12})
#: the TLS version each DTLS version is defined against (RFC 4347 §4.1, RFC 6347 §1, RFC 9147 §1)
DTLS_TO_TLS_VERSION: dict[int, int] = {DTLSV10: TLSV11, DTLSV12: TLSV12, DTLSV13: TLSV13}


def version_name(code: int) -> str:
    """Zeek's ``version_strings``: TLS 1.3 drafts 0x7fNN become ``TLSv13-draftNN``."""
    known = VERSIONS.get(code)
    if known is not None:
        return known
    if code // 0xFF == 0x7F:
        return f"TLSv13-draft{code % 0x7F}"
    return f"unknown-{code}"


def is_tls13(version: int) -> bool:
    """Zeek's ``determine_tls13``: TLS 1.3 or one of its 0x7fNN drafts (CCS is meaningless there)."""
    return version == TLSV13 or version // 0xFF == 0x7F


# --- record content types (RFC 8446 §5.1, RFC 6520 heartbeat) ---
CT_CHANGE_CIPHER_SPEC = 20
CT_ALERT = 21
CT_HANDSHAKE = 22
CT_APPLICATION_DATA = 23
CT_HEARTBEAT = 24

CONTENT_TYPES: dict[int, str] = {
    CT_CHANGE_CIPHER_SPEC: "change_cipher_spec",
    CT_ALERT: "alert",
    CT_HANDSHAKE: "handshake",
    CT_APPLICATION_DATA: "application_data",
    CT_HEARTBEAT: "heartbeat",
    25: "tls12_cid",
    26: "ack",
}

#: content types a TLS-over-TCP record may carry (25 and 26 are DTLS-only)
TLS_CONTENT_TYPES = frozenset(
    {CT_CHANGE_CIPHER_SPEC, CT_ALERT, CT_HANDSHAKE, CT_APPLICATION_DATA, CT_HEARTBEAT}
)

# --- SSLv2 message types (draft-hickman-netscape-ssl-00 §2.5-2.7) ---
SSL2_MT_ERROR = 0
SSL2_MT_CLIENT_HELLO = 1
SSL2_MT_CLIENT_MASTER_KEY = 2
SSL2_MT_SERVER_HELLO = 4

# --- handshake message types (IANA TLS HandshakeType) ---
HT_HELLO_REQUEST = 0
HT_CLIENT_HELLO = 1
HT_SERVER_HELLO = 2
HT_HELLO_VERIFY_REQUEST = 3
HT_NEW_SESSION_TICKET = 4
HT_END_OF_EARLY_DATA = 5
HT_HELLO_RETRY_REQUEST = 6
HT_ENCRYPTED_EXTENSIONS = 8
HT_CERTIFICATE = 11
HT_SERVER_KEY_EXCHANGE = 12
HT_CERTIFICATE_REQUEST = 13
HT_SERVER_HELLO_DONE = 14
HT_CERTIFICATE_VERIFY = 15
HT_CLIENT_KEY_EXCHANGE = 16
HT_FINISHED = 20
HT_CERTIFICATE_URL = 21
HT_CERTIFICATE_STATUS = 22
HT_SUPPLEMENTAL_DATA = 23
HT_KEY_UPDATE = 24
HT_COMPRESSED_CERTIFICATE = 25
HT_MESSAGE_HASH = 254

HANDSHAKE_TYPES: dict[int, str] = {
    HT_HELLO_REQUEST: "hello_request",
    HT_CLIENT_HELLO: "client_hello",
    HT_SERVER_HELLO: "server_hello",
    HT_HELLO_VERIFY_REQUEST: "hello_verify_request",
    HT_NEW_SESSION_TICKET: "new_session_ticket",
    HT_END_OF_EARLY_DATA: "end_of_early_data",
    HT_HELLO_RETRY_REQUEST: "hello_retry_request",
    HT_ENCRYPTED_EXTENSIONS: "encrypted_extensions",
    HT_CERTIFICATE: "certificate",
    HT_SERVER_KEY_EXCHANGE: "server_key_exchange",
    HT_CERTIFICATE_REQUEST: "certificate_request",
    HT_SERVER_HELLO_DONE: "server_hello_done",
    HT_CERTIFICATE_VERIFY: "certificate_verify",
    HT_CLIENT_KEY_EXCHANGE: "client_key_exchange",
    HT_FINISHED: "finished",
    HT_CERTIFICATE_URL: "certificate_url",
    HT_CERTIFICATE_STATUS: "certificate_status",
    HT_SUPPLEMENTAL_DATA: "supplemental_data",
    HT_KEY_UPDATE: "key_update",
    HT_COMPRESSED_CERTIFICATE: "compressed_certificate",
    HT_MESSAGE_HASH: "message_hash",
}

# --- ssl_history letters (Zeek main.zeek): lower case as the server sends, upper case as the client sends ---
HISTORY_LETTERS: dict[int, str] = {
    HT_HELLO_REQUEST: "h",
    HT_CLIENT_HELLO: "c",
    HT_SERVER_HELLO: "s",
    HT_HELLO_VERIFY_REQUEST: "v",
    HT_NEW_SESSION_TICKET: "t",
    HT_END_OF_EARLY_DATA: "e",
    HT_HELLO_RETRY_REQUEST: "j",
    HT_ENCRYPTED_EXTENSIONS: "o",
    HT_CERTIFICATE: "x",
    HT_SERVER_KEY_EXCHANGE: "k",
    HT_CERTIFICATE_REQUEST: "r",
    HT_SERVER_HELLO_DONE: "n",
    HT_CERTIFICATE_VERIFY: "y",
    HT_CLIENT_KEY_EXCHANGE: "g",
    HT_FINISHED: "f",
    HT_CERTIFICATE_URL: "w",
    HT_CERTIFICATE_STATUS: "u",
    HT_SUPPLEMENTAL_DATA: "a",
    HT_KEY_UPDATE: "p",
    HT_MESSAGE_HASH: "m",
}
HISTORY_UNKNOWN_HANDSHAKE = "z"
HISTORY_HELLO_RETRY = "j"  # a ServerHello carrying the HRR random
HISTORY_CHANGE_CIPHER_SPEC = "i"
HISTORY_ALERT = "l"
HISTORY_HEARTBEAT = "b"
HISTORY_FLIPPED = "^"
#: Zeek's ``SSL::max_ssl_history_length``
MAX_HISTORY_LENGTH = 100

# --- alerts (RFC 8446 §6, Zeek alert_levels / alert_descriptions) ---
ALERT_LEVEL_WARNING = 1
ALERT_LEVEL_FATAL = 2
ALERT_LEVELS: dict[int, str] = {ALERT_LEVEL_WARNING: "warning", ALERT_LEVEL_FATAL: "fatal"}

ALERT_DESCRIPTIONS: dict[int, str] = {
    0: "close_notify",
    10: "unexpected_message",
    20: "bad_record_mac",
    21: "decryption_failed",
    22: "record_overflow",
    30: "decompression_failure",
    40: "handshake_failure",
    41: "no_certificate",
    42: "bad_certificate",
    43: "unsupported_certificate",
    44: "certificate_revoked",
    45: "certificate_expired",
    46: "certificate_unknown",
    47: "illegal_parameter",
    48: "unknown_ca",
    49: "access_denied",
    50: "decode_error",
    51: "decrypt_error",
    60: "export_restriction",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    90: "user_canceled",
    100: "no_renegotiation",
    110: "unsupported_extension",
    111: "certificate_unobtainable",
    112: "unrecognized_name",
    113: "bad_certificate_status_response",
    114: "bad_certificate_hash_value",
    115: "unknown_psk_identity",
    116: "certificate_required",
    117: "general_error",
    120: "no_application_protocol",
    121: "ech_required",
}

# --- GREASE (RFC 8701): 0x0A0A, 0x1A1A, ... 0xFAFA in cipher, extension, group and version lists ---
GREASE: frozenset[int] = frozenset(0x0A0A + 0x1010 * i for i in range(16))


def _grease_names() -> dict[int, str]:
    return {code: f"grease_0x{code:04X}" for code in GREASE}


# --- extensions (IANA TLS ExtensionType, Zeek's ``extensions`` table names) ---
EXT_SERVER_NAME = 0
EXT_STATUS_REQUEST = 5
EXT_SUPPORTED_GROUPS = 10
EXT_EC_POINT_FORMATS = 11
EXT_SIGNATURE_ALGORITHMS = 13
EXT_HEARTBEAT = 15
EXT_ALPN = 16
EXT_PADDING = 21
EXT_ENCRYPT_THEN_MAC = 22
EXT_EXTENDED_MASTER_SECRET = 23
EXT_RECORD_SIZE_LIMIT = 28
EXT_KEY_SHARE_OLD = 40  # key_share's code in TLS 1.3 drafts before -23
EXT_SESSION_TICKET = 35
EXT_PRE_SHARED_KEY = 41
EXT_EARLY_DATA = 42
EXT_SUPPORTED_VERSIONS = 43
EXT_PSK_KEY_EXCHANGE_MODES = 45
EXT_KEY_SHARE = 51
EXT_ENCRYPTED_CLIENT_HELLO = 0xFE0D
EXT_RENEGOTIATION_INFO = 0xFF01

EXTENSIONS: dict[int, str] = {
    0: "server_name",
    1: "max_fragment_length",
    2: "client_certificate_url",
    3: "trusted_ca_keys",
    4: "truncated_hmac",
    5: "status_request",
    6: "user_mapping",
    7: "client_authz",
    8: "server_authz",
    9: "cert_type",
    10: "supported_groups",
    11: "ec_point_formats",
    12: "srp",
    13: "signature_algorithms",
    14: "use_srtp",
    15: "heartbeat",
    16: "application_layer_protocol_negotiation",
    17: "status_request_v2",
    18: "signed_certificate_timestamp",
    19: "client_certificate_type",
    20: "server_certificate_type",
    21: "padding",
    22: "encrypt_then_mac",
    23: "extended_master_secret",
    24: "token_binding",
    25: "cached_info",
    26: "tls_lts",
    27: "compress_certificate",
    28: "record_size_limit",
    29: "pwd_protect",
    30: "pwd_clear",
    31: "password_salt",
    32: "ticket_pinning",
    33: "tls_cert_with_extern_psk",
    34: "delegated_credential",
    35: "SessionTicket TLS",
    36: "TLMSP",
    37: "TLMSP_proxying",
    38: "TLMSP_delegate",
    39: "supported_ekt_ciphers",
    40: "key_share_old",
    41: "pre_shared_key",
    42: "early_data",
    43: "supported_versions",
    44: "cookie",
    45: "psk_key_exchange_modes",
    46: "TicketEarlyDataInfo",
    47: "certificate_authorities",
    48: "oid_filters",
    49: "post_handshake_auth",
    50: "signature_algorithms_cert",
    51: "key_share",
    52: "transparency_info",
    53: "connection_id_deprecated",
    54: "connection_id",
    55: "external_id_hash",
    56: "external_session_id",
    57: "quic_transport_parameters",
    58: "ticket_request",
    59: "dnssec_chain",
    60: "sequence_number_encryption_algorithms",
    61: "rrc",
    62: "tls_flags",
    13172: "next_protocol_negotiation",
    13175: "origin_bound_certificates",
    13180: "encrypted_client_certificates",
    17513: "application_setting",
    30031: "channel_id",
    30032: "channel_id_new",
    35655: "padding",
    64768: "ech_outer_extensions",
    65037: "encrypted_client_hello",
    65281: "renegotiation_info",
    **_grease_names(),
}

# --- named groups (IANA TLS Supported Groups, Zeek's ``ec_curves`` spellings) ---
NAMED_GROUPS: dict[int, str] = {
    1: "sect163k1",
    2: "sect163r1",
    3: "sect163r2",
    4: "sect193r1",
    5: "sect193r2",
    6: "sect233k1",
    7: "sect233r1",
    8: "sect239k1",
    9: "sect283k1",
    10: "sect283r1",
    11: "sect409k1",
    12: "sect409r1",
    13: "sect571k1",
    14: "sect571r1",
    15: "secp160k1",
    16: "secp160r1",
    17: "secp160r2",
    18: "secp192k1",
    19: "secp192r1",
    20: "secp224k1",
    21: "secp224r1",
    22: "secp256k1",
    23: "secp256r1",
    24: "secp384r1",
    25: "secp521r1",
    26: "brainpoolP256r1",
    27: "brainpoolP384r1",
    28: "brainpoolP512r1",
    29: "x25519",
    30: "x448",
    31: "brainpoolP256r1tls13",
    32: "brainpoolP384r1tls13",
    33: "brainpoolP512r1tls13",
    34: "GC256A",
    35: "GC256B",
    36: "GC256C",
    37: "GC256D",
    38: "GC512A",
    39: "GC512B",
    40: "GC512C",
    41: "curveSM2",
    256: "ffdhe2048",
    257: "ffdhe3072",
    258: "ffdhe4096",
    259: "ffdhe6144",
    260: "ffdhe8192",
    512: "MLKEM512",
    513: "MLKEM768",
    514: "MLKEM1024",
    4587: "SecP256r1MLKEM768",
    4588: "X25519MLKEM768",
    4589: "SecP384r1MLKEM1024",
    4590: "curveSM2MLKEM768",
    16696: "CECPQ2",
    25497: "X25519Kyber768Draft00",
    25498: "SecP256r1Kyber768Draft00",
    0xFF01: "arbitrary_explicit_prime_curves",
    0xFF02: "arbitrary_explicit_char2_curves",
    **_grease_names(),
}

# --- EC point formats (RFC 8422 §5.1.2) ---
EC_POINT_FORMATS: dict[int, str] = {
    0: "uncompressed",
    1: "ansiX962_compressed_prime",
    2: "ansiX962_compressed_char2",
}

# --- ECParameters.curve_type (RFC 8422 §5.4) ---
EC_CURVE_TYPE_NAMED = 3

# --- signature schemes (IANA TLS SignatureScheme; Zeek has no table for these) ---
SIGNATURE_SCHEMES: dict[int, str] = {
    0x0201: "rsa_pkcs1_sha1",
    0x0202: "dsa_sha1_RESERVED",
    0x0203: "ecdsa_sha1",
    0x0401: "rsa_pkcs1_sha256",
    0x0402: "dsa_sha256_RESERVED",
    0x0403: "ecdsa_secp256r1_sha256",
    0x0420: "rsa_pkcs1_sha256_legacy",
    0x0501: "rsa_pkcs1_sha384",
    0x0502: "dsa_sha384_RESERVED",
    0x0503: "ecdsa_secp384r1_sha384",
    0x0520: "rsa_pkcs1_sha384_legacy",
    0x0601: "rsa_pkcs1_sha512",
    0x0602: "dsa_sha512_RESERVED",
    0x0603: "ecdsa_secp521r1_sha512",
    0x0620: "rsa_pkcs1_sha512_legacy",
    0x0704: "eccsi_sha256",
    0x0705: "iso_ibs1",
    0x0706: "iso_ibs2",
    0x0707: "iso_chinese_ibs",
    0x0708: "sm2sig_sm3",
    0x0709: "gostr34102012_256a",
    0x070A: "gostr34102012_256b",
    0x070B: "gostr34102012_256c",
    0x070C: "gostr34102012_256d",
    0x070D: "gostr34102012_512a",
    0x070E: "gostr34102012_512b",
    0x070F: "gostr34102012_512c",
    0x0804: "rsa_pss_rsae_sha256",
    0x0805: "rsa_pss_rsae_sha384",
    0x0806: "rsa_pss_rsae_sha512",
    0x0807: "ed25519",
    0x0808: "ed448",
    0x0809: "rsa_pss_pss_sha256",
    0x080A: "rsa_pss_pss_sha384",
    0x080B: "rsa_pss_pss_sha512",
    0x081A: "ecdsa_brainpoolP256r1tls13_sha256",
    0x081B: "ecdsa_brainpoolP384r1tls13_sha384",
    0x081C: "ecdsa_brainpoolP512r1tls13_sha512",
    0x0904: "mldsa44",
    0x0905: "mldsa65",
    0x0906: "mldsa87",
}

# --- small registries ---
PSK_KEY_EXCHANGE_MODES: dict[int, str] = {0: "psk_ke", 1: "psk_dhe_ke"}  # RFC 8446 §4.2.9
COMPRESSION_METHODS: dict[int, str] = {0: "null", 1: "DEFLATE", 64: "LZS"}  # RFC 3749, RFC 3943
CERTIFICATE_STATUS_OCSP = 1  # RFC 6066 §8 CertificateStatusType
HEARTBEAT_MODES: dict[int, str] = {1: "peer_allowed_to_send", 2: "peer_not_allowed_to_send"}  # RFC 6520

# --- HelloRetryRequest: a ServerHello whose random is SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3) ---
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")

# --- signalling cipher suite values ---
TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00FF  # RFC 5746 §3.3
TLS_FALLBACK_SCSV = 0x5600  # RFC 7507

# --- cipher suites ---
_CIPHER_NAMES: dict[int, str] = {**CIPHER_SUITES, **_grease_names()}


def name_of(table: dict[int, str], code: int) -> str:
    """The table's name for ``code``, or Zeek's ``unknown-N``."""
    found = table.get(code)
    return found if found is not None else f"unknown-{code}"


def cipher_name(code: int) -> str:
    return name_of(_CIPHER_NAMES, code)


def group_name(code: int) -> str:
    return name_of(NAMED_GROUPS, code)


def extension_name(code: int) -> str:
    return name_of(EXTENSIONS, code)


def alert_name(code: int) -> str:
    return name_of(ALERT_DESCRIPTIONS, code)


# --- key exchange families, derived from the suite names ---
KEX_ECDHE = "ecdhe"  # ServerKeyExchange starts with ECParameters (RFC 8422 §5.4)
KEX_ECDHE_PSK = "ecdhe_psk"  # psk_identity_hint, then ECParameters (RFC 5489 §2)
KEX_DHE = "dhe"  # ServerKeyExchange starts with ServerDHParams (RFC 5246 §7.4.3)
KEX_DHE_PSK = "dhe_psk"  # psk_identity_hint, then ServerDHParams (RFC 4279 §3)
KEX_OTHER = "other"

_KEX_PREFIXES: tuple[tuple[str, str], ...] = (
    ("TLS_ECDHE_PSK_", KEX_ECDHE_PSK),
    ("TLS_ECDHE_", KEX_ECDHE),
    ("TLS_ECDH_ANON_", KEX_ECDHE),
    ("TLS_DHE_PSK_", KEX_DHE_PSK),
    ("TLS_PSK_DHE_", KEX_DHE_PSK),
    ("TLS_DHE_", KEX_DHE),
    ("TLS_DH_ANON_", KEX_DHE),
)


def _kex_of_name(suite: str) -> str:
    for prefix, kex in _KEX_PREFIXES:
        if suite.startswith(prefix):
            return kex
    return KEX_OTHER


CIPHER_KEX: dict[int, str] = {
    code: kex for code, suite in CIPHER_SUITES.items() if (kex := _kex_of_name(suite)) != KEX_OTHER
}


def cipher_kex(code: int) -> str:
    """The key-exchange family of a TLS <= 1.2 suite, which decides the ServerKeyExchange layout."""
    return CIPHER_KEX.get(code, KEX_OTHER)


#: suites with an ephemeral key exchange (DHE/ECDHE, anonymous DH/ECDH, CECPQ1); TLS 1.3 goes by key_share
FORWARD_SECRET_CIPHERS: frozenset[int] = frozenset(
    set(CIPHER_KEX) | {code for code, suite in CIPHER_SUITES.items() if "_CECPQ1_" in suite}
)

#: suites that encrypt with RC4 (RFC 7465 prohibits them)
RC4_CIPHERS: frozenset[int] = frozenset(code for code, suite in CIPHER_SUITES.items() if "_RC4_" in suite)
