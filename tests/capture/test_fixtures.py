"""Files written by scapy and dpkt (fixtures/make_capture_fixtures.py) read back exactly as written."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from tlsmon.capture import CaptureSource

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_capture_fixtures", FIXTURES / "make_capture_fixtures.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCRIPT = _load_script()
LINKTYPES = {"ether": 1, "sll": 113}


@pytest.mark.parametrize("name", sorted(SCRIPT.FILES))
def test_third_party_file_reads_back_exactly(name: str) -> None:
    link, resolution = SCRIPT.FILES[name]
    source = CaptureSource([FIXTURES / "pcaps" / "capture" / name])
    expected = [(ts // resolution * resolution, LINKTYPES[link], frame) for ts, frame in SCRIPT.framed(link)]
    assert list(source) == expected
    assert source.warnings == []
