"""Command line: ``tlsmon read FILE... -o OUT``, ``tlsmon live -i IFACE -o OUT`` and ``tlsmon schema``.

Exit status: 0 success; 1 a fatal input or output error (one line on stderr, every record produced before it
written); 2 usage error (one line); 3 the run completed but some input was damaged (truncated or corrupt files,
each named in a warning line); 130/143 ``read`` stopped by SIGINT/SIGTERM after writing every record, open
connections included (end_reason ``interrupted``). No path prints a traceback (``TLSMON_TRACEBACK=1`` shows
the one of an internal error).

Start-up. ``read`` imports only what its run needs: the parser of ``read`` alone (not the ``report`` and
``batch`` modules), no libpcap binding without ``--filter`` (:mod:`tlsmon.capture.bpf`), no terminal library
when stderr and stdout are not terminals; the modules it does import are then frozen out of the collector's
sight (:func:`tlsmon.engines.settle_heap`). The X.509 parser with cryptography and the plaintext protocol
analyzers are imported by the stages that use them, at the first certificate (:mod:`tlsmon.x509.store`) and
the first connection whose first bytes are not TLS (:mod:`tlsmon.protocols.identification`).
tests/cli/test_startup_and_exit.py holds the list of modules a TLS-only read must not load.
"""

from __future__ import annotations

import _thread
import argparse
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import TYPE_CHECKING, NoReturn, cast

from tlsmon import __version__, _native
from tlsmon.capture.bpf import compile_filter
from tlsmon.capture.errors import CaptureError
from tlsmon.engines import (
    DEFAULT_ENGINE,
    ENGINES,
    READER_THREAD_CHOICES,
    READER_THREAD_MIN_CPUS,
    EngineName,
    make_engine,
    open_source,
    settle_heap,
)
from tlsmon.limits import DEFAULT_LIMITS
from tlsmon.output.directory import DEFAULT_PART_ROWS, DEFAULT_PART_SECONDS, existing_tables, remove_tables
from tlsmon.readahead import ReadAhead
from tlsmon.tcp.tracker_config import TrackerConfig

if TYPE_CHECKING:  # the rest loads once a read has started reading ahead (tlsmon.readahead)
    from pathlib import Path

    from tlsmon.engines import AnyEngine, AnySource
    from tlsmon.live.counting import CountingSink, StatsRecord
    from tlsmon.output.sink import ParquetSink
    from tlsmon.recorder import RunStats

LINKTYPE_ETHERNET = 1

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_DAMAGED_INPUT = 3


class UsageError(Exception):
    """A command line argparse refused: one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line (``tlsmon read: --max-connections: must be at least 1``) returned by
    :func:`main` as exit status 2 instead of a usage dump."""

    def error(self, message: str) -> NoReturn:
        m = re.match(r"argument (?:\S+/)?(\S+): (.*)", message)
        if m is not None:
            message = f"{m.group(1)}: {m.group(2)}"
        raise UsageError(f"{self.prog}: {message}")


def duration(value: str) -> float:
    """Seconds from ``300``, ``2.5``, ``90s``, ``5m``, ``1h`` or ``1d``: the one parser of every duration
    option (the live config file uses the same :func:`tlsmon.live.config.parse_duration`)."""
    from tlsmon.live.config import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_int(value: str) -> int:
    """A limit or count: an integer ≥ 1 (``1_000_000`` and ``1000000`` both accepted)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value!r}")
    return number


def port(value: str) -> int:
    number = positive_int(value)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"not a port (1-65535): {value!r}")
    return number


def output_dir(value: str) -> str:
    if not value.strip():
        raise argparse.ArgumentTypeError("the output directory must not be empty")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args_given = sys.argv[1:] if argv is None else list(argv)
    parser = _parser(args_given[0] if args_given else None)
    try:
        args = parser.parse_args(args_given)
    except UsageError as exc:
        print(f"{exc} (see {parser.prog} --help)", file=sys.stderr)
        return EXIT_USAGE
    try:
        result: int = args.func(args)
    except KeyboardInterrupt:  # outside read's own handling (startup, schema, report …): one line, no traceback
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    except Exception as exc:
        if os.environ.get("TLSMON_TRACEBACK"):
            raise
        print(f"{parser.prog}: internal error: {type(exc).__name__}: {exc} (a bug: please report it; "
              "TLSMON_TRACEBACK=1 shows where)", file=sys.stderr)
        return EXIT_ERROR
    return result


def run() -> NoReturn:
    """The ``tlsmon`` console script. After ``read`` every output file is written, closed and renamed into
    place, so the process leaves without tearing its heap down (an interpreter's teardown frees every object
    one by one: a noticeable share of a short run); the other commands exit normally (batch's worker pools and
    live's children need their exit handlers)."""
    code = main()
    if sys.argv[1:2] == ["read"]:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line parser; for ``command`` ``read`` without the subcommands other modules register."""
    parser = _Parser(prog="tlsmon", description="Passive TLS and STARTTLS monitor.")
    parser.add_argument("--version", action="version", version=f"tlsmon {__version__}")
    sub = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", required=True),
    )

    read = sub.add_parser(
        "read",
        help="read capture files (pcap, pcapng, gzip/zstd compressed) into Parquet",
        description="Read capture files as one continuous stream and write one Parquet row per TCP connection "
        "to OUT/connections/, one per distinct certificate to OUT/certificates/ and the run's counters to "
        "OUT/stats/. SIGINT or SIGTERM stops reading, ends every open connection (end_reason interrupted) "
        "and writes both tables.",
    )
    read.add_argument("files", nargs="+", metavar="FILE", help="capture files, read in the order given")
    read.add_argument("-o", "--output", required=True, type=output_dir, metavar="OUT", help="output directory")
    existing = read.add_mutually_exclusive_group()
    existing.add_argument("--overwrite", action="store_true",
                          help="replace the tlsmon tables already in OUT (their Parquet files are deleted)")
    existing.add_argument("--append", action="store_true", help="add to the tlsmon tables already in OUT")
    read.add_argument("--filter", metavar="BPF", help="tcpdump filter expression, e.g. 'tcp port 25'")
    read.add_argument(
        "--idle-timeout", type=duration, default=300.0, metavar="DURATION",
        help="end a connection idle for this long, packet time, e.g. 90s or 5m (default 5m)",
    )
    read.add_argument(
        "--max-connections", type=positive_int, default=1_000_000, metavar="N",
        help="cap on concurrent connections; the oldest is ended when exceeded (default 1000000)",
    )
    read.add_argument(
        "--part-rows", type=positive_int, default=DEFAULT_PART_ROWS, metavar="N",
        help=f"complete an output part file every N connection rows (default {DEFAULT_PART_ROWS})",
    )
    read.add_argument(
        "--part-interval", type=duration, default=DEFAULT_PART_SECONDS, metavar="DURATION",
        help=f"… or every DURATION of wall time, whichever comes first (default {DEFAULT_PART_SECONDS:g}s); "
        "a killed run loses at most the current part",
    )
    read.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE,
                      help="native: the compiled core reads, decodes and tracks (default); python: the reference "
                      "implementation, slower, same tables")
    read.add_argument(
        "--reader-thread", choices=READER_THREAD_CHOICES, default="auto",
        help="native engine: read the files on a thread of their own, beside the decoding; auto (the default) "
        f"when at least {READER_THREAD_MIN_CPUS} CPUs are available to the process",
    )
    read.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    read.set_defaults(func=_cmd_read)

    if command != "read":
        # A read needs none of these (7 ms of argparse before its native loop could start reading); report,
        # batch and compact register themselves from their own modules.
        _add_live(sub)
        from tlsmon.batch.commands import add_batch_commands
        from tlsmon.report.command import add_parser as add_report_parser

        add_report_parser(sub)
        add_batch_commands(sub)

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
    live.add_argument("-o", "--output", type=output_dir, metavar="OUT", help="output directory")
    live.add_argument("--config", metavar="FILE", help="TOML file with the same options as these flags")
    live.add_argument("--filter", metavar="BPF", help="tcpdump filter expression, e.g. 'tcp port 443 or 25'")
    live.add_argument("--workers", type=positive_int, metavar="N", help="capture processes sharing the interface "
                      "through PACKET_FANOUT (default 1)")
    live.add_argument("--rotate", type=duration, metavar="DURATION",
                      help="file rotation interval, e.g. 15m (default 15m)")
    live.add_argument("--snaplen", type=positive_int, metavar="BYTES",
                      help="bytes captured per packet (default 262144)")
    live.add_argument("--buffer-mb", type=positive_int, metavar="MB",
                      help="kernel capture buffer per worker (default 64)")
    live.add_argument("--no-promisc", dest="promisc", action="store_const", const=False,
                      help="do not put the interface in promiscuous mode")
    live.add_argument("--user", help="user to switch to once the interface is open")
    live.add_argument("--group", help="group to switch to (default: the user's primary group)")
    live.add_argument("--metrics-port", type=port, metavar="PORT", help="serve Prometheus metrics on this port")
    live.add_argument("--metrics-address", metavar="ADDR", help="address for the metrics port (default: all)")
    live.add_argument("--stats-interval", type=duration, metavar="DURATION",
                      help="interval of the stats table rows and loss log lines (default 60s)")
    live.add_argument("--idle-timeout", type=duration, metavar="DURATION",
                      help="end a connection idle this long (default 5m)")
    live.add_argument("--interim-interval", type=duration, metavar="DURATION",
                      help="interim record of an open connection at each multiple of this age (default 1h)")
    live.add_argument("--max-connections", type=positive_int, metavar="N",
                      help="cap on concurrent connections per worker (default 1000000)")
    live.add_argument("--log-level", choices=["debug", "info", "warning", "error"], help="default info")
    live.add_argument("--engine", choices=ENGINES, help="native: libpcap read by the compiled core (default); "
                      "python: pypcap and the reference engine")
    live.set_defaults(func=_cmd_live)


def _cmd_live(args: argparse.Namespace) -> int:
    from tlsmon.live.config import ConfigError, build_config
    from tlsmon.live.service import run_live

    try:
        config = build_config(vars(args), args.config)
    except ConfigError as exc:
        print(f"tlsmon live: {exc}", file=sys.stderr)
        return EXIT_USAGE
    missing = _unknown_interface(config.interface)
    if missing is not None:
        print(f"tlsmon live: {missing}", file=sys.stderr)
        return EXIT_USAGE
    return run_live(config)


def _unknown_interface(name: str) -> str | None:
    """Why ``name`` cannot be an interface to capture from, or None when the system or libpcap knows it."""
    import socket

    known = {n for _, n in socket.if_nameindex()}
    if name in known:
        return None
    try:
        import pcap

        known.update(d.decode() if isinstance(d, bytes) else str(d) for d in pcap.findalldevs())
    except Exception:  # libpcap cannot list devices (no permission): let the capture itself say why
        return None
    if name in known:
        return None
    return f"{name}: no such interface (available: {', '.join(sorted(known)) or 'none'})"


def _cmd_schema(args: argparse.Namespace) -> int:
    from tlsmon.output.schemadoc import render_schema_markdown
    from tlsmon.records.tables import TABLES

    sys.stdout.write(render_schema_markdown(TABLES))
    return EXIT_OK


class Interrupted(BaseException):
    """Raised in the main thread to stop reading; a BaseException so that no ``except Exception`` eats it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _Interrupts:
    """SIGINT/SIGTERM during ``read``. The first one is a request, honoured at the engine's next progress
    callback (every few thousand packets; between the native engine's batches), so the engine stops between
    two packets, never inside one. Should no callback come within ``watchdog_s`` (input blocked, or an engine
    that calls none), the signal is delivered again to the main thread (``_thread.interrupt_main``), which then
    raises wherever Python runs; a second signal from the user does the same at once. While the output is being
    finished (:meth:`hold`) signals are only remembered."""

    def __init__(self, watchdog_s: float = 5.0) -> None:
        self.signum: int | None = None
        self.watchdog_s = watchdog_s
        self._holding = False
        self._raised = False
        self._timer: threading.Timer | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> _Interrupts:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        self.hold()
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._holding:
            self.signum = self.signum or signum
            return
        if self.signum is None:
            self.signum = signum
            self._timer = threading.Timer(self.watchdog_s, self._redeliver)
            self._timer.daemon = True
            self._timer.start()
            return
        self._raise()

    def _redeliver(self) -> None:
        if self.signum is not None and not self._raised and not self._holding:
            _thread.interrupt_main(signal.Signals(self.signum))

    def _raise(self) -> NoReturn:
        assert self.signum is not None
        self._raised = True
        raise Interrupted(self.signum)

    def check(self) -> None:
        if self.signum is not None and not self._holding:
            self._raise()

    def hold(self) -> None:
        self._holding = True
        if self._timer is not None:
            self._timer.cancel()


def _cmd_read(args: argparse.Namespace) -> int:
    warnings: list[str] = []

    def warn(line: str) -> None:
        warnings.append(line)
        _warning(line)

    for name in args.files:
        if not os.path.isfile(name):
            reason = "is a directory" if os.path.isdir(name) else "no such file"
            print(f"tlsmon: {name}: {reason}", file=sys.stderr)
            return EXIT_ERROR
    if args.filter is not None:
        try:
            compile_filter(args.filter, LINKTYPE_ETHERNET)
        except ValueError as exc:
            print(f"tlsmon read: --filter: {exc}", file=sys.stderr)
            return EXIT_USAGE
    existing = existing_tables(args.output)
    if existing and not (args.overwrite or args.append):
        print(f"tlsmon: {args.output} already holds tlsmon tables ({', '.join(existing)}): give --overwrite to replace "
              "them or --append to add to them", file=sys.stderr)
        return EXIT_USAGE
    try:
        source = open_source(args.engine, args.files, args.filter, warn, args.reader_thread)
    except CaptureError as exc:
        print(f"tlsmon: {exc}", file=sys.stderr)
        return EXIT_ERROR
    config = TrackerConfig(
        idle_timeout_ns=int(args.idle_timeout * 1e9),
        max_connections=args.max_connections,
    )
    read_ahead = _read_ahead(source, config) if args.engine == "native" else None
    try:
        return _read(args, source, config, read_ahead, warnings)
    finally:
        if read_ahead is not None:  # should the run have ended before its engine took it
            read_ahead.stop()


def _read_ahead(source: AnySource, config: TrackerConfig) -> ReadAhead:
    """The native loop, run while the rest of ``read`` loads: the tracker is the one the engine
    :func:`_engine` makes would make (native TLS, rows kept as columns for the Parquet sink)."""
    assert isinstance(source, _native.CaptureSource)
    return ReadAhead(source, config, DEFAULT_LIMITS, native_rows=True)


def _read(
    args: argparse.Namespace,
    source: AnySource,
    config: TrackerConfig,
    read_ahead: ReadAhead | None,
    warnings: list[str],
) -> int:
    """A read once its input is open: the output, the engine, the run, the summary."""
    from pathlib import Path

    import pyarrow.parquet  # noqa: F401  (the writer's, loaded now while the native loop reads ahead)

    from tlsmon.live.counting import CountingSink, LiveCounters, sample_run, stats_record
    from tlsmon.output.registries_file import write_registries
    from tlsmon.output.sink import ParquetSink, run_metadata
    from tlsmon.tcp.connection import END_EOF, END_INTERRUPTED

    def dead_letter(table: str, key: str, reason: str) -> None:
        _warning(f"{table}: row {key} not written: {reason}")

    out = Path(args.output)
    try:
        if args.overwrite:
            remove_tables(out)
        sink = ParquetSink(out, args.part_rows, args.part_interval, on_dead_letter=dead_letter)
    except OSError as exc:
        print(f"tlsmon: {out}: cannot write output ({exc.strerror or exc})", file=sys.stderr)
        return EXIT_ERROR
    counters = LiveCounters()
    counting = CountingSink(sink, counters)
    settle_heap()
    show_progress = not args.quiet and sys.stderr.isatty()
    started = time.perf_counter()
    wall_start = time.time()
    with _Interrupts() as interrupts:
        if show_progress:
            from rich.console import Console

            from tlsmon.progress import ByteProgress

            with ByteProgress(source, Console(stderr=True)) as progress:
                engine = _engine(args.engine, counting, sink, config, read_ahead, interrupts, progress.update)
                status = _run(engine, source)
        else:
            engine = _engine(args.engine, counting, sink, config, read_ahead, interrupts, None)
            status = _run(engine, source)
        interrupts.hold()
        interrupted = interrupts.signum
        records_before_close = counters.connections
        try:
            stats = engine.close(END_INTERRUPTED if interrupted is not None else END_EOF)
        except OSError as exc:
            print(f"tlsmon: {out}: writing output failed ({exc})", file=sys.stderr)
            return EXIT_ERROR
        open_at_end = counters.connections - records_before_close  # ended by close: eof or interrupted
        elapsed = time.perf_counter() - started
        damaged = sum(1 for f in args.files if any(w.startswith(f"{f}:") for w in warnings))
        sample_run(
            counters, stats, getattr(source, "counters", None), sink.fitted, sink.dead_letters, damaged
        )
        counters.packets = stats.packets
        counters.bytes = source.bytes_read
        stats.anomalies.update(sink.fitted)
        row = stats_record(
            int(wall_start * 1e9 + elapsed * 1e9), 0, None, elapsed, counters, LiveCounters(),
            open_at_end, "read",
            [str(f) for f in args.files],
        )
        try:
            write_stats(out, row)
            write_registries(out, run_metadata())
        except OSError as exc:
            print(f"tlsmon: {out}: writing output failed ({exc})", file=sys.stderr)
            return EXIT_ERROR
    if not args.quiet:
        _print_summary(stats, row, elapsed, out)
    if interrupted is not None:
        name = signal.Signals(interrupted).name
        print(f"tlsmon: interrupted by {name}: {counters.connections:,} connections written to {out}, "
              "the rest of the input not read", file=sys.stderr)
        return 128 + interrupted
    if status == EXIT_OK and warnings:
        status = EXIT_DAMAGED_INPUT
    return status


def _engine(
    name: EngineName,
    sink: CountingSink,
    parquet: ParquetSink,
    config: TrackerConfig,
    read_ahead: ReadAhead | None,
    interrupts: _Interrupts,
    progress: Callable[[], None] | None,
) -> AnyEngine:
    def on_progress() -> None:
        if progress is not None:
            progress()
        parquet.tick()
        interrupts.check()

    engine = make_engine(name, sink, config, on_progress, read_ahead=read_ahead)
    parquet.use_certificates(engine.certificates.get)
    return engine


def _run(engine: AnyEngine, source: AnySource) -> int:
    """Feed the engine; a bad input file is one line on stderr, and the records so far are still written."""
    try:
        engine.run(source)
    except Interrupted:
        return EXIT_OK  # the caller ends the open connections as interrupted
    except CaptureError as exc:
        print(f"tlsmon: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(f"tlsmon: writing output failed ({exc})", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def write_stats(out: Path, row: StatsRecord) -> Path:
    """The run's stats row as ``OUT/stats/part-<run>.parquet``."""
    from tlsmon.live.counting import STATS_TABLE
    from tlsmon.output.parquet import TableWriter
    from tlsmon.output.sink import run_metadata

    writer = TableWriter(out, "stats", STATS_TABLE, run_metadata())
    writer.append(row)
    [path] = writer.close()
    return path


def _warning(line: str) -> None:
    """One warning line on stderr: in yellow on a terminal, plain otherwise (rich is not imported then)."""
    if sys.stderr.isatty():
        from rich.console import Console

        Console(stderr=True).print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True)
    else:
        print(f"warning: {line}", file=sys.stderr)


def _print_summary(stats: RunStats, row: StatsRecord, elapsed: float, out: Path) -> None:
    rate = stats.packets / elapsed if elapsed > 0 else 0.0
    overview = [
        (label, f"{value:,}")
        for label, value in (
            ("packets", row.packets),
            ("TCP packets", row.tcp_packets),
            ("bypassed packets", row.bypassed_packets),
            ("connections", row.connections),
            ("TLS connections", row.tls_connections),
            ("connections with gaps", row.connections_with_gaps),
            ("missed bytes", row.missed_bytes),
            ("connections evicted", row.connections_evicted),
            ("buffer-cap flushes", row.buffer_cap_flushes),
            ("fragments pending", row.fragments_pending),
            ("values fitted", row.values_fitted),
            ("dead letters", row.dead_letters),
            ("files damaged", row.files_damaged),
        )
    ]
    overview.append(("elapsed", f"{elapsed:.2f} s ({rate:,.0f} packets/s)"))
    tables: list[tuple[str, tuple[str, str] | None, list[tuple[str, str]]]] = [
        (f"tlsmon read → {out}", None, overview)
    ]
    for title, counter, limit, unit in (
        ("TLS transports", stats.transports, 3, "connections"),
        ("TLS versions", stats.versions, 10, "connections"),
        ("top cipher suites", stats.ciphers, 10, "connections"),
        ("anomalies", stats.anomalies, 20, "connections"),
        ("counters", row.counters, 1000, "count"),
    ):
        if counter:
            top = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
            tables.append((title, ("value", unit), [(value, f"{count:,}") for value, count in top]))
    if sys.stdout.isatty():
        _print_rich_tables(tables)
    else:
        _print_plain_tables(tables)


def _print_rich_tables(tables: list[tuple[str, tuple[str, str] | None, list[tuple[str, str]]]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for title, header, rows in tables:
        table = Table(title=title, show_header=header is not None)
        table.add_column(header[0] if header else "")
        table.add_column(header[1] if header else "", justify="right")
        for label, value in rows:
            table.add_row(label, value)
        console.print(table)


def _print_plain_tables(tables: list[tuple[str, tuple[str, str] | None, list[tuple[str, str]]]]) -> None:
    """The summary as aligned text (stdout is a file or a pipe: no terminal styling, and no rich to import)."""
    for title, header, rows in tables:
        lines = ([header] if header else []) + rows
        width = max(len(label) for label, _ in lines)
        values = max(len(value) for _, value in lines)
        print(title)
        for label, value in lines:
            print(f"  {label:<{width}}  {value:>{values}}")
        print()


if __name__ == "__main__":
    raise SystemExit(main())
