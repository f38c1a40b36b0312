"""Packet sources: capture files (pcap, pcapng, gzip/zstd compressed) → ``(ts_ns, linktype, frame)``."""

from __future__ import annotations

from tlsmon.capture.errors import CaptureError
from tlsmon.capture.source import CaptureSource

__all__ = ["CaptureError", "CaptureSource"]
