"""Command line: ``tlsmon read FILE... -o OUT`` and ``tlsmon schema``.

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
from tlsmon.capture import CaptureError, CaptureSource
from tlsmon.engine import Engine, RunStats
from tlsmon.output.parquet import ColumnValueError
from tlsmon.output.schemadoc import render_schema_markdown
from tlsmon.output.sink import ParquetSink
from tlsmon.records.tables import TABLES
from tlsmon.tcp.tracker import TrackerConfig

EXIT_OK = 0
EXIT_ERROR = 1
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

    schema = sub.add_parser("schema", help="print the Parquet schema of every table (Markdown)")
    schema.set_defaults(func=_cmd_schema)
    return parser


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
