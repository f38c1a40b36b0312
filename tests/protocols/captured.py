"""Payloads and engine rows of corpus captures, for the binary protocol tests (LDAP, PostgreSQL, MySQL).

The corpus is read in place from ``<repo>/../shared/corpus``; tests using it carry :data:`requires_corpus`.
dpkt is used here only, to take the TCP payloads out of a capture; tlsmon never uses it.
"""

from __future__ import annotations

from pathlib import Path

import dpkt
import pytest

from tlsmon.capture import CaptureSource
from tlsmon.engine import Engine, MemorySink
from tlsmon.records.tables import ConnectionRecord

CORPUS = Path(__file__).resolve().parents[2] / "../shared/corpus"

requires_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared corpus not present at {CORPUS}")


def payloads(rel: str, server_port: int, count: int) -> list[tuple[bool, bytes]]:
    """The first ``count`` TCP payloads to or from ``server_port``, in capture order, retransmissions dropped."""
    seen: set[tuple[bool, int]] = set()
    out: list[tuple[bool, bytes]] = []
    with open(CORPUS / rel, "rb") as f:
        for _, frame in dpkt.pcap.Reader(f):
            ip = dpkt.ethernet.Ethernet(frame).data
            tcp = getattr(ip, "data", None)
            if not isinstance(tcp, dpkt.tcp.TCP) or not tcp.data or server_port not in (tcp.sport, tcp.dport):
                continue
            key = (tcp.dport == server_port, tcp.seq)
            if key in seen:
                continue
            seen.add(key)
            out.append((key[0], bytes(tcp.data)))
            if len(out) == count:
                break
    return out


def engine_records(rel: str) -> list[ConnectionRecord]:
    """The connection records tlsmon's engine writes for a corpus capture."""
    sink = MemorySink()
    engine = Engine(sink)
    engine.run(CaptureSource([CORPUS / rel]))
    engine.close()
    return sink.records
