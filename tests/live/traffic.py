"""Frames of real TLS 1.2 handshakes over synthetic TCP, for feeding an engine without a network."""

from __future__ import annotations

import functools

from fixtures import tcpsynth, tlsgen

T0 = 1_714_566_896_000_000_000  # 2024-05-01 12:34:56 UTC
SECOND = 1_000_000_000


@functools.cache
def _exchange() -> tlsgen.TlsExchange:
    return tlsgen.handshake(max_version="TLSv1.2", sni="www.example.test")


def tls_connection(port: int, start_ns: int = T0, close: str | None = "fin") -> list[tuple[int, int, bytes]]:
    """(ts_ns, linktype, frame) of one TLS 1.2 connection from 10.0.0.1:``port`` to 10.0.0.2:443."""
    packets = tcpsynth.tcp_conversation(
        _exchange().messages, client=("10.0.0.1", port), start_ns=start_ns, close=close
    )
    return [(ts, tcpsynth.LINKTYPE_ETHERNET, frame) for ts, frame in tcpsynth.to_frames(packets)]


def chain_fingerprints() -> list[str]:
    """SHA-256 of the server chain the handshakes send, leaf first."""
    fps = _exchange().expected["server_cert_chain_sha256"]
    assert isinstance(fps, list)
    return [str(fp) for fp in fps]
