"""A closed connection lingers exactly ``linger_ns`` (5 s): a packet on its 4-tuple after that starts a new
connection, whether or not a sweep ran in between (before, it was folded into the old one until the next
periodic check — Zeek's modbus trace had a data segment and RST 15.7 s after a reset counted in it)."""

from __future__ import annotations

from fixtures import tcpsynth as t
from tests.engines.equality import run_native, run_python
from tlsmon.engine import Engine
from tlsmon.recorder import MemorySink

LINKTYPE_RAW = 101
SECOND = 1_000_000_000


def reset_then_data(after_ns: int) -> list[tuple[int, int, bytes]]:
    """A handshake reset by the client, then a data segment from the client ``after_ns`` after the reset."""
    packets = t.tcp_conversation([], close="rst")
    rst = t.parse_segment(packets[-1].ip)
    late = t.build_segment(rst.src, rst.dst, rst.sport, rst.dport, rst.seq, rst.ack, t.ACK | t.PSH, b"late")
    frames = [(p.ts_ns, LINKTYPE_RAW, p.ip) for p in packets]
    return [*frames, (packets[-1].ts_ns + after_ns, LINKTYPE_RAW, late)]


def _histories(frames: list[tuple[int, int, bytes]]) -> list[str]:
    sink = MemorySink()
    engine = Engine(sink)
    engine.run(frames)
    engine.close()
    return [conn.history for conn, _ in sink.rows]


def test_a_packet_after_the_linger_starts_a_new_connection() -> None:
    assert _histories(reset_then_data(6 * SECOND)) == ["ShAR", "D"]


def test_a_packet_within_the_linger_is_counted_in_the_closed_connection() -> None:
    assert _histories(reset_then_data(4 * SECOND)) == ["ShARD"]


def test_both_engines_agree_on_either_side_of_the_linger() -> None:
    for after in (4 * SECOND, 6 * SECOND):
        frames = reset_then_data(after)
        assert run_native(frames) == run_python(frames)
        assert run_native(frames, batch=1) == run_python(frames)
