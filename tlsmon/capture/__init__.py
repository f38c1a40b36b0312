"""Packet sources: capture files (pcap, pcapng, gzip/zstd compressed) → ``(ts_ns, linktype, frame)``.

The Python reader (:class:`CaptureSource`) loads when first asked for: a native read, whose frames the compiled
core reads, needs only :class:`CaptureError` from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tlsmon.capture.errors import CaptureError

if TYPE_CHECKING:
    from tlsmon.capture.source import CaptureSource

__all__ = ["CaptureError", "CaptureSource"]


def __getattr__(name: str) -> object:
    if name == "CaptureSource":
        from tlsmon.capture.source import CaptureSource

        return CaptureSource
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
