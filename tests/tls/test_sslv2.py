"""SSLv2: hand-built CLIENT-HELLO, SERVER-HELLO and CLIENT-MASTER-KEY; the real exchange in ssl-v2.pcap."""

from __future__ import annotations

import hashlib

from tests.corpus.location import CORPUS, requires_corpus
from tests.tls.pcapfeed import stream_events
from tests.tls.vectors import u16s
from tlsmon.tls.analyzer import TlsAnalyzer


def v2_record(body: bytes) -> bytes:
    return bytes([0x80 | (len(body) >> 8), len(body) & 0xFF]) + body


CLIENT_HELLO = v2_record(b"\x01" + u16s(0x0002, 6, 0, 16) + bytes.fromhex("0700c0010080") + bytes(range(16)))
SERVER_HELLO = v2_record(
    b"\x04\x00\x01" + u16s(0x0002, 4, 3, 16) + b"cert" + bytes.fromhex("0700c0") + bytes(16)
)
CLIENT_MASTER_KEY = v2_record(b"\x02" + bytes.fromhex("0700c0") + u16s(0, 8, 0) + bytes(8))
ENCRYPTED = v2_record(bytes(24))


def test_sslv2_handshake_by_hand() -> None:
    analyzer = TlsAnalyzer()
    analyzer.data(True, CLIENT_HELLO)
    analyzer.data(False, SERVER_HELLO)
    analyzer.data(True, CLIENT_MASTER_KEY)
    s = analyzer.summary
    assert (s.version, s.version_code) == ("SSLv2", 2)
    assert (s.cipher, s.cipher_code) == ("SSLv20_CK_DES_192_EDE3_CBC_WITH_MD5", 0x0700C0)
    assert s.sslv2_client_hello
    assert s.client_ciphers == [0x0700C0, 0x010080]
    assert s.cert_chain_fps == [hashlib.sha256(b"cert").hexdigest()]
    assert s.ssl_history == "Cs"
    assert not s.established
    analyzer.data(False, ENCRYPTED)  # SERVER-VERIFY, encrypted
    assert s.established and analyzer.finished
    assert analyzer.anomalies == []


def test_sslv2_compatible_hello_answered_in_tls() -> None:
    hello = v2_record(b"\x01" + u16s(0x0301, 6, 0, 16) + bytes.fromhex("00002f000035") + bytes(16))
    server_hello = bytes.fromhex("160301002a020000260301") + bytes(32) + b"\x00\x00\x2f\x00"
    analyzer = TlsAnalyzer()
    analyzer.data(True, hello)
    analyzer.data(False, server_hello)
    s = analyzer.summary
    assert (s.version, s.cipher, s.client_version_code) == ("TLSv10", "TLS_RSA_WITH_AES_128_CBC_SHA", 0x0301)
    assert s.ssl_history == "Cs"
    assert s.sslv2_client_hello


@requires_corpus
def test_zeek_ssl_v2_trace() -> None:
    (events,) = stream_events(CORPUS / "zeek/Traces/tls/ssl-v2.pcap").values()
    analyzer = TlsAnalyzer()
    for is_orig, data in events:
        analyzer.data(is_orig, data)
    s = analyzer.summary
    # tshark: CLIENT-HELLO offers 7 specs, SERVER-HELLO lists 0x0700c0 first and carries one 903-byte cert
    assert (s.version, s.cipher) == ("SSLv2", "SSLv20_CK_DES_192_EDE3_CBC_WITH_MD5")
    assert s.client_ciphers == [0x0700C0, 0x050080, 0x030080, 0x010080, 0x060040, 0x040080, 0x020080]
    assert [len(der) for der in s.cert_chain] == [903]
    assert s.ssl_history == "Cs"
    assert s.established
    assert analyzer.anomalies == []
