"""Time tlsmon, Suricata and tshark on the same generated captures, in the same run.

Theory of operation: each workload is generated once into bench/work/ (bench/generate.py, seeded, so the
file is the same on every machine). Every tool is started as a child process on that file, --repeat times, in
rounds (each tool once per round, so that a noisy spell of a shared machine falls on every tool alike); the
wall time of each tool's best run counts, and the child's own rusage (``os.wait4``) gives its peak RSS and CPU
time, so no run is polluted by the ones before it. Packets per second is the number of records in the pcap
divided by the wall time of the whole process, start-up included. Each tool's output is counted (Parquet
rows, eve ``tls`` events, tshark lines) so that a tool which silently parsed nothing cannot look fast.

Ratios are tlsmon's packets/s over the other tool's, checked against the project's targets. The RSS check
runs tlsmon on the bulk capture and on one twice as long (twice the connections) and reports both peaks:
memory should follow the number of open connections, not the length of the input.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / "work"
TLSMON = REPO / ".venv" / "bin" / "tlsmon"
SURICATA_YAML = BENCH / "suricata.yaml"
TIME = Path("/usr/bin/time")  # GNU time: reports the peak RSS of the command it runs

WORKLOADS = ("bulk", "handshake", "large")
DEFAULT_WORKLOADS = ("bulk", "handshake")  # `--workload all`; `large` (2.7 GB, 10 min to generate) on request
BULK_CONNECTIONS = 3000  # generate.py's default; the RSS check doubles it
# generate.py arguments per workload: `large` is issue 9's bulk-heavy capture (12 000 connections, 150 data
# segments each: 2.83 M packets, 2.7 GB).
GENERATE: dict[str, tuple[str, ...]] = {
    "bulk": ("--workload", "bulk"),
    "handshake": ("--workload", "handshake"),
    "large": ("--workload", "bulk", "--connections", "12000", "--segments", "150"),
}

# Minimum tlsmon/other packets-per-second ratio, per workload: issue 10's (TLS and rows native); issue 9's
# were large >= 0.6x Suricata and the native loop alone >= 5 M packets/s (bench/native_loop.py).
TARGETS: dict[str, dict[str, float]] = {
    "bulk": {"suricata": 1.2, "tshark": 20.0},
    "handshake": {"suricata": 0.5, "tshark": 20.0},
    "large": {"suricata": 1.5},
}

TSHARK_FIELDS = (
    "tls.handshake.type",
    "tls.handshake.version",
    "tls.handshake.ciphersuite",
    "tls.handshake.extensions_server_name",
    "tls.handshake.extensions.supported_version",
    "tls.handshake.extensions_alpn_str",
    "tls.handshake.ja3",
    "tls.handshake.ja3s",
    "x509ce.dNSName",
)

_PCAP_HEADER = struct.Struct("<IHHiIII")
_PCAP_MAGICS = {0xA1B2C3D4: "<", 0xA1B23C4D: "<", 0xD4C3B2A1: ">", 0x4D3CB2A1: ">"}


@dataclass(slots=True)
class Run:
    """One child process: how long it took, what it cost, how it ended."""

    wall_s: float
    cpu_s: float
    peak_rss_kib: int
    returncode: int
    stderr_tail: str


@dataclass(slots=True)
class ToolResult:
    """A tool's figures on one workload; ``status`` is ok, not available or failed."""

    tool: str
    status: str
    detail: str = ""
    walls_s: list[float] = field(default_factory=list)
    best_wall_s: float | None = None
    packets_per_s: float | None = None
    cpu_s: float | None = None
    peak_rss_kib: int | None = None
    events: int | None = None


@dataclass(slots=True, frozen=True)
class Tool:
    """How to run one tool on a capture and how to count what it wrote."""

    name: str
    missing: Callable[[], str | None]
    argv: Callable[[Path, Path], list[str]]
    count_events: Callable[[Path, Path], int | None]


# --- the tools ---------------------------------------------------------------------------------------------


def _missing_tlsmon() -> str | None:
    return None if TLSMON.exists() else f"{TLSMON} does not exist"


def _missing_command(name: str) -> Callable[[], str | None]:
    def missing() -> str | None:
        return None if shutil.which(name) else f"{name} is not on PATH (see bench/install.sh)"

    return missing


def _tlsmon_argv(pcap: Path, outdir: Path) -> list[str]:
    return [str(TLSMON), "read", str(pcap), "-o", str(outdir), "--engine", "native"]


def _tlsmon_reader_thread_argv(choice: str) -> Callable[[Path, Path], list[str]]:
    def argv(pcap: Path, outdir: Path) -> list[str]:
        return [*_tlsmon_argv(pcap, outdir), "--reader-thread", choice]

    return argv


def _tlsmon_python_argv(pcap: Path, outdir: Path) -> list[str]:
    return [str(TLSMON), "read", str(pcap), "-o", str(outdir), "--engine", "python"]


def _suricata_argv(pcap: Path, outdir: Path) -> list[str]:
    return [
        "suricata", "-r", str(pcap), "--runmode", "single", "-k", "none",
        "-c", str(SURICATA_YAML), "-S", "/dev/null", "-l", str(outdir),
    ]  # fmt: skip


def _tshark_argv(pcap: Path, outdir: Path) -> list[str]:
    argv = ["tshark", "-n", "-r", str(pcap), "-Y", "tls.handshake", "-T", "fields"]
    for name in TSHARK_FIELDS:
        argv += ["-e", name]
    return argv


def _count_parquet_rows(outdir: Path, stdout: Path) -> int | None:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        return None
    # One row per connection: count the connections table only when tlsmon writes several tables.
    tables = outdir / "connections"
    files = sorted((tables if tables.is_dir() else outdir).rglob("*.parquet"))
    if not files:
        return 0
    return sum(pq.read_metadata(path).num_rows for path in files)


def _count_eve_tls(outdir: Path, stdout: Path) -> int | None:
    eve = outdir / "eve.json"
    if not eve.exists():
        return 0
    with eve.open("rb") as handle:
        return sum(1 for line in handle if b'"event_type":"tls"' in line)


def _count_lines(outdir: Path, stdout: Path) -> int | None:
    with stdout.open("rb") as handle:
        return sum(1 for _ in handle)


TOOLS = (
    Tool("tlsmon", _missing_tlsmon, _tlsmon_argv, _count_parquet_rows),
    Tool("tlsmon-rt-on", _missing_tlsmon, _tlsmon_reader_thread_argv("on"), _count_parquet_rows),
    Tool("tlsmon-rt-off", _missing_tlsmon, _tlsmon_reader_thread_argv("off"), _count_parquet_rows),
    Tool("tlsmon-py", _missing_tlsmon, _tlsmon_python_argv, _count_parquet_rows),
    Tool("suricata", _missing_command("suricata"), _suricata_argv, _count_eve_tls),
    Tool("tshark", _missing_command("tshark"), _tshark_argv, _count_lines),
)


# --- measuring ----------------------------------------------------------------------------------------------


def run_child(argv: Sequence[str], stdout: Path, stderr: Path) -> Run:
    """Run one process to completion and report its wall time, CPU time and peak RSS.

    Linux carries the high-water RSS of the pre-exec memory across exec, so a tool started straight from this
    runner would report at least the runner's own peak. The tool is therefore started by /usr/bin/time,
    a process of a few MB, whose figure is the tool's own; without it, wait4's figure is kept and is an
    upper bound. CPU time comes from wait4, which includes the children the wrapper reaped.
    """
    usage_file = stderr.with_name("rusage")
    wrapped = [str(TIME), "-f", "%M", "-o", str(usage_file), *argv] if TIME.exists() else list(argv)
    start = time.perf_counter()
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen(wrapped, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak_kib = usage.ru_maxrss  # KiB on Linux
    if TIME.exists():
        reported = usage_file.read_text().split()
        if reported and reported[-1].isdigit():
            peak_kib = int(reported[-1])
    lines = stderr.read_text(errors="replace").strip().splitlines()
    return Run(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_kib=peak_kib,
        returncode=proc.returncode,
        stderr_tail=lines[-1] if lines else "",
    )


def measure(tools: Sequence[Tool], pcap: Path, packets: int, repeat: int) -> dict[str, ToolResult]:
    """Best wall time of ``repeat`` runs of each tool; peak RSS and CPU of that best run; events of the last
    run. The runs go in rounds, each tool once per round, so that a noisy spell of the machine (a shared VM)
    falls on every tool alike rather than on whichever tool was running then."""
    results: dict[str, ToolResult] = {}
    runs: dict[str, list[Run]] = {}
    events: dict[str, int | None] = {}
    for tool in tools:
        why = tool.missing()
        if why is not None:
            results[tool.name] = ToolResult(tool.name, "not available", why)
        else:
            runs[tool.name] = []
    for _ in range(repeat):
        for tool in tools:
            if tool.name in results:
                continue
            with tempfile.TemporaryDirectory(prefix=f"bench-{tool.name}-") as tmp:
                outdir = Path(tmp) / "out"
                outdir.mkdir()
                stdout, stderr = Path(tmp) / "stdout", Path(tmp) / "stderr"
                run = run_child(tool.argv(pcap, outdir), stdout, stderr)
                if run.returncode != 0:
                    results[tool.name] = ToolResult(tool.name, "failed", f"exit {run.returncode}: {run.stderr_tail}")
                    continue
                events[tool.name] = tool.count_events(outdir, stdout)
            runs[tool.name].append(run)
    for tool in tools:
        if tool.name in results:
            continue
        done = runs[tool.name]
        best = min(done, key=lambda r: r.wall_s)
        results[tool.name] = ToolResult(
            tool=tool.name,
            status="ok",
            walls_s=[round(r.wall_s, 4) for r in done],
            best_wall_s=best.wall_s,
            packets_per_s=packets / best.wall_s,
            cpu_s=best.cpu_s,
            peak_rss_kib=max(r.peak_rss_kib for r in done),
            events=events[tool.name],
        )
    return {tool.name: results[tool.name] for tool in tools}


def count_pcap_records(path: Path) -> int:
    """Number of packet records in a classic pcap file, read from the record headers only."""
    with path.open("rb") as handle:
        header = handle.read(_PCAP_HEADER.size)
        if len(header) < _PCAP_HEADER.size:
            raise ValueError(f"{path}: too short for a pcap file")
        order = _PCAP_MAGICS.get(struct.unpack_from("<I", header)[0])
        if order is None:
            raise ValueError(f"{path}: not a classic pcap file")
        record = struct.Struct(order + "IIII")
        count = 0
        while len(head := handle.read(record.size)) == record.size:
            handle.seek(record.unpack(head)[2], os.SEEK_CUR)
            count += 1
    return count


# --- workloads ----------------------------------------------------------------------------------------------


def ensure_workload(name: str, path: Path, extra: Sequence[str] = (), regenerate: bool = False) -> None:
    """Generate a workload with bench/generate.py unless it is already there."""
    if path.exists() and not regenerate:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"generating {path.relative_to(REPO)} ...", flush=True)
    argv = [sys.executable, str(BENCH / "generate.py"), *GENERATE[name], "-o", str(path), *extra]
    subprocess.run(argv, check=True)


def ratios(name: str, results: dict[str, ToolResult]) -> dict[str, dict[str, float | bool | None]]:
    """tlsmon's packets/s over each other tool's, with the workload's target and whether it is met."""
    out: dict[str, dict[str, float | bool | None]] = {}
    mine = results.get("tlsmon")
    for other, target in TARGETS.get(name, {}).items():
        theirs = results.get(other)
        value: float | None = None
        if mine and theirs and mine.packets_per_s and theirs.packets_per_s:
            value = mine.packets_per_s / theirs.packets_per_s
        out[other] = {"ratio": value, "target": target, "met": None if value is None else value >= target}
    return out


# --- printing -----------------------------------------------------------------------------------------------


def _fmt(value: float | int | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_workload(name: str, pcap: Path, packets: int, results: dict[str, ToolResult], repeat: int) -> None:
    size_mb = pcap.stat().st_size / 1e6
    print(f"\n== {name}: {pcap.relative_to(REPO)}  {packets:,} packets, {size_mb:,.1f} MB")
    print(
        f"{'tool':<11}{'wall s (best of ' + str(repeat) + ')':>22}{'packets/s':>13}{'cpu s':>9}"
        f"{'peak RSS MiB':>14}{'events':>9}"
    )
    for result in results.values():
        if result.status != "ok":
            print(f"{result.tool}: {result.status} ({result.detail})")
            continue
        rss = None if result.peak_rss_kib is None else result.peak_rss_kib / 1024
        wall, pps = _fmt(result.best_wall_s, ".3f"), _fmt(result.packets_per_s, ",.0f")
        print(
            f"{result.tool:<11}{wall:>22}{pps:>13}{_fmt(result.cpu_s, '.2f'):>9}"
            f"{_fmt(rss, '.1f'):>14}{_fmt(result.events, ','):>9}"
        )
    for other, r in ratios(name, results).items():
        verdict = "n/a" if r["met"] is None else ("met" if r["met"] else "NOT met")
        value = r["ratio"]
        shown = "n/a" if not isinstance(value, float) else f"{value:.2f}x"
        print(f"tlsmon/{other}: {shown}  (target >= {r['target']}x: {verdict})")


# --- main ---------------------------------------------------------------------------------------------------


def bench_workload(name: str, repeat: int, tools: Sequence[Tool], regenerate: bool) -> dict[str, object]:
    pcap = WORK / f"{name}.pcap"
    ensure_workload(name, pcap, regenerate=regenerate)
    packets = count_pcap_records(pcap)
    results = measure(tools, pcap, packets, repeat)
    print_workload(name, pcap, packets, results, repeat)
    return {
        "file": str(pcap),
        "packets": packets,
        "bytes": pcap.stat().st_size,
        "tools": {k: asdict(v) for k, v in results.items()},
        "ratios": ratios(name, results),
    }


def rss_check(regenerate: bool) -> dict[str, object]:
    """tlsmon's peak RSS on the bulk capture and on one with twice the connections."""
    why = _missing_tlsmon()
    if why is not None:
        print(f"\n== RSS vs input length: tlsmon not available ({why})")
        return {"status": "not available", "detail": why}
    single, double = WORK / "bulk.pcap", WORK / "bulk-x2.pcap"
    ensure_workload("bulk", single)
    ensure_workload("bulk", double, ["--connections", str(2 * BULK_CONNECTIONS)], regenerate=regenerate)
    tool = TOOLS[0]
    found = {}
    for label, pcap in (("bulk", single), ("bulk-x2", double)):
        found[label] = measure([tool], pcap, count_pcap_records(pcap), 1)[tool.name]
    print("\n== RSS vs input length (tlsmon)")
    for label, result in found.items():
        if result.status != "ok" or result.peak_rss_kib is None:
            print(f"{label}: {result.status} ({result.detail})")
        else:
            print(f"{label:<8} peak RSS {result.peak_rss_kib / 1024:8.1f} MiB")
    a, b = found["bulk"].peak_rss_kib, found["bulk-x2"].peak_rss_kib
    growth = b / a if a and b else None
    if growth is not None:
        print(f"x2 input -> x{growth:.2f} peak RSS")
    return {"status": "ok", "tools": {k: asdict(v) for k, v in found.items()}, "growth": growth}


def machine() -> dict[str, object]:
    def version(argv: list[str]) -> str | None:
        if shutil.which(argv[0]) is None:
            return None
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        return (done.stdout or done.stderr).strip().splitlines()[0]

    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "peak_rss_from": "/usr/bin/time"
        if TIME.exists()
        else "wait4 (upper bound: includes the runner's peak)",
        "suricata": version(["suricata", "-V"]),
        "tshark": version(["tshark", "--version"]),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workload", choices=[*WORKLOADS, "all"], default="all")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool; the best wall time counts")
    parser.add_argument("--tools", default="tlsmon,tlsmon-py,suricata,tshark", help="comma-separated subset")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the captures in bench/work/")
    parser.add_argument("--no-rss-check", action="store_true", help="skip the x2-input RSS check")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    known = {tool.name for tool in TOOLS}
    unknown = set(args.tools.split(",")) - known
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    return args


def compile_bytecode() -> None:
    """Write tlsmon's bytecode cache, as installing a package does. The editable install writes it at the first
    import, unless PYTHONDONTWRITEBYTECODE is set (as on these machines): then every run would compile its ~100
    modules from source again (0.13 s of a 0.75 s run, measured), a cost no installed copy pays."""
    compileall.compile_dir(REPO / "tlsmon", quiet=1)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    compile_bytecode()
    chosen = args.tools.split(",")
    tools = [tool for tool in TOOLS if tool.name in chosen]
    names = DEFAULT_WORKLOADS if args.workload == "all" else (args.workload,)
    report: dict[str, object] = {"machine": machine(), "repeat": args.repeat, "workloads": {}}
    workloads: dict[str, object] = {}
    for name in names:
        workloads[name] = bench_workload(name, args.repeat, tools, args.regenerate)
    report["workloads"] = workloads
    if "bulk" in names and "tlsmon" in chosen and not args.no_rss_check:
        report["rss_check"] = rss_check(args.regenerate)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
