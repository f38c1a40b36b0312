"""TlsAnalyzer on real handshakes produced by the local OpenSSL through Python's ``ssl`` memory BIOs.

Each transcript is fed whole, byte by byte, and (in test_analyzer_segmentation.py) at random split points; the
summary must be the same every time and must match what the ``ssl`` objects themselves report.
"""

from __future__ import annotations

import hashlib
import ssl
from pathlib import Path

import pytest

from tests.tls.handshakes import HOSTNAME, Identity, Transcript, client_context, handshake, server_context
from tlsmon.tls.analyzer import TlsAnalyzer
from tlsmon.tls.codes import cipher_name


def analyze(t: Transcript, bytewise: bool = False) -> TlsAnalyzer:
    analyzer = TlsAnalyzer()
    for is_orig, data in t.chunks:
        if bytewise:
            for i in range(len(data)):
                analyzer.data(is_orig, data[i : i + 1])
        else:
            analyzer.data(is_orig, data)
    return analyzer


def negotiated_code(t: Transcript) -> int:
    """The chosen suite's code, from OpenSSL's own cipher table."""
    cipher = t.client.cipher()
    assert cipher is not None
    name = cipher[0]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    return next(c["id"] & 0xFFFF for c in ctx.get_ciphers() if c["name"] == name)


def tls12(ctx: ssl.SSLContext) -> None:
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2


@pytest.fixture(scope="module")
def tls13(ids: dict[str, Identity]) -> Transcript:
    return handshake(client_context(), server_context(ids["ec"]))


@pytest.fixture(scope="module")
def tls12_ecdhe(ids: dict[str, Identity]) -> Transcript:
    return handshake(client_context(tls12), server_context(ids["ec"]))


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
def test_tls13_handshake(tls13: Transcript, bytewise: bool) -> None:
    analyzer = analyze(tls13, bytewise)
    s = analyzer.summary
    assert (s.version, s.version_code) == ("TLSv13", 0x0304)
    assert s.cipher == "TLS_AES_256_GCM_SHA384"
    assert tls13.client.cipher() == ("TLS_AES_256_GCM_SHA384", "TLSv1.3", 256)
    assert (s.curve, s.curve_code) == ("x25519", 29)
    assert s.server_name == HOSTNAME
    assert s.established and analyzer.finished
    assert s.ssl_history == "CsiI"
    assert s.cert_chain_fps == []  # the TLS 1.3 Certificate is encrypted
    assert 0x0304 in s.client_supported_versions
    assert s.client_key_share_groups == [29]
    assert s.forward_secrecy is True and s.rc4 is False
    assert (s.ccs_orig, s.ccs_resp, s.resumed, s.hrr) == (True, True, False, False)
    assert analyzer.anomalies == []


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
def test_tls12_ecdhe_handshake(tls12_ecdhe: Transcript, ids: dict[str, Identity], bytewise: bool) -> None:
    analyzer = analyze(tls12_ecdhe, bytewise)
    s = analyzer.summary
    assert (s.version, s.version_code) == ("TLSv12", 0x0303)
    assert s.cipher_code == negotiated_code(tls12_ecdhe)
    assert s.cipher == cipher_name(negotiated_code(tls12_ecdhe)) == "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
    assert s.curve == "x25519"
    assert s.ssl_history == "CsxknGIti"
    assert s.cert_chain_fps == [hashlib.sha256(ids["ec"].der).hexdigest()]
    assert s.cert_chain == [ids["ec"].der]
    assert s.session_ticket_lifetime_hint == 7200
    assert s.established and analyzer.finished
    assert s.forward_secrecy is True
    assert analyzer.anomalies == []


def test_fingerprints_are_filled(tls13: Transcript) -> None:
    s = analyze(tls13).summary
    assert s.ja3 is not None and len(s.ja3) == 32
    assert s.ja3s is not None and len(s.ja3s) == 32
    assert s.ja4 is not None and s.ja4.startswith("t13d")
    assert s.ja4_r is not None and s.ja4_r.startswith("t13d")


def test_tls12_alpn_and_server_name(ids: dict[str, Identity]) -> None:
    def offer(ctx: ssl.SSLContext) -> None:
        tls12(ctx)
        ctx.set_alpn_protocols(["h2", "http/1.1"])

    t = handshake(
        client_context(offer),
        server_context(ids["ec"], lambda c: c.set_alpn_protocols(["http/1.1"])),
        server_hostname="alpn.example.test",
    )
    s = analyze(t).summary
    assert s.client_alpn == ["h2", "http/1.1"]
    assert s.next_protocol == "http/1.1"
    assert s.server_name == "alpn.example.test"


def test_tls13_alpn_is_encrypted_so_next_protocol_stays_empty(ids: dict[str, Identity]) -> None:
    t = handshake(
        client_context(lambda c: c.set_alpn_protocols(["h2"])),
        server_context(ids["ec"], lambda c: c.set_alpn_protocols(["h2"])),
    )
    s = analyze(t).summary
    assert (s.client_alpn, s.next_protocol) == (["h2"], None)


def test_dhe_reports_the_prime_size(ids: dict[str, Identity], dh_file: Path) -> None:
    def dhe(ctx: ssl.SSLContext) -> None:
        tls12(ctx)
        ctx.set_ciphers("DHE-RSA-AES128-GCM-SHA256")

    def dhe_server(ctx: ssl.SSLContext) -> None:
        dhe(ctx)
        ctx.load_dh_params(str(dh_file))

    t = handshake(client_context(dhe), server_context(ids["rsa"], dhe_server))
    s = analyze(t).summary
    assert s.cipher == "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"
    assert s.dh_prime_bits == 2048
    assert s.curve is None
    assert s.forward_secrecy is True
    assert s.ssl_history == "CsxknGIti"


def test_client_certificate(ids: dict[str, Identity]) -> None:
    def ask_for_client_cert(ctx: ssl.SSLContext) -> None:
        tls12(ctx)
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.load_verify_locations(ids["client"].cert_pem)

    t = handshake(
        client_context(lambda c: c.load_cert_chain(ids["client"].cert_pem, ids["client"].key_pem)),
        server_context(ids["ec"], ask_for_client_cert),
    )
    s = analyze(t).summary
    assert s.cert_request
    assert s.client_cert_chain_fps == [hashlib.sha256(ids["client"].der).hexdigest()]
    assert s.cert_chain_fps == [hashlib.sha256(ids["ec"].der).hexdigest()]
    assert s.ssl_history == "CsxkrnXGYIti"


def test_tls12_session_id_resumption(ids: dict[str, Identity]) -> None:
    client_ctx = client_context(tls12)
    server_ctx = server_context(ids["ec"], lambda c: setattr(c, "options", c.options | ssl.OP_NO_TICKET))
    first = handshake(client_ctx, server_ctx)
    second = handshake(client_ctx, server_ctx, session=first.client.session)
    assert second.client.session_reused
    assert analyze(first).summary.resumed is False
    s = analyze(second).summary
    assert s.resumed is True
    assert s.ssl_history == "CsiI"
    assert s.cert_chain_fps == []
    assert s.established


def test_tls12_ticket_resumption(ids: dict[str, Identity]) -> None:
    client_ctx = client_context(tls12)
    server_ctx = server_context(ids["ec"])
    first = handshake(client_ctx, server_ctx)
    second = handshake(client_ctx, server_ctx, session=first.client.session)
    s = analyze(second).summary
    assert s.client_session_ticket_len is not None and s.client_session_ticket_len > 0
    assert s.resumed is True
    assert s.established


def test_tls13_psk_resumption(ids: dict[str, Identity]) -> None:
    client_ctx = client_context()
    server_ctx = server_context(ids["ec"])
    first = handshake(client_ctx, server_ctx)
    second = handshake(client_ctx, server_ctx, session=first.client.session)
    assert second.client.session_reused
    s = analyze(second).summary
    assert s.resumed is True
    assert 41 in s.client_extensions and 41 in s.server_extensions
    assert s.ssl_history == "CsiI"


def test_hello_retry_request(ids: dict[str, Identity]) -> None:
    # the client's key share is x25519; a server that only accepts P-256 must ask again
    t = handshake(client_context(), server_context(ids["ec"], lambda c: c.set_ecdh_curve("prime256v1")))
    analyzer = analyze(t)
    s = analyzer.summary
    assert (s.hrr, s.hrr_group) == (True, 23)
    assert (s.curve, s.server_key_share_group) == ("secp256r1", 23)
    assert s.ssl_history == "CjiICs"
    assert s.client_key_share_groups == [29]  # the summary keeps the first ClientHello
    assert s.established
    assert analyzer.client_hello is not None and analyzer.client_hello.key_share_groups == [29]


def test_handshake_failure_alert(ids: dict[str, Identity]) -> None:
    def rsa_suite_only(ctx: ssl.SSLContext) -> None:
        tls12(ctx)
        ctx.set_ciphers("ECDHE-RSA-AES128-GCM-SHA256")

    t = handshake(client_context(rsa_suite_only), server_context(ids["ec"], tls12))  # an ECDSA-only server
    assert t.error is not None
    analyzer = analyze(t)
    s = analyzer.summary
    assert s.ssl_history == "Cl"
    assert s.last_alert == "handshake_failure"
    assert s.alerts == [{"direction": "resp", "level": 2, "description": 40, "name": "handshake_failure"}]
    assert (s.version, s.established) == (None, False)
    assert analyzer.finished is False  # only the server's direction ended
    analyzer.end()
    assert analyzer.finished is True


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
@pytest.mark.parametrize(
    ("version", "name"),
    [(ssl.TLSVersion.TLSv1, "TLSv10"), (ssl.TLSVersion.TLSv1_1, "TLSv11")],
    ids=["tls10", "tls11"],
)
def test_old_protocol_versions(ids: dict[str, Identity], version: ssl.TLSVersion, name: str) -> None:
    def pin(ctx: ssl.SSLContext) -> None:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = version
        ctx.maximum_version = version

    try:
        t = handshake(client_context(pin), server_context(ids["ec"], pin))
    except ssl.SSLError as exc:  # pragma: no cover - depends on the local OpenSSL build
        pytest.skip(f"local OpenSSL refuses {name}: {exc}")
    if t.error is not None:  # pragma: no cover
        pytest.skip(f"local OpenSSL refuses {name}: {t.error}")
    s = analyze(t).summary
    assert s.version == name
    assert s.cipher_code == negotiated_code(t)
    assert s.ssl_history == "CsxknGIti"
    assert s.established


def test_data_after_finished_is_ignored(tls12_ecdhe: Transcript) -> None:
    analyzer = analyze(tls12_ecdhe)
    before = analyzer.summary.ssl_history
    analyzer.data(False, b"\x15\x03\x03\x00\x02\x02\x28")
    assert analyzer.summary.ssl_history == before
    assert analyzer.summary.last_alert is None
