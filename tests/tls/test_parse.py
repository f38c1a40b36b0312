"""tls/parse.py: every message body parser, on the illustrated-TLS vectors and on hand-built bytes."""

from __future__ import annotations

import hashlib

import pytest

from tests.corpus.location import requires_corpus
from tests.tls.vectors import (
    ILLUSTRATED_TLS12,
    ILLUSTRATED_TLS13,
    cap,
    client_hello,
    ext,
    server_hello,
    u16s,
    vec,
)
from tlsmon.tls.codes import HRR_RANDOM, KEX_DHE, KEX_DHE_PSK, KEX_ECDHE, KEX_ECDHE_PSK, KEX_OTHER
from tlsmon.tls.messages import CertificateRequest, ServerKeyExchange
from tlsmon.tls.parse import (
    parse_certificate,
    parse_certificate_request,
    parse_certificate_status,
    parse_client_hello,
    parse_new_session_ticket,
    parse_server_hello,
    parse_server_key_exchange,
    parse_sslv2_client_hello,
    parse_sslv2_server_hello,
)

ILLUSTRATED_CERT_SHA256 = "c66414aaf6eb0445ccbf2769c0f5ed68dd8940563bf4ebb4b59cdc14d7d71e91"


@requires_corpus
def test_illustrated_tls13_client_hello() -> None:
    ch = parse_client_hello(cap(ILLUSTRATED_TLS13, "clienthello")[9:])
    assert ch.legacy_version == 0x0303
    assert ch.random == bytes(range(32))
    assert ch.session_id == bytes(range(0xE0, 0x100))
    assert ch.cipher_suites == [0x1302, 0x1303, 0x1301, 0x00FF]
    assert ch.compression_methods == [0]
    assert ch.extensions == [0, 11, 10, 35, 22, 23, 13, 43, 45, 51]
    assert ch.server_name == "example.ulfheim.net"
    assert ch.ec_point_formats == [0, 1, 2]
    assert ch.supported_groups == [0x1D, 0x17, 0x1E, 0x19, 0x18, 0x100, 0x101, 0x102, 0x103, 0x104]
    assert ch.session_ticket_len == 0
    assert ch.encrypt_then_mac and ch.extended_master_secret
    assert ch.signature_algorithms == [
        0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809, 0x080A, 0x080B, 0x0804, 0x0805, 0x0806,
        0x0401, 0x0501, 0x0601,
    ]  # fmt: skip
    assert ch.supported_versions == [0x0304]
    assert ch.psk_key_exchange_modes == [1]
    assert ch.key_share_groups == [0x1D]
    assert ch.malformed_extensions == []


@requires_corpus
def test_illustrated_tls13_server_hello() -> None:
    sh = parse_server_hello(cap(ILLUSTRATED_TLS13, "serverhello")[9:])
    assert sh.random == bytes(range(0x70, 0x90))
    assert sh.session_id == bytes(range(0xE0, 0x100))
    assert sh.cipher_suite == 0x1302
    assert sh.extensions == [43, 51]
    assert (sh.selected_version, sh.version, sh.key_share_group) == (0x0304, 0x0304, 0x1D)
    assert not sh.is_hrr


@requires_corpus
def test_illustrated_tls12_client_hello() -> None:
    ch = parse_client_hello(cap(ILLUSTRATED_TLS12, "clienthello")[9:])
    assert ch.cipher_suites == [
        0xCCA8, 0xCCA9, 0xC02F, 0xC030, 0xC02B, 0xC02C, 0xC013, 0xC009, 0xC014, 0xC00A,
        0x009C, 0x009D, 0x002F, 0x0035, 0xC012, 0x000A,
    ]  # fmt: skip
    assert ch.extensions == [0, 5, 10, 11, 13, 65281, 18]
    assert ch.status_request_type == 1
    assert ch.renegotiation_info
    assert ch.supported_groups == [0x1D, 0x17, 0x18, 0x19]
    assert ch.session_id == b""


@requires_corpus
def test_illustrated_tls12_server_hello() -> None:
    sh = parse_server_hello(cap(ILLUSTRATED_TLS12, "serverhello")[9:])
    assert (sh.version, sh.cipher_suite, sh.extensions, sh.renegotiation_info) == (
        0x0303,
        0xC013,
        [65281],
        True,
    )


@requires_corpus
def test_illustrated_tls12_certificate() -> None:
    chain, _ = parse_certificate(cap(ILLUSTRATED_TLS12, "servercert")[9:], tls13=False)
    assert [len(der) for der in chain] == [805]
    assert hashlib.sha256(chain[0]).hexdigest() == ILLUSTRATED_CERT_SHA256


@requires_corpus
def test_illustrated_tls13_certificate_with_context_and_entry_extensions() -> None:
    # the plaintext dump ends with the TLSInnerPlaintext content type byte, which is not part of the message
    chain, _ = parse_certificate(cap(ILLUSTRATED_TLS13, "servercert")[4:-1], tls13=True)
    assert [hashlib.sha256(der).hexdigest() for der in chain] == [ILLUSTRATED_CERT_SHA256]


@requires_corpus
def test_illustrated_tls12_ecdhe_server_key_exchange() -> None:
    assert parse_server_key_exchange(cap(ILLUSTRATED_TLS12, "serverkeyexchange")[9:], KEX_ECDHE) == (
        ServerKeyExchange(named_curve=0x1D)
    )


def test_client_hello_extensions_are_decoded() -> None:
    extensions = (
        ext(0x0A0A)
        + ext(0, vec(2, b"\x00" + vec(2, b"www.example.com")))
        + ext(16, vec(2, vec(1, b"h2") + vec(1, b"http/1.1")))
        + ext(5, b"\x01" + u16s(0, 0))
        + ext(15, b"\x01")
        + ext(21, bytes(7))
        + ext(28, u16s(16385))
        + ext(65037, b"\x00" + u16s(1, 3) + b"\x2a" + vec(2, b"enc") + vec(2, b"payload"))
        + ext(42)
        + ext(41, vec(2, vec(2, b"id") + b"\x00\x00\x00\x00") + vec(2, vec(1, bytes(32))))
    )
    ch = parse_client_hello(client_hello(extensions, suites=(0x0A0A, 0x1301, 0x5600, 0x00FF)))
    assert ch.extensions == [0x0A0A, 0, 16, 5, 15, 21, 28, 65037, 42, 41]
    assert ch.cipher_suites == [0x0A0A, 0x1301, 0x5600, 0x00FF]
    assert ch.server_name == "www.example.com"
    assert ch.alpn == [b"h2", b"http/1.1"]
    assert ch.status_request_type == 1
    assert ch.heartbeat_mode == 1
    assert ch.padding_len == 7
    assert ch.record_size_limit == 16385
    assert (ch.ech_present, ch.ech_kdf_id, ch.ech_aead_id, ch.ech_config_id) == (True, 1, 3, 0x2A)
    assert ch.early_data and ch.has_pre_shared_key


def test_client_hello_without_extensions_block() -> None:
    ch = parse_client_hello(client_hello(extensions=None, version=0x0301))
    assert (ch.legacy_version, ch.extensions, ch.server_name) == (0x0301, [], None)


def test_malformed_extension_keeps_the_hello() -> None:
    ch = parse_client_hello(client_hello(ext(10, u16s(4, 29, 23)) + ext(43, b"\x04\x03\x04")))
    assert ch.extensions == [10, 43]
    assert ch.supported_groups == [29, 23]
    assert ch.malformed_extensions == [43]  # the version list declares 4 bytes but holds 2


def test_trailing_bytes_inside_an_extension_make_it_malformed() -> None:
    ch = parse_client_hello(client_hello(ext(28, u16s(16385, 1))))
    assert ch.malformed_extensions == [28]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        client_hello()[:40],
        client_hello(suites=()),
        client_hello(session_id=bytes(33)),
        client_hello()[:-2] + b"\x00\x05abc",  # extension block declares more than there is
    ],
    ids=["empty", "truncated", "no_suites", "long_session_id", "short_extensions"],
)
def test_malformed_client_hello_raises_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        parse_client_hello(body)


def test_hello_retry_request_is_recognised_by_its_random() -> None:
    sh = parse_server_hello(
        server_hello(ext(43, u16s(0x0304)) + ext(51, u16s(23)), 0x1301, random=HRR_RANDOM)
    )
    assert sh.is_hrr
    assert (sh.version, sh.key_share_group) == (0x0304, 23)


def test_server_hello_extensions_are_decoded() -> None:
    extensions = (
        ext(16, vec(2, vec(1, b"h2")))
        + ext(35)
        + ext(23)
        + ext(22)
        + ext(65281, b"\x00")
        + ext(5)
        + ext(11, b"\x01\x00")
        + ext(15, b"\x02")
        + ext(28, u16s(2**14))
        + ext(41, u16s(0))
    )
    sh = parse_server_hello(server_hello(extensions))
    assert sh.alpn == b"h2"
    assert sh.session_ticket_ext and sh.extended_master_secret and sh.encrypt_then_mac
    assert sh.renegotiation_info and sh.status_request and sh.has_pre_shared_key
    assert (sh.ec_point_formats, sh.heartbeat_mode, sh.record_size_limit) == ([0], 2, 2**14)


def test_server_alpn_with_two_protocols_is_malformed() -> None:
    sh = parse_server_hello(server_hello(ext(16, vec(2, vec(1, b"h2") + vec(1, b"h3")))))
    assert sh.alpn is None
    assert sh.malformed_extensions == [16]


def test_early_tls13_draft_server_hello_has_no_session_id_or_compression() -> None:
    body = u16s(0x7F12) + bytes(32) + u16s(0x1301) + vec(2, ext(51, u16s(29) + vec(2, bytes(32))))
    sh = parse_server_hello(body)
    assert (sh.version, sh.cipher_suite, sh.key_share_group, sh.session_id) == (0x7F12, 0x1301, 29, b"")


def test_dhe_server_key_exchange_reports_prime_bits() -> None:
    prime = (2**1023 + 1).to_bytes(128, "big")
    body = vec(2, prime) + vec(2, b"\x02") + vec(2, bytes(128)) + b"signature"
    assert parse_server_key_exchange(body, KEX_DHE).dh_prime_bits == 1024


def test_psk_key_exchanges_skip_the_identity_hint() -> None:
    ecdhe = vec(2, b"hint") + b"\x03" + u16s(23) + vec(1, bytes(65))
    dhe = vec(2, b"hint") + vec(2, b"\x00\xff\xff") + vec(2, b"\x02") + vec(2, b"\x05")
    assert parse_server_key_exchange(ecdhe, KEX_ECDHE_PSK).named_curve == 23
    assert parse_server_key_exchange(dhe, KEX_DHE_PSK).dh_prime_bits == 16


def test_explicit_curve_parameters_give_no_curve() -> None:
    assert parse_server_key_exchange(b"\x01" + bytes(40), KEX_ECDHE) == ServerKeyExchange()


def test_server_key_exchange_of_other_suites_is_not_read() -> None:
    assert parse_server_key_exchange(b"anything", KEX_OTHER) == ServerKeyExchange()


def test_certificate_list_with_trailing_bytes_is_malformed() -> None:
    with pytest.raises(ValueError):
        parse_certificate(vec(3, vec(3, b"der")) + b"x", tls13=False)


def test_empty_certificate_list_is_valid() -> None:
    assert parse_certificate(vec(3, b""), tls13=False) == ([], 0)


def test_certificate_request_tls12() -> None:
    body = vec(1, b"\x01\x40") + vec(2, u16s(0x0403, 0x0804)) + vec(2, vec(2, b"dn1") + vec(2, b"dn2"))
    assert parse_certificate_request(body, 0x0303) == CertificateRequest([1, 64], [0x0403, 0x0804], 2)


def test_certificate_request_tls10_has_no_signature_algorithms() -> None:
    assert parse_certificate_request(vec(1, b"\x01") + vec(2, b""), 0x0301) == CertificateRequest([1], [], 0)


def test_certificate_status_returns_the_ocsp_response() -> None:
    assert parse_certificate_status(b"\x01" + vec(3, b"\x30\x03\x0a\x01\x00")) == b"\x30\x03\x0a\x01\x00"


def test_certificate_status_of_another_type_is_none() -> None:
    assert parse_certificate_status(b"\x02" + vec(3, b"x")) is None


def test_new_session_ticket_lifetime_hint() -> None:
    assert parse_new_session_ticket(b"\x00\x00\x1c\x20" + vec(2, b"ticket")) == 7200


def test_sslv2_client_hello() -> None:
    body = b"\x01" + u16s(0x0002, 6, 0, 16) + bytes.fromhex("0700c0010080") + bytes(range(16))
    ch = parse_sslv2_client_hello(body)
    assert ch.sslv2_format
    assert (ch.legacy_version, ch.cipher_suites, ch.random, ch.session_id) == (
        0x0002,
        [0x0700C0, 0x010080],
        bytes(range(16)),
        b"",
    )


def test_sslv2_server_hello_gives_the_first_cipher_and_the_certificate() -> None:
    body = b"\x04\x00\x01" + u16s(0x0002, 4, 6, 16) + b"cert" + bytes.fromhex("0300800700c0") + bytes(16)
    sh, certificate = parse_sslv2_server_hello(body)
    assert (sh.version, sh.cipher_suite, sh.sslv2_format, certificate) == (0x0002, 0x030080, True, b"cert")


def test_sslv2_client_hello_with_partial_cipher_spec_is_malformed() -> None:
    with pytest.raises(ValueError):
        parse_sslv2_client_hello(b"\x01" + u16s(0x0002, 4, 0, 16) + bytes(20))
