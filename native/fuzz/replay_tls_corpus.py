"""Replay the ``tls`` fuzz target's inputs through the Python TlsAnalyzer and _native.TlsAnalyzer side by side
and report every input on which they differ: libFuzzer's mutations as a differential test of the port.

    PYTHONPATH=. .venv/bin/python native/fuzz/replay_tls_corpus.py native/fuzz/corpus/tls

The input format is the target's (fuzz_targets/tls.rs); exit status 1 when an input differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.tls_native.tee import differences, native_analyzer
from tlsmon.limits import Limits
from tlsmon.tls.analyzer import TlsAnalyzer

TRANSPORTS = ("t", "q", "d", "x")


def replay(data: bytes) -> dict[str, tuple[object, object]]:
    """What differs between the two analyzers after the input's calls and end()."""
    if len(data) < 5:
        return {}
    limit = [b % 4 + 1 for b in data[:4]]
    limits = Limits(
        max_certificates_per_chain=limit[0],
        max_certificates_per_connection=limit[1],
        max_alerts=limit[2],
        max_anomalies=limit[3],
    )
    transport = TRANSPORTS[data[4] % 4]
    python, native = TlsAnalyzer(transport, limits), native_analyzer(transport, limits)
    rest = data[5:]
    while len(rest) >= 3:
        control, length = rest[0], int.from_bytes(rest[1:3], "big")
        is_orig, kind = bool(control & 1), (control >> 1) & 7
        if kind == 0:
            rest = rest[3:]
            python.gap(is_orig, length)
            native.gap(is_orig, length)
            continue
        chunk, rest = rest[3 : 3 + length], rest[3 + length :]
        if kind == 1:
            if chunk:
                python.record(is_orig, chunk[0], chunk[1:])
                native.record(is_orig, chunk[0], chunk[1:])
        else:
            python.data(is_orig, chunk)
            native.data(is_orig, chunk)
    python.end()
    native.end()
    return differences(python, native)


def main(argv: list[str]) -> int:
    inputs = sorted(p for p in Path(argv[0]).iterdir() if p.is_file())
    differing = 0
    for path in inputs:
        found = replay(path.read_bytes())
        if found:
            differing += 1
            print(f"{path.name}: {found}")
    print(f"{len(inputs)} inputs, {differing} differ")
    return 1 if differing else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
