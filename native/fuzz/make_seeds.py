"""Seed inputs for the ``decode`` fuzz target from real captures: each seed is a run of consecutive frames of
one capture in the target's record format (see fuzz_targets/decode.rs).

    .venv/bin/python native/fuzz/make_seeds.py native/fuzz/corpus/decode fixtures/pcaps ../shared/corpus
"""

from __future__ import annotations

import hashlib
import struct
import sys
from pathlib import Path

from tlsmon.capture import CaptureError, CaptureSource

LINKTYPES = [1, 1, 1, 0, 12, 14, 101, 108, 113, 228, 229, 276]  # the target's selector table
SUFFIXES = (".pcap", ".pcapng", ".cap", ".gz", ".zst")
FRAMES_PER_SEED = 8
MAX_FRAME = 2048


def seeds(path: Path) -> list[bytes]:
    out: list[bytes] = []
    run = bytearray(b"\xff\xff")  # longest timeout and cap
    count = 0
    last_ts = None
    try:
        for ts, linktype, frame in CaptureSource([path]):
            if linktype not in LINKTYPES:
                return out
            step = 1 if last_ts is None or ts > last_ts else 0
            last_ts = ts
            frame = frame[:MAX_FRAME]
            run += struct.pack("!BBH", LINKTYPES.index(linktype), step, len(frame)) + frame
            count += 1
            if count == FRAMES_PER_SEED:
                out.append(bytes(run))
                run, count = bytearray(b"\xff\xff"), 0
    except CaptureError:
        pass
    if count:
        out.append(bytes(run))
    return out


def main() -> None:
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    written = 0
    for root in sys.argv[2:]:
        for path in sorted(Path(root).rglob("*")):
            if path.is_file() and path.name.endswith(SUFFIXES):
                for seed in seeds(path)[:50]:
                    (target / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
                    written += 1
    print(f"{written} seeds in {target}")


if __name__ == "__main__":
    main()
