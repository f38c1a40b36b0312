"""Captures cut from the current ``fixtures/pcaps/sample.pcap`` by fixtures/batch/make_batch_fixtures.py, made
once per session, so they always match the sample they are compared with."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.batch.make_batch_fixtures import make_midnight, make_pieces


@pytest.fixture(scope="session")
def batch_captures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("batch-captures")


@pytest.fixture(scope="session")
def midnight(batch_captures: Path) -> Path:
    return make_midnight(batch_captures)


@pytest.fixture(scope="session")
def pieces(batch_captures: Path) -> list[Path]:
    return make_pieces(batch_captures)
