"""Decoded TLS handshake messages: plain slotted dataclasses, wire values kept as ints and bytes.

Lists keep wire order and every value seen, GREASE included (JA3/JA4 need both). Names for codes live in
``tls/codes.py``; nothing here translates a number into a name.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class ClientHello:
    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suites: list[int]
    compression_methods: list[int]
    #: extension type codes in wire order (GREASE kept); empty when the hello has no extensions block
    extensions: list[int] = field(default_factory=list)
    #: True for the SSLv2-format CLIENT-HELLO (record header high bit set, msg type 1)
    sslv2_format: bool = False
    server_name: str | None = None  # first host_name entry of server_name (0), decoded as ASCII/IDNA text
    alpn: list[bytes] = field(default_factory=list)  # application_layer_protocol_negotiation (16)
    supported_versions: list[int] = field(default_factory=list)  # supported_versions (43)
    supported_groups: list[int] = field(default_factory=list)  # supported_groups (10)
    key_share_groups: list[int] = field(default_factory=list)  # key_share (51), group of each entry
    signature_algorithms: list[int] = field(default_factory=list)  # signature_algorithms (13)
    ec_point_formats: list[int] = field(default_factory=list)  # ec_point_formats (11)
    psk_key_exchange_modes: list[int] = field(default_factory=list)  # psk_key_exchange_modes (45)
    status_request_type: int | None = None  # status_request (5): 1 = ocsp; None = extension absent
    session_ticket_len: int | None = None  # session_ticket (35): length of the ticket; None = absent
    heartbeat_mode: int | None = None  # heartbeat (15)
    extended_master_secret: bool = False  # (23)
    encrypt_then_mac: bool = False  # (22)
    renegotiation_info: bool = False  # (65281)
    padding_len: int | None = None  # padding (21)
    record_size_limit: int | None = None  # (28)
    ech_present: bool = False  # encrypted_client_hello (0xfe0d)
    ech_kdf_id: int | None = None
    ech_aead_id: int | None = None
    ech_config_id: int | None = None  # config_id of an outer encrypted_client_hello
    has_pre_shared_key: bool = False  # pre_shared_key (41)
    early_data: bool = False  # early_data (42)
    #: codes of extensions whose body did not match their syntax (kept in ``extensions``, not decoded)
    malformed_extensions: list[int] = field(default_factory=list)
    #: the code of the extension whose length broke the extension block (when its code could be read)
    broken_extension: int | None = None
    #: DTLS only: the cookie echoed from a HelloVerifyRequest (RFC 6347 §4.2.1); empty in TLS
    cookie: bytes = b""


@dataclass(slots=True)
class ServerHello:
    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suite: int
    compression_method: int
    extensions: list[int] = field(default_factory=list)
    sslv2_format: bool = False
    #: HelloRetryRequest: a ServerHello whose random is the RFC 8446 §4.1.3 constant
    is_hrr: bool = False
    selected_version: int | None = None  # supported_versions (43) in the ServerHello
    alpn: bytes | None = None  # the single protocol the server selected
    key_share_group: int | None = None  # key_share (51): server share group, or the HRR's selected group
    has_pre_shared_key: bool = False  # pre_shared_key (41): TLS 1.3 resumption
    session_ticket_ext: bool = False  # session_ticket (35) present (server will send NewSessionTicket)
    extended_master_secret: bool = False
    encrypt_then_mac: bool = False
    renegotiation_info: bool = False
    status_request: bool = False  # server agreed to staple (5)
    ec_point_formats: list[int] = field(default_factory=list)
    heartbeat_mode: int | None = None
    record_size_limit: int | None = None
    #: codes of extensions whose body did not match their syntax (kept in ``extensions``, not decoded)
    malformed_extensions: list[int] = field(default_factory=list)
    #: the extension block's lengths do not add up; what was read before the damage is kept
    malformed_extension_block: bool = False
    #: the code of the extension whose length broke the block (when its code could be read)
    broken_extension: int | None = None

    @property
    def version(self) -> int:
        """The negotiated version: supported_versions when present (TLS 1.3), else the legacy field."""
        return self.selected_version if self.selected_version is not None else self.legacy_version


@dataclass(slots=True)
class ServerKeyExchange:
    """What tlsmon reads from a TLS <= 1.2 ServerKeyExchange; its layout depends on the key exchange."""

    named_curve: int | None = None  # ECDHE: ECParameters.namedcurve (RFC 8422 §5.4)
    dh_prime_bits: int | None = None  # DHE / DH_anon: bit length of ServerDHParams.dh_p (RFC 5246 §7.4.3)


@dataclass(slots=True)
class CertificateRequest:
    """A TLS <= 1.2 CertificateRequest (RFC 5246 §7.4.4); TLS 1.3 sends it encrypted."""

    certificate_types: list[int] = field(default_factory=list)
    signature_algorithms: list[int] = field(default_factory=list)  # TLS 1.2 only
    certificate_authorities: int = 0  # number of distinguished names listed
