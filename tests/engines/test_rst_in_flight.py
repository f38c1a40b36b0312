"""A reset does not throw away what the other side already had on the wire (issue 14 point 1).

The client sends its ClientHello and resets at once; the server's ServerHello and Certificate, sent before the
reset reached it, arrive after the RST in the capture. The server's direction is still reassembled during the
linger, so the row has the server's version, cipher and certificate chain — in both engines.
"""

from __future__ import annotations

from fixtures import tcpsynth as t
from tests.e2e.captures import TLS12_BASE
from tests.e2e.test_resegmentation import messages
from tests.engines.equality import run_native, run_python
from tlsmon.engine import Engine
from tlsmon.recorder import MemorySink

LINKTYPE_RAW = 101
RST = 0x04


def reset_before_the_server_flight() -> list[tuple[int, int, bytes]]:
    """Handshake, ClientHello, the client's RST, then the server's first flight (all of it after the RST)."""
    client_hello, server_flight = messages(TLS12_BASE)[:2]
    packets = t.tcp_conversation([client_hello, server_flight], close="rst", acks=False)
    rst = next(i for i, p in enumerate(packets) if t.parse_segment(p.ip).flags & RST)
    first_server_data = next(
        i for i, p in enumerate(packets) if not p.from_client and t.parse_segment(p.ip).payload
    )
    # The reset acknowledges only what the client had received when it sent it: the server's SYN.
    r = t.parse_segment(packets.pop(rst).ip)
    syn_ack = t.parse_segment(packets[1].ip)
    ip = t.build_segment(r.src, r.dst, r.sport, r.dport, r.seq, syn_ack.seq + 1, r.flags, b"")
    packets.insert(first_server_data, t.Packet(0, True, ip))
    times = sorted(p.ts_ns for p in packets)
    return [(ts, LINKTYPE_RAW, p.ip) for ts, p in zip(times, packets, strict=True)]


def test_the_server_flight_after_a_client_reset_is_still_analysed() -> None:
    sink = MemorySink()
    engine = Engine(sink)
    engine.run(reset_before_the_server_flight())
    engine.close()
    ((conn, tls),) = sink.rows
    assert conn.end_reason == "rst"
    assert tls is not None
    assert (tls.version, tls.cipher) == ("TLSv12", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
    assert len(tls.cert_chain) == 2  # leaf and intermediate


def test_both_engines_agree_on_it() -> None:
    frames = reset_before_the_server_flight()
    assert run_native(frames) == run_python(frames)
    assert run_native(frames, batch=1) == run_python(frames)
