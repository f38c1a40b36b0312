"""native/src/tls/codes.rs is what scripts/gen_native_codes.py makes from the Python tables today."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gen_native_codes.py"


def test_the_generated_rust_tables_are_current() -> None:
    spec = importlib.util.spec_from_file_location("gen_native_codes", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.OUTPUT.read_text() == module.render(), "run: PYTHONPATH=. python scripts/gen_native_codes.py"
