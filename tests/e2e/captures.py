"""The project's fixture captures, what MANIFEST.json says about them, and what tlsmon makes of them.

Theory of operation: each capture in ``fixtures/pcaps`` is run once through the library (``CaptureSource`` →
``Engine`` → ``MemorySink``) and the result is cached for every test of the session. Facts the manifest does
not hold (timestamps, per-direction packet and payload counts) are read from the same file with scapy, which
shares no code with tlsmon or with the fixture writer. Connections are matched by their client and server
address and port: the manifest's client must be tlsmon's originator.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import zstandard
from _pytest.mark.structures import ParameterSet
from scapy.layers.inet import IP, TCP
from scapy.layers.inet6 import IPv6
from scapy.utils import PcapReader

from tlsmon.capture import CaptureSource
from tlsmon.engine import Engine
from tlsmon.recorder import MemorySink, RunStats
from tlsmon.records.conn import ConnSummary
from tlsmon.tls.summary import TlsSummary
from tlsmon.x509.store import CertificateRecord

PCAPS = Path(__file__).resolve().parents[2] / "fixtures" / "pcaps"
MANIFEST: dict[str, Any] = json.loads((PCAPS / "MANIFEST.json").read_text())
FILES: dict[str, dict[str, Any]] = {entry["file"]: entry for entry in MANIFEST["files"]}

Endpoints = tuple[str, int, str, int]  # client ip, client port, server ip, server port

#: The base captures the variants are compared with (same ClientHello shape, same certificates).
TLS13_BASE = "tls13-basic.pcap"
TLS12_BASE = "tls12-ecdhe-rsa.pcap"
#: File-level ``variant`` of the captures that carry the tls13-basic connection over another link or format.
LINK_VARIANTS = frozenset(
    {"ipv6", "vlan", "qinq", "sll", "sll2", "null", "raw", "pcapng", "nanosecond", "gzip", "zstd"}
)
#: File-level ``variant`` of the captures that carry one TLS 1.2 connection laid out to test reassembly.
REASSEMBLY_VARIANTS = frozenset({"ooo", "retrans", "overlap", "split-records", "midstream"})
#: Outermost VLAN id per file (manifest notes: "802.1Q VLAN 100"; "802.1ad S-tag 200, 802.1Q C-tag 100").
VLANS = {"vlan.pcap": 100, "qinq.pcap": 200}
TLS13 = 0x0304


@dataclass(slots=True)
class Run:
    """What tlsmon produced for one capture file."""

    rows: list[tuple[ConnSummary, TlsSummary | None]]
    certificates: list[CertificateRecord]
    warnings: list[str]
    stats: RunStats

    def row(self, endpoints: Endpoints) -> tuple[ConnSummary, TlsSummary | None]:
        found = [(c, t) for c, t in self.rows if (c.orig_h, c.orig_p, c.resp_h, c.resp_p) == endpoints]
        assert len(found) == 1, f"{len(found)} rows for {endpoints}; rows: {[_endpoints(c) for c, _ in self.rows]}"
        return found[0]


@dataclass(slots=True)
class Side:
    """Packets and TCP payload bytes one endpoint sent, counted by scapy."""

    packets: int = 0
    payload_bytes: int = 0


@dataclass(slots=True)
class WireFacts:
    """One connection as scapy reads it from the file."""

    first_ts_ns: int
    last_ts_ns: int
    client: Side = field(default_factory=Side)
    server: Side = field(default_factory=Side)


@dataclass(frozen=True, slots=True)
class Case:
    """One manifest connection of one file, the unit most end-to-end tests are parametrized by."""

    file: str
    index: int

    @property
    def expected(self) -> dict[str, Any]:
        conn: dict[str, Any] = FILES[self.file]["connections"][self.index]
        return conn

    @property
    def endpoints(self) -> Endpoints:
        e = self.expected
        return (e["client_ip"], e["client_port"], e["server_ip"], e["server_port"])

    @property
    def variant(self) -> str:
        variant: str = FILES[self.file]["variant"]
        return variant

    def row(self) -> tuple[ConnSummary, TlsSummary | None]:
        return run(self.file).row(self.endpoints)

    def conn(self) -> ConnSummary:
        return self.row()[0]

    def tls(self) -> TlsSummary:
        tls = self.row()[1]
        assert tls is not None, f"{self}: no TLS summary"
        return tls

    def wire(self) -> WireFacts:
        return wire_facts(self.file)[self.endpoints]

    def __str__(self) -> str:
        e = self.expected
        if len(FILES[self.file]["connections"]) == 1:
            return self.file
        label = e.get("sni") or (e["protocol"] if e["protocol"] != "tls" else "no-sni")
        return f"{self.file}:{e['client_port']}:{label}"


def _endpoints(conn: ConnSummary) -> Endpoints:
    return (conn.orig_h, conn.orig_p, conn.resp_h, conn.resp_p)


def cases(keep: Callable[[Case], bool] | None = None) -> list[ParameterSet]:
    """pytest params for every manifest connection for which ``keep(case)`` is true, with readable ids."""
    out = []
    for name, entry in FILES.items():
        for index in range(len(entry["connections"])):
            case = Case(name, index)
            if keep is None or keep(case):
                out.append(pytest.param(case, id=str(case)))
    return out


def is_tls(case: Case) -> bool:
    return bool(case.expected["protocol"] == "tls")


@cache
def run(name: str) -> Run:
    sink = MemorySink()
    engine = Engine(sink)
    source = CaptureSource([PCAPS / name])
    engine.run(source)
    stats = engine.close()
    return Run(sink.rows, sink.certificates, list(source.warnings), stats)


def raw_capture(name: str) -> bytes:
    """The file's bytes, decompressed."""
    data = (PCAPS / name).read_bytes()
    if name.endswith(".gz"):
        return gzip.decompress(data)
    if name.endswith(".zst"):
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return data


@cache
def wire_facts(name: str) -> dict[Endpoints, WireFacts]:
    """Per manifest connection: first/last timestamp (exact ns) and what each side sent, read by scapy."""
    clients = {(c["client_ip"], c["client_port"], c["server_ip"], c["server_port"]) for c in FILES[name]["connections"]}
    facts: dict[Endpoints, WireFacts] = {}
    packets = list(PcapReader(io.BytesIO(raw_capture(name))))[: FILES[name]["packets"]]  # type: ignore[arg-type]
    for pkt in packets:
        ip = pkt[IP] if IP in pkt else pkt[IPv6]
        tcp = pkt[TCP]
        ts_ns = int(pkt.time * 1_000_000_000)
        forward: Endpoints = (ip.src, tcp.sport, ip.dst, tcp.dport)
        backward: Endpoints = (ip.dst, tcp.dport, ip.src, tcp.sport)
        key = forward if forward in clients else backward
        assert key in clients, f"{name}: packet {forward} belongs to no manifest connection"
        f = facts.setdefault(key, WireFacts(ts_ns, ts_ns))
        f.first_ts_ns = min(f.first_ts_ns, ts_ns)
        f.last_ts_ns = max(f.last_ts_ns, ts_ns)
        side = f.client if key == forward else f.server
        side.packets += 1
        side.payload_bytes += len(bytes(tcp.payload))
    return facts
