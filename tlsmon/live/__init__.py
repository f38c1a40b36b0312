"""Long-running capture from a network interface: ``tlsmon live`` (service, workers, signals, stats, metrics)."""

from __future__ import annotations
