"""Generate the benchmark captures: many TLS connections, interleaved in time, as a classic Ethernet pcap.

Theory of operation: a handful of real handshakes are made once with `fixtures.tlsgen` (TLS 1.2 and 1.3,
several cipher suites, key types, SNIs and ALPNs) and replayed over thousands of TCP connections by
`fixtures.tcpsynth.tcp_conversation`, each with its own client address and port, sequence numbers and
round-trip time. Connection i starts about i * spacing after the first, and the packets of all connections
are merged by timestamp as they are produced, so many connections are open at once, as on a real link, while
memory stays bounded by the connections in flight rather than the file.

Two workloads:
- ``handshake``: full handshake, one small request and response, close_notify both ways, FIN close.
- ``bulk``: the handshake and a request, then ``segments`` TLS application_data records of random bytes
  from server to client, each exactly one 1400-byte TCP segment, an ACK from the client every two segments,
  FIN close.

Everything this script chooses (template per connection, addresses, ports, ISNs, RTTs, start times, payload
bytes) comes from one seeded `random.Random`; only the handshake bytes themselves change between runs, since
OpenSSL makes fresh keys and randoms. Packet and connection counts do not change.
"""

from __future__ import annotations

import argparse
import heapq
import ipaddress
import random
import struct
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

WORKLOADS = ("handshake", "bulk")
DEFAULT_CONNECTIONS = 3000
DEFAULT_SEGMENTS = 90
DEFAULT_SEED = 1

SEGMENT_BYTES = 1400  # one TLS record per TCP segment in the bulk phase
RECORD_HEADER = struct.Struct("!BHH")
CONTENT_APPLICATION_DATA = 23  # RFC 8446 §5.1 ContentType
LEGACY_RECORD_VERSION = 0x0303  # TLS 1.2 and 1.3 application_data records both carry 0x0303

START_NS = 1_735_689_600_000_000_000  # 2025-01-01T00:00:00Z
SPACING_NS = {"handshake": 500_000, "bulk": 2_000_000}  # between connection starts
RTTS_NS = (200_000, 1_000_000, 5_000_000, 20_000_000)
CLIENT_NET = int(ipaddress.IPv4Address("10.1.0.0"))
SERVER_NET = int(ipaddress.IPv4Address("192.0.2.0"))  # TEST-NET-1, RFC 5737

REQUEST = b"GET / HTTP/1.1\r\nHost: example.test\r\nUser-Agent: tlsmon-bench\r\nAccept: */*\r\n\r\n"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello, world"

# The handful of real handshakes replayed across the connections: (label, tlsgen.handshake arguments).
TEMPLATES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("tls13-aes256-ec", {"max_version": "TLSv1.3", "sni": "www.example.test",
                         "alpn": ["h2", "http/1.1"], "server_alpn": ["h2", "http/1.1"]}),
    ("tls13-chacha-rsa", {"max_version": "TLSv1.3", "ciphersuites": "TLS_CHACHA20_POLY1305_SHA256",
                          "server_key": "rsa2048", "sni": "api.example.test",
                          "alpn": ["http/1.1"], "server_alpn": ["http/1.1"]}),
    ("tls13-aes128-p256", {"max_version": "TLSv1.3", "ciphersuites": "TLS_AES_128_GCM_SHA256",
                           "groups_client": "P-256", "sni": "cdn.example.test"}),
    ("tls12-ecdsa-aes128", {"max_version": "TLSv1.2", "ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256",
                            "sni": "mail.example.test"}),
    ("tls12-rsa-aes256", {"max_version": "TLSv1.2", "ciphers": "ECDHE-RSA-AES256-GCM-SHA384",
                          "server_key": "rsa2048", "sni": "shop.example.test",
                          "alpn": ["http/1.1"], "server_alpn": ["http/1.1"]}),
    ("tls12-rsa-chacha", {"max_version": "TLSv1.2", "ciphers": "ECDHE-RSA-CHACHA20-POLY1305",
                          "server_key": "rsa2048", "sni": "video.example.test"}),
)  # fmt: skip

Frame = tuple[int, bytes]  # (timestamp in ns, Ethernet frame)
Messages = list[tuple[bool, bytes]]  # (from_client, bytes written), as tlsgen records them


@dataclass(slots=True, frozen=True)
class Connection:
    """What varies from one connection to the next."""

    index: int
    template: int
    client: tuple[str, int]
    server: tuple[str, int]
    start_ns: int
    rtt_ns: int
    isn_client: int
    isn_server: int


def _fixtures() -> tuple[Any, Any]:
    """fixtures.tlsgen and fixtures.tcpsynth, importable also when this file is run as a script."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from fixtures import tcpsynth, tlsgen

    return tlsgen, tcpsynth


def make_templates(workload: str) -> list[Messages]:
    """One recorded exchange per entry of TEMPLATES, shaped for the workload."""
    tlsgen, _ = _fixtures()
    templates = []
    for label, kwargs in TEMPLATES:
        if workload == "handshake":
            exchange = tlsgen.handshake(app_data=[(True, REQUEST), (False, RESPONSE)], **kwargs)
        else:  # bulk: the response is the application_data records added per connection
            exchange = tlsgen.handshake(app_data=[(True, REQUEST)], close_notify=False, **kwargs)
        if not exchange.expected["established"]:
            raise RuntimeError(
                f"template {label} did not complete its handshake: {exchange.expected['error']}"
            )
        templates.append(list(exchange.messages))
    return templates


def bulk_messages(rng: random.Random, pool: bytes, segments: int) -> Messages:
    """``segments`` 1400-byte application_data records from the server, two per write (one ACK per write)."""
    body = SEGMENT_BYTES - RECORD_HEADER.size
    header = RECORD_HEADER.pack(CONTENT_APPLICATION_DATA, LEGACY_RECORD_VERSION, body)
    records = []
    for _ in range(segments):
        offset = rng.randrange(len(pool) - body)
        records.append(header + pool[offset : offset + body])
    return [(False, b"".join(records[i : i + 2])) for i in range(0, segments, 2)]


def plan_connections(workload: str, connections: int, rng: random.Random) -> Iterator[Connection]:
    """The connections in order of start time, with distinct client addresses and seeded parameters."""
    spacing = SPACING_NS[workload]
    for index in range(connections):
        template = rng.randrange(len(TEMPLATES))
        yield Connection(
            index=index,
            template=template,
            client=(str(ipaddress.IPv4Address(CLIENT_NET + 1 + index)), 32768 + rng.randrange(28000)),
            server=(str(ipaddress.IPv4Address(SERVER_NET + 10 + template)), 443),
            start_ns=START_NS + index * spacing + rng.randrange(spacing // 2),
            rtt_ns=rng.choice(RTTS_NS),
            isn_client=rng.getrandbits(32),
            isn_server=rng.getrandbits(32),
        )


def connection_frames(conn: Connection, messages: Sequence[tuple[bool, bytes]]) -> list[Frame]:
    """All frames of one connection: three-way handshake, the messages in MSS segments, FIN close."""
    _, tcpsynth = _fixtures()
    packets = tcpsynth.tcp_conversation(
        messages,
        client=conn.client,
        server=conn.server,
        start_ns=conn.start_ns,
        rtt_ns=conn.rtt_ns,
        mss=SEGMENT_BYTES,
        isn_client=conn.isn_client,
        isn_server=conn.isn_server,
    )
    frames: list[Frame] = tcpsynth.to_frames(packets)
    return frames


def merge_by_time(connections: Iterable[list[Frame]]) -> Iterator[Frame]:
    """Interleave per-connection frame lists (given in order of first timestamp) into one time-ordered stream.

    A connection joins the heap only when its first frame is due, so at most the connections in flight are
    held in memory. Ties keep connection order, so the output is deterministic.
    """
    source = iter(connections)
    heap: list[tuple[int, int, int, list[Frame]]] = []
    pending = next(source, None)
    joined = 0
    while heap or pending is not None:
        while pending is not None and (not pending or not heap or pending[0][0] <= heap[0][0]):
            if pending:
                heapq.heappush(heap, (pending[0][0], joined, 0, pending))
                joined += 1
            pending = next(source, None)
        _, order, position, frames = heapq.heappop(heap)
        yield frames[position]
        if position + 1 < len(frames):
            heapq.heappush(heap, (frames[position + 1][0], order, position + 1, frames))


def workload_frames(
    workload: str,
    connections: int = DEFAULT_CONNECTIONS,
    segments: int = DEFAULT_SEGMENTS,
    seed: int = DEFAULT_SEED,
) -> Iterator[Frame]:
    """The frames of a whole workload, in time order."""
    if workload not in WORKLOADS:
        raise ValueError(f"unknown workload {workload!r}: one of {', '.join(WORKLOADS)}")
    rng = random.Random(seed)
    templates = make_templates(workload)
    pool = rng.randbytes(1 << 20) if workload == "bulk" else b""

    def per_connection() -> Iterator[list[Frame]]:
        for conn in plan_connections(workload, connections, rng):
            messages = templates[conn.template]
            if workload == "bulk":
                messages = messages + bulk_messages(rng, pool, segments)
            yield connection_frames(conn, messages)

    return merge_by_time(per_connection())


_PCAP_HEADER = struct.Struct("<IHHiIII")
_PCAP_RECORD = struct.Struct("<IIII")
PCAP_MAGIC_US = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1
SNAPLEN = 262144


def write_pcap(path: Path, frames: Iterable[Frame]) -> tuple[int, int]:
    """Stream frames into a classic microsecond pcap; returns (packets, bytes written).

    The fixtures' writer builds the whole file in memory first; these files run to hundreds of megabytes.
    """
    packets = 0
    with path.open("wb") as out:
        out.write(_PCAP_HEADER.pack(PCAP_MAGIC_US, 2, 4, 0, 0, SNAPLEN, LINKTYPE_ETHERNET))
        for ts_ns, frame in frames:
            sec, nsec = divmod(ts_ns, 1_000_000_000)
            out.write(_PCAP_RECORD.pack(sec, nsec // 1000, len(frame), len(frame)))
            out.write(frame)
            packets += 1
        size = out.tell()
    return packets, size


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Write a benchmark capture (classic pcap, Ethernet/IPv4/TCP)."
    )
    parser.add_argument("--workload", choices=WORKLOADS, required=True)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--connections", type=int, default=DEFAULT_CONNECTIONS)
    parser.add_argument(
        "--segments", type=int, default=DEFAULT_SEGMENTS, help="bulk: data segments per connection"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    if args.connections < 1 or args.connections > 1 << 20:
        parser.error("--connections must be between 1 and 1048576")
    if args.segments < 0:
        parser.error("--segments must not be negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    frames = workload_frames(args.workload, args.connections, args.segments, args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_name(args.output.name + ".part")
    packets, size = write_pcap(tmp, frames)
    tmp.replace(args.output)
    elapsed = time.perf_counter() - started
    print(
        f"{args.output}: {args.workload}, {args.connections:,} connections, {packets:,} packets, "
        f"{size / 1e6:,.1f} MB in {elapsed:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
