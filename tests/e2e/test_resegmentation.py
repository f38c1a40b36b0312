"""Property: how TCP cut, reordered or repeated the bytes never changes the TLS summary.

The TLS byte streams of the base TLS 1.2 and 1.3 captures are taken from the files once (dpkt), then laid out
again by fixtures.tcpsynth at a random MSS, with random swaps of neighbouring segments of one direction and
random retransmissions. The whole pipeline (decode, TCP reassembly, TLS) must give the TLS summary of the
original capture, every field equal, and miss no byte.
"""

from __future__ import annotations

import io
from functools import cache

import dpkt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures import tcpsynth as t
from tests.e2e.captures import TLS12_BASE, TLS13_BASE, Case, raw_capture, run
from tlsmon.engine import Engine
from tlsmon.recorder import MemorySink
from tlsmon.records.conn import ConnSummary
from tlsmon.tls.summary import TlsSummary

LINKTYPE_RAW = 101
Messages = list[tuple[bool, bytes]]


@cache
def messages(name: str) -> Messages:
    """The TCP payload of the file's one connection as alternating (from_client, bytes) writes."""
    client = Case(name, 0).expected["client_port"]
    out: Messages = []
    for _, frame in dpkt.pcap.Reader(io.BytesIO(raw_capture(name))):
        tcp = dpkt.ethernet.Ethernet(frame).data.data
        if not tcp.data:
            continue
        from_client = tcp.sport == client
        if out and out[-1][0] == from_client:
            out[-1] = (from_client, out[-1][1] + bytes(tcp.data))
        else:
            out.append((from_client, bytes(tcp.data)))
    return out


def run_packets(packets: list[t.Packet]) -> tuple[ConnSummary, TlsSummary | None]:
    sink = MemorySink()
    engine = Engine(sink)
    engine.run((p.ts_ns, LINKTYPE_RAW, p.ip) for p in packets)
    engine.close()
    ((conn, tls),) = sink.rows
    return conn, tls


def _is_data(packet: t.Packet) -> bool:
    return bool(t.parse_segment(packet.ip).payload)


@st.composite
def layouts(draw: st.DrawFn, name: str) -> list[t.Packet]:
    """The file's connection at a drawn MSS, then some neighbour swaps and retransmissions."""
    mss = draw(st.one_of(st.integers(1, 40), st.integers(41, 1460)))
    packets = t.tcp_conversation(messages(name), mss=mss)
    for _ in range(draw(st.integers(0, 4))):
        pairs = [
            i
            for i in range(len(packets) - 1)
            if _is_data(packets[i])
            and _is_data(packets[i + 1])
            and packets[i].from_client == packets[i + 1].from_client
        ]
        if not pairs:
            break
        i = draw(st.sampled_from(pairs))
        packets = t.reorder(packets, i, i + 1)
    for _ in range(draw(st.integers(0, 3))):
        data = [i for i, p in enumerate(packets) if _is_data(p)]
        i = draw(st.sampled_from(data))
        at = draw(st.integers(i + 1, min(i + 4, len(packets))))
        packets = t.duplicate(packets, i, at=at)
    return packets


def _base(name: str) -> TlsSummary:
    ((_, tls),) = run(name).rows
    assert tls is not None
    return tls


def test_the_extracted_streams_are_the_whole_connection() -> None:
    for name in (TLS12_BASE, TLS13_BASE):
        e = Case(name, 0).expected
        sent = {True: 0, False: 0}
        for from_client, data in messages(name):
            sent[from_client] += len(data)
        assert (sent[True], sent[False]) == (e["client_bytes"], e["server_bytes"])


def test_relaid_connection_at_full_mss_gives_the_base_summary() -> None:
    _, tls = run_packets(t.tcp_conversation(messages(TLS13_BASE)))
    assert tls == _base(TLS13_BASE)


@pytest.mark.parametrize("name", [TLS12_BASE, TLS13_BASE])
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_any_segmentation_gives_the_base_summary(name: str, data: st.DataObject) -> None:
    conn, tls = run_packets(data.draw(layouts(name)))
    assert (conn.missed_bytes, conn.anomalies, tls) == (0, [], _base(name))
