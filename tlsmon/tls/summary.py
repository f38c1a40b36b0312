"""The TLS part of a connection row: :class:`TlsSummary` and its Parquet columns, :data:`TLS_COLUMNS`.

Theory of operation: the analyzer fills one :class:`TlsSummary` per TCP connection while it reads the
handshake; the records stage reads its attributes by the names in :data:`TLS_COLUMNS` (one column per field,
same name, same order, except the DER lists ``cert_chain``/``client_cert_chain``, which go to the certificates
table once per distinct certificate). Columns that Zeek's ssl.log has keep Zeek's name and spelling (``version``,
``cipher``, ``curve``, ``server_name``, ``resumed``, ``last_alert``, ``next_protocol``, ``established``,
``ssl_history``, ``cert_chain_fps``, ``client_cert_chain_fps``); the others are plain snake_case. Codes are
kept next to names so a query never depends on a name table. Absent values are None (null), lists default to
empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict

import pyarrow as pa

from tlsmon.columns import Column, ColumnGroup


class AlertEntry(TypedDict):
    """One plaintext alert, as stored in the ``alerts`` list column."""

    direction: str  # "orig" or "resp": which TCP endpoint sent it
    level: int
    description: int
    name: str


@dataclass(slots=True)
class TlsSummary:
    version: str | None = None
    version_code: int | None = None
    cipher: str | None = None
    cipher_code: int | None = None
    curve: str | None = None
    curve_code: int | None = None
    server_name: str | None = None
    resumed: bool = False
    established: bool = False
    next_protocol: str | None = None
    last_alert: str | None = None
    ssl_history: str = ""
    client_version_code: int | None = None
    client_ciphers: list[int] = field(default_factory=list)
    client_compression_methods: list[int] = field(default_factory=list)
    client_session_id_len: int | None = None
    client_extensions: list[int] = field(default_factory=list)
    client_malformed_extensions: list[int] = field(default_factory=list)
    client_alpn: list[str] = field(default_factory=list)
    client_supported_versions: list[int] = field(default_factory=list)
    client_supported_groups: list[int] = field(default_factory=list)
    client_key_share_groups: list[int] = field(default_factory=list)
    client_signature_algorithms: list[int] = field(default_factory=list)
    client_ec_point_formats: list[int] = field(default_factory=list)
    client_psk_modes: list[int] = field(default_factory=list)
    client_status_request: int | None = None
    client_session_ticket_len: int | None = None
    client_heartbeat: int | None = None
    client_ems: bool = False
    client_reneg_info: bool = False
    client_etm: bool = False
    client_padding_len: int | None = None
    client_record_size_limit: int | None = None
    client_ech: bool = False
    client_ech_kdf: int | None = None
    client_ech_aead: int | None = None
    client_ech_config_id: int | None = None
    fallback_scsv: bool = False
    reneg_scsv: bool = False
    sslv2_client_hello: bool = False
    server_version_code: int | None = None
    server_extensions: list[int] = field(default_factory=list)
    server_malformed_extensions: list[int] = field(default_factory=list)
    server_compression: int | None = None
    server_key_share_group: int | None = None
    hrr: bool = False
    hrr_group: int | None = None
    dh_prime_bits: int | None = None
    ocsp_stapled: bool = False
    ocsp_response: bytes | None = None
    session_ticket_lifetime_hint: int | None = None
    cert_request: bool = False
    alerts: list[AlertEntry] = field(default_factory=list)
    ccs_orig: bool = False
    ccs_resp: bool = False
    cert_chain_fps: list[str] = field(default_factory=list)
    # The DERs themselves are not columns: each distinct certificate is stored once, in the certificates table.
    cert_chain: list[bytes] = field(default_factory=list)
    client_cert_chain_fps: list[str] = field(default_factory=list)
    client_cert_chain: list[bytes] = field(default_factory=list)
    forward_secrecy: bool | None = None
    rc4: bool | None = None
    ja3: str | None = None
    ja3s: str | None = None
    ja4: str | None = None
    ja4_r: str | None = None


_ALERT_TYPE = pa.struct(
    [
        pa.field("direction", pa.string(), nullable=False),
        pa.field("level", pa.uint8(), nullable=False),
        pa.field("description", pa.uint8(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
    ]
)


def _u16_list() -> pa.DataType:
    return pa.list_(pa.uint16())


def _u8_list() -> pa.DataType:
    return pa.list_(pa.uint8())


# Every column is nullable: a connection that never used TLS has nulls in all of them.
TLS_COLUMNS = ColumnGroup(
    "tls",
    (
        Column("version", pa.string(), "Negotiated SSL/TLS version, Zeek spelling", "TLSv13"),
        Column("version_code", pa.uint16(), "Negotiated version as a number (supported_versions if sent)", "772"),
        Column(
            "cipher",
            pa.string(),
            "Cipher suite the server chose, IANA name as Zeek spells it",
            "TLS_AES_128_GCM_SHA256",
        ),
        Column("cipher_code", pa.uint32(), "Chosen cipher suite code (24-bit CIPHER-KIND for SSLv2)", "4865"),
        Column(
            "curve",
            pa.string(),
            "ECDHE curve (ServerKeyExchange) or TLS 1.3 key_share group, Zeek spelling",
            "x25519",
        ),
        Column("curve_code", pa.uint16(), "Named group code of curve", "29"),
        Column(
            "server_name",
            pa.string(),
            "First host_name in the client's server_name extension (SNI)",
            "www.example.com",
        ),
        Column(
            "resumed",
            pa.bool_(),
            "Session resumed (session id echo, ticket without key exchange, or TLS 1.3 PSK accepted), as Zeek decides",
            "false",
        ),
        Column(
            "established",
            pa.bool_(),
            "Encrypted records seen from both sides after the handshake (Zeek ssl_established)",
            "true",
        ),
        Column("next_protocol", pa.string(), "Application protocol the server selected with ALPN", "h2"),
        Column("last_alert", pa.string(), "Description of the last plaintext alert", "handshake_failure"),
        Column(
            "ssl_history",
            pa.string(),
            "One letter per handshake message/record kind, client upper case (Zeek letters)",
            "CsiI",
        ),
        Column("client_version_code", pa.uint16(), "ClientHello legacy_version", "771"),
        Column(
            "client_ciphers",
            pa.list_(pa.uint32()),
            "Cipher suites offered, wire order, GREASE kept",
            "[4865, 4866]",
        ),
        Column("client_compression_methods", _u8_list(), "Compression methods offered", "[0]"),
        Column(
            "client_session_id_len",
            pa.uint16(),
            "Length of the ClientHello session id (uint16: an SSLv2 CLIENT-HELLO's length field is 16 bits)",
            "32",
        ),
        Column(
            "client_extensions",
            _u16_list(),
            "Extension codes in the ClientHello, wire order, GREASE kept",
            "[0, 10, 11]",
        ),
        Column(
            "client_malformed_extensions",
            _u16_list(),
            "Codes of the ClientHello's extensions whose body was malformed (anomaly tls.malformed_extension each)",
            "[10]",
        ),
        Column("client_alpn", pa.list_(pa.string()), "ALPN protocols offered", "[h2, http/1.1]"),
        Column("client_supported_versions", _u16_list(), "supported_versions offered", "[772, 771]"),
        Column("client_supported_groups", _u16_list(), "supported_groups offered", "[29, 23, 24]"),
        Column("client_key_share_groups", _u16_list(), "Groups of the client's key_share entries", "[29]"),
        Column("client_signature_algorithms", _u16_list(), "signature_algorithms offered", "[1027, 2052]"),
        Column("client_ec_point_formats", _u8_list(), "ec_point_formats offered", "[0]"),
        Column("client_psk_modes", _u8_list(), "psk_key_exchange_modes offered", "[1]"),
        Column(
            "client_status_request",
            pa.uint8(),
            "status_request type asked for (1 = OCSP); null if absent",
            "1",
        ),
        Column(
            "client_session_ticket_len",
            pa.uint16(),
            "Length of the ticket in session_ticket; null if absent",
            "0",
        ),
        Column("client_heartbeat", pa.uint8(), "heartbeat mode offered; null if absent", "1"),
        Column("client_ems", pa.bool_(), "extended_master_secret offered", "true"),
        Column("client_reneg_info", pa.bool_(), "renegotiation_info extension sent", "true"),
        Column("client_etm", pa.bool_(), "encrypt_then_mac offered", "false"),
        Column("client_padding_len", pa.uint16(), "Length of the padding extension; null if absent", "195"),
        Column("client_record_size_limit", pa.uint16(), "record_size_limit offered; null if absent", "16385"),
        Column("client_ech", pa.bool_(), "encrypted_client_hello extension present", "false"),
        Column("client_ech_kdf", pa.uint16(), "HPKE KDF id of an outer ECH", "1"),
        Column("client_ech_aead", pa.uint16(), "HPKE AEAD id of an outer ECH", "1"),
        Column("client_ech_config_id", pa.uint8(), "ECH config_id of an outer ECH", "42"),
        Column(
            "fallback_scsv",
            pa.bool_(),
            "TLS_FALLBACK_SCSV (0x5600) among the offered suites",
            "false",
        ),
        Column(
            "reneg_scsv",
            pa.bool_(),
            "TLS_EMPTY_RENEGOTIATION_INFO_SCSV (0x00ff) among the offered suites",
            "true",
        ),
        Column(
            "sslv2_client_hello",
            pa.bool_(),
            "The ClientHello used the SSLv2 record format",
            "false",
        ),
        Column("server_version_code", pa.uint16(), "ServerHello legacy_version field", "771"),
        Column("server_extensions", _u16_list(), "Extension codes in the ServerHello, wire order", "[43, 51]"),
        Column(
            "server_malformed_extensions",
            _u16_list(),
            "Codes of the ServerHello's extensions that were malformed (anomaly tls.malformed_extension each), and "
            "of the one whose length broke the extension block (tls.malformed_extension_block: the version, cipher "
            "and extensions before it are kept)",
            "[16]",
        ),
        Column("server_compression", pa.uint8(), "Compression method the server chose", "0"),
        Column("server_key_share_group", pa.uint16(), "Group of the ServerHello key_share", "29"),
        Column("hrr", pa.bool_(), "The server sent a HelloRetryRequest", "false"),
        Column("hrr_group", pa.uint16(), "Group the HelloRetryRequest asked for", "23"),
        Column(
            "dh_prime_bits",
            pa.uint32(),
            "Bit length of the DHE prime in the ServerKeyExchange (uint32: dh_p is opaque<1..2^16-1>, so up "
            "to 524,280 bits)",
            "2048",
        ),
        Column(
            "ocsp_stapled",
            pa.bool_(),
            "The server stapled an OCSP response (CertificateStatus)",
            "true",
        ),
        Column("ocsp_response", pa.binary(), "DER OCSPResponse from the CertificateStatus message", "30820..."),
        Column(
            "session_ticket_lifetime_hint",
            pa.uint32(),
            "NewSessionTicket lifetime hint (TLS <= 1.2), seconds",
            "7200",
        ),
        Column(
            "cert_request",
            pa.bool_(),
            "The server asked for a client certificate (TLS <= 1.2)",
            "false",
        ),
        Column(
            "alerts",
            pa.list_(_ALERT_TYPE),
            "Plaintext alerts in order: direction, level, description, name",
            "[{direction: resp, level: 2, description: 40, name: handshake_failure}]",
        ),
        Column("ccs_orig", pa.bool_(), "The originator sent ChangeCipherSpec", "true"),
        Column("ccs_resp", pa.bool_(), "The responder sent ChangeCipherSpec", "true"),
        Column(
            "cert_chain_fps",
            pa.list_(pa.string()),
            "SHA-256 (hex) of each server certificate DER, in order",
            "[3f2a…]",
        ),
        Column(
            "client_cert_chain_fps",
            pa.list_(pa.string()),
            "SHA-256 (hex) of each client certificate DER",
            "[]",
        ),
        Column(
            "forward_secrecy",
            pa.bool_(),
            "Ephemeral key exchange (DHE/ECDHE suite, or TLS 1.3 key_share)",
            "true",
        ),
        Column("rc4", pa.bool_(), "The chosen suite encrypts with RC4", "false"),
        Column("ja3", pa.string(), "JA3 client fingerprint (MD5)", "cd08e31494f9531f560d64c695473da9"),
        Column("ja3s", pa.string(), "JA3S server fingerprint (MD5)", "eb1d94daa7e0344597e756a1fb6e7054"),
        Column("ja4", pa.string(), "JA4 client fingerprint", "t13d1516h2_8daaf6152771_02713d6af862"),
        Column("ja4_r", pa.string(), "JA4 raw (unhashed) form", "t13d1516h2_002f,0035,..._0005,000a,..."),
    ),
)
