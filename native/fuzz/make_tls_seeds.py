"""Seed inputs for the ``tls`` fuzz target: every TLS connection of real captures, in the target's call format
(see fuzz_targets/tls.rs), as the Python engine delivered its bytes to the TLS analyzer: data calls for TCP,
record() calls for QUIC and DTLS flows (with the target's transport byte set to q or d).

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
#: limits 4/4/4/4 (each byte % 4 + 1); the transport byte follows (the target's index of t, q, d)
LIMITS = b"\x03\x03\x03\x03"
TRANSPORTS = "tqd"
#: control bits 1-3 of the target: 1 a record() call, 2 data
RECORD, DATA = 0b010, 0b100


def seeds(path: Path) -> list[bytes]:
    with teeing() as made:
        engine = Engine(MemorySink())
        engine.run(capture_frames([path]))
        engine.close()
    out = []
    for n, tee in enumerate(made):
        seed = bytearray(LIMITS + bytes([TRANSPORTS.index(tee.transport)]))
        for i, (is_orig, data) in enumerate(tee.calls):
            for start in range(0, len(data), 0xFFFF):
                piece = data[start : start + 0xFFFF]
                control = int(is_orig) | DATA | ((i + n) % 13) << 4
                seed += struct.pack("!BH", control, len(piece)) + piece
        for is_orig, content_type, body in tee.records:
            call = bytes([content_type]) + body[:0xFFFE]
            seed += struct.pack("!BH", int(is_orig) | RECORD, len(call)) + call
        if len(seed) > len(LIMITS) + 1:
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
