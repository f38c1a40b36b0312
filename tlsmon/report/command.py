"""``tlsmon report DATASET... -o DIR``: the parser and the command (registered by :mod:`tlsmon.cli`)."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: Output formats; the default writes all of them.
FORMATS = ("html", "csv", "json")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


def parse_time(text: str) -> datetime:
    """An ISO 8601 date or date-time; without a zone it is UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or time: {text!r}") from exc
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def parse_formats(text: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(f.strip() for f in text.split(",") if f.strip()))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"formats are a comma-separated subset of {','.join(FORMATS)}")
    return chosen


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> argparse.ArgumentParser:
    report = subparsers.add_parser(
        "report",
        help="the analyses of 'TLS in the wild' (NDSS 2016) over datasets, as HTML, JSON and CSV",
        description="Read the Parquet output of tlsmon read, live or batch (any number of datasets, as one) "
        "with DuckDB and write DIR/report.html, DIR/report.json and DIR/tables/*.csv. See docs/report.md.",
    )
    report.add_argument("datasets", nargs="+", metavar="DATASET", help="output directories of read/live/batch")
    report.add_argument("-o", "--output", required=True, metavar="DIR", help="report directory")
    report.add_argument("--since", type=parse_time, metavar="TIME",
                        help="only connections starting at or after TIME (ISO 8601; UTC unless a zone is given)")
    report.add_argument("--until", type=parse_time, metavar="TIME", help="only connections starting before TIME")
    report.add_argument("--exclude-tor", action="store_true",
                        help="leave connections with Tor-like certificates out of every section but R7")
    report.add_argument("--format", type=parse_formats, default=FORMATS, metavar="LIST",
                        help="comma-separated outputs among html,csv,json (default: all)")
    report.set_defaults(func=run)
    return report


def run(args: argparse.Namespace) -> int:
    # Imported here so that other subcommands do not pay for DuckDB and matplotlib.
    import duckdb

    from tlsmon.report.build import build
    from tlsmon.report.dataset import DatasetError, Window

    window = Window(since=args.since, until=args.until, exclude_tor=args.exclude_tor)
    if window.since and window.until and window.since >= window.until:
        print("tlsmon report: --since must be before --until", file=sys.stderr)
        return EXIT_USAGE
    started = time.perf_counter()
    try:
        result = build([Path(d) for d in args.datasets], Path(args.output), window, args.format)
    except DatasetError as exc:
        print(f"tlsmon report: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (duckdb.Error, OSError) as exc:
        print(f"tlsmon report: {exc}".splitlines()[0], file=sys.stderr)
        return EXIT_ERROR
    elapsed = time.perf_counter() - started
    print(f"tlsmon report: {len(result.tables)} tables in {elapsed:.1f} s → {args.output}", file=sys.stderr)
    return EXIT_OK
