"""Test helper: a capture's UDP datagrams, grouped into flows, fed to one UdpTlsAnalyzer per flow.

The Python decoder (tlsmon.decode) hands on TCP only, so this helper reads frames with tlsmon.capture and
decodes the link, IP and UDP layers with dpkt (a dev dependency). A flow is the UDP 5-tuple; its originator is
the sender of its first datagram, as Zeek decides for UDP. IP fragments are skipped (no corpus capture needs
them). This is the stand-in for the UDP flow table the engines will get.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import dpkt

from tlsmon.capture.source import CaptureSource
from tlsmon.limits import DEFAULT_LIMITS, Limits
from tlsmon.quic.udp import UdpTlsAnalyzer

_ETHERNET = 1
_NULL = 0
_PPP = 9
_RAW = frozenset({12, 14, 101, 228, 229})
_LOOP = 108
_SLL = 113

Endpoint = tuple[bytes, int]


@dataclass
class UdpFlow:
    orig: Endpoint
    resp: Endpoint
    first_ts: float
    analyzer: UdpTlsAnalyzer
    datagrams: list[tuple[bool, float, bytes]] = field(default_factory=list)


def _ip(linktype: int, frame: bytes) -> dpkt.Packet | None:
    try:
        if linktype == _ETHERNET:
            eth = dpkt.ethernet.Ethernet(frame)
            return eth.data if isinstance(eth.data, dpkt.ip.IP | dpkt.ip6.IP6) else None
        if linktype in (_NULL, _LOOP):
            family = int.from_bytes(frame[:4], "little" if frame[0] else "big")
            payload = frame[4:]
            return dpkt.ip.IP(payload) if family == 2 else dpkt.ip6.IP6(payload)
        if linktype == _PPP:
            off = 2 if frame[:2] == b"\xff\x03" else 0  # address and control, when not compressed away
            proto = int.from_bytes(frame[off : off + 2], "big")
            if proto == 0x0021:
                return dpkt.ip.IP(frame[off + 2 :])
            if proto == 0x0057:
                return dpkt.ip6.IP6(frame[off + 2 :])
            return None
        if linktype == _SLL:
            proto = int.from_bytes(frame[14:16], "big")
            return dpkt.ip.IP(frame[16:]) if proto == 0x0800 else dpkt.ip6.IP6(frame[16:])
        if linktype in _RAW:
            return dpkt.ip.IP(frame) if frame[0] >> 4 == 4 else dpkt.ip6.IP6(frame)
    except (dpkt.dpkt.UnpackError, IndexError, ValueError):
        return None
    return None


def udp_datagrams(path: Path) -> list[tuple[float, Endpoint, Endpoint, bytes]]:
    """(ts, source, destination, payload) of every unfragmented UDP datagram of the capture, in order."""
    out: list[tuple[float, Endpoint, Endpoint, bytes]] = []
    for ts_ns, linktype, frame in CaptureSource([str(path)]):
        ip = _ip(linktype, frame)
        if ip is None:
            continue
        if isinstance(ip, dpkt.ip.IP) and (ip.offset or ip.mf):
            continue
        udp = ip.data
        if not isinstance(udp, dpkt.udp.UDP):
            continue
        out.append((ts_ns / 1e9, (bytes(ip.src), udp.sport), (bytes(ip.dst), udp.dport), bytes(udp.data)))
    return out


def analyze(path: Path, limits: Limits = DEFAULT_LIMITS) -> list[UdpFlow]:
    """One UdpFlow per UDP 5-tuple, in order of first datagram, each fed until its analyzer finished."""
    flows: dict[tuple[Endpoint, Endpoint], tuple[UdpFlow, bool]] = {}
    ordered: list[UdpFlow] = []
    for ts, src, dst, payload in udp_datagrams(path):
        entry = flows.get((src, dst))
        if entry is None:
            flow = UdpFlow(src, dst, ts, UdpTlsAnalyzer(limits))
            flows[(src, dst)] = (flow, True)
            flows[(dst, src)] = (flow, False)
            ordered.append(flow)
            entry = (flow, True)
        flow, is_orig = entry
        flow.datagrams.append((is_orig, ts, payload))
        flow.analyzer.datagram(is_orig, ts, payload)
    return ordered


def tls_flows(path: Path, limits: Limits = DEFAULT_LIMITS) -> list[UdpFlow]:
    """The flows of the capture that were taken for QUIC or DTLS."""
    return [flow for flow in analyze(path, limits) if flow.analyzer.transport is not None]
