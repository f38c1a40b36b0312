"""Handshake message bodies -> the dataclasses of ``tls/messages.py``.

Theory of operation: each ``parse_*`` function reads one complete message body (the 4-byte handshake header
already removed) with a :class:`~tlsmon.wire.buffer.Buffer`, whose length-checked blocks make every TLS vector
exact. Any structural error raises :class:`ValueError` (a :class:`~tlsmon.wire.buffer.BufferReadError` or a
:class:`ParseError`); the analyzer catches it once and records ``tls.malformed_<message>``. Extensions are the
exception: a hello whose extension block is well formed is kept even if one extension's body is not, and that
extension's code is listed in ``malformed_extensions`` so the caller can report it.

Extension decoders are looked up by code in two tables (client and server side); a code with no decoder is
kept in ``extensions`` only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from tlsmon.tls.codes import (
    CERTIFICATE_STATUS_OCSP,
    EC_CURVE_TYPE_NAMED,
    EXT_ALPN,
    EXT_EARLY_DATA,
    EXT_EC_POINT_FORMATS,
    EXT_ENCRYPT_THEN_MAC,
    EXT_ENCRYPTED_CLIENT_HELLO,
    EXT_EXTENDED_MASTER_SECRET,
    EXT_HEARTBEAT,
    EXT_KEY_SHARE,
    EXT_KEY_SHARE_OLD,
    EXT_PADDING,
    EXT_PRE_SHARED_KEY,
    EXT_PSK_KEY_EXCHANGE_MODES,
    EXT_RECORD_SIZE_LIMIT,
    EXT_RENEGOTIATION_INFO,
    EXT_SERVER_NAME,
    EXT_SESSION_TICKET,
    EXT_SIGNATURE_ALGORITHMS,
    EXT_STATUS_REQUEST,
    EXT_SUPPORTED_GROUPS,
    EXT_SUPPORTED_VERSIONS,
    HRR_RANDOM,
    KEX_DHE,
    KEX_DHE_PSK,
    KEX_ECDHE,
    KEX_ECDHE_PSK,
    SSL2_MT_CLIENT_HELLO,
    SSL2_MT_SERVER_HELLO,
)
from tlsmon.tls.messages import CertificateRequest, ClientHello, ServerHello, ServerKeyExchange
from tlsmon.wire.buffer import Buffer, pull_list, pull_opaque, pull_uint8_vector, pull_uint16_vector

_ECH_OUTER = 0  # ECHClientHelloType.outer (RFC 9849 §5)
_SERVER_NAME_HOST = 0  # NameType.host_name (RFC 6066 §3)


H = TypeVar("H", ClientHello, ServerHello)


class ParseError(ValueError):
    """A message is syntactically readable but violates its specification."""


def _text(raw: bytes) -> str:
    return raw.decode("ascii", "backslashreplace")


# --- ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2) ---


def parse_client_hello(body: bytes) -> ClientHello:
    buf = Buffer(body)
    legacy_version = buf.pull_uint16()
    random = buf.pull_bytes(32)
    session_id = pull_opaque(buf, 1)
    if len(session_id) > 32:
        raise ParseError("session_id longer than 32 bytes")
    suites = pull_uint16_vector(buf, 2)
    if not suites:
        raise ParseError("no cipher suites")
    compression = pull_uint8_vector(buf, 1)
    if not compression:
        raise ParseError("no compression methods")
    hello = ClientHello(legacy_version, random, session_id, suites, compression)
    if not buf.eof():
        for code, data in _pull_extensions(buf):
            hello.extensions.append(code)
            decoder = _CLIENT_EXTENSIONS.get(code)
            if decoder is not None and not _decode(decoder, hello, data):
                hello.malformed_extensions.append(code)
    return hello


def _pull_extensions(buf: Buffer) -> list[tuple[int, bytes]]:
    return pull_list(buf, 2, lambda: (buf.pull_uint16(), pull_opaque(buf, 2)))


def _decode(decoder: Callable[[H, Buffer], None], hello: H, data: bytes) -> bool:
    ext = Buffer(data)
    try:
        decoder(hello, ext)
    except ValueError:
        return False
    return ext.eof()


def _ch_server_name(ch: ClientHello, buf: Buffer) -> None:
    entries = pull_list(buf, 2, lambda: (buf.pull_uint8(), pull_opaque(buf, 2)))
    for name_type, name in entries:
        if name_type == _SERVER_NAME_HOST:
            ch.server_name = _text(name)
            return


def _ch_alpn(ch: ClientHello, buf: Buffer) -> None:
    ch.alpn = pull_list(buf, 2, lambda: pull_opaque(buf, 1))


def _ch_supported_versions(ch: ClientHello, buf: Buffer) -> None:
    ch.supported_versions = pull_uint16_vector(buf, 1)


def _ch_supported_groups(ch: ClientHello, buf: Buffer) -> None:
    ch.supported_groups = pull_uint16_vector(buf, 2)


def _ch_key_share(ch: ClientHello, buf: Buffer) -> None:
    entries = pull_list(buf, 2, lambda: (buf.pull_uint16(), pull_opaque(buf, 2)))
    ch.key_share_groups = [group for group, _ in entries]


def _ch_signature_algorithms(ch: ClientHello, buf: Buffer) -> None:
    ch.signature_algorithms = pull_uint16_vector(buf, 2)


def _ch_ec_point_formats(ch: ClientHello, buf: Buffer) -> None:
    ch.ec_point_formats = pull_uint8_vector(buf, 1)


def _ch_psk_modes(ch: ClientHello, buf: Buffer) -> None:
    ch.psk_key_exchange_modes = pull_uint8_vector(buf, 1)


def _ch_status_request(ch: ClientHello, buf: Buffer) -> None:
    ch.status_request_type = buf.pull_uint8()
    buf.pull_rest()  # responder_id_list and request_extensions are not reported


def _ch_session_ticket(ch: ClientHello, buf: Buffer) -> None:
    ch.session_ticket_len = len(buf.pull_rest())


def _ch_heartbeat(ch: ClientHello, buf: Buffer) -> None:
    ch.heartbeat_mode = buf.pull_uint8()


def _ch_extended_master_secret(ch: ClientHello, buf: Buffer) -> None:
    ch.extended_master_secret = True


def _ch_encrypt_then_mac(ch: ClientHello, buf: Buffer) -> None:
    ch.encrypt_then_mac = True


def _ch_renegotiation_info(ch: ClientHello, buf: Buffer) -> None:
    pull_opaque(buf, 1)
    ch.renegotiation_info = True


def _ch_padding(ch: ClientHello, buf: Buffer) -> None:
    ch.padding_len = len(buf.pull_rest())


def _ch_record_size_limit(ch: ClientHello, buf: Buffer) -> None:
    ch.record_size_limit = buf.pull_uint16()


def _ch_encrypted_client_hello(ch: ClientHello, buf: Buffer) -> None:
    ch.ech_present = True
    if buf.pull_uint8() != _ECH_OUTER:
        return  # the inner marker carries nothing else
    ch.ech_kdf_id = buf.pull_uint16()
    ch.ech_aead_id = buf.pull_uint16()
    ch.ech_config_id = buf.pull_uint8()
    pull_opaque(buf, 2)  # enc
    pull_opaque(buf, 2)  # payload


def _ch_pre_shared_key(ch: ClientHello, buf: Buffer) -> None:
    ch.has_pre_shared_key = True
    buf.pull_rest()


def _ch_early_data(ch: ClientHello, buf: Buffer) -> None:
    ch.early_data = True


_CLIENT_EXTENSIONS: dict[int, Callable[[ClientHello, Buffer], None]] = {
    EXT_SERVER_NAME: _ch_server_name,
    EXT_ALPN: _ch_alpn,
    EXT_SUPPORTED_VERSIONS: _ch_supported_versions,
    EXT_SUPPORTED_GROUPS: _ch_supported_groups,
    EXT_KEY_SHARE: _ch_key_share,
    EXT_KEY_SHARE_OLD: _ch_key_share,
    EXT_SIGNATURE_ALGORITHMS: _ch_signature_algorithms,
    EXT_EC_POINT_FORMATS: _ch_ec_point_formats,
    EXT_PSK_KEY_EXCHANGE_MODES: _ch_psk_modes,
    EXT_STATUS_REQUEST: _ch_status_request,
    EXT_SESSION_TICKET: _ch_session_ticket,
    EXT_HEARTBEAT: _ch_heartbeat,
    EXT_EXTENDED_MASTER_SECRET: _ch_extended_master_secret,
    EXT_ENCRYPT_THEN_MAC: _ch_encrypt_then_mac,
    EXT_RENEGOTIATION_INFO: _ch_renegotiation_info,
    EXT_PADDING: _ch_padding,
    EXT_RECORD_SIZE_LIMIT: _ch_record_size_limit,
    EXT_ENCRYPTED_CLIENT_HELLO: _ch_encrypted_client_hello,
    EXT_PRE_SHARED_KEY: _ch_pre_shared_key,
    EXT_EARLY_DATA: _ch_early_data,
}


# --- ServerHello (RFC 8446 §4.1.3-4.1.4, RFC 5246 §7.4.1.3) ---


def _is_early_draft(version: int) -> bool:
    """TLS 1.3 drafts before -22 had no legacy_session_id_echo and no compression byte."""
    return 0x7F00 <= version < 0x7F16


def parse_server_hello(body: bytes) -> ServerHello:
    buf = Buffer(body)
    legacy_version = buf.pull_uint16()
    random = buf.pull_bytes(32)
    if _is_early_draft(legacy_version):
        session_id = b""
        cipher_suite = buf.pull_uint16()
        compression = 0
    else:
        session_id = pull_opaque(buf, 1)
        if len(session_id) > 32:
            raise ParseError("session_id longer than 32 bytes")
        cipher_suite = buf.pull_uint16()
        compression = buf.pull_uint8()
    hello = ServerHello(
        legacy_version, random, session_id, cipher_suite, compression, is_hrr=random == HRR_RANDOM
    )
    if not buf.eof():
        for code, data in _pull_extensions(buf):
            hello.extensions.append(code)
            decoder = _SERVER_EXTENSIONS.get(code)
            if decoder is not None and not _decode(decoder, hello, data):
                hello.malformed_extensions.append(code)
    return hello


def _sh_supported_versions(sh: ServerHello, buf: Buffer) -> None:
    sh.selected_version = buf.pull_uint16()


def _sh_key_share(sh: ServerHello, buf: Buffer) -> None:
    sh.key_share_group = buf.pull_uint16()
    if not sh.is_hrr:  # an HRR names only the selected group (RFC 8446 §4.2.8)
        pull_opaque(buf, 2)


def _sh_alpn(sh: ServerHello, buf: Buffer) -> None:
    protocols = pull_list(buf, 2, lambda: pull_opaque(buf, 1))
    if len(protocols) != 1:
        raise ParseError("a server selects exactly one protocol")
    sh.alpn = protocols[0]


def _sh_pre_shared_key(sh: ServerHello, buf: Buffer) -> None:
    buf.pull_uint16()  # selected_identity
    sh.has_pre_shared_key = True


def _sh_session_ticket(sh: ServerHello, buf: Buffer) -> None:
    sh.session_ticket_ext = True


def _sh_extended_master_secret(sh: ServerHello, buf: Buffer) -> None:
    sh.extended_master_secret = True


def _sh_encrypt_then_mac(sh: ServerHello, buf: Buffer) -> None:
    sh.encrypt_then_mac = True


def _sh_renegotiation_info(sh: ServerHello, buf: Buffer) -> None:
    pull_opaque(buf, 1)
    sh.renegotiation_info = True


def _sh_status_request(sh: ServerHello, buf: Buffer) -> None:
    sh.status_request = True


def _sh_ec_point_formats(sh: ServerHello, buf: Buffer) -> None:
    sh.ec_point_formats = pull_uint8_vector(buf, 1)


def _sh_heartbeat(sh: ServerHello, buf: Buffer) -> None:
    sh.heartbeat_mode = buf.pull_uint8()


def _sh_record_size_limit(sh: ServerHello, buf: Buffer) -> None:
    sh.record_size_limit = buf.pull_uint16()


_SERVER_EXTENSIONS: dict[int, Callable[[ServerHello, Buffer], None]] = {
    EXT_SUPPORTED_VERSIONS: _sh_supported_versions,
    EXT_KEY_SHARE: _sh_key_share,
    EXT_KEY_SHARE_OLD: _sh_key_share,
    EXT_ALPN: _sh_alpn,
    EXT_PRE_SHARED_KEY: _sh_pre_shared_key,
    EXT_SESSION_TICKET: _sh_session_ticket,
    EXT_EXTENDED_MASTER_SECRET: _sh_extended_master_secret,
    EXT_ENCRYPT_THEN_MAC: _sh_encrypt_then_mac,
    EXT_RENEGOTIATION_INFO: _sh_renegotiation_info,
    EXT_STATUS_REQUEST: _sh_status_request,
    EXT_EC_POINT_FORMATS: _sh_ec_point_formats,
    EXT_HEARTBEAT: _sh_heartbeat,
    EXT_RECORD_SIZE_LIMIT: _sh_record_size_limit,
}


# --- SSLv2 hellos (draft-hickman-netscape-ssl-00 §2.5, §2.6); ``body`` starts with the message type ---


def parse_sslv2_client_hello(body: bytes) -> ClientHello:
    buf = Buffer(body)
    if buf.pull_uint8() != SSL2_MT_CLIENT_HELLO:
        raise ParseError("not a CLIENT-HELLO")
    version = buf.pull_uint16()
    specs_len = buf.pull_uint16()
    session_id_len = buf.pull_uint16()
    challenge_len = buf.pull_uint16()
    if specs_len == 0 or specs_len % 3:
        raise ParseError("cipher specs are 3 bytes each")
    specs = [buf.pull_uint24() for _ in range(specs_len // 3)]
    session_id = buf.pull_bytes(session_id_len)
    challenge = buf.pull_bytes(challenge_len)
    return ClientHello(version, challenge, session_id, specs, [], sslv2_format=True)


def parse_sslv2_server_hello(body: bytes) -> tuple[ServerHello, bytes]:
    """The hello (cipher = the first spec the server lists, as Zeek reports it) and the certificate DER."""
    buf = Buffer(body)
    if buf.pull_uint8() != SSL2_MT_SERVER_HELLO:
        raise ParseError("not a SERVER-HELLO")
    buf.pull_uint8()  # session_id_hit
    buf.pull_uint8()  # certificate_type
    version = buf.pull_uint16()
    cert_len = buf.pull_uint16()
    specs_len = buf.pull_uint16()
    connection_id_len = buf.pull_uint16()
    if specs_len % 3:
        raise ParseError("cipher specs are 3 bytes each")
    certificate = buf.pull_bytes(cert_len)
    specs = [buf.pull_uint24() for _ in range(specs_len // 3)]
    connection_id = buf.pull_bytes(connection_id_len)
    cipher = specs[0] if specs else 0
    return ServerHello(version, connection_id, b"", cipher, 0, sslv2_format=True), certificate


# --- Certificate (RFC 5246 §7.4.2, RFC 8446 §4.4.2) ---


def parse_certificate(body: bytes, tls13: bool) -> list[bytes]:
    """The DER of each certificate, in the order sent (end entity first)."""
    buf = Buffer(body)
    if tls13:
        pull_opaque(buf, 1)  # certificate_request_context
        entries = pull_list(buf, 3, lambda: (pull_opaque(buf, 3), pull_opaque(buf, 2)))
        chain = [der for der, _ in entries]
    else:
        chain = pull_list(buf, 3, lambda: pull_opaque(buf, 3))
    if not buf.eof():
        raise ParseError("bytes after certificate_list")
    if any(not der for der in chain):
        raise ParseError("empty certificate entry")
    return chain


# --- ServerKeyExchange (RFC 5246 §7.4.3, RFC 8422 §5.4, RFC 4279 §3, RFC 5489 §2) ---


def parse_server_key_exchange(body: bytes, kex: str) -> ServerKeyExchange:
    """Read the DH prime length or the named curve; ``kex`` is ``codes.cipher_kex`` of the chosen suite."""
    buf = Buffer(body)
    if kex in (KEX_ECDHE_PSK, KEX_DHE_PSK):
        pull_opaque(buf, 2)  # psk_identity_hint
    if kex in (KEX_ECDHE, KEX_ECDHE_PSK):
        if buf.pull_uint8() != EC_CURVE_TYPE_NAMED:
            return ServerKeyExchange()  # explicit curve parameters: no name to report
        curve = buf.pull_uint16()
        pull_opaque(buf, 1)  # the server's public point must be there
        return ServerKeyExchange(named_curve=curve)
    if kex in (KEX_DHE, KEX_DHE_PSK):
        prime = pull_opaque(buf, 2)
        pull_opaque(buf, 2)  # dh_g
        pull_opaque(buf, 2)  # dh_Ys
        if not prime:
            raise ParseError("empty DH prime")
        return ServerKeyExchange(dh_prime_bits=int.from_bytes(prime, "big").bit_length())
    return ServerKeyExchange()


# --- CertificateRequest (RFC 5246 §7.4.4; RFC 8446 §4.3.2 for TLS 1.3) ---


def parse_certificate_request(body: bytes, version: int) -> CertificateRequest:
    buf = Buffer(body)
    if version >= 0x0304:
        pull_opaque(buf, 1)  # certificate_request_context
        pull_opaque(buf, 2)  # extensions
        return CertificateRequest()
    request = CertificateRequest(certificate_types=pull_uint8_vector(buf, 1))
    if version >= 0x0303:
        request.signature_algorithms = pull_uint16_vector(buf, 2)
    request.certificate_authorities = len(pull_list(buf, 2, lambda: pull_opaque(buf, 2)))
    return request


# --- CertificateStatus (RFC 6066 §8) ---


def parse_certificate_status(body: bytes) -> bytes | None:
    """The DER OCSPResponse of an ``ocsp`` status, or None for another status type."""
    buf = Buffer(body)
    if buf.pull_uint8() != CERTIFICATE_STATUS_OCSP:
        return None
    response = pull_opaque(buf, 3)
    if not response:
        raise ParseError("empty OCSP response")
    return response


# --- NewSessionTicket (RFC 5077 §3.3; the TLS 1.3 one is always encrypted) ---


def parse_new_session_ticket(body: bytes) -> int:
    """The ticket_lifetime_hint in seconds."""
    buf = Buffer(body)
    lifetime = buf.pull_uint32()
    pull_opaque(buf, 2)  # ticket
    return lifetime
