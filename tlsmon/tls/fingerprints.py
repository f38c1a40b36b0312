"""Client and server hello fingerprints: JA3, JA3S (salesforce) and JA4 with its raw form JA4_r (FoxIO).

Theory of operation: every function is pure and reads only the decoded hello
(``tls/messages.py``), whose lists keep wire order and GREASE values. Each fingerprint
removes GREASE where its definition says so, renders the fields as text and digests it once.
The functions run once per hello, not per packet; see "Speed" below for how they stay cheap.

JA3 (github.com/salesforce/ja3, python/ja3.py) is
``SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats``: decimal values,
``-`` joined, GREASE (RFC 8701) dropped from ciphers, extensions and curves, and the MD5 of that
string. JA3S is ``SSLVersion,Cipher,Extensions`` of the ServerHello, nothing dropped. Both take the
legacy ``version`` field, never supported_versions.

JA4 (github.com/FoxIO-LLC/ja4, technical_details/JA4.md; JA4 itself is BSD-3, the JA4+ family
is not and is deliberately absent) is ``a_b_c``:

- a: transport (t/q/d), version (highest non-GREASE supported_versions entry, else the legacy
  version), ``d`` if the server_name extension is present else ``i``, the number of ciphers and
  of extensions (GREASE excluded, SNI and ALPN included, capped at 99), and two characters from
  the first ALPN protocol ('00' without one);
- b: the first 12 hex digits of SHA-256 over the sorted 4-hex-digit cipher list;
- c: the same over the sorted extension list without SNI (0x0000) and ALPN (0x0010), followed
  by ``_`` and the signature algorithms in wire order; with no signature algorithms the string
  ends without the ``_``.

An empty list hashes to ``000000000000`` instead of SHA-256 of nothing. JA4_r is the same string
with the lists in clear instead of hashed.

An SSLv2-format hello is fingerprinted from whatever the parser stored (its 24-bit cipher specs
render as 6 hex digits in JA4); neither salesforce's tool nor tshark fingerprints such hellos.

Speed: a hello's lists are rendered through two memo tables (code -> decimal text, code -> 4-hex text) joined
with ``map``, so a fingerprint costs a few C-level joins instead of one format call per value; the tables fill
on first sight of a code and hold at most the 65 536 uint16 values.
"""

from __future__ import annotations

from hashlib import md5, sha256

from tlsmon.tls.messages import ClientHello, ServerHello

__all__ = ["is_grease", "ja3", "ja3s", "ja4", "ja4_alpn"]

# RFC 8701 §2: GREASE code points are 0x?A?A with both bytes equal (0x0A0A, 0x1A1A … 0xFAFA).
_GREASE = frozenset(0x0A0A + 0x1010 * i for i in range(16))

# IANA TLS ExtensionType values that JA4 treats specially.
_EXT_SERVER_NAME = 0x0000
_EXT_ALPN = 0x0010

_JA4_TRANSPORTS = frozenset("tqd")
_JA4_UNLISTED_EXTENSIONS = _GREASE | {_EXT_SERVER_NAME, _EXT_ALPN}

# JA4.md "TLS and DTLS Version". 0x0100 and 0x0200 are not in the spec's table but the FoxIO Rust
# tool and Wireshark plugin map them to s1/s2 (SSL 2.0 hellos carry 0x0002 on the wire).
_JA4_VERSIONS: dict[int, str] = {
    0x0304: "13",
    0x0303: "12",
    0x0302: "11",
    0x0301: "10",
    0x0300: "s3",
    0x0002: "s2",
    0x0200: "s2",
    0x0100: "s1",
    0xFEFF: "d1",
    0xFEFD: "d2",
    0xFEFC: "d3",
}

_EMPTY_HASH = "000000000000"


class _TextTable(dict[int, str]):
    """code -> text memo; stores only uint16 codes so wider values (SSLv2 specs, junk) cannot grow it."""

    __slots__ = ("_render",)

    def __init__(self, render: str) -> None:
        super().__init__()
        self._render = render

    def __missing__(self, code: int) -> str:
        text = format(code, self._render)
        if 0 <= code <= 0xFFFF:
            self[code] = text
        return text


_DECIMAL = _TextTable("d")
_HEX4 = _TextTable("04x")


def is_grease(value: int) -> bool:
    """True for an RFC 8701 GREASE value (cipher suite, extension, group, version, sigalg)."""
    return value in _GREASE


def _without_grease(values: list[int]) -> list[int]:
    return [v for v in values if v not in _GREASE]


def _decimals(values: list[int]) -> str:
    """Decimal codes joined by '-', GREASE dropped (one pass: filter and render together)."""
    return "-".join([_DECIMAL[v] for v in values if v not in _GREASE])


def ja3(ch: ClientHello) -> tuple[str, str]:
    """The JA3 string of a ClientHello and its MD5 in lowercase hex."""
    # Point formats are one byte wide, so no GREASE value can occur among them.
    text = (
        f"{ch.legacy_version},{_decimals(ch.cipher_suites)},{_decimals(ch.extensions)},"
        f"{_decimals(ch.supported_groups)},{'-'.join(map(_DECIMAL.__getitem__, ch.ec_point_formats))}"
    )
    return text, md5(text.encode("ascii"), usedforsecurity=False).hexdigest()


def ja3s(sh: ServerHello) -> tuple[str, str]:
    """The JA3S string of a ServerHello and its MD5 in lowercase hex."""
    text = f"{sh.legacy_version},{sh.cipher_suite},{'-'.join(map(_DECIMAL.__getitem__, sh.extensions))}"
    return text, md5(text.encode("ascii"), usedforsecurity=False).hexdigest()


def _version_rank(version: int) -> int:
    # DTLS counts its minor version down (1.0 = 0xfeff, 1.2 = 0xfefd, 1.3 = 0xfefc); by plain
    # numeric order a DTLS 1.3 hello offering 1.3 and 1.2 could never show JA4's "d3".
    return 0xFFFF - version if version >> 8 == 0xFE else version


def _ja4_version(ch: ClientHello) -> str:
    offered = _without_grease(ch.supported_versions)
    if not offered:
        version = ch.legacy_version
    else:
        version = max(offered)
        if version >= 0xFE00:  # only then can a DTLS value be present and the rank differ from the value
            version = max(offered, key=_version_rank)
    return _JA4_VERSIONS.get(version, "00")


def _is_alnum(byte: int) -> bool:
    return 0x30 <= byte <= 0x39 or 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A


def ja4_alpn(alpn: list[bytes]) -> str:
    """JA4's two ALPN characters: first and last byte of the first protocol, or of its hex form.

    '00' without a protocol or with an empty first one; a one-byte protocol supplies both
    characters; if either end byte is not an ASCII letter or digit the first and last digits of
    the protocol's lowercase hex are used instead (JA4.md "ALPN Extension Value").
    """
    if not alpn or not alpn[0]:
        return "00"
    first = alpn[0]
    if _is_alnum(first[0]) and _is_alnum(first[-1]):
        return chr(first[0]) + chr(first[-1])
    digits = first.hex()
    return digits[0] + digits[-1]


def _hash12(text: str) -> str:
    if not text:
        return _EMPTY_HASH
    return sha256(text.encode("ascii")).hexdigest()[:12]


def ja4(ch: ClientHello, transport: str = "t") -> tuple[str, str]:
    """The JA4 fingerprint of a ClientHello and its raw form JA4_r.

    ``transport`` is the first character: "t" for TLS over TCP, "q" for QUIC, "d" for DTLS.
    """
    if transport not in _JA4_TRANSPORTS:
        raise ValueError(f"JA4 transport must be one of t, q, d; got {transport!r}")
    extensions = ch.extensions
    cipher_hexes = [_HEX4[c] for c in sorted(ch.cipher_suites) if c not in _GREASE]
    # sorted, without GREASE, SNI and ALPN; SNI and ALPN still count in the prefix
    ext_hexes = [_HEX4[e] for e in sorted(extensions) if e not in _JA4_UNLISTED_EXTENSIONS]
    ext_count = len(ext_hexes) + extensions.count(_EXT_SERVER_NAME) + extensions.count(_EXT_ALPN)
    sigalgs = ",".join([_HEX4[s] for s in ch.signature_algorithms if s not in _GREASE])

    prefix = (
        f"{transport}{_ja4_version(ch)}"
        f"{'d' if _EXT_SERVER_NAME in extensions else 'i'}"
        f"{min(len(cipher_hexes), 99):02d}{min(ext_count, 99):02d}"
        f"{ja4_alpn(ch.alpn)}"
    )
    cipher_list = ",".join(cipher_hexes)
    ext_list = ",".join(ext_hexes)
    ext_sig = f"{ext_list}_{sigalgs}" if sigalgs else ext_list

    # JA4.md: an empty sorted extension list gives 000000000000 even if anything else followed.
    ext_hash = _hash12(ext_sig) if ext_list else _EMPTY_HASH
    fingerprint = f"{prefix}_{_hash12(cipher_list)}_{ext_hash}"
    raw = f"{prefix}_{cipher_list}_{ext_sig}"
    return fingerprint, raw
