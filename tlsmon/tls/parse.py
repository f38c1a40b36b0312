"""Handshake message bodies -> the dataclasses of ``tls/messages.py``.

Theory of operation: each ``parse_*`` function reads one complete message body (the 4-byte handshake header
already removed). The hellos and the Certificate, read once or twice per connection and the bulk of the
handshake work, walk plain offsets with the readers of ``wire/vectors.py``; the rarer messages pull from a
:class:`~tlsmon.wire.buffer.Buffer`. Both check every TLS vector against the end of its enclosing block, so
the two styles agree on what is malformed. Any structural error raises :class:`ValueError` (a
:class:`~tlsmon.wire.buffer.BufferReadError` or a :class:`ParseError`); the analyzer catches it once and records
``tls.malformed_<message>``. Extensions are the exception: a hello whose extension block is well formed is kept
even if one extension's body is not, and that extension's code is listed in ``malformed_extensions`` so the
caller can report it. A ServerHello whose extension *block* is malformed is kept too, with what was read
before the damage (``malformed_extension_block``): its version and cipher decide how the rest is parsed.

Extension decoders are looked up by code in two tables (client and server side); a code with no decoder is
kept in ``extensions`` only. A decoder gets ``(hello, data, start, end)``, the bounds of its extension's body
inside the hello, sets the fields it has read so far, and returns the offset where it stopped: the extension is
malformed if that is not ``end`` or if the decoder raised :class:`ValueError` on the way.
"""

from __future__ import annotations

import struct
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
from tlsmon.wire.buffer import Buffer, BufferReadError, pull_list, pull_opaque, pull_uint8_vector, pull_uint16_vector
from tlsmon.wire.vectors import (
    U8_PAIR,
    U16_PAIR,
    block8,
    block16,
    block24,
    opaque8_list16,
    uint8_list8,
    uint16_at,
    uint16_list8,
    uint16_list16,
)

_ECH_OUTER = 0  # ECHClientHelloType.outer (RFC 9849 §5)
_SERVER_NAME_HOST = 0  # NameType.host_name (RFC 6066 §3)

#: legacy_version, random: the fixed start of both hellos
_HELLO_START = struct.Struct(">H32s")
_HELLO_START_LEN = _HELLO_START.size

H = TypeVar("H", ClientHello, ServerHello)
#: an extension decoder: (hello, data, start, end) -> offset where it stopped
Decoder = Callable[[H, bytes, int, int], int]


class ParseError(ValueError):
    """A message is syntactically readable but violates its specification."""


def _text(raw: bytes) -> str:
    return raw.decode("ascii", "backslashreplace")


def _read_session_id(body: bytes, off: int, end: int) -> tuple[bytes, int]:
    start, stop = block8(body, off, end)
    if stop - start > 32:
        raise ParseError("session_id longer than 32 bytes")
    return body[start:stop], stop


def _read_extensions(hello: H, body: bytes, off: int, end: int, decoders: dict[int, Decoder[H]]) -> None:
    """Walk the extensions block at ``off``: record each code, decode the known ones in place."""
    pos, stop = block16(body, off, end)
    codes = hello.extensions
    while pos < stop:
        if pos + 4 > stop:
            if pos + 2 <= stop:  # the header is cut after its code: that extension broke the block
                hello.broken_extension = int.from_bytes(body[pos : pos + 2], "big")
            raise BufferReadError("read out of bounds")
        code, length = U16_PAIR.unpack_from(body, pos)
        start = pos + 4
        pos = start + length
        if pos > stop:
            hello.broken_extension = code  # its length runs past the block: it broke the block
            raise BufferReadError("read out of bounds")
        codes.append(code)
        decoder = decoders.get(code)
        if decoder is None:
            continue
        # a bad extension body spoils that extension only; a bad block (above) spoils the whole hello
        try:
            well_formed = decoder(hello, body, start, pos) == pos
        except ValueError:
            well_formed = False
        if not well_formed:
            hello.malformed_extensions.append(code)


# --- ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2) ---


def parse_client_hello(body: bytes, *, dtls: bool = False) -> ClientHello:
    """``dtls``: the body is a DTLS ClientHello, with a cookie<0..2^8-1> after session_id (RFC 6347 §4.2.1)."""
    end = len(body)
    if end < _HELLO_START_LEN:
        raise BufferReadError("read out of bounds")
    legacy_version, random = _HELLO_START.unpack_from(body)
    session_id, off = _read_session_id(body, _HELLO_START_LEN, end)
    cookie = b""
    if dtls:
        start, off = block8(body, off, end)
        cookie = body[start:off]
    suites, off = uint16_list16(body, off, end)
    if not suites:
        raise ParseError("no cipher suites")
    compression, off = uint8_list8(body, off, end)
    if not compression:
        raise ParseError("no compression methods")
    hello = ClientHello(legacy_version, random, session_id, suites, compression, cookie=cookie)
    if off < end:  # bytes after the extensions block are ignored, as before TLS 1.2 allowed none
        _read_extensions(hello, body, off, end, _CLIENT_EXTENSIONS)
    return hello


def _ch_server_name(ch: ClientHello, data: bytes, off: int, end: int) -> int:
    pos, stop = block16(data, off, end)
    host: bytes | None = None
    while pos < stop:  # every ServerName entry must be well formed, even after the host name
        if pos + 3 > stop:
            raise BufferReadError("read out of bounds")
        name_type, length = U8_PAIR.unpack_from(data, pos)
        start = pos + 3
        pos = start + length
        if pos > stop:
            raise BufferReadError("read out of bounds")
        if name_type == _SERVER_NAME_HOST and host is None:
            host = data[start:pos]
    if host is not None:
        ch.server_name = _text(host)
    return stop


def _ch_alpn(ch: ClientHello, data: bytes, off: int, end: int) -> int:
    ch.alpn, off = opaque8_list16(data, off, end)
    return off


def _ch_supported_versions(ch: ClientHello, data: bytes, off: int, end: int) -> int:
    ch.supported_versions, off = uint16_list8(data, off, end)
    return off


def _ch_supported_groups(ch: ClientHello, data: bytes, off: int, end: int) -> int:
    ch.supported_groups, off = uint16_list16(data, off, end)
    return off


def _ch_key_share(ch: ClientHello, data: bytes, off: int, end: int) -> int:
    pos, stop = block16(data, off, end)
    groups: list[int] = []
    while pos < stop:  # KeyShareEntry: group, opaque key_exchange<1..2^16-1>
        if pos + 4 > stop:
            raise BufferReadError("read out of bounds")
        group, length = U16_PAIR.unpack_from(data, pos)
        pos += 4 + length
        if pos > stop:
            raise BufferReadError("read out of bounds")
        groups.append(group)
    ch.key_share_groups = groups
    return stop


def _ch_signature_algorithms(ch: ClientHello, data: bytes, off: int, end: int) -> int:
    ch.signature_algorithms, off = uint16_list16(data, off, end)
    return off


def _ch_ec_point_formats(ch: ClientHello, data: bytes, off: int, end: int) -> int:
    ch.ec_point_formats, off = uint8_list8(data, off, end)
    return off


def _ch_psk_modes(ch: ClientHello, data: bytes, off: int, end: int) -> int:
    ch.psk_key_exchange_modes, off = uint8_list8(data, off, end)
    return off


def _uint8_at(data: bytes, off: int, end: int) -> int:
    if off >= end:
        raise BufferReadError("read out of bounds")
    return data[off]


def _ch_status_request(ch: ClientHello, data: bytes, off: int, end: int) -> int:
    ch.status_request_type = _uint8_at(data, off, end)
    return end  # responder_id_list and request_extensions are not reported


def _ch_session_ticket(ch: ClientHello, data: bytes, off: int, end: int) -> int:
    ch.session_ticket_len = end - off
    return end


def _ch_heartbeat(ch: ClientHello, data: bytes, off: int, end: int) -> int:
    ch.heartbeat_mode = _uint8_at(data, off, end)
    return off + 1


def _ch_extended_master_secret(ch: ClientHello, data: bytes, off: int, end: int) -> int:
    ch.extended_master_secret = True
    return off


def _ch_encrypt_then_mac(ch: ClientHello, data: bytes, off: int, end: int) -> int:
    ch.encrypt_then_mac = True
    return off


def _ch_renegotiation_info(ch: ClientHello, data: bytes, off: int, end: int) -> int:
    off = block8(data, off, end)[1]
    ch.renegotiation_info = True
    return off


def _ch_padding(ch: ClientHello, data: bytes, off: int, end: int) -> int:
    ch.padding_len = end - off
    return end


def _ch_record_size_limit(ch: ClientHello, data: bytes, off: int, end: int) -> int:
    ch.record_size_limit = uint16_at(data, off, end)
    return off + 2


def _ch_encrypted_client_hello(ch: ClientHello, data: bytes, off: int, end: int) -> int:
    ch.ech_present = True
    if _uint8_at(data, off, end) != _ECH_OUTER:
        return off + 1  # the inner marker carries nothing else
    ch.ech_kdf_id = uint16_at(data, off + 1, end)
    ch.ech_aead_id = uint16_at(data, off + 3, end)
    ch.ech_config_id = _uint8_at(data, off + 5, end)
    off = block16(data, off + 6, end)[1]  # enc
    return block16(data, off, end)[1]  # payload


def _ch_pre_shared_key(ch: ClientHello, data: bytes, off: int, end: int) -> int:
    ch.has_pre_shared_key = True
    return end


def _ch_early_data(ch: ClientHello, data: bytes, off: int, end: int) -> int:
    ch.early_data = True
    return off


_CLIENT_EXTENSIONS: dict[int, Decoder[ClientHello]] = {
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
    end = len(body)
    if end < _HELLO_START_LEN:
        raise BufferReadError("read out of bounds")
    legacy_version, random = _HELLO_START.unpack_from(body)
    if _is_early_draft(legacy_version):
        session_id = b""
        cipher_suite = uint16_at(body, _HELLO_START_LEN, end)
        compression = 0
        off = _HELLO_START_LEN + 2
    else:
        session_id, off = _read_session_id(body, _HELLO_START_LEN, end)
        cipher_suite = uint16_at(body, off, end)
        compression = _uint8_at(body, off + 2, end)
        off += 3
    hello = ServerHello(
        legacy_version, random, session_id, cipher_suite, compression, is_hrr=random == HRR_RANDOM
    )
    if off < end:
        try:
            _read_extensions(hello, body, off, end, _SERVER_EXTENSIONS)
        except ValueError:
            # The block's lengths do not add up: the version and cipher read before it still stand (Zeek and
            # Wireshark keep them too); the extensions decoded before the damage are kept as well.
            hello.malformed_extension_block = True
    return hello


def _sh_supported_versions(sh: ServerHello, data: bytes, off: int, end: int) -> int:
    sh.selected_version = uint16_at(data, off, end)
    return off + 2


def _sh_key_share(sh: ServerHello, data: bytes, off: int, end: int) -> int:
    sh.key_share_group = uint16_at(data, off, end)
    if sh.is_hrr:  # an HRR names only the selected group (RFC 8446 §4.2.8)
        return off + 2
    return block16(data, off + 2, end)[1]


def _sh_alpn(sh: ServerHello, data: bytes, off: int, end: int) -> int:
    protocols, off = opaque8_list16(data, off, end)
    if len(protocols) != 1:
        raise ParseError("a server selects exactly one protocol")
    sh.alpn = protocols[0]
    return off


def _sh_pre_shared_key(sh: ServerHello, data: bytes, off: int, end: int) -> int:
    uint16_at(data, off, end)  # selected_identity
    sh.has_pre_shared_key = True
    return off + 2


def _sh_session_ticket(sh: ServerHello, data: bytes, off: int, end: int) -> int:
    sh.session_ticket_ext = True
    return off


def _sh_extended_master_secret(sh: ServerHello, data: bytes, off: int, end: int) -> int:
    sh.extended_master_secret = True
    return off


def _sh_encrypt_then_mac(sh: ServerHello, data: bytes, off: int, end: int) -> int:
    sh.encrypt_then_mac = True
    return off


def _sh_renegotiation_info(sh: ServerHello, data: bytes, off: int, end: int) -> int:
    off = block8(data, off, end)[1]
    sh.renegotiation_info = True
    return off


def _sh_status_request(sh: ServerHello, data: bytes, off: int, end: int) -> int:
    sh.status_request = True
    return off


def _sh_ec_point_formats(sh: ServerHello, data: bytes, off: int, end: int) -> int:
    sh.ec_point_formats, off = uint8_list8(data, off, end)
    return off


def _sh_heartbeat(sh: ServerHello, data: bytes, off: int, end: int) -> int:
    sh.heartbeat_mode = _uint8_at(data, off, end)
    return off + 1


def _sh_record_size_limit(sh: ServerHello, data: bytes, off: int, end: int) -> int:
    sh.record_size_limit = uint16_at(data, off, end)
    return off + 2


_SERVER_EXTENSIONS: dict[int, Decoder[ServerHello]] = {
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


def parse_certificate(body: bytes, tls13: bool, keep: int | None = None) -> tuple[list[bytes], int]:
    """The DER of the first ``keep`` certificates (all when None), in the order sent (end entity first), and
    the number of entries in the message. Entries past ``keep`` are checked but not copied: a 1 MiB message
    can hold 170 000 tiny ones."""
    end = len(body)
    off = block8(body, 0, end)[1] if tls13 else 0  # certificate_request_context
    pos, stop = block24(body, off, end)
    chain: list[bytes] = []
    room = len(body) if keep is None else keep
    count = 0
    while pos < stop:
        start, der_end = block24(body, pos, stop)
        if start == der_end:
            raise ParseError("empty certificate entry")
        pos = block16(body, der_end, stop)[1] if tls13 else der_end  # TLS 1.3: the entry's extensions
        if count < room:
            chain.append(body[start:der_end])
        count += 1
    if stop != end:
        raise ParseError("bytes after certificate_list")
    return chain, count


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
