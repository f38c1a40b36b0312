"""Signals of a long-running monitor, turned into flags that the capture loop polls.

SIGTERM and SIGINT ask to stop (flush every open connection, close the files, exit 0); SIGHUP asks for a
rotation now. Handlers only set flags: the loop returns from each read within ~100 ms and acts on them there,
so no file or engine state is touched from a handler.
"""

from __future__ import annotations

import signal
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class SignalFlags:
    __slots__ = ("received", "rotate", "stop")

    def __init__(self) -> None:
        self.stop = False
        self.rotate = False
        self.received: list[int] = []

    def install(self) -> None:
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_hup)

    def take_rotate(self) -> bool:
        """Whether a rotation was asked for since the last call."""
        asked = self.rotate
        self.rotate = False
        return asked

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop = True
        self.received.append(signum)

    def _on_hup(self, signum: int, frame: FrameType | None) -> None:
        self.rotate = True
        self.received.append(signum)
