"""Payloads and engine rows of corpus captures, for the protocol tests.

The corpus is read in place from ``<repo>/../shared/corpus``; tests using it carry :data:`requires_corpus`.
dpkt is used here only, to take the TCP payloads out of a capture; tlsmon never uses it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dpkt
import pytest

from tlsmon.capture import CaptureSource
from tlsmon.engine import Engine
from tlsmon.recorder import MemorySink
from tlsmon.records.tables import ConnectionRecord

CORPUS = Path(__file__).resolve().parents[2] / "../shared/corpus"

requires_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared corpus not present at {CORPUS}")

# The link layers of the corpus captures used here: Ethernet, BSD loopback, Linux cooked capture.
_LINKS: dict[int, Callable[[bytes], dpkt.Packet]] = {
    dpkt.pcap.DLT_EN10MB: dpkt.ethernet.Ethernet,
    dpkt.pcap.DLT_NULL: dpkt.loopback.Loopback,
    dpkt.pcap.DLT_LINUX_SLL: dpkt.sll.SLL,
}


def payloads(rel: str, server_port: int, count: int | None = None) -> list[tuple[bool, bytes]]:
    """The TCP payloads to or from ``server_port`` as (from the client, bytes), in capture order, retransmissions
    dropped; the first ``count`` of them when given."""
    seen: set[tuple[bool, int]] = set()
    out: list[tuple[bool, bytes]] = []
    with open(CORPUS / rel, "rb") as f:
        reader = dpkt.pcap.Reader(f)
        link = _LINKS[reader.datalink()]
        for _, frame in reader:
            tcp = getattr(link(frame).data, "data", None)
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
