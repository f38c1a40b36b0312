"""The progress bar of a read on a terminal reads its source only when the engine updates it: until the engine
takes over, a native source is in use by the read-ahead's thread, and PyO3 refuses any read of it."""

from __future__ import annotations

import io

from rich.console import Console

from tlsmon.progress import ByteProgress


class InUse:
    """A source another thread is reading: every look at it raises, as PyO3 does then."""

    @property
    def total_bytes(self) -> int:
        raise RuntimeError("Already mutably borrowed")

    @property
    def bytes_read(self) -> int:
        raise RuntimeError("Already mutably borrowed")

    @property
    def packets(self) -> int:
        raise RuntimeError("Already mutably borrowed")


class Halfway:
    total_bytes = 1000
    bytes_read = 400
    packets = 7


def _terminal() -> Console:
    return Console(file=io.StringIO(), force_terminal=True)


def test_the_bar_starts_and_stops_without_reading_its_source() -> None:
    with ByteProgress(InUse(), _terminal()):
        pass


def test_an_update_reads_the_size_and_the_position() -> None:
    with ByteProgress(Halfway(), _terminal()) as bar:
        bar.update()
        (task,) = bar._progress.tasks
        assert (task.total, task.completed) == (1000, 400)
