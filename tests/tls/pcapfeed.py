"""Turn a small capture into the stream events of its TCP connections, for analyzer-level oracle tests.

A deliberately simple in-order reassembler (dpkt, tests only): per direction it delivers bytes at the next
expected sequence number, drops retransmitted bytes, and holds out-of-order segments until the hole is filled.
Events keep capture order across directions, which is what decides ``established`` and ``ssl_history``.
"""

from __future__ import annotations

import socket
from pathlib import Path

import dpkt

Endpoint = tuple[str, int]
ConnKey = tuple[Endpoint, Endpoint]


def _ip_text(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET6 if len(raw) == 16 else socket.AF_INET, raw)


def _frames(path: Path) -> list[bytes]:
    with path.open("rb") as f:
        reader = dpkt.pcap.Reader(f)
        link = reader.datalink()
        frames = []
        for _, buf in reader:
            if link == dpkt.pcap.DLT_EN10MB:
                eth = dpkt.ethernet.Ethernet(buf)
                frames.append(bytes(eth.data) if isinstance(eth.data, dpkt.ip.IP | dpkt.ip6.IP6) else b"")
            elif link == dpkt.pcap.DLT_NULL:
                frames.append(buf[4:])
            else:
                raise ValueError(f"unsupported link type {link}")
        return frames


def stream_events(path: Path) -> dict[ConnKey, list[tuple[bool, bytes]]]:
    """Events per connection, keyed by ((orig_h, orig_p), (resp_h, resp_p)); the SYN sender is orig."""
    conns: dict[ConnKey, list[tuple[bool, bytes]]] = {}
    next_seq: dict[tuple[ConnKey, bool], int] = {}
    held: dict[tuple[ConnKey, bool], dict[int, bytes]] = {}
    for raw in _frames(path):
        if not raw:
            continue
        ip = dpkt.ip6.IP6(raw) if raw[0] >> 4 == 6 else dpkt.ip.IP(raw)
        tcp = ip.data
        if not isinstance(tcp, dpkt.tcp.TCP):
            continue
        src, dst = (_ip_text(ip.src), tcp.sport), (_ip_text(ip.dst), tcp.dport)
        if (src, dst) in conns:
            key, is_orig = (src, dst), True
        elif (dst, src) in conns:
            key, is_orig = (dst, src), False
        else:
            syn_ack = tcp.flags & dpkt.tcp.TH_SYN and tcp.flags & dpkt.tcp.TH_ACK
            key, is_orig = ((dst, src), False) if syn_ack else ((src, dst), True)
            conns[key] = []
        side = (key, is_orig)
        if tcp.flags & dpkt.tcp.TH_SYN:
            next_seq[side] = (tcp.seq + 1) & 0xFFFFFFFF
            continue
        payload = bytes(tcp.data)
        if not payload:
            continue
        if side not in next_seq:  # no SYN seen: start where the data starts
            next_seq[side] = tcp.seq
        held.setdefault(side, {})[tcp.seq] = payload
        _deliver(conns[key], is_orig, next_seq, held, side)
    return conns


def _deliver(
    events: list[tuple[bool, bytes]],
    is_orig: bool,
    next_seq: dict[tuple[ConnKey, bool], int],
    held: dict[tuple[ConnKey, bool], dict[int, bytes]],
    side: tuple[ConnKey, bool],
) -> None:
    pending = held[side]
    progressed = True
    while progressed:
        progressed = False
        expected = next_seq[side]
        for seq in list(pending):
            data = pending[seq]
            offset = (expected - seq) & 0xFFFFFFFF
            if offset >= 0x80000000:  # starts after the expected byte: keep waiting
                continue
            del pending[seq]
            if offset < len(data):
                events.append((is_orig, data[offset:]))
                next_seq[side] = (seq + len(data)) & 0xFFFFFFFF
                progressed = True
                break
