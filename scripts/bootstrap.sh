#!/usr/bin/env bash
# Set up tlsmon on a Debian machine as root: system packages, a venv in .venv, tlsmon and its dev tools.
# Idempotent: a second run only checks. Used by both README commands and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
dpkg -s libpcap-dev >/dev/null 2>&1 || need_apt+=(libpcap-dev)
dpkg -s tshark >/dev/null 2>&1 || need_apt+=(tshark)
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)  # network namespaces for the live-capture tests
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)  # openssl s_client as a real TLS/STARTTLS client
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)  # renders tlsmon report's HTML in its tests
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc python3-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
stamp=.venv/.tlsmon-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    # Builds the Rust core (native/) through maturin into tlsmon/_native*.so.
    .venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
    touch "$stamp"
elif [ -n "$(find native/src native/Cargo.toml native/Cargo.lock -newer "$stamp" 2>/dev/null | head -n 1)" ]; then
    # The Rust sources changed since the last build: rebuild the extension only.
    .venv/bin/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
    touch "$stamp"
fi
# The bytecode cache an installed package has (PYTHONDONTWRITEBYTECODE, set on some machines, would otherwise
# make every run compile tlsmon's modules again).
.venv/bin/python -m compileall -q tlsmon
