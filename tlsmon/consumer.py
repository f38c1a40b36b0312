"""The narrow interface between TCP reassembly and the application-layer analyzers.

The TCP stage delivers each direction's bytes strictly in order. A hole it cannot fill is reported with
:meth:`StreamConsumer.gap` and never spliced over. ``is_orig`` is True for bytes sent by the connection's
originator (the client). When :attr:`StreamConsumer.finished` becomes True nothing later in the stream can
change the record, so the engine stops reassembling the connection and only counts its packets (bypass).
"""

from __future__ import annotations

from typing import Protocol


class StreamConsumer(Protocol):
    finished: bool
    anomalies: list[str]

    def data(self, is_orig: bool, data: bytes) -> None:
        """Contiguous stream bytes of one direction, in order."""

    def gap(self, is_orig: bool, length: int) -> None:
        """``length`` bytes of one direction were never seen; the next data() follows the hole."""

    def end(self) -> None:
        """The connection is over (FIN/RST/timeout/end of input); no more calls follow."""
