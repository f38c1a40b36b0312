"""Scaling cases of issue 8: time and peak memory as hostile traffic grows, for this tree and optionally an older one.

Each (case, size) runs in a fresh Python process that imports tlsmon from the tree given, feeds the analyzers
crafted bytes directly (no capture, no TCP stage: what is measured is the application layer alone) and reports
its wall time and peak RSS (``ru_maxrss``, which includes the interpreter and its imports, about 60 MB).

    .venv/bin/python bench/scaling.py                          # this tree
    git archive <rev> tlsmon | tar -x -C /tmp/before           # an older tree, outside the repository
    .venv/bin/python bench/scaling.py --before /tmp/before     # both, side by side

Cases (sizes are the n of each):

- ``ehlo``: one EHLO reply of n capability lines (was quadratic: a list search per token).
- ``held``: n MiB sent by the client after STARTTLS, before any answer (was held whole).
- ``pending``: n pipelined SMTP commands that are never answered (was an unbounded queue).
- ``certs``: one Certificate message of n tiny entries (3-byte DERs, up to 65 536 distinct), through the TLS
  analyzer and the certificate store.
- ``store``: n connections, each with one distinct certificate (the store was unbounded).
- ``reverse`` / ``reverse-native``: one stream of n one-byte segments arriving in reverse order, through the
  Python engine / the native one (the Python reassembler's sorted list with ``insert`` was quadratic).
- ``trickle`` / ``trickle-native``: n connections, each a SYN then, after all the SYNs, one data segment, under
  a cap of n/10 connections (an evicted connection reopened a row per later segment: 4.1 M rows for 100 k).

The figures of a run go to docs/performance.md, "Scaling".
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES: dict[str, tuple[int, ...]] = {
    "ehlo": (10_000, 20_000, 40_000),
    "held": (16, 64, 256),
    "pending": (100_000, 400_000, 1_600_000),
    "certs": (10_000, 40_000, 170_000),
    "store": (25_000, 100_000, 400_000),
    "reverse": (10_000, 40_000, 160_000),
    "reverse-native": (10_000, 40_000, 160_000),
    "trickle": (10_000, 40_000, 100_000),
    "trickle-native": (10_000, 40_000, 100_000),
}
UNITS = {
    "ehlo": "lines",
    "held": "MiB",
    "pending": "commands",
    "certs": "certificates",
    "store": "connections",
    "reverse": "segments",
    "reverse-native": "segments",
    "trickle": "connections",
    "trickle-native": "connections",
}


# -- the cases (run in the child process; only APIs that older trees have too) -----------------------------
def _smtp(n_lines: int) -> None:
    from tlsmon.dispatch import Dispatcher

    d = Dispatcher(25)
    d.data(False, b"220 mx.example.org ESMTP\r\n")
    d.data(True, b"EHLO c\r\n")
    body = b"".join(b"250-X-CAP-%d\r\n" % i for i in range(n_lines))
    d.data(False, b"250-mx.example.org\r\n" + body + b"250 HELP\r\n")


def _held(mib: int) -> None:
    from tlsmon.dispatch import Dispatcher

    d = Dispatcher(25)
    for is_orig, data in (
        (False, b"220 mx.example.org ESMTP\r\n"),
        (True, b"EHLO c\r\n"),
        (False, b"250-mx\r\n250 STARTTLS\r\n"),
        (True, b"STARTTLS\r\n"),
    ):
        d.data(is_orig, data)
    chunk = b"A" * 65536
    for _ in range(mib * 16):
        d.data(True, chunk)


def _pending(count: int) -> None:
    from tlsmon.dispatch import Dispatcher

    d = Dispatcher(25)
    d.data(False, b"220 mx.example.org ESMTP\r\n")
    chunk = b"NOOP\r\n" * 10_000
    for _ in range(count // 10_000):
        d.data(True, chunk)


def _vec(length_size: int, data: bytes) -> bytes:
    return len(data).to_bytes(length_size, "big") + data


def _records(content_type: int, message: bytes) -> bytes:
    return b"".join(
        bytes([content_type, 3, 3]) + _vec(2, message[i : i + 16384]) for i in range(0, len(message), 16384)
    )


def _hellos() -> tuple[bytes, bytes]:
    client = b"\x03\x03" + bytes(32) + _vec(1, b"") + _vec(2, b"\xc0\x2f") + _vec(1, b"\x00")
    server = b"\x03\x03" + bytes(32) + _vec(1, b"") + b"\xc0\x2f\x00"
    return (
        _records(22, b"\x01" + _vec(3, client)),
        _records(22, b"\x02" + _vec(3, server)),
    )


def _certs(count: int) -> None:
    from tlsmon.tls.analyzer import TlsAnalyzer
    from tlsmon.x509.chains import ConnectionCertificates
    from tlsmon.x509.store import CertificateStore

    client_hello, server_hello = _hellos()
    # 6 bytes an entry (up to 65 536 distinct DERs), so 170 000 fit the 1 MiB handshake message cap
    entries = b"".join(_vec(3, b"\x30" + (i % 65536).to_bytes(2, "big")) for i in range(count))
    analyzer = TlsAnalyzer()
    analyzer.data(True, client_hello)
    analyzer.data(False, server_hello + _records(22, b"\x0b" + _vec(3, _vec(3, entries))))
    s = analyzer.summary
    ConnectionCertificates(CertificateStore()).summarize(s.cert_chain, s.client_cert_chain, None, None, 1)


def _store(count: int) -> None:
    from tlsmon.x509.chains import ConnectionCertificates
    from tlsmon.x509.store import CertificateStore

    certificates = ConnectionCertificates(CertificateStore())
    for i in range(count):
        certificates.summarize([b"\x30\x04" + i.to_bytes(4, "big")], [], None, None, i)


def _segment(ts: int, client: int, flags: int, seq: int, payload: bytes = b"") -> tuple[int, int, bytes]:
    """A raw-IP (linktype 101) IPv4/TCP frame from client number ``client`` (10.x.y.z:40000) to 10.0.0.2:443."""
    import struct

    tcp = struct.pack("!HHIIBBHHH", 40000, 443, seq, 0, 5 << 4, flags, 65535, 0, 0) + payload
    src = (10 << 24 | 1 << 16 | client).to_bytes(4, "big")
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, src, bytes([10, 0, 0, 2]))
    return ts, 101, ip + tcp


def _engine_run(frames: list[tuple[int, int, bytes]], native: bool, max_connections: int = 1_000_000) -> int:
    """Rows written by either engine for ``frames``."""
    from tlsmon.engine import Engine
    from tlsmon.recorder import MemorySink
    from tlsmon.tcp.tracker_config import TrackerConfig

    sink = MemorySink()
    config = TrackerConfig(max_connections=max_connections, max_buffered_per_direction=1 << 30)
    if native:
        from tlsmon.native_engine import NativeEngine

        engine: object = NativeEngine(sink, config)
    else:
        engine = Engine(sink, config)
    engine.run(frames)  # type: ignore[attr-defined]
    engine.close()  # type: ignore[attr-defined]
    return len(sink.records)


def _reverse(count: int, native: bool = False) -> None:
    frames = [_segment(0, 0, 0x02, 999)]
    frames += [_segment(1 + i, 0, 0x18, 1000 + offset, b"x") for i, offset in enumerate(reversed(range(count)))]
    _engine_run(frames, native)


def _trickle(count: int, native: bool = False) -> None:
    frames = [_segment(i, i, 0x02, 7) for i in range(count)]
    frames += [_segment(count + i, i, 0x18, 8, b"\x16\x03\x01") for i in range(count)]
    rows = _engine_run(frames, native, max_connections=max(1, count // 10))
    print(f"rows {rows}", file=sys.stderr)


CASES: dict[str, Callable[[int], None]] = {
    "ehlo": _smtp,
    "held": _held,
    "pending": _pending,
    "certs": _certs,
    "store": _store,
    "reverse": _reverse,
    "reverse-native": lambda n: _reverse(n, native=True),
    "trickle": _trickle,
    "trickle-native": lambda n: _trickle(n, native=True),
}


def _child(case: str, size: int) -> None:
    import tlsmon.dispatch  # imports done before the clock starts
    import tlsmon.x509.chains  # noqa: F401

    start = time.perf_counter()
    CASES[case](size)
    seconds = time.perf_counter() - start
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mib": rss_mib}))


# -- the parent ----------------------------------------------------------------------------------------
def measure(tree: Path, case: str, size: int, timeout: float) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", case, str(size)]
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return f"> {timeout:.0f} s"
    if done.returncode != 0:
        return "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1][:60]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return f"{figures['seconds']:.2f} s, {figures['rss_mib']:.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, help="an older tree holding tlsmon/ to compare with")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated subset of " + ",".join(CASES))
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds allowed per measurement")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], int(args.child[1]))
        return
    trees = [("after", ROOT)] if args.before is None else [("before", args.before), ("after", ROOT)]
    header = "| case | size | " + " | ".join(name for name, _ in trees) + " |"
    print(header)
    print("|" + "---|" * (2 + len(trees)))
    for case in args.cases.split(","):
        for size in SIZES[case]:
            cells = [measure(tree, case, size, args.timeout) for _, tree in trees]
            print(f"| {case} | {size:,} {UNITS[case]} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
