"""A second SYN-ACK with another initial sequence number (issue 14 point 2).

The server answers the SYN twice with different ISNs (a SYN-ACK resent after a server restart, or a spurious
one from a middlebox). The client's ACK says which one counts: the server's data follows the ISN the ACK
confirms. Before, the first SYN-ACK fixed the stream start and the server's data of a later ISN looked like
old retransmissions (ssl_history ``C``).
"""

from __future__ import annotations

from fixtures import tcpsynth as t
from tests.e2e.captures import TLS12_BASE
from tests.e2e.test_resegmentation import messages
from tests.engines.equality import run_native, run_python
from tlsmon.engine import Engine
from tlsmon.recorder import MemorySink
from tlsmon.records.conn import ConnSummary
from tlsmon.tls.summary import TlsSummary

LINKTYPE_RAW = 101
REAL_ISN = 5000
OTHER_ISN = 900_000


def with_second_syn_ack(*, real_first: bool) -> list[tuple[int, int, bytes]]:
    """The TLS 1.2 handshake whose server ISN is REAL_ISN, with a SYN-ACK of OTHER_ISN beside the real one:
    before it (the client confirms the later one) or after it (the later one is spurious)."""
    packets = t.tcp_conversation(messages(TLS12_BASE), isn_server=REAL_ISN)
    real = t.parse_segment(packets[1].ip)
    other = t.build_segment(real.src, real.dst, real.sport, real.dport, OTHER_ISN, real.ack, real.flags, b"")
    packets.insert(2 if real_first else 1, t.Packet(0, False, other))
    times = sorted(p.ts_ns for p in packets)
    return [(ts, LINKTYPE_RAW, p.ip) for ts, p in zip(times, packets, strict=True)]


def _row(frames: list[tuple[int, int, bytes]]) -> tuple[ConnSummary, TlsSummary]:
    sink = MemorySink()
    engine = Engine(sink)
    engine.run(frames)
    engine.close()
    ((conn, tls),) = sink.rows
    assert tls is not None
    return conn, tls


def test_the_server_data_follows_the_later_syn_ack_the_client_confirms() -> None:
    conn, tls = _row(with_second_syn_ack(real_first=False))
    assert (tls.version, tls.cipher, tls.established) == ("TLSv12", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", True)
    assert len(tls.cert_chain) == 2
    assert conn.resp_missed_bytes == 0


def test_a_spurious_later_syn_ack_leaves_the_first_isn() -> None:
    conn, tls = _row(with_second_syn_ack(real_first=True))
    assert (tls.version, tls.established, len(tls.cert_chain)) == ("TLSv12", True, 2)
    assert conn.resp_missed_bytes == 0


def test_the_second_isn_is_a_named_anomaly() -> None:
    conn, _ = _row(with_second_syn_ack(real_first=False))
    assert "tcp.isn_changed" in conn.anomalies


def test_both_engines_agree_on_both_orders() -> None:
    for real_first in (False, True):
        frames = with_second_syn_ack(real_first=real_first)
        assert run_native(frames) == run_python(frames)
        assert run_native(frames, batch=1) == run_python(frames)
