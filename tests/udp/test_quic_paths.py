"""A QUIC connection followed by connection ID to a new 4-tuple (tlsmon/udp/cids.py, tlsmon/udp/flows.py,
native/src/udp/): one flow, one row, both paths counted, in both engines.

fixtures/pcaps/udp/quic-nat-rebinding.pcap (fixtures/make_udp_captures.py): an aioquic handshake from port 50123,
stream data, then the client's datagrams leave from port 61904 with the server's connection ID as DCID, and the
server answers there (path validation, then data)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures import tcpsynth
from fixtures.make_udp_captures import (
    CLIENT_IP,
    CLIENT_PORT,
    CLIENT_PORT_REBOUND,
    SERVER_IP,
    SERVER_PORT,
    udp_ipv4,
)
from tests.engines.equality import capture_frames, run_native, run_python
from tests.udp.test_flow_table import SECOND, run, udp_frame
from tlsmon.recorder import UDP_FLOWS_IGNORED
from tlsmon.tcp.tracker_config import TrackerConfig
from tlsmon.udp.anomalies import UdpAnomaly

UDP_PCAPS = Path(__file__).resolve().parents[2] / "fixtures" / "pcaps" / "udp"
REBINDING = UDP_PCAPS / "quic-nat-rebinding.pcap"
EXPECTED: dict[str, object] = json.loads((UDP_PCAPS / "MANIFEST.json").read_text())["quic-nat-rebinding.pcap"]
SERVER_CID = bytes.fromhex(str(EXPECTED["server_cid"]))
PORTS: dict[str, list[int]] = EXPECTED["client_ports"]  # type: ignore[assignment]
ETH_IP_UDP = 14 + 20 + 8
MOVED_IP = bytes([203, 0, 113, 77])
LINKTYPE_ETHERNET = 1

Frames = list[tuple[int, int, bytes]]


def rebinding_frames() -> Frames:
    return capture_frames([REBINDING])


def ports(frame: bytes) -> tuple[int, int]:
    sport, dport = struct.unpack_from("!HH", frame, 14 + 20)
    return sport, dport


def with_client_address(frames: Frames, address: bytes) -> Frames:
    """The capture with the rebound path's client address replaced (a NAT that changed its public address)."""
    out = []
    for ts, link, frame in frames:
        sport, dport = ports(frame)
        payload = frame[ETH_IP_UDP:]
        if sport == CLIENT_PORT_REBOUND:
            frame = tcpsynth.link_ethernet(udp_ipv4(address, SERVER_IP, sport, dport, payload, 0))
        elif dport == CLIENT_PORT_REBOUND:
            ip = udp_ipv4(SERVER_IP, address, sport, dport, payload, 0)
            frame = tcpsynth.link_ethernet(ip, src=tcpsynth.SERVER_MAC, dst=tcpsynth.CLIENT_MAC)
        out.append((ts, link, frame))
    return out


def rebound_after(frames: Frames, first: int, port: int) -> Frames:
    """The capture with the client's port changed to ``port`` from frame ``first`` on, both ways."""
    out = list(frames[:first])
    for ts, _, frame in frames[first:]:
        payload = frame[ETH_IP_UDP:]
        if ports(frame)[1] == SERVER_PORT:
            ip = udp_ipv4(CLIENT_IP, SERVER_IP, port, SERVER_PORT, payload, 0)
            out.append((ts, LINKTYPE_ETHERNET, tcpsynth.link_ethernet(ip)))
        else:
            ip = udp_ipv4(SERVER_IP, CLIENT_IP, SERVER_PORT, port, payload, 0)
            link = tcpsynth.link_ethernet(ip, src=tcpsynth.SERVER_MAC, dst=tcpsynth.CLIENT_MAC)
            out.append((ts, LINKTYPE_ETHERNET, link))
    return out


def short_header(dcid: bytes) -> bytes:
    return bytes([0x41]) + dcid + bytes(range(40))


def test_the_capture_changes_the_clients_port_mid_connection() -> None:
    seen = {ports(frame) for _, _, frame in rebinding_frames()}
    assert seen == {
        (CLIENT_PORT, SERVER_PORT),
        (SERVER_PORT, CLIENT_PORT),
        (CLIENT_PORT_REBOUND, SERVER_PORT),
        (SERVER_PORT, CLIENT_PORT_REBOUND),
    }


def test_a_rebound_quic_connection_is_one_row_with_the_first_paths_addresses() -> None:
    sink, stats = run(rebinding_frames())
    ((conn, tls),) = sink.rows
    assert (conn.orig_h, conn.orig_p, conn.resp_h, conn.resp_p) == ("192.0.2.10", CLIENT_PORT, "198.51.100.20", 443)
    assert tls is not None and tls.version == "TLSv13"
    assert stats.tracker_counters == {}


def test_the_row_counts_the_datagrams_of_both_paths_in_their_directions() -> None:
    sink, _ = run(rebinding_frames())
    ((conn, _),) = sink.rows
    first, rebound = PORTS[str(CLIENT_PORT)], PORTS[str(CLIENT_PORT_REBOUND)]
    assert (conn.orig_pkts, conn.resp_pkts) == (first[0] + rebound[0], first[1] + rebound[1]) == (7, 8)


def test_the_row_counts_the_bytes_of_both_paths_by_sender() -> None:
    frames = rebinding_frames()
    sink, _ = run(frames)
    ((conn, _),) = sink.rows
    client = sum(len(f) - ETH_IP_UDP for _, _, f in frames if ports(f)[0] != SERVER_PORT)
    server = sum(len(f) - ETH_IP_UDP for _, _, f in frames if ports(f)[0] == SERVER_PORT)
    assert (conn.orig_bytes, conn.resp_bytes) == (client, server) == (3764, 1826)


def test_the_row_says_two_paths() -> None:
    sink, _ = run(rebinding_frames())
    ((conn, _),) = sink.rows
    assert conn.paths == 2


def test_a_port_change_alone_is_no_anomaly() -> None:
    sink, _ = run(rebinding_frames())
    ((conn, _),) = sink.rows
    assert conn.anomalies == []


def test_the_flow_lasts_until_the_last_datagram_of_either_path() -> None:
    frames = rebinding_frames()
    sink, _ = run(frames)
    ((conn, _),) = sink.rows
    assert (conn.ts_start, conn.ts_end) == (frames[0][0], frames[-1][0])


def test_a_new_address_on_the_new_path_is_named_on_the_row() -> None:
    sink, _ = run(with_client_address(rebinding_frames(), MOVED_IP))
    ((conn, _),) = sink.rows
    assert (conn.paths, conn.orig_h, conn.anomalies) == (2, "192.0.2.10", [UdpAnomaly.QUIC_ADDRESS_CHANGED])


def test_a_handshake_rebound_mid_client_hello_reaches_the_same_analyzer() -> None:
    """quic-two-initials.pcap's ClientHello spans three Initials; from the second on, the client's port changes:
    the rest of the ClientHello (and the server's Initial) must reach the analyzer that has its start."""
    frames = rebound_after(capture_frames([UDP_PCAPS / "quic-two-initials.pcap"]), 1, CLIENT_PORT_REBOUND)
    sink, stats = run(frames)
    ((conn, tls),) = sink.rows
    assert tls is not None
    summary = (conn.paths, tls.ssl_history, tls.version, tls.server_name, len(tls.client_alpn))
    assert summary == (2, "Cs", "TLSv13", "quic.example.test", 40)
    assert stats.tracker_counters == {}


def test_a_short_header_naming_the_servers_id_from_a_new_port_joins_the_connection() -> None:
    quic = capture_frames([UDP_PCAPS / "quic-v1.pcap"])
    stray = udp_frame(quic[-1][0] + 1, "192.0.2.10", 40404, "198.51.100.20", 443, short_header(quic_v1_server_cid()))
    sink, stats = run([*quic, stray])
    ((conn, _),) = sink.rows
    assert (conn.paths, conn.orig_pkts, UDP_FLOWS_IGNORED in stats.tracker_counters) == (2, 4, False)  # 3 + 1


def test_a_short_header_with_an_unknown_id_on_a_new_port_stays_a_flow_of_its_own() -> None:
    quic = capture_frames([UDP_PCAPS / "quic-v1.pcap"])
    stray = udp_frame(quic[-1][0] + 1, "192.0.2.10", 40404, "198.51.100.20", 443, short_header(b"\x5a" * 8))
    sink, stats = run([*quic, stray])
    ((conn, _),) = sink.rows
    assert (conn.paths, conn.orig_pkts, stats.tracker_counters[UDP_FLOWS_IGNORED]) == (1, 3, 1)


def test_a_connection_id_is_forgotten_when_its_flow_ends() -> None:
    quic = capture_frames([UDP_PCAPS / "quic-v1.pcap"])
    late = quic[-1][0] + 61 * SECOND  # past the UDP idle timeout
    stray = udp_frame(late, "192.0.2.10", 40404, "198.51.100.20", 443, short_header(quic_v1_server_cid()))
    config = TrackerConfig(sweep_interval_ns=SECOND, check_every_packets=1)
    sink, stats = run([*quic, stray], config)
    ((conn, _),) = sink.rows
    assert (conn.paths, stats.tracker_counters[UDP_FLOWS_IGNORED]) == (1, 1)


def test_both_engines_agree_on_the_moved_address_and_the_stray_datagrams() -> None:
    quic = capture_frames([UDP_PCAPS / "quic-v1.pcap"])
    t = quic[-1][0]
    frames = [
        *with_client_address(rebinding_frames(), MOVED_IP),
        *quic,
        udp_frame(t + 1, "192.0.2.10", 40404, "198.51.100.20", 443, short_header(quic_v1_server_cid())),
        udp_frame(t + 2, "192.0.2.10", 40405, "198.51.100.20", 443, short_header(b"\x5a" * 8)),
    ]
    frames.sort(key=lambda f: f[0])
    for batch in (1, 3, 4096):
        assert run_native(frames, batch=batch) == run_python(frames)


def quic_v1_server_cid() -> bytes:
    """The SCID of quic-v1.pcap's server Initial (its second datagram): the DCID of the client's short headers."""
    frame = capture_frames([UDP_PCAPS / "quic-v1.pcap"])[1][2]
    quic = frame[ETH_IP_UDP:]
    dcid_len = quic[5]
    scid_len = quic[6 + dcid_len]
    return quic[7 + dcid_len : 7 + dcid_len + scid_len]


HEADS = st.sampled_from([b"", b"\xc3\x00\x00\x00\x01", b"\xc3\x6b\x33\x43\xcf", b"\x43", b"\x80", b"\xff\x00\x00\x20"])


@settings(max_examples=60, deadline=None)
@given(
    datagrams=st.lists(
        st.tuples(st.integers(40000, 40003), st.booleans(), HEADS, st.integers(0, 25), st.binary(max_size=40)),
        max_size=12,
    )
)
def test_any_datagrams_after_a_quic_handshake_leave_both_engines_equal(
    datagrams: list[tuple[int, bool, bytes, int, bytes]],
) -> None:
    """Long and short headers with real and random IDs, of any length and truncated, from old and new ports."""
    quic = capture_frames([UDP_PCAPS / "quic-v1.pcap"])
    known = quic_v1_server_cid()
    t = quic[-1][0]
    frames = list(quic)
    for i, (port, use_known, head, length, tail) in enumerate(datagrams):
        cid = known if use_known else tail[:8]
        body = head + (bytes([length]) if head[:1] >= b"\x80" else b"") + cid + tail
        if port % 2:
            frames.append(udp_frame(t + i + 1, "192.0.2.10", port, "198.51.100.20", 443, body))
        else:
            frames.append(udp_frame(t + i + 1, "198.51.100.20", 443, "192.0.2.10", port, body))
    python_sink, python_stats = run(frames)
    native_sink, native_stats = run(frames, native=True)
    assert [repr(r) for r in native_sink.rows] == [repr(r) for r in python_sink.rows]
    assert native_stats.tracker_counters == python_stats.tracker_counters
