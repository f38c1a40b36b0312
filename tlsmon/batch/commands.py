"""``tlsmon batch`` and ``tlsmon compact``: argument parsing and exit status (the work is in runner/compact).

Exit status: 0 every input converted (or already done, or skipped); 1 some input failed, or the batch could not
run at all (one line on stderr); 3 no failure but some input was damaged (converted up to the damage).
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
from datetime import date
from pathlib import Path

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_DAMAGED_INPUT = 3
_SENSOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_SIZE = re.compile(r"^(\d+)\s*([KMG]?)B?$", re.IGNORECASE)


def add_batch_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``batch`` and ``compact`` on the main parser's subcommands."""
    batch = sub.add_parser(
        "batch",
        help="convert many capture files in parallel into a partitioned, resumable Parquet dataset",
        description="Convert capture files (files, folders walked, globs) into DATASET/{connections,certificates,"
        "stats}/sensor=NAME/date=YYYY-MM-DD/part-<input-id>.parquet, one task per file, on local processes or a "
        "Dask cluster. Rerunning converts only new, changed or failed inputs. See docs/batch.md.",
    )
    batch.add_argument("inputs", nargs="*", metavar="INPUT", help="capture files, folders or glob patterns")
    batch.add_argument("-o", "--output", required=True, metavar="DATASET", help="dataset directory")
    batch.add_argument("--workers", type=_positive, metavar="N", help="local worker processes (default: one per core)")
    batch.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler address, e.g. tcp://10.0.0.1:8786 "
                       "(DATASET must then be on storage shared by every worker)")
    batch.add_argument("--sensor", default="default", type=_sensor, metavar="NAME",
                       help="sensor partition value (default: 'default')")
    batch.add_argument("--since", type=date.fromisoformat, metavar="DATE",
                       help="skip inputs last modified before this UTC date (YYYY-MM-DD)")
    batch.add_argument("--hash", dest="content_hash", action="store_true",
                       help="identify inputs by a content hash instead of path, size and mtime")
    batch.add_argument("--idle-timeout", type=float, default=300.0, metavar="SECONDS",
                       help="end a connection idle for this long (packet time; default 300)")
    batch.add_argument("--max-connections", type=_positive, default=1_000_000, metavar="N",
                       help="cap on concurrent connections per task (default 1000000)")
    batch.add_argument("--compact", action="store_true", help="compact DATASET after converting (or alone, "
                       "without INPUT)")
    batch.add_argument("--target-size", type=_size, default=None, metavar="SIZE",
                       help="compaction target file size, e.g. 128MB (default 128MB)")
    batch.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    batch.set_defaults(func=cmd_batch)

    compact = sub.add_parser(
        "compact",
        help="merge a batch dataset's small part files (keeps the manifest true)",
        description="Merge each partition's parts smaller than the target size into files of about that size.",
    )
    compact.add_argument("dataset", metavar="DATASET")
    compact.add_argument("--target-size", type=_size, default=None, metavar="SIZE", help="default 128MB")
    compact.add_argument("-q", "--quiet", action="store_true", help="no summary")
    compact.set_defaults(func=cmd_compact)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _sensor(text: str) -> str:
    if not _SENSOR.match(text):
        raise argparse.ArgumentTypeError("letters, digits, '.', '_' and '-' only")
    return text


def _size(text: str) -> int:
    m = _SIZE.match(text.strip())
    if not m:
        raise argparse.ArgumentTypeError("a size such as 64MB, 512K or 1G")
    return int(m.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2).upper()]


class BatchInterruptedError(Exception):
    """SIGINT or SIGTERM during a batch: raised in the coordinator wherever it is waiting."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _Interrupts:
    """While active, SIGINT and SIGTERM raise :class:`BatchInterruptedError`; finished inputs are already recorded
    in the manifest (each as it completes), tasks in flight are abandoned and redone by the next run."""

    def __init__(self) -> None:
        self._old: dict[int, object] = {}

    def __enter__(self) -> _Interrupts:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._old[signum] = signal.signal(signum, self._raise)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._old.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    @staticmethod
    def _raise(signum: int, frame: object) -> None:
        raise BatchInterruptedError(signum)


def cmd_batch(args: argparse.Namespace) -> int:
    from rich.console import Console

    from tlsmon.batch.executors import SchedulerError
    from tlsmon.batch.inputs import InputError
    from tlsmon.batch.progress_line import BatchProgress, print_summary
    from tlsmon.batch.runner import BatchOptions, DatasetBusyError, run_batch

    dataset = Path(args.output)
    err = Console(stderr=True)
    if not args.inputs and not args.compact:
        print("tlsmon batch: give INPUT files, folders or globs (or --compact)", file=sys.stderr)
        return 2
    status = EXIT_OK
    if args.inputs:
        options = BatchOptions(
            inputs=args.inputs, dataset=dataset, workers=args.workers, scheduler=args.scheduler, sensor=args.sensor,
            since=args.since, content_hash=args.content_hash, idle_timeout_s=args.idle_timeout,
            max_connections=args.max_connections,
        )
        progress = BatchProgress(err, show_bar=not args.quiet and sys.stderr.isatty())
        try:
            with _Interrupts(), progress:
                report = run_batch(options, progress)
        except BatchInterruptedError as exc:
            name = signal.Signals(exc.signum).name
            print(f"tlsmon batch: interrupted by {name} after {progress.done} input(s) converted; run the same "
                  "command again to convert the rest", file=sys.stderr)
            return 128 + exc.signum
        except (InputError, DatasetBusyError, SchedulerError) as exc:
            print(f"tlsmon batch: {exc}", file=sys.stderr)
            return EXIT_ERROR
        except OSError as exc:
            print(f"tlsmon batch: {dataset}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_ERROR
        if not args.quiet:
            print_summary(Console(), report, str(dataset))
        if report.failed:
            status = EXIT_ERROR
        elif report.damaged:
            status = EXIT_DAMAGED_INPUT
    if args.compact:
        compact_status = _compact(dataset, args.target_size, args.quiet)
        status = status or compact_status
    return status


def cmd_compact(args: argparse.Namespace) -> int:
    return _compact(Path(args.dataset), args.target_size, args.quiet)


def _compact(dataset: Path, target: int | None, quiet: bool) -> int:
    from tlsmon.batch.compact import DEFAULT_TARGET_BYTES, compact_dataset
    from tlsmon.batch.runner import DatasetBusyError

    if not (dataset / "_manifest").is_dir():
        print(f"tlsmon compact: {dataset}: not a batch dataset (no _manifest/)", file=sys.stderr)
        return EXIT_ERROR
    try:
        report = compact_dataset(dataset, target or DEFAULT_TARGET_BYTES)
    except DatasetBusyError as exc:
        print(f"tlsmon compact: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if not quiet:
        print(f"compacted {report.parts_merged} parts into {report.files_written} files; "
              f"{report.manifest_files_merged} manifest files merged")
    return EXIT_OK
