"""The connection table: originator choice, per-direction counters, delivery, bypass and how connections end."""

from __future__ import annotations

from collections.abc import Iterable

from tlsmon.decode.packet import Decoder
from tlsmon.tcp.connection import Connection
from tlsmon.tcp.reassembly import CHUNK_OVERHEAD
from tlsmon.tcp.tracker import TcpTracker
from tlsmon.tcp.tracker_config import TrackerConfig

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
CLIENT = 0x0A000001  # 10.0.0.1
SERVER = 0x0A000002  # 10.0.0.2
SEC = 1_000_000_000


class PassThroughDecoder(Decoder):
    """The 'frame' of each test packet is already the decoded tuple."""

    def decode(self, ts_ns: int, linktype: int, frame):  # type: ignore[no-untyped-def, override]
        return frame


class Recorder:
    def __init__(self, finish_after: int | None = None) -> None:
        self.finished = False
        self.anomalies: list[str] = []
        self.events: list[tuple[str, bool, object]] = []
        self.finish_after = finish_after
        self.ended = False

    def data(self, is_orig: bool, data: bytes) -> None:
        self.events.append(("data", is_orig, data))
        if self.finish_after is not None and len(self.events) >= self.finish_after:
            self.finished = True

    def gap(self, is_orig: bool, length: int) -> None:
        self.events.append(("gap", is_orig, length))

    def end(self) -> None:
        self.ended = True


def seg(ts: int, src: int, sport: int, dst: int, dport: int, flags: int, seq: int, payload: bytes = b""):  # type: ignore[no-untyped-def]
    frame = (4, src, dst, sport, dport, flags, seq, 0, payload, 0, len(payload), None)
    return (ts, 1, frame)


def c2s(ts: int, flags: int, seq: int, payload: bytes = b""):  # type: ignore[no-untyped-def]
    return seg(ts, CLIENT, 50000, SERVER, 443, flags, seq, payload)


def s2c(ts: int, flags: int, seq: int, payload: bytes = b""):  # type: ignore[no-untyped-def]
    return seg(ts, SERVER, 443, CLIENT, 50000, flags, seq, payload)


def handshake(t0: int = 0) -> list:  # type: ignore[type-arg]
    return [c2s(t0, SYN, 100), s2c(t0 + 1, SYN | ACK, 900), c2s(t0 + 2, ACK, 101)]


def run(packets: Iterable, finish_after: int | None = None, config: TrackerConfig | None = None):  # type: ignore[no-untyped-def, type-arg]
    closed: list[Connection] = []
    consumers: list[Recorder] = []

    def factory(conn: Connection) -> Recorder:
        consumers.append(Recorder(finish_after))
        return consumers[-1]

    tracker = TcpTracker(PassThroughDecoder(), factory, closed.append, config)
    tracker.process(packets)
    return tracker, closed, consumers


def test_sender_of_syn_is_originator_even_from_a_service_port() -> None:
    tracker, closed, _ = run([seg(0, SERVER, 443, CLIENT, 50000, SYN, 1)])
    tracker.finish()
    assert (closed[0].orig_p, closed[0].resp_p) == (443, 50000)


def test_receiver_of_a_syn_ack_is_originator() -> None:
    tracker, closed, _ = run([s2c(0, SYN | ACK, 900)])
    tracker.finish()
    assert (closed[0].orig_h, closed[0].orig_p, closed[0].resp_p) == (CLIENT, 50000, 443)


def test_midstream_pickup_takes_the_side_sending_to_the_service_port_as_originator() -> None:
    tracker, closed, _ = run([s2c(0, ACK | PSH, 900, b"hello")])
    tracker.finish()
    assert (closed[0].orig_p, closed[0].resp_p) == (50000, 443)


def test_both_directions_share_one_connection_with_separate_counters() -> None:
    pkts = [*handshake(), c2s(3, ACK | PSH, 101, b"abc"), s2c(4, ACK | PSH, 901, b"defgh")]
    tracker, closed, _ = run(pkts)
    tracker.finish()
    (conn,) = closed
    assert (conn.orig_pkts, conn.resp_pkts, conn.orig_bytes, conn.resp_bytes) == (3, 2, 3, 5)
    assert (conn.start_ts, conn.last_ts) == (0, 4)


def test_stream_bytes_reach_the_consumer_in_order_with_their_direction() -> None:
    pkts = [*handshake(), c2s(3, ACK | PSH, 101, b"abc"), s2c(4, ACK | PSH, 901, b"xyz")]
    _, _, (consumer,) = run(pkts)
    assert consumer.events == [("data", True, b"abc"), ("data", False, b"xyz")]


def test_finished_consumer_puts_the_connection_in_bypass() -> None:
    pkts = [
        *handshake(),
        c2s(3, ACK | PSH, 101, b"abc"),
        s2c(4, ACK | PSH, 901, b"more"),
        c2s(5, ACK | PSH, 104, b"late"),
    ]
    tracker, _, (consumer,) = run(pkts, finish_after=1)
    assert consumer.events == [("data", True, b"abc")]
    (conn,) = tracker.connections()
    assert conn.bypass
    assert (conn.orig_bytes, conn.resp_bytes) == (7, 4)
    assert tracker.stats.bypassed_packets == 2


def test_fin_from_both_sides_ends_the_connection_and_late_acks_count_in_it() -> None:
    pkts = [*handshake(), c2s(3, FIN | ACK, 101), s2c(4, FIN | ACK, 901), c2s(5, ACK, 102)]
    tracker, closed, _ = run(pkts)
    assert len(tracker.connections()) == 1  # lingering
    tracker.finish()
    (conn,) = closed
    assert conn.end_reason == "fin"
    assert conn.orig_pkts == 3 + 1
    assert conn.history == "ShAFf"


def test_rst_ends_the_connection() -> None:
    tracker, closed, _ = run([*handshake(), s2c(3, RST, 901)])
    tracker.finish()
    assert closed[0].end_reason == "rst"
    assert closed[0].history == "ShAr"


def test_new_syn_on_a_closed_four_tuple_starts_a_new_connection() -> None:
    pkts = [*handshake(), c2s(3, RST, 101), *handshake(10)]
    tracker, closed, _ = run(pkts)
    assert [c.end_reason for c in closed] == ["rst"]
    tracker.finish()
    assert [c.start_ts for c in closed] == [0, 10]


def test_idle_connection_ends_with_timeout_at_the_next_sweep() -> None:
    config = TrackerConfig(idle_timeout_ns=60 * SEC, sweep_interval_ns=SEC, check_every_packets=1)
    other = seg(0, CLIENT, 50001, SERVER, 443, SYN, 7)
    pkts = [
        *handshake(),
        other,
        seg(30 * SEC, CLIENT, 50001, SERVER, 443, ACK, 8),
        seg(61 * SEC, CLIENT, 50001, SERVER, 443, ACK, 8),
        seg(62 * SEC, CLIENT, 50001, SERVER, 443, ACK, 8),
    ]
    _, closed, _ = run(pkts, config=config)
    assert [(c.orig_p, c.end_reason) for c in closed] == [(50000, "timeout")]


def test_connection_cap_evicts_the_oldest() -> None:
    config = TrackerConfig(max_connections=2)
    pkts = [seg(i, CLIENT, 50000 + i, SERVER, 443, SYN, 1) for i in range(3)]
    tracker, closed, _ = run(pkts, config=config)
    assert [(c.orig_p, c.end_reason) for c in closed] == [(50000, "evicted")]
    assert tracker.stats.evicted == 1


def test_history_records_each_letter_once_per_direction() -> None:
    pkts = [
        *handshake(),
        c2s(3, ACK | PSH, 101, b"a"),
        c2s(4, ACK | PSH, 102, b"b"),
        s2c(5, ACK | PSH, 901, b"c"),
        c2s(6, FIN | ACK, 103),
        s2c(7, FIN | ACK, 902),
    ]
    tracker, closed, _ = run(pkts)
    tracker.finish()
    assert closed[0].history == "ShADdFf"


def test_every_connection_ends_exactly_once_at_end_of_input() -> None:
    pkts = [seg(i, CLIENT, 50000 + i, SERVER, 443, SYN, 1) for i in range(5)]
    tracker, closed, consumers = run(pkts)
    tracker.finish()
    tracker.finish()
    assert sorted(c.orig_p for c in closed) == [50000, 50001, 50002, 50003, 50004]
    assert all(c.end_reason == "eof" for c in closed)
    assert all(r.ended for r in consumers)


def test_global_buffer_cap_turns_the_hole_into_a_gap_and_names_it() -> None:
    config = TrackerConfig(max_buffered_total=10 + CHUNK_OVERHEAD)
    pkts = [*handshake(), c2s(3, ACK | PSH, 104, b"0123456789AB"), c2s(4, ACK | PSH, 101, b"xyz")]
    tracker, _, (consumer,) = run(pkts, config=config)
    assert consumer.events == [("gap", True, 3), ("data", True, b"0123456789AB")]
    (conn,) = tracker.connections()
    assert conn.anomalies == ["tcp.global_buffer_cap"]
    assert tracker.stats.buffer_cap_flushes == 1


def test_buffered_bytes_are_released_when_a_connection_is_bypassed() -> None:
    config = TrackerConfig(max_buffered_total=10 + CHUNK_OVERHEAD)
    first = [*handshake(), c2s(3, ACK | PSH, 110, b"held"), c2s(4, ACK | PSH, 101, b"abc")]
    second = [
        seg(5, CLIENT, 50001, SERVER, 443, SYN, 7),
        seg(6, CLIENT, 50001, SERVER, 443, ACK | PSH, 20, b"12345678"),
    ]
    tracker, _, _ = run([*first, *second], finish_after=1, config=config)
    assert tracker.stats.buffer_cap_flushes == 0
    assert [c.anomalies for c in tracker.connections()] == [[], []]


def test_eviction_takes_the_connection_quiet_the_longest() -> None:
    config = TrackerConfig(max_connections=2)
    pkts = [
        seg(0, CLIENT, 50000, SERVER, 443, SYN, 1),
        seg(1, CLIENT, 50001, SERVER, 443, SYN, 1),
        seg(2, CLIENT, 50000, SERVER, 443, ACK, 2),  # the older connection is active again
        seg(3, CLIENT, 50002, SERVER, 443, SYN, 1),
    ]
    tracker, closed, _ = run(pkts, config=config)
    assert [(c.orig_p, c.end_reason) for c in closed] == [(50001, "evicted")]
    assert sorted(c.orig_p for c in tracker.connections()) == [50000, 50002]


def test_an_evicted_connections_later_packets_are_counted_on_its_tombstone() -> None:
    config = TrackerConfig(max_connections=1)
    pkts = [
        seg(0, CLIENT, 50000, SERVER, 443, SYN, 1),
        seg(1, CLIENT, 50001, SERVER, 443, SYN, 1),  # evicts 50000
        seg(2, CLIENT, 50000, SERVER, 443, ACK, 2),
        seg(3, SERVER, 443, CLIENT, 50000, ACK, 9),
    ]
    tracker, closed, _ = run(pkts, config=config)
    assert [(c.orig_p, c.end_reason, c.orig_pkts) for c in closed] == [(50000, "evicted", 1)]
    assert [c.orig_p for c in tracker.connections()] == [50001]
    assert (tracker.stats.connections, tracker.stats.evicted_packets) == (2, 2)


def test_a_syn_on_a_tombstone_opens_a_new_connection() -> None:
    config = TrackerConfig(max_connections=1)
    pkts = [
        seg(0, CLIENT, 50000, SERVER, 443, SYN, 1),
        seg(1, CLIENT, 50001, SERVER, 443, SYN, 1),  # evicts 50000
        seg(2, CLIENT, 50000, SERVER, 443, SYN, 500),  # evicts 50001, reuses 50000's 4-tuple
    ]
    tracker, closed, _ = run(pkts, config=config)
    assert [(c.orig_p, c.end_reason) for c in closed] == [(50000, "evicted"), (50001, "evicted")]
    assert [c.orig_p for c in tracker.connections()] == [50000]
    assert tracker.stats.evicted_packets == 0


def test_a_tombstone_idle_for_the_timeout_is_forgotten() -> None:
    config = TrackerConfig(max_connections=1, idle_timeout_ns=5 * SEC, sweep_interval_ns=SEC, check_every_packets=1)
    pkts = [
        seg(0, CLIENT, 50000, SERVER, 443, SYN, 1),
        seg(1, CLIENT, 50001, SERVER, 443, SYN, 1),  # evicts 50000
        *[seg(2 + i, CLIENT, 50001, SERVER, 443, ACK, 2) for i in range(8)],  # sweeps pass
        seg(10 * SEC, CLIENT, 50000, SERVER, 443, ACK, 2),  # no tombstone any more: a new connection
    ]
    tracker, closed, _ = run(pkts, config=config)
    assert [(c.orig_p, c.end_reason) for c in closed] == [(50000, "evicted"), (50001, "timeout")]
    assert [c.orig_p for c in tracker.connections()] == [50000]
    assert tracker.stats.evicted_packets == 0


def test_the_global_buffer_cap_is_named_once_per_row_and_counted_per_flush() -> None:
    config = TrackerConfig(max_buffered_total=10 + CHUNK_OVERHEAD)
    pkts = [
        *handshake(),
        c2s(3, ACK | PSH, 104, b"0123456789AB"),  # held over the cap: flushed
        c2s(4, ACK | PSH, 130, b"0123456789AB"),  # and again
    ]
    tracker, _, _ = run(pkts, config=config)
    (conn,) = tracker.connections()
    assert conn.anomalies == ["tcp.global_buffer_cap"]
    assert tracker.stats.buffer_cap_flushes == 2
