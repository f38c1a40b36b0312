"""What the connection-ID index costs the UDP flow table (docs/udp.md): both engines' tables alone, on synthetic
QUIC-shaped traffic, no analysis.

Workloads (IPv4/UDP in Ethernet, written to a temporary pcap; every flow has its own random 8-byte CIDs):

- ``quic``: per flow a client and a server long header (v1, 1200 bytes: the IDs are learned), then 20 short
  headers each way on the same 4-tuple (the established path: one first-byte test more per datagram);
- ``rebind``: the same, with the client's last 10 datagrams from a new port (matched by CID) and the server
  answering there;
- ``other``: one datagram each on new 4-tuples (DNS-sized, first byte 0x12, a short-header form), after the
  ``quic`` flows are live: every one is a lookup that misses.

Native: the tracker reads the pcap itself and every UDP flow is bypassed when it opens (as a finished handshake
would be), so the figure is the native packet path. Python: :class:`~tlsmon.udp.flows.UdpTracker` with a
consumer that is finished at once, fed pre-decoded tuples. Times are the process's CPU time (best of
``--repeat``), which a machine shared with other jobs disturbs less than wall time. Run it on two trees to
compare (the script only uses what both have)::

    PYTHONPATH=. .venv/bin/python -m tests.udp.measure [--flows 5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import struct
import tempfile
import time
from pathlib import Path

from tlsmon import _native
from tlsmon.native_engine import MAX_FRAMES
from tlsmon.native_tracker import DEFAULT_MAX_EVENTS
from tlsmon.tcp.ports import SERVICE_PORTS
from tlsmon.tcp.tracker_config import TrackerConfig
from tlsmon.udp.flows import UdpFlow, UdpTracker

OPEN_UDP = 7
CLIENT = 0xC0000200  # 192.0.2.0 + flow
SERVER = 0xC6336414  # 198.51.100.20
FLAG_UDP = 0x100
Datagram = tuple[int, int, int, int, int, bytes]  # ts, src, dst, sport, dport, payload


def long_header(dcid: bytes, scid: bytes) -> bytes:
    head = bytes([0xC3, 0, 0, 0, 1, len(dcid)]) + dcid + bytes([len(scid)]) + scid
    return head + bytes(1200 - len(head))


def short_header(dcid: bytes) -> bytes:
    return bytes([0x43]) + dcid + bytes(80)


def workload(name: str, flows: int) -> list[Datagram]:
    out: list[Datagram] = []
    ts = 1_700_000_000_000_000_000
    for i in range(flows):
        client, cport = CLIENT + (i >> 14), 20000 + (i & 0x3FFF)
        ccid, scid, first = os.urandom(8), os.urandom(8), os.urandom(8)
        out.append((ts, client, SERVER, cport, 443, long_header(first, ccid)))
        out.append((ts, SERVER, client, 443, cport, long_header(ccid, scid)))
        for k in range(20):
            port = cport + 40000 if name == "rebind" and k >= 10 else cport
            out.append((ts, client, SERVER, port, 443, short_header(scid)))
            out.append((ts, SERVER, client, 443, port, short_header(ccid)))
        ts += 1000
    if name == "other":
        dns = bytes.fromhex("12340100000100000000000003777777076578616d706c6503636f6d0000010001")
        out += [(ts + i, 0x0A000000 + i, 0x0A0000FE, 5353, 53, dns) for i in range(flows * 10)]
    return out


def frame(d: Datagram) -> bytes:
    _, src, dst, sport, dport, payload = d
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBHII", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, dst) + udp
    return bytes(12) + b"\x08\x00" + ip


def write_pcap(path: Path, datagrams: list[Datagram]) -> None:
    with path.open("wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))  # ns resolution, Ethernet
        for d in datagrams:
            data = frame(d)
            f.write(struct.pack("<IIII", d[0] // 10**9, d[0] % 10**9, len(data), len(data)) + data)


def native(path: Path) -> tuple[float, int]:
    c = TrackerConfig()
    tracker = _native.Tracker(
        c.idle_timeout_ns, c.linger_ns, c.max_connections, c.max_buffered_per_direction, c.max_buffered_total,
        c.sweep_interval_ns, c.check_every_packets, sorted(SERVICE_PORTS), None,
    )  # fmt: skip
    started = time.process_time()
    source = _native.CaptureSource([str(path)])
    done, opened = False, 0
    while not done:
        events, done = tracker.run_capture(source, DEFAULT_MAX_EVENTS, MAX_FRAMES)
        new = [conn for conn, _, kind, _, _ in events if kind == OPEN_UDP]
        if new:
            tracker.bypass(new)
            opened += len(new)
    tracker.finish("eof")
    tracker.take_events()
    return time.process_time() - started, opened


class Done:
    finished = True

    def datagram(self, is_orig: bool, ts: int, payload: bytes) -> None:
        pass

    def end(self) -> None:
        pass


def python(datagrams: list[Datagram]) -> tuple[float, int]:
    decoded = [(ts, (4, s, d, sp, dp, FLAG_UDP, 0, 0, p, 0, len(p), None)) for ts, s, d, sp, dp, p in datagrams]
    flows: list[UdpFlow] = []
    table = UdpTracker(lambda flow: Done(), flows.append, 1_000_000)
    started = time.process_time()
    for ts, d in decoded:
        table.datagram(ts, d)  # type: ignore[arg-type]
    table.finish()
    return time.process_time() - started, len(flows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("quic", "rebind", "other"):
            datagrams = workload(name, args.flows)
            path = Path(tmp) / f"{name}.pcap"
            write_pcap(path, datagrams)
            n_t, n_flows = min(native(path) for _ in range(args.repeat))
            p_t, p_flows = min(python(datagrams) for _ in range(args.repeat))
            print(
                f"{name}: {len(datagrams):,} datagrams; native {n_t / len(datagrams) * 1e9:.0f} ns/datagram "
                f"({n_flows:,} flows); python {p_t / len(datagrams) * 1e9:.0f} ns/datagram ({p_flows:,} flows)"
            )


if __name__ == "__main__":
    main()
