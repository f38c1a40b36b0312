"""``tlsmon batch`` speed: one worker against two on the same ≥ 8 files, and Dask's overhead per task.

Theory of operation.
1. Inputs: ``--files`` (default 8) handshake-workload captures from ``bench/generate.py`` (``--connections``
   each, a different seed per file), written once into ``bench/work/batch/`` and reused.
2. Local pool: ``tlsmon batch`` into a fresh dataset with ``--workers 1``, then ``--workers 2``, ``--repeat``
   times each, alternating; the best wall time of each counts (the whole process: start-up, fork server,
   stitching included). Speed-up = best(1 worker) ÷ best(2 workers). The mean task duration of each run (from
   the manifest) shows contention: on a machine with two free cores it is the same with one worker and two;
   when other jobs hold the cores, two tasks at once each take longer and the speed-up shrinks with it. The
   load average before and after is recorded for that reason.
3. Dask: a ``dask scheduler`` and two ``dask worker`` processes (one thread each) on 127.0.0.1; ``--tiny`` copies
   of a small fixture capture go through ``--scheduler`` and through the local pool with two workers. The
   overhead per task is (wall with Dask - wall with the local pool) ÷ tasks, next to the mean task duration the
   manifest records.

Run (not in CI; minutes on a 2-core machine): ``.venv/bin/python bench/batch_bench.py [--json OUT]``.
Figures go to docs/performance.md, section "Batch".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / "work" / "batch"
PYTHON = sys.executable
DASK = Path(sys.executable).with_name("dask")
TINY = REPO / "fixtures" / "pcaps" / "tls13-basic.pcap"


def make_inputs(files: int, connections: int) -> list[Path]:
    sys.path.insert(0, str(REPO))
    from bench.generate import workload_frames, write_pcap

    WORK.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(files):
        path = WORK / f"handshake-{connections}-{i:02d}.pcap"
        if not path.exists():
            tmp = path.with_name(path.name + ".part")
            write_pcap(tmp, workload_frames("handshake", connections, seed=100 + i))
            tmp.replace(path)
        paths.append(path)
    return paths


def run_batch(inputs: list[Path], extra: list[str]) -> tuple[float, Path]:
    ds = Path(tempfile.mkdtemp(prefix="tlsmon-batch-bench-")) / "ds"
    started = time.perf_counter()
    subprocess.run([PYTHON, "-m", "tlsmon.cli", "batch", *map(str, inputs), "-o", str(ds), "-q", *extra],
                   check=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    return time.perf_counter() - started, ds


def mean_task_s(ds: Path) -> float:
    sys.path.insert(0, str(REPO))
    from tlsmon.batch.manifest import latest, read_entries

    entries = list(latest(read_entries(ds)).values())
    return sum(e.duration_s for e in entries) / len(entries)


def local_speedup(inputs: list[Path], repeat: int) -> dict[str, object]:
    walls: dict[int, list[float]] = {1: [], 2: []}
    tasks: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(repeat):
        for workers in (1, 2):
            wall, ds = run_batch(inputs, ["--workers", str(workers)])
            walls[workers].append(wall)
            tasks[workers].append(mean_task_s(ds))
            shutil.rmtree(ds.parent, ignore_errors=True)
    best1, best2 = min(walls[1]), min(walls[2])
    return {"walls_1": walls[1], "walls_2": walls[2], "mean_task_1": tasks[1], "mean_task_2": tasks[2],
            "best_1": best1, "best_2": best2,
            "speedup": best1 / best2}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dask_overhead(tasks: int, repeat: int) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="tlsmon-batch-tiny-"))
    inputs = []
    for i in range(tasks):
        path = folder / f"tiny-{i:03d}.pcap"
        shutil.copy(TINY, path)
        inputs.append(path)
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    procs = [subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], **quiet)]  # type: ignore[call-overload]
    procs += [subprocess.Popen([str(DASK), "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard"],
                               **quiet) for _ in range(2)]  # type: ignore[call-overload]
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        local_walls, dask_walls, task_s = [], [], []
        for _ in range(repeat):
            wall, ds = run_batch(inputs, ["--workers", "2"])
            local_walls.append(wall)
            shutil.rmtree(ds.parent, ignore_errors=True)
            wall, ds = run_batch(inputs, ["--scheduler", address])
            dask_walls.append(wall)
            task_s.append(mean_task_s(ds))
            shutil.rmtree(ds.parent, ignore_errors=True)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        shutil.rmtree(folder, ignore_errors=True)
    best_local, best_dask = min(local_walls), min(dask_walls)
    return {"tasks": tasks, "walls_local": local_walls, "walls_dask": dask_walls,
            "overhead_per_task_s": (best_dask - best_local) / tasks, "mean_task_s": min(task_s)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=8, help="input files (at least 8)")
    parser.add_argument("--connections", type=int, default=3000, help="connections per input file")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tiny", type=int, default=40, help="tiny inputs for the Dask overhead")
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.files < 8:
        parser.error("--files must be at least 8")
    inputs = make_inputs(args.files, args.connections)
    size = sum(p.stat().st_size for p in inputs)
    print(f"{len(inputs)} inputs, {size / 1e6:.1f} MB, {args.connections} connections each")
    result: dict[str, object] = {"machine": platform.platform(), "cpus": os.cpu_count(), "files": len(inputs),
                                 "bytes": size, "connections_per_file": args.connections}
    result["loadavg_before"] = os.getloadavg()
    local = local_speedup(inputs, args.repeat)
    result["local"] = local
    result["loadavg_after_local"] = os.getloadavg()
    print(f"1 worker {local['best_1']:.2f} s, 2 workers {local['best_2']:.2f} s, speed-up {local['speedup']:.2f}x "
          f"(mean task {min(local['mean_task_1']):.2f} s with 1 worker, {min(local['mean_task_2']):.2f} s with 2; "
          f"load average before {result['loadavg_before'][0]:.1f}, after {result['loadavg_after_local'][1]:.1f})")
    if not args.no_dask:
        dask = dask_overhead(args.tiny, args.repeat)
        result["dask"] = dask
        print(f"Dask: {dask['overhead_per_task_s'] * 1000:.0f} ms overhead per task over the local pool "
              f"(mean task {dask['mean_task_s'] * 1000:.0f} ms, {dask['tasks']} tasks)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
