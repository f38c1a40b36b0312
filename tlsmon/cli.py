"""Command line: ``tlsmon read FILE... -o OUT``, ``tlsmon live -i IFACE -o OUT`` and ``tlsmon schema``.

Exit status: 0 success; 1 a fatal input or output error (one line on stderr, every record produced before it
written); 2 usage error; 3 the run completed but some input was damaged (truncated or corrupt files, each
named in a warning line).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tlsmon import __version__
from tlsmon.batch.cli import add_batch_commands
from tlsmon.capture import CaptureError, CaptureSource
from tlsmon.engine import Engine, RunStats
from tlsmon.output.parquet import ColumnValueError
from tlsmon.output.schemadoc import render_schema_markdown
from tlsmon.output.sink import ParquetSink
from tlsmon.records.tables import TABLES
from tlsmon.report.cli import add_parser as add_report_parser
from tlsmon.tcp.tracker import TrackerConfig

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_DAMAGED_INPUT = 3


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tlsmon", description="Passive TLS and STARTTLS monitor.")
    parser.add_argument("--version", action="version", version=f"tlsmon {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    read = sub.add_parser(
        "read",
        help="read capture files (pcap, pcapng, gzip/zstd compressed) into Parquet",
        description="Read capture files as one continuous stream and write one Parquet row per TCP connection "
        "to OUT/connections/ and one per distinct certificate to OUT/certificates/.",
    )
    read.add_argument("files", nargs="+", metavar="FILE", help="capture files, read in the order given")
    read.add_argument("-o", "--output", required=True, metavar="OUT", help="output directory")
    read.add_argument("--filter", metavar="BPF", help="tcpdump filter expression, e.g. 'tcp port 25'")
    read.add_argument(
        "--idle-timeout", type=float, default=300.0, metavar="SECONDS",
        help="end a connection idle for this long (packet time; default 300)",
    )
    read.add_argument(
        "--max-connections", type=int, default=1_000_000, metavar="N",
        help="cap on concurrent connections; the oldest is ended when exceeded (default 1000000)",
    )
    read.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    read.set_defaults(func=_cmd_read)

    _add_live(sub)
    add_batch_commands(sub)
    add_report_parser(sub)

    schema = sub.add_parser("schema", help="print the Parquet schema of every table (Markdown)")
    schema.set_defaults(func=_cmd_schema)
    return parser


def _add_live(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    live = sub.add_parser(
        "live",
        help="capture from a network interface as a long-running monitor",
        description="Capture from an interface through libpcap and write rotating Parquet files under "
        "OUT/<table>/date=YYYY-MM-DD/hour=HH/ (connections, certificates, stats) until SIGTERM or SIGINT; "
        "SIGHUP rotates now. Flags override the --config file. See docs/deployment.md.",
    )
    # Defaults live in tlsmon.live.config.LiveConfig: None here means "not given", so the config file applies.
    live.add_argument("-i", "--interface", metavar="IFACE", help="interface to capture from")
    live.add_argument("-o", "--output", metavar="OUT", help="output directory")
    live.add_argument("--config", metavar="FILE", help="TOML file with the same options as these flags")
    live.add_argument("--filter", metavar="BPF", help="tcpdump filter expression, e.g. 'tcp port 443 or 25'")
    live.add_argument("--workers", type=int, metavar="N", help="capture processes sharing the interface "
                      "through PACKET_FANOUT (default 1)")
    live.add_argument("--rotate", metavar="DURATION", help="file rotation interval, e.g. 15m (default 15m)")
    live.add_argument("--snaplen", type=int, metavar="BYTES", help="bytes captured per packet (default 262144)")
    live.add_argument("--buffer-mb", type=int, metavar="MB", help="kernel capture buffer per worker (default 64)")
    live.add_argument("--no-promisc", dest="promisc", action="store_const", const=False,
                      help="do not put the interface in promiscuous mode")
    live.add_argument("--user", help="user to switch to once the interface is open")
    live.add_argument("--group", help="group to switch to (default: the user's primary group)")
    live.add_argument("--metrics-port", type=int, metavar="PORT", help="serve Prometheus metrics on this port")
    live.add_argument("--metrics-address", metavar="ADDR", help="address for the metrics port (default: all)")
    live.add_argument("--stats-interval", metavar="DURATION",
                      help="interval of the stats table rows and loss log lines (default 60s)")
    live.add_argument("--idle-timeout", metavar="DURATION", help="end a connection idle this long (default 5m)")
    live.add_argument("--interim-interval", metavar="DURATION",
                      help="interim record of an open connection at each multiple of this age (default 1h)")
    live.add_argument("--max-connections", type=int, metavar="N",
                      help="cap on concurrent connections per worker (default 1000000)")
    live.add_argument("--log-level", choices=["debug", "info", "warning", "error"], help="default info")
    live.set_defaults(func=_cmd_live)


def _cmd_live(args: argparse.Namespace) -> int:
    from tlsmon.live.config import ConfigError, build_config
    from tlsmon.live.service import run_live

    try:
        config = build_config(vars(args), args.config)
    except ConfigError as exc:
        print(f"tlsmon live: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return run_live(config)


def _cmd_schema(args: argparse.Namespace) -> int:
    sys.stdout.write(render_schema_markdown(TABLES))
    return EXIT_OK


def _cmd_read(args: argparse.Namespace) -> int:
    err = Console(stderr=True)
    warnings: list[str] = []

    def warn(line: str) -> None:
        warnings.append(line)
        err.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True)

    for name in args.files:
        path = Path(name)
        if not path.is_file():
            reason = "is a directory" if path.is_dir() else "no such file"
            print(f"tlsmon: {name}: {reason}", file=sys.stderr)
            return EXIT_ERROR
    try:
        source = CaptureSource(args.files, bpf=args.filter, on_warning=warn)
    except CaptureError as exc:
        print(f"tlsmon: {exc}", file=sys.stderr)
        return EXIT_ERROR
    config = TrackerConfig(
        idle_timeout_ns=int(args.idle_timeout * 1e9),
        max_connections=args.max_connections,
    )
    try:
        sink = ParquetSink(args.output)
    except OSError as exc:
        print(f"tlsmon: {args.output}: cannot write output ({exc.strerror or exc})", file=sys.stderr)
        return EXIT_ERROR
    show_progress = not args.quiet and sys.stderr.isatty()
    started = time.perf_counter()
    if show_progress:
        from tlsmon.progress import ByteProgress

        with ByteProgress(source, err) as progress:
            engine = Engine(sink, config, on_progress=progress.update)
            status = _run(engine, source)
    else:
        engine = Engine(sink, config)
        status = _run(engine, source)
    try:
        stats = engine.close()
    except (OSError, ColumnValueError) as exc:
        print(f"tlsmon: {args.output}: writing output failed ({exc})", file=sys.stderr)
        return EXIT_ERROR
    elapsed = time.perf_counter() - started
    if status == EXIT_OK and warnings:
        status = EXIT_DAMAGED_INPUT
    if not args.quiet:
        _print_summary(Console(), stats, elapsed, Path(args.output))
    return status


def _run(engine: Engine, source: CaptureSource) -> int:
    """Feed the engine; a bad input file is one line on stderr, and the records so far are still written."""
    try:
        engine.run(source)
    except CaptureError as exc:
        print(f"tlsmon: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (OSError, ColumnValueError) as exc:
        print(f"tlsmon: writing output failed ({exc})", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def _print_summary(console: Console, stats: RunStats, elapsed: float, out: Path) -> None:
    rate = stats.packets / elapsed if elapsed > 0 else 0.0
    overview = Table(title=f"tlsmon read → {out}", show_header=False)
    overview.add_row("packets", f"{stats.packets:,}")
    overview.add_row("TCP packets", f"{stats.tcp_packets:,}")
    overview.add_row("connections", f"{stats.connections:,}")
    overview.add_row("TLS connections", f"{stats.tls_connections:,}")
    overview.add_row("elapsed", f"{elapsed:.2f} s ({rate:,.0f} packets/s)")
    console.print(overview)
    _print_counter(console, "TLS versions", stats.versions, 10)
    _print_counter(console, "top cipher suites", stats.ciphers, 10)
    _print_counter(console, "anomalies", stats.anomalies, 20)


def _print_counter(console: Console, title: str, counter: dict[str, int], limit: int) -> None:
    if not counter:
        return
    table = Table(title=title)
    table.add_column("value")
    table.add_column("connections", justify="right")
    for value, count in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]:
        table.add_row(value, f"{count:,}")
    console.print(table)


if __name__ == "__main__":
    raise SystemExit(main())
