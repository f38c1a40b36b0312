"""Time ``tlsmon report`` on a generated dataset of 10 million connections (not run in CI).

Theory of operation: the dataset is written straight as Parquet with tlsmon's schema (every column of the
connections and certificates tables, those the report does not read left null), generated with numpy and
pyarrow in vectorised chunks of one million rows, so building it takes seconds rather than the hours a
capture of 10 M connections would take to read. The mix is realistic in shape: 70 % HTTPS, mail and chat
ports with STARTTLS offered and taken in part, 200 000 servers, 1 M clients, 150 000 leaf certificates (some
shared by several servers), TLS 1.0 to 1.3, some DHE and RC4, ALPN and OCSP on some handshakes, a few Tor-like
leaves. Row groups have tlsmon's own size (16 384 rows), as ``tlsmon read`` writes them.

``tlsmon report`` then runs as a child process (the console script, as a person runs it) --repeat times; the
best wall time counts, and the child's peak RSS comes from its rusage. Results: docs/performance.md, "Report".

    .venv/bin/python bench/report_bench.py                   # 10 M rows into bench/work/report-10m, best of 3
    .venv/bin/python bench/report_bench.py --rows 1000000 --repeat 1
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tlsmon.output.parquet import DEFAULT_ROW_GROUP_ROWS
from tlsmon.records.tables import CERTIFICATES, CONNECTIONS

BENCH = Path(__file__).resolve().parent
TLSMON = BENCH.parent / ".venv" / "bin" / "tlsmon"
CHUNK = 1_000_000
SERVERS = 200_000
CLIENTS = 1_000_000
CERTS = 150_000
START_NS = 1_714_521_600_000_000_000  # 2024-05-01T00:00:00Z
TIME = ["/usr/bin/time", "-f", "%M"] if Path("/usr/bin/time").exists() else []

# port, app_proto, tls share of the port's connections, weight
PORTS = [(443, "tls", 1.0, 70), (25, "smtp", 0.6, 8), (587, "smtp", 0.9, 3), (143, "imap", 0.7, 4),
         (993, "tls", 1.0, 4), (110, "pop3", 0.6, 2), (995, "tls", 1.0, 2), (5222, "xmpp", 0.8, 2),
         (5269, "xmpp", 0.9, 1), (6667, "irc", 0.3, 1), (80, None, 0.0, 2), (9001, "tls", 1.0, 1)]
VERSIONS = (["TLSv10", "TLSv11", "TLSv12", "TLSv13"], [0.05, 0.02, 0.55, 0.38])
CIPHERS = ["TLS_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
           "TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"]
CLASSES = (["verifiable", "expired", "self_signed", "broken", "not_yet_valid"], [0.8, 0.05, 0.08, 0.065, 0.005])


def _strings(values: list[str], index: np.ndarray) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(index.astype(np.int32)), pa.array(values)).cast(pa.string())


def _nullable(arr: pa.Array, valid: np.ndarray) -> pa.Array:
    return pa.array(arr.to_numpy(zero_copy_only=False), type=arr.type, mask=~valid) if arr.type != pa.string() \
        else pa.compute.if_else(pa.array(valid), arr, pa.scalar(None, pa.string()))


def _list(values: pa.Array, per_row: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    offsets = np.zeros(len(per_row) + 1, dtype=np.int32)
    np.cumsum(per_row, out=offsets[1:])
    mask = None if valid is None else pa.array(~valid)
    return pa.ListArray.from_arrays(pa.array(offsets), values, mask=mask)


def chunk(rng: np.random.Generator, first: int, n: int, servers: list[str], clients: list[str],
          fps: list[str], schema: pa.Schema) -> pa.Table:
    weights = np.array([p[3] for p in PORTS], dtype=float)
    pi = rng.choice(len(PORTS), size=n, p=weights / weights.sum())
    port = np.array([p[0] for p in PORTS], dtype=np.uint16)[pi]
    proto_names = sorted({p[1] for p in PORTS if p[1]})
    proto_index = np.array([proto_names.index(p[1]) if p[1] else -1 for p in PORTS])[pi]
    tls_share = np.array([p[2] for p in PORTS])[pi]
    is_tls = rng.random(n) < tls_share
    implicit = np.array([p[1] == "tls" for p in PORTS])[pi]
    plaintext_proto = proto_index >= 0
    mode = np.where(~is_tls, 0, np.where(implicit, 1, 2))  # none, implicit, starttls
    server = rng.zipf(1.3, n) % SERVERS
    start = START_NS + (first + np.arange(n)) * 8_640_000  # 10 M rows over about one day
    v = rng.choice(4, size=n, p=VERSIONS[1])
    handshake = is_tls & (rng.random(n) < 0.97)
    cipher = np.where(v == 3, 0, rng.choice([1, 1, 1, 2, 3, 4], size=n))
    fs = cipher <= 2
    has_cert = handshake & (v < 3)
    cert = server % CERTS
    cls = rng.choice(5, size=n, p=CLASSES[1])
    offered = plaintext_proto & ~implicit & (rng.random(n) < 0.85)
    starttls_rows = mode == 2
    offered |= starttls_rows & (rng.random(n) < 0.95)
    smtp_like = plaintext_proto & ~implicit & (port != 80)
    tor = port == 9001
    status_request = handshake & (rng.random(n) < 0.4)
    stapled = status_request & (v < 3) & (rng.random(n) < 0.3)
    alpn = handshake & (rng.random(n) < 0.5)
    cols: dict[str, pa.Array] = {
        "uid": pa.array([f"C{i:017d}" for i in range(first, first + n)]),
        "ts_start": pa.array(start, pa.timestamp("ns", tz="UTC")),
        "ts_end": pa.array(start + 2_000_000_000, pa.timestamp("ns", tz="UTC")),
        "orig_h": _strings(clients, rng.integers(0, CLIENTS, n)),
        "orig_p": pa.array(rng.integers(1024, 65535, n).astype(np.uint16)),
        "resp_h": _strings(servers, server),
        "resp_p": pa.array(port),
        "ip_version": pa.array(np.full(n, 4, dtype=np.uint8)),
        "history": _strings(["ShADadFf"], np.zeros(n, dtype=np.int32)),
        "end_reason": _strings(["fin", "rst", "timeout"], rng.choice(3, size=n, p=[0.8, 0.15, 0.05])),
        "app_proto": _nullable(_strings(["tls", *proto_names], np.where(implicit, 0, np.maximum(proto_index, 0) + 1)),
                               implicit | plaintext_proto),
        "tls_mode": _strings(["none", "implicit", "starttls"], mode),
        "anomalies": _list(pa.array([], pa.string()), np.zeros(n, dtype=np.int32)),
        "starttls_offered": pa.array(offered, mask=~(plaintext_proto & ~implicit)),
        "starttls_command_seen": pa.array(starttls_rows, mask=~(plaintext_proto & ~implicit)),
        "auth_mechs_offered": _list(_strings(["PLAIN", "LOGIN"], np.tile([0, 1], n)),
                                    np.full(n, 2, dtype=np.int32) * smtp_like, smtp_like),
        "plaintext_auth_command": _nullable(_strings(["AUTH PLAIN"], np.zeros(n, dtype=np.int32)),
                                            smtp_like & ~is_tls & (rng.random(n) < 0.1)),
        "xmpp_stream_type": _nullable(_strings(["c2s", "s2s"], (port == 5269).astype(np.int32)),
                                      (port == 5222) | (port == 5269)),
        "version": _nullable(_strings(VERSIONS[0], v), handshake),
        "cipher": _nullable(_strings(CIPHERS, cipher), handshake),
        "forward_secrecy": pa.array(fs, mask=~handshake),
        "rc4": pa.array(cipher == 3, mask=~handshake),
        "curve": _nullable(_strings(["x25519", "secp256r1"], (cipher == 1).astype(np.int32)),
                           handshake & (cipher <= 1)),
        "dh_prime_bits": pa.array(np.where(rng.random(n) < 0.7, 2048, 1024).astype(np.uint16),
                                  mask=~(handshake & (cipher == 2))),
        "next_protocol": _nullable(
            _strings(["h2", "http/1.1", "imap"], np.where(port == 993, 2, rng.integers(0, 2, n))), alpn & (v < 3)),
        "client_alpn": _list(_strings(["h2", "http/1.1"], np.tile([0, 1], n)), np.full(n, 2, dtype=np.int32) * alpn,
                             handshake),
        "client_status_request": pa.array(np.ones(n, dtype=np.uint8), mask=~status_request),
        "ocsp_stapled": pa.array(stapled, mask=~handshake),
        "ocsp_status": _nullable(_strings(["good"], np.zeros(n, dtype=np.int32)), stapled),
        "cert_chain_fps": _list(_strings(fps, cert[has_cert]), has_cert.astype(np.int32), has_cert),
        "validity_class": _nullable(_strings(CLASSES[0], np.where(tor, 2, cls)), has_cert),
        "leaf_tor_like": pa.array(tor, mask=~has_cert),
    }
    for name in ("orig_pkts", "resp_pkts", "orig_bytes", "resp_bytes", "orig_missed_bytes", "resp_missed_bytes",
                 "missed_bytes"):
        cols[name] = pa.array(np.full(n, 10, dtype=np.uint64))
    arrays = [cols[f.name].cast(f.type) if f.name in cols else pa.nulls(n, f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def generate(out: Path, rows: int, seed: int = 2016) -> None:
    rng = np.random.default_rng(seed)
    servers = [f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" for i in range(SERVERS)]
    clients = [f"172.{16 + (i >> 16 & 15)}.{i >> 8 & 255}.{i & 255}" for i in range(CLIENTS)]
    fps = [f"{i:064x}" for i in range(CERTS)]
    meta = {"tlsmon_version": "bench", "schema_version": "2", "certifi_version": "bench"}
    conn_schema = pa.schema([c.field() for g in CONNECTIONS for c in g.columns],
                            metadata={**meta, "table": "connections"})
    (out / "connections").mkdir(parents=True)
    for part, first in enumerate(range(0, rows, CHUNK)):
        table = chunk(rng, first, min(CHUNK, rows - first), servers, clients, fps, conn_schema)
        pq.write_table(table, out / "connections" / f"part-bench-{part:05d}.parquet", compression="zstd",
                       row_group_size=DEFAULT_ROW_GROUP_ROWS)
    cert_schema = pa.schema([c.field() for g in CERTIFICATES for c in g.columns],
                            metadata={**meta, "table": "certificates"})
    keys = np.arange(CERTS) // 3  # every three certificates share a key
    cert_cols: dict[str, pa.Array] = {
        "fingerprint": pa.array(fps), "sha1": pa.array([f[:40] for f in fps]),
        "der": pa.array([b"\x30\x82"] * CERTS, pa.binary()),
        "first_seen": pa.array(np.full(CERTS, START_NS), pa.timestamp("ns", tz="UTC")),
        "last_seen": pa.array(np.full(CERTS, START_NS), pa.timestamp("ns", tz="UTC")),
        "times_seen": pa.array(np.ones(CERTS, dtype=np.uint32)),
        "host_cert": pa.array(np.ones(CERTS, dtype=bool)), "client_cert": pa.array(np.zeros(CERTS, dtype=bool)),
        "server_cert": pa.array(np.ones(CERTS, dtype=bool)),
        "spki_sha256": pa.array([f"{k:064x}" for k in keys]),
        "certificate_subject": pa.array([f"CN=host{i}.example" for i in range(CERTS)]),
    }
    arrays = [cert_cols[f.name].cast(f.type) if f.name in cert_cols else pa.nulls(CERTS, f.type) for f in cert_schema]
    (out / "certificates").mkdir(parents=True)
    pq.write_table(pa.Table.from_arrays(arrays, schema=cert_schema), out / "certificates" / "part-bench.parquet",
                   compression="zstd")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000, help="connections in the dataset (default 10 M)")
    ap.add_argument("--repeat", type=int, default=3, help="report runs; the best wall time counts (default 3)")
    ap.add_argument("--work", type=Path, default=BENCH / "work", help="where the dataset and reports go")
    ap.add_argument("--regenerate", action="store_true", help="rebuild the dataset even if it exists")
    args = ap.parse_args(argv)
    data = args.work / f"report-{args.rows}"
    if args.regenerate and data.exists():
        shutil.rmtree(data)
    if not (data / "connections").is_dir():
        t0 = time.perf_counter()
        generate(data, args.rows)
        print(f"generated {args.rows:,} connections in {time.perf_counter() - t0:.1f} s → {data}")
    size = sum(p.stat().st_size for p in data.rglob("*.parquet"))
    best = float("inf")
    peak_kb = 0
    for i in range(args.repeat):
        out = args.work / f"report-{args.rows}-out"
        t0 = time.perf_counter()
        # GNU time reports the child's own peak RSS; wait4's would include this runner's (Linux keeps the
        # high-water mark across exec), which is large right after generating the dataset.
        proc = subprocess.Popen([*TIME, str(TLSMON), "report", str(data), "-o", str(out)], stderr=subprocess.PIPE,
                                text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        err = proc.stderr.read() if proc.stderr else ""
        if status != 0:
            print(f"tlsmon report failed (status {status}): {err}", file=sys.stderr)
            return 1
        rss_kb = int(err.strip().splitlines()[-1]) if TIME else usage.ru_maxrss
        best = min(best, wall)
        peak_kb = max(peak_kb, rss_kb)
        print(f"run {i + 1}: {wall:.1f} s wall, {usage.ru_utime + usage.ru_stime:.1f} s CPU, "
              f"peak RSS {rss_kb / 1024:.0f} MiB")
    print(f"tlsmon report over {args.rows:,} connections ({size / 2**20:.0f} MiB of Parquet) on "
          f"{os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}: "
          f"best {best:.1f} s, peak RSS {peak_kb / 1024:.0f} MiB (target: under 60 s)")
    return 0 if best < 60 else 2


if __name__ == "__main__":
    raise SystemExit(main())
