"""The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) a load balancer puts in front of
the client's stream, and what else may come before a protocol: the row's preamble columns.

Theory of operation: a proxy that speaks the PROXY protocol opens the connection to the server and writes one
header before any byte of the client it relays, so the header is at the very start of the originator's stream,
whatever follows it (TLS, or a plaintext protocol that may upgrade). The dispatcher gives the client's first
bytes to :class:`ProxyHeaderReader` only when they start like a header (``P`` or ``\\r``); the reader holds
them until it can say whether they are one:

- version 1 (§2.1): one text line ``PROXY TCP4|TCP6|UNKNOWN src dst sport dport\\r\\n`` of at most 107 bytes.
  ``UNKNOWN`` may be followed by anything up to the CRLF (receivers ignore it).
- version 2 (§2.2): the 12-byte signature ``\\r\\n\\r\\n\\0\\r\\nQUIT\\n``, the version (2) and command (LOCAL or
  PROXY) byte, the address family and transport byte, a 16-bit length of the rest, the address block (12
  bytes for TCP/UDP over IPv4, 36 over IPv6, 216 for two UNIX paths), then TLVs (type, 16-bit length, value)
  to the end. LOCAL (health checks) carries nothing to keep (its block is discarded, TLVs included); an UNSPEC
  family has no addresses.

A header read whole becomes a :class:`PreambleSummary` (addresses, ports, family, the names of the TLV types
present — never their values) and the reader hands back the client bytes that follow it: the dispatcher
probes those as the connection's first bytes. Bytes that are not a header at all are handed back unchanged.
A header that cannot be read — malformed (:class:`ProxyAnomaly`), or longer than
:attr:`~tlsmon.limits.Limits.max_proxy_header` — is named on the row and its bytes go to the probe as they
are: only the bounded ClientHello search (``tlsmon.dispatch``) can still find TLS behind it. Memory is bounded by
that limit (version 2 states its length in its first 16 bytes; version 1 is at most 107 bytes), work is one pass.

Privacy: the header states where the client connected from, as the IP header of a direct connection would;
TLV values (ALPN, authority, SSL details, unique ids) are not kept, only which types were present.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa

from tlsmon.columns import Column, ColumnGroup
from tlsmon.limits import DEFAULT_LIMITS, Limits

V1_PREFIX = b"PROXY "
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V1_MAX_LENGTH = 107  # §2.1: "a receiver … must not try to read more than 107 characters"
_V2_FIXED = 16  # signature, ver_cmd, fam, len
_V2_HEAD = struct.Struct("!BBH")

# §2.2: the low nibble of the 13th byte.
_COMMANDS = {0x0: "LOCAL", 0x1: "PROXY"}
# §2.2: the 14th byte, address family (high nibble) and transport (low nibble): the combinations defined.
_FAMILIES = {
    0x11: "TCP4",
    0x12: "UDP4",
    0x21: "TCP6",
    0x22: "UDP6",
    0x31: "UNIX_STREAM",
    0x32: "UNIX_DGRAM",
}
_ADDRESS_BLOCK = {0x1: 12, 0x2: 36, 0x3: 216}  # bytes of the address block per family nibble
_UNIX_PATH = 108
# §2.2.1-2.2.8: the registered TLV types; others are kept as unknown-N.
TLV_NAMES = {
    0x01: "ALPN",
    0x02: "AUTHORITY",
    0x03: "CRC32C",
    0x04: "NOOP",
    0x05: "UNIQUE_ID",
    0x20: "SSL",
    0x30: "NETNS",
}


class ProxyAnomaly(StrEnum):
    # A version 1 line or version 2 block that breaks the specification: an unknown protocol word, a bad
    # address or port, a version other than 2, an undefined command or family, a length shorter than the
    # address block. The bytes go to the probe as they are.
    MALFORMED_HEADER = "proxy.malformed_header"
    # A TLV runs past the end of the version 2 header; the header (its stated length) is still skipped and the
    # TLV types before the bad one are kept.
    MALFORMED_TLV = "proxy.malformed_tlv"
    # Version 1 without CRLF in its first 107 bytes, or a version 2 header longer than Limits.max_proxy_header.
    HEADER_TOO_LONG = "proxy.header_too_long"
    # The connection ended, or bytes were lost, inside the header.
    TRUNCATED_HEADER = "proxy.truncated_header"


@dataclass(slots=True)
class PreambleSummary:
    proxy_version: int | None = None
    proxy_command: str | None = None
    proxy_family: str | None = None
    proxy_src_addr: str | None = None
    proxy_dst_addr: str | None = None
    proxy_src_port: int | None = None
    proxy_dst_port: int | None = None
    proxy_tlvs: list[str] | None = None
    preamble_orig_bytes: int | None = None
    preamble_resp_bytes: int | None = None


PREAMBLE_COLUMNS = ColumnGroup(
    "preamble",
    (
        Column(
            "proxy_version",
            pa.uint8(),
            "PROXY protocol header (HAProxy) at the start of the client's stream: 1 (text line) or 2 (binary); "
            "null when there was none. Also set when the header was malformed or cut (see anomalies proxy.*).",
            "2",
        ),
        Column(
            "proxy_command",
            pa.string(),
            "PROXY (relayed connection; version 1 always) or LOCAL (version 2: the proxy's own connection, e.g. "
            "a health check; no addresses).",
            "PROXY",
        ),
        Column(
            "proxy_family",
            pa.string(),
            "The header's address family and transport: TCP4, TCP6, UDP4, UDP6, UNIX_STREAM, UNIX_DGRAM, or "
            "UNKNOWN (version 1 UNKNOWN, version 2 UNSPEC).",
            "TCP4",
        ),
        Column(
            "proxy_src_addr",
            pa.string(),
            "The client address the proxy relayed (IPv4/IPv6 text, or the UNIX socket path); null for LOCAL, "
            "UNKNOWN and UNSPEC.",
            "203.0.113.7",
        ),
        Column("proxy_dst_addr", pa.string(), "The address the client connected to, at the proxy.", "192.0.2.1"),
        Column("proxy_src_port", pa.uint16(), "The relayed client's port (TCP/UDP families).", "51234"),
        Column("proxy_dst_port", pa.uint16(), "The port the client connected to, at the proxy.", "443"),
        Column(
            "proxy_tlvs",
            pa.list_(pa.string()),
            "Version 2 only: the TLV types present, in order, each once, never their values: ALPN, AUTHORITY, "
            "CRC32C, NOOP, UNIQUE_ID, SSL, NETNS, or unknown-N (N the type byte, e.g. AWS's unknown-234).",
            "['ALPN', 'AUTHORITY', 'SSL']",
        ),
        Column(
            "preamble_orig_bytes",
            pa.uint32(),
            "Client bytes skipped before the ClientHello that the bounded search found after unknown plaintext "
            "(anomaly tls.preamble_skipped; the PROXY header is not counted); null when TLS was not found so.",
            "32",
        ),
        Column(
            "preamble_resp_bytes",
            pa.uint32(),
            "Server bytes sent before that ClientHello, skipped with it (a banner or a reply to the preamble).",
            "0",
        ),
    ),
)


class ProxyHeaderReader:
    """Holds the client's first bytes until they are, or are not, a PROXY header (see the module docstring)."""

    __slots__ = ("_buf", "_limit", "anomaly", "summary")

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self._buf = b""
        self._limit = limits.max_proxy_header
        self.summary: PreambleSummary | None = None  # set once the bytes are known to be a header
        self.anomaly: ProxyAnomaly | None = None

    def feed(self, data: bytes) -> bytes | None:
        """The next client bytes. None while undecided; else the bytes to probe: those after a header read whole,
        or every byte held when there is no header or it cannot be read."""
        buf = self._buf + data
        self._buf = buf
        if V1_PREFIX.startswith(buf[:6]):
            return self._version1(buf)
        if V2_SIGNATURE.startswith(buf[:12]):
            return self._version2(buf)
        return self._release()

    def cut(self) -> bytes:
        """The stream ended or lost bytes: a header begun is truncated; the bytes held go to the probe."""
        if self.summary is not None:
            self.anomaly = ProxyAnomaly.TRUNCATED_HEADER
        return self._release()

    def _release(self, start: int = 0) -> bytes:
        rest = self._buf[start:]
        self._buf = b""
        return rest

    def _fail(self, anomaly: ProxyAnomaly) -> bytes:
        self.anomaly = anomaly
        return self._release()

    # -- version 1 ----------------------------------------------------------------------------------------------
    def _version1(self, buf: bytes) -> bytes | None:
        if len(buf) < len(V1_PREFIX):
            return None
        summary = self.summary
        if summary is None:
            summary = self.summary = PreambleSummary(proxy_version=1, proxy_command="PROXY")
        end = buf.find(b"\r\n", 0, V1_MAX_LENGTH)
        if end < 0:
            if len(buf) >= V1_MAX_LENGTH:
                return self._fail(ProxyAnomaly.HEADER_TOO_LONG)
            return None
        words = buf[len(V1_PREFIX) : end].split(b" ")
        if words[0] == b"UNKNOWN":
            summary.proxy_family = "UNKNOWN"
            return self._release(end + 2)
        if len(words) != 5 or words[0] not in (b"TCP4", b"TCP6"):
            return self._fail(ProxyAnomaly.MALFORMED_HEADER)
        family = words[0].decode()
        version = 4 if family == "TCP4" else 6
        src, dst = _address(words[1], version), _address(words[2], version)
        sport, dport = _port(words[3]), _port(words[4])
        if src is None or dst is None or sport is None or dport is None:
            return self._fail(ProxyAnomaly.MALFORMED_HEADER)
        summary.proxy_family = family
        summary.proxy_src_addr, summary.proxy_dst_addr = src, dst
        summary.proxy_src_port, summary.proxy_dst_port = sport, dport
        return self._release(end + 2)

    # -- version 2 ----------------------------------------------------------------------------------------------
    def _version2(self, buf: bytes) -> bytes | None:
        if len(buf) < _V2_FIXED:
            return None
        ver_cmd, fam, length = _V2_HEAD.unpack_from(buf, 12)
        summary = self.summary
        if summary is None:
            summary = self.summary = PreambleSummary(proxy_version=ver_cmd >> 4)
            summary.proxy_command = _COMMANDS.get(ver_cmd & 0xF)
            summary.proxy_family = "UNKNOWN" if fam >> 4 == 0 else _FAMILIES.get(fam)
        if ver_cmd >> 4 != 2 or summary.proxy_command is None:
            return self._fail(ProxyAnomaly.MALFORMED_HEADER)
        local = summary.proxy_command == "LOCAL"
        # §2.2: LOCAL and UNSPEC headers are accepted whatever their family; PROXY needs a defined one.
        if summary.proxy_family is None and not local:
            return self._fail(ProxyAnomaly.MALFORMED_HEADER)
        total = _V2_FIXED + length
        if total > self._limit:
            return self._fail(ProxyAnomaly.HEADER_TOO_LONG)
        if len(buf) < total:
            return None
        block = _ADDRESS_BLOCK.get(fam >> 4, 0)
        if length < block:
            return self._fail(ProxyAnomaly.MALFORMED_HEADER)
        if not local:  # §2.2: a LOCAL header's protocol block is discarded whole
            if block:
                self._addresses(fam, buf[_V2_FIXED : _V2_FIXED + block])
            self._tlvs(buf[_V2_FIXED + block : total])
        return self._release(total)

    def _addresses(self, fam: int, block: bytes) -> None:
        summary = self.summary
        assert summary is not None
        kind = fam >> 4
        if kind == 0x3:
            summary.proxy_src_addr = _unix_path(block[:_UNIX_PATH])
            summary.proxy_dst_addr = _unix_path(block[_UNIX_PATH:])
            return
        size = 4 if kind == 0x1 else 16
        summary.proxy_src_addr = str(ipaddress.ip_address(block[:size]))
        summary.proxy_dst_addr = str(ipaddress.ip_address(block[size : 2 * size]))
        summary.proxy_src_port, summary.proxy_dst_port = struct.unpack_from("!HH", block, 2 * size)

    def _tlvs(self, data: bytes) -> None:
        summary = self.summary
        assert summary is not None
        names: list[str] = []
        pos = 0
        while pos < len(data):
            if pos + 3 > len(data):
                self.anomaly = ProxyAnomaly.MALFORMED_TLV
                break
            kind, size = data[pos], int.from_bytes(data[pos + 1 : pos + 3], "big")
            if pos + 3 + size > len(data):
                self.anomaly = ProxyAnomaly.MALFORMED_TLV
                break
            name = TLV_NAMES.get(kind) or f"unknown-{kind}"
            if name not in names:
                names.append(name)
            pos += 3 + size
        if names:
            summary.proxy_tlvs = names


def _address(word: bytes, version: int) -> str | None:
    try:
        address = ipaddress.ip_address(word.decode("ascii"))
    except ValueError:  # UnicodeDecodeError included
        return None
    return str(address) if address.version == version else None


def _port(word: bytes) -> int | None:
    # §2.1: a decimal integer in [0..65535]; "heading zeroes are not permitted" (no octal confusion).
    if not word.isdigit() or len(word) > 5 or (len(word) > 1 and word[:1] == b"0"):
        return None
    value = int(word)
    return value if value <= 0xFFFF else None


def _unix_path(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("utf-8", "backslashreplace")
