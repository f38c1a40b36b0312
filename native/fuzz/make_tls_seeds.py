"""Seed inputs for the ``tls`` fuzz target: every TLS connection of real captures, in the target's call format
(see fuzz_targets/tls.rs), as the Python engine delivered its bytes to the TLS analyzer.

    PYTHONPATH=. .venv/bin/python native/fuzz/make_tls_seeds.py native/fuzz/corpus/tls fixtures/pcaps ../shared/corpus
"""

from __future__ import annotations

import hashlib
import struct
import sys
from pathlib import Path

from tests.engines.equality import capture_frames
from tests.tls_native.tee import teeing
from tlsmon.engine import Engine, MemorySink

SUFFIXES = (".pcap", ".pcapng", ".cap", ".trace", ".gz", ".zst")
#: limits 4/4/4/4 (each byte % 4 + 1) and transport "t"
HEADER = b"\x03\x03\x03\x03\x00"


def seeds(path: Path) -> list[bytes]:
    with teeing() as made:
        engine = Engine(MemorySink())
        engine.run(capture_frames([path]))
        engine.close()
    out = []
    for n, tee in enumerate(made):
        seed = bytearray(HEADER)
        for i, (is_orig, data) in enumerate(tee.calls):
            for start in range(0, len(data), 0xFFFF):
                piece = data[start : start + 0xFFFF]
                control = int(is_orig) | 0b10 | ((i + n) % 13) << 4
                seed += struct.pack("!BH", control, len(piece)) + piece
        if len(seed) > len(HEADER):
            out.append(bytes(seed))
    return out


def main(argv: list[str]) -> int:
    target = Path(argv[0])
    target.mkdir(parents=True, exist_ok=True)
    count = 0
    for root in map(Path, argv[1:]):
        for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES)):
            for seed in seeds(path):
                (target / hashlib.sha1(seed, usedforsecurity=False).hexdigest()).write_bytes(seed)
                count += 1
    print(f"{count} seeds in {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
