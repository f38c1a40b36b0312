"""tls/codes.py and tls/ciphers.py: names exactly as Zeek's ssl.log spells them, unknown-N otherwise."""

from __future__ import annotations

from tlsmon.tls.codes import (
    FORWARD_SECRET_CIPHERS,
    GREASE,
    KEX_DHE,
    KEX_DHE_PSK,
    KEX_ECDHE,
    KEX_ECDHE_PSK,
    KEX_OTHER,
    RC4_CIPHERS,
    alert_name,
    cipher_kex,
    cipher_name,
    extension_name,
    group_name,
    is_tls13,
    version_name,
)


def test_version_names_follow_zeek() -> None:
    assert [version_name(v) for v in (0x0002, 0x0300, 0x0301, 0x0302, 0x0303, 0x0304)] == [
        "SSLv2",
        "SSLv3",
        "TLSv10",
        "TLSv11",
        "TLSv12",
        "TLSv13",
    ]
    assert version_name(0xFEFD) == "DTLSv12"


def test_tls13_drafts_are_named_by_draft_number() -> None:
    assert version_name(0x7F12) == "TLSv13-draft18"
    assert version_name(0x7F17) == "TLSv13-draft23"


def test_google_experiment_version_is_unknown_as_in_zeek() -> None:
    # Zeek's ssl.log for chrome-63.0.3211.0-canary-tls_experiment.pcap says unknown-32257
    assert version_name(0x7E01) == "unknown-32257"


def test_tls13_test_covers_drafts_but_not_the_experiment() -> None:
    assert is_tls13(0x0304) and is_tls13(0x7F1C)
    assert not is_tls13(0x7E01) and not is_tls13(0x0303)


def test_cipher_names_are_iana_names() -> None:
    assert cipher_name(0x1301) == "TLS_AES_128_GCM_SHA256"
    assert cipher_name(0xC02F) == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    assert cipher_name(0xCCA9) == "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
    assert cipher_name(0x00FF) == "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"
    assert cipher_name(0x5600) == "TLS_FALLBACK_SCSV"


def test_sslv2_cipher_kinds_have_names() -> None:
    assert cipher_name(0x0700C0) == "SSLv20_CK_DES_192_EDE3_CBC_WITH_MD5"
    assert cipher_name(0x010080) == "SSLv20_CK_RC4_128_WITH_MD5"


def test_grease_and_unknown_ciphers() -> None:
    assert cipher_name(0x0A0A) == "grease_0x0A0A"
    assert cipher_name(0x1234) == "unknown-4660"


def test_group_names_use_zeek_spelling() -> None:
    assert group_name(29) == "x25519"
    assert group_name(23) == "secp256r1"
    assert group_name(4588) == "X25519MLKEM768"
    assert group_name(0xFAFA) == "grease_0xFAFA"
    assert group_name(9999) == "unknown-9999"


def test_extension_and_alert_names() -> None:
    assert extension_name(35) == "SessionTicket TLS"
    assert extension_name(0xFE0D) == "encrypted_client_hello"
    assert alert_name(40) == "handshake_failure"
    assert alert_name(200) == "unknown-200"


def test_grease_values_are_the_sixteen_rfc8701_codes() -> None:
    assert len(GREASE) == 16
    assert {0x0A0A, 0x1A1A, 0xFAFA} <= GREASE


def test_key_exchange_families_come_from_the_suite_names() -> None:
    assert cipher_kex(0xC02F) == KEX_ECDHE  # ECDHE_RSA
    assert cipher_kex(0xC018) == KEX_ECDHE  # ECDH_anon: ephemeral ECParameters too
    assert cipher_kex(0x009E) == KEX_DHE  # DHE_RSA
    assert cipher_kex(0x0034) == KEX_DHE  # DH_anon
    assert cipher_kex(0xC035) == KEX_ECDHE_PSK
    assert cipher_kex(0x0090) == KEX_DHE_PSK
    assert cipher_kex(0xC00E) == KEX_OTHER  # static ECDH_RSA sends no ServerKeyExchange
    assert cipher_kex(0x002F) == KEX_OTHER


def test_forward_secrecy_and_rc4_sets() -> None:
    assert 0xC02F in FORWARD_SECRET_CIPHERS
    assert 0x002F not in FORWARD_SECRET_CIPHERS
    assert 0x16B7 in FORWARD_SECRET_CIPHERS  # CECPQ1
    assert {0x0004, 0x0005, 0xC011, 0x010080} <= RC4_CIPHERS
    assert 0xC02F not in RC4_CIPHERS
