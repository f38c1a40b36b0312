"""Test helper: the corpus oracles (Zeek ssl.log rows, FoxIO JA4 goldens) of captures with TLS over UDP, and
the UdpTlsAnalyzer flow each one is about (flows from tests/quic/udpwalk.py, cached per capture)."""

from __future__ import annotations

import ipaddress
from functools import cache
from typing import Any

from tests.corpus.cases import Ja4Case, ZeekCase, ja4_cases, zeek_cases
from tests.corpus.location import corpus_path
from tests.quic.udpwalk import UdpFlow, analyze

QUIC_TRACES = ("zeek/Traces/quic/", "zeek/Traces/ppp/quic", "ja4/pcap/", "suricata-verify/tests/quic")
DTLS_TRACES = ("zeek/Traces/tls/dtls", "zeek/Traces/tls/webrtc-stun.pcap")


@cache
def flows(trace: str) -> tuple[UdpFlow, ...]:
    return tuple(analyze(corpus_path(trace)))


def _addr(text: str) -> bytes:
    return ipaddress.ip_address(text).packed


def find_flow(trace: str, ids: dict[str, Any]) -> UdpFlow | None:
    """The flow with these Zeek-style endpoints (orig_h/orig_p/resp_h/resp_p; missing ones match anything)."""
    for flow in flows(trace):
        if flow.analyzer.transport is None:
            continue
        (oh, op), (rh, rp) = flow.orig, flow.resp
        if "orig_h" in ids and oh != _addr(str(ids["orig_h"])):
            continue
        if "resp_h" in ids and rh != _addr(str(ids["resp_h"])):
            continue
        if "orig_p" in ids and op != int(ids["orig_p"]):
            continue
        if "resp_p" in ids and rp != int(ids["resp_p"]):
            continue
        return flow
    return None


def udp_zeek_cases(prefixes: tuple[str, ...]) -> list[ZeekCase]:
    """Zeek ssl.log rows of UDP captures; Zeek's row must be a QUIC or DTLS one (its version is set or the
    capture is a DTLS/QUIC trace)."""
    return [c for c in zeek_cases() if c.key.trace.startswith(prefixes)]


def udp_ja4_cases(transport: str) -> list[Ja4Case]:
    return [c for c in ja4_cases() if c.golden.transport == transport]
