"""A progress bar over the input's on-disk bytes, shown only on a terminal."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)


class ReadPosition(Protocol):
    """What the bar reads of a capture source (either engine's)."""

    @property
    def total_bytes(self) -> int: ...
    @property
    def bytes_read(self) -> int: ...
    @property
    def packets(self) -> int: ...


class ByteProgress:
    """The bar reads the source only in :meth:`update`, which the engine calls between two of its passes: a
    native source is in use by the read-ahead's thread until the engine takes over (tlsmon.readahead), and
    PyO3 refuses to read it meanwhile."""

    def __init__(self, source: ReadPosition, console: Console) -> None:
        self.source = source
        self._progress = Progress(
            TextColumn("[bold]reading"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TextColumn("{task.fields[pps]}"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None
        self._last_packets = 0
        self._last_time = 0.0

    def __enter__(self) -> ByteProgress:
        self._progress.start()
        self._task = self._progress.add_task("read", total=None, pps="")
        self._last_time = self._progress.get_time()
        return self

    def update(self) -> None:
        if self._task is None:
            return
        now = self._progress.get_time()
        packets = self.source.packets
        pps = ""
        if now > self._last_time:
            pps = f"{(packets - self._last_packets) / (now - self._last_time):,.0f} pkt/s"
        self._last_packets = packets
        self._last_time = now
        self._progress.update(self._task, total=self.source.total_bytes, completed=self.source.bytes_read, pps=pps)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()
