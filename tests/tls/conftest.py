"""Shared fixtures for the TLS tests: throwaway identities and DH parameters, made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tls.handshakes import Identity, dh_params_file, identities


@pytest.fixture(scope="session")
def ids() -> dict[str, Identity]:
    return identities()


@pytest.fixture(scope="session")
def dh_file() -> Path:
    return dh_params_file()
