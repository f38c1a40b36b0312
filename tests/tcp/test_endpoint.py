"""Zeek's endpoint view (tlsmon/tcp/endpoint.py): bytes by sequence space and conn_state, segment by segment."""

from __future__ import annotations

from fixtures import tcpsynth as t
from tlsmon.engine import Engine
from tlsmon.recorder import MemorySink
from tlsmon.tcp.endpoint import CLOSED, RESET, SYN_SENT, SeqSpace, conn_state, track

FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10


class Conn:
    def __init__(self) -> None:
        self.orig = SeqSpace()
        self.resp = SeqSpace()

    def o(self, flags: int, seq: int, ack: int = 0, plen: int = 0) -> None:
        track(self.orig, self.resp, self.orig, True, flags, seq, ack, plen)

    def r(self, flags: int, seq: int, ack: int = 0, plen: int = 0) -> None:
        track(self.resp, self.orig, self.orig, False, flags, seq, ack, plen)

    def sizes(self) -> tuple[int, int]:
        return self.orig.size(self.resp), self.resp.size(self.orig)

    def state(self, history: str = "") -> str:
        o, r = self.sizes()
        return conn_state(self.orig.state, self.resp.state, o, r, history)


def handshake(c: Conn) -> None:
    c.o(SYN, 1000)
    c.r(SYN | ACK, 5000, 1001)
    c.o(ACK, 1001, 5001)


def test_retransmitted_bytes_are_counted_once() -> None:
    c = Conn()
    handshake(c)
    c.o(ACK, 1001, 5001, 100)
    c.o(ACK, 1001, 5001, 100)
    assert c.sizes() == (100, 0)


def test_bytes_acknowledged_but_never_captured_are_counted() -> None:
    c = Conn()
    handshake(c)
    c.o(ACK, 1001, 6001)  # the responder's 1000 bytes were lost before the capture
    assert c.sizes() == (0, 1000)


def test_syn_and_fin_are_not_counted() -> None:
    c = Conn()
    handshake(c)
    c.o(ACK, 1001, 5001, 10)
    c.o(FIN | ACK, 1011, 5001)
    c.r(FIN | ACK, 5001, 1012)
    c.o(ACK, 1012, 5002)
    assert (c.sizes(), c.state()) == ((10, 0), "SF")


def test_a_sequence_wrap_keeps_counting() -> None:
    c = Conn()
    c.o(SYN, 0xFFFFFF00)
    c.r(SYN | ACK, 7, 0xFFFFFF01)
    c.o(ACK, 0xFFFFFF01, 8, 0x200)
    assert c.sizes() == (0x200, 0)


def test_a_connection_picked_up_mid_stream_counts_from_its_first_segment() -> None:
    c = Conn()
    c.o(ACK, 70_000, 9_000, 500)
    c.r(ACK, 9_000, 70_500, 300)
    assert (c.sizes(), c.orig.start_seq, c.state()) == ((500, 300), 69_999, "OTH")


def test_unanswered_syn_is_s0() -> None:
    c = Conn()
    c.o(SYN, 1)
    assert (c.orig.state, c.state("S")) == (SYN_SENT, "S0")


def test_syn_answered_by_rst_is_rej() -> None:
    c = Conn()
    c.o(SYN, 1)
    c.r(RST | ACK, 0, 2)
    assert (c.resp.state, c.state("Sr")) == (RESET, "REJ")


def test_established_then_reset_by_the_originator_is_rsto() -> None:
    c = Conn()
    handshake(c)
    c.o(RST | ACK, 1001, 5001)
    assert c.state("ShAR") == "RSTO"


def test_established_then_reset_by_the_responder_is_rstr() -> None:
    c = Conn()
    handshake(c)
    c.r(RST | ACK, 5001, 1001)
    assert c.state("ShAr") == "RSTR"


def test_established_and_open_is_s1() -> None:
    c = Conn()
    handshake(c)
    assert c.state("ShA") == "S1"


def test_fin_then_rst_from_the_same_side_is_still_a_normal_close() -> None:
    c = Conn()
    handshake(c)
    c.o(FIN | ACK, 1001, 5001)
    c.r(FIN | ACK, 5001, 1002)
    c.o(RST, 1002)
    assert (c.orig.state, c.resp.state, c.state("ShAFfR")) == (CLOSED, CLOSED, "SF")


def test_syn_then_rst_from_the_originator_without_answer_is_rstos0() -> None:
    c = Conn()
    c.o(SYN, 1)
    c.o(RST, 2)
    assert c.state("SR") == "RSTOS0"


def test_an_rst_far_out_of_window_does_not_move_the_sequence_space() -> None:
    c = Conn()
    handshake(c)
    c.o(ACK, 1001, 5001, 10)
    c.o(RST, 1001 + 5_000_000)
    assert c.sizes() == (10, 0)


def test_the_zeek_clock_stops_at_the_packet_that_completes_the_close() -> None:
    packets = t.tcp_conversation([(True, b"hello"), (False, b"world")])  # ends FIN, FIN, final ACK
    frames = [(p.ts_ns, 101, p.ip) for p in packets]
    sink = MemorySink()
    engine = Engine(sink)
    engine.run(frames)
    engine.close()
    ((conn, _),) = sink.rows
    second_fin = packets[-2].ts_ns
    assert conn.duration == (second_fin - packets[0].ts_ns) / 1e9
    assert conn.ts_end == packets[-1].ts_ns > second_fin
