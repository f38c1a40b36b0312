"""Fixtures of the live-capture tests: the namespace lab (root and Linux only; skipped with the reason else)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pytest

from tests.live.lab import Lab, capture_unavailable

_labs = count(1)


@pytest.fixture(scope="session")
def capture_reason() -> str | None:
    return capture_unavailable()


@pytest.fixture
def lab(capture_reason: str | None, tmp_path: Path) -> Iterator[Lab]:
    """Two fresh namespaces joined by a veth pair, with the TLS and SMTP servers running; always removed."""
    if capture_reason is not None:
        pytest.skip(capture_reason)
    n = next(_labs)
    lab = Lab(f"tlsmon-t{os.getpid()}-{n}", 200 + (os.getpid() + n) % 50)
    try:
        lab.open()
        lab.start_servers(tmp_path)
        yield lab
    finally:
        lab.close()
