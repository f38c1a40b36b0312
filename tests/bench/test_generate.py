"""The benchmark generator builds the capture it promises: shape, order, addressing and determinism."""

from __future__ import annotations

import random
import struct
from collections import defaultdict
from functools import cache
from pathlib import Path

import dpkt

from bench import generate
from bench.run import count_pcap_records

SYN, FIN, ACK = dpkt.tcp.TH_SYN, dpkt.tcp.TH_FIN, dpkt.tcp.TH_ACK
Key = tuple[bytes, int]  # (client address, client port)


@cache
def frames(workload: str, connections: int, segments: int, seed: int) -> tuple[tuple[int, bytes], ...]:
    return tuple(generate.workload_frames(workload, connections, segments, seed))


def decoded(
    workload: str, connections: int, segments: int = 6, seed: int = 1
) -> list[tuple[int, dpkt.tcp.TCP, bool, Key]]:
    """(ts_ns, tcp, from_client, connection key) for every frame of a workload."""
    out = []
    for ts, frame in frames(workload, connections, segments, seed):
        ip = dpkt.ethernet.Ethernet(frame).data
        tcp = ip.data
        from_client = tcp.dport == 443
        key = (ip.src, tcp.sport) if from_client else (ip.dst, tcp.dport)
        out.append((ts, tcp, from_client, key))
    return out


def by_connection(
    workload: str, connections: int, segments: int = 6
) -> dict[Key, list[tuple[dpkt.tcp.TCP, bool]]]:
    conns: dict[Key, list[tuple[dpkt.tcp.TCP, bool]]] = defaultdict(list)
    for _, tcp, from_client, key in decoded(workload, connections, segments):
        conns[key].append((tcp, from_client))
    return conns


def test_frames_come_out_in_time_order() -> None:
    stamps = [ts for ts, *_ in decoded("handshake", 10)]
    assert stamps == sorted(stamps)


def test_connections_overlap_in_time() -> None:
    open_now, most = set(), 0
    for _, tcp, _, key in decoded("handshake", 10):
        if tcp.flags & SYN and not tcp.flags & ACK:
            open_now.add(key)
        if tcp.flags & FIN and tcp.dport != 443:  # the server's FIN
            open_now.discard(key)
        most = max(most, len(open_now))
    assert most >= 2


def test_each_connection_has_its_own_client_address_and_one_clienthello() -> None:
    conns = by_connection("handshake", 10)
    assert len(conns) == 10
    assert len({address for address, _ in conns}) == 10
    for packets in conns.values():
        hellos = [t for t, c in packets if c and t.data[:1] == b"\x16" and t.data[5:6] == b"\x01"]
        assert len(hellos) == 1


def test_each_connection_opens_with_a_three_way_handshake_and_closes_with_fin() -> None:
    for packets in by_connection("handshake", 10).values():
        flags = [(t.flags & (SYN | ACK | FIN), c) for t, c in packets]
        assert flags[:3] == [(SYN, True), (SYN | ACK, False), (ACK, True)]
        assert flags[-3:] == [(FIN | ACK, True), (FIN | ACK, False), (ACK, True)]


def test_bulk_connection_carries_the_requested_number_of_1400_byte_application_data_records() -> None:
    for packets in by_connection("bulk", 4, segments=6).values():
        data = [t.data for t, c in packets if not c and len(t.data) == generate.SEGMENT_BYTES]
        assert len(data) == 6
        assert all(d[:5] == bytes.fromhex("1703030573") for d in data)


def test_bulk_client_acks_every_second_segment() -> None:
    for packets in by_connection("bulk", 4, segments=6).values():
        start = next(i for i, (t, c) in enumerate(packets) if not c and len(t.data) == generate.SEGMENT_BYTES)
        bulk = packets[start : start + 9]
        pattern = [("server" if not c else "ack") for t, c in bulk]
        assert pattern == ["server", "server", "ack"] * 3
        second = bulk[1][0]
        assert bulk[2][0].ack == second.seq + len(second.data)


def test_odd_segment_count_ends_with_a_single_record_write() -> None:
    pool = bytes(range(256)) * 64
    messages = generate.bulk_messages(random.Random(3), pool, 5)
    assert [len(data) for _, data in messages] == [2800, 2800, 1400]
    assert all(not from_client for from_client, _ in messages)


def test_same_seed_gives_the_same_layout() -> None:
    def layout(seed: int) -> list[tuple[int, bytes, int, int, int]]:
        return [
            (ts, key[0], key[1], tcp.seq, tcp.flags) for ts, tcp, _, key in decoded("handshake", 5, seed=seed)
        ]

    assert layout(7) == layout(7)
    assert layout(7) != layout(8)


def test_merge_by_time_interleaves_and_keeps_connection_order_on_ties() -> None:
    first = [(10, b"a1"), (30, b"a2")]
    second = [(10, b"b1"), (20, b"b2"), (40, b"b3")]
    merged = list(generate.merge_by_time([first, second]))
    assert merged == [(10, b"a1"), (10, b"b1"), (20, b"b2"), (30, b"a2"), (40, b"b3")]


def test_written_pcap_is_classic_ethernet_with_one_record_per_frame(tmp_path: Path) -> None:
    path = tmp_path / "hs.pcap"
    written = frames("handshake", 3, 0, 1)
    packets, size = generate.write_pcap(path, written)
    raw = path.read_bytes()
    magic, major, minor, _, _, _, linktype = struct.unpack_from("<IHHiIII", raw)
    assert (magic, major, minor, linktype) == (0xA1B2C3D4, 2, 4, 1)
    assert packets == len(written) == count_pcap_records(path)
    assert size == len(raw) == 24 + sum(16 + len(f) for _, f in written)
