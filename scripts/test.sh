#!/usr/bin/env bash
# The whole test suite, as the README gives it and .ci/run runs it: set-up, then the native core's checks
# (rustfmt, clippy, its own tests), then ruff, mypy and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
(
    cd native
    cargo fmt --check
    cargo clippy --all-targets --locked -- -D warnings
    # The crate's tests link against libpython (no extension-module feature): the venv's interpreter.
    PYO3_PYTHON="$PWD/../.venv/bin/python" cargo test --locked -q
)
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/pytest -q
