"""The batch's progress line (files done/total, bytes, packets/s, ETA, failures) and its final summary table.

Progress advances when a file finishes (tasks run in other processes or on other machines), so bytes and the
ETA move in steps of whole files. The bar is drawn only on a terminal; the summary is printed unless ``-q``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from tlsmon.batch.runner import BatchReport
from tlsmon.batch.task import FAILED, TaskResult, TaskSpec


class BatchProgress:
    def __init__(self, console: Console, show_bar: bool) -> None:
        self.console = console
        self._progress: Progress | None = None
        if show_bar:
            self._progress = Progress(
                TextColumn("[bold]batch"),
                TextColumn("{task.fields[files]}"),
                BarColumn(),
                DownloadColumn(),
                TextColumn("{task.fields[pps]}"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[failures]}"),
                console=console,
                transient=True,
            )
        self._task: TaskID | None = None
        self._total = 0
        self._done = 0
        self._failed = 0
        self._bytes = 0
        self._packets = 0
        self._started = time.perf_counter()

    @property
    def done(self) -> int:
        """Inputs finished so far (converted, damaged or failed)."""
        return self._done

    def __enter__(self) -> BatchProgress:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def planned(self, tasks: Sequence[TaskSpec], unchanged: int, skipped: int) -> None:
        self._total = len(tasks)
        self._started = time.perf_counter()
        if self._progress is not None:
            total_bytes = sum(t.input.size for t in tasks)
            self._task = self._progress.add_task("batch", total=total_bytes, files=self._files(), pps="",
                                                 failures="")

    def finished(self, result: TaskResult) -> None:
        self._done += 1
        self._bytes += result.input.size
        self._packets += result.packets
        if result.state == FAILED:
            self._failed += 1
            self.console.print(f"[red]failed:[/] {result.reason}", highlight=False, soft_wrap=True)
        for line in result.warnings:
            self.console.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True)
        if self._progress is not None and self._task is not None:
            elapsed = time.perf_counter() - self._started
            pps = f"{self._packets / elapsed:,.0f} pkt/s" if elapsed > 0 else ""
            failures = f"[red]{self._failed} failed" if self._failed else ""
            self._progress.update(self._task, completed=self._bytes, files=self._files(), pps=pps, failures=failures)

    def _files(self) -> str:
        return f"{self._done}/{self._total} files"


def print_summary(console: Console, report: BatchReport, dataset: str) -> None:
    rows = {"connections": 0, "certificates": 0}
    packets = 0
    for r in report.done:
        packets += r.packets
        for table in rows:
            rows[table] += r.rows.get(table, 0)
    rate = packets / report.elapsed_s if report.elapsed_s > 0 else 0.0
    summary = Table(title=f"tlsmon batch → {dataset}", show_header=False)
    summary.add_row("inputs", f"{report.inputs:,}")
    summary.add_row("converted", f"{len(report.done):,}")
    summary.add_row("unchanged (already done)", f"{report.unchanged:,}")
    summary.add_row("skipped", f"{len(report.skipped):,}")
    summary.add_row("failed", f"{len(report.failed):,}")
    summary.add_row("damaged (converted up to the damage)", f"{len(report.damaged):,}")
    summary.add_row("connection rows (before stitching)", f"{rows['connections']:,}")
    summary.add_row("connections stitched across files", f"{report.stitch.joined:,}")
    summary.add_row("certificate rows", f"{rows['certificates']:,}")
    summary.add_row("packets", f"{packets:,}")
    summary.add_row("elapsed", f"{report.elapsed_s:.2f} s ({rate:,.0f} packets/s)")
    console.print(summary)
