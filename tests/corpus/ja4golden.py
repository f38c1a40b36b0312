"""JA4 goldens from FoxIO's repository: ``python-ja4.json`` (ja4.py) and ``rust-ja4-insta.snap`` (Rust).

ja4.py writes one JSON object per stream; ``JA4.1``/``JA4_r.1`` fingerprint the stream's first ClientHello and
``JA4.2`` the second (after a HelloRetryRequest). The Rust snapshot is YAML with one ``- stream:`` item per
stream and only ``ja4`` (no raw form); it is read with a few regular expressions (top-level scalar keys only)
rather than a YAML library. The first JA4 character names the transport: ``t`` TCP, ``q`` QUIC, ``d`` DTLS.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

_ITEM = re.compile(r"^- stream: (\d+)\s*$")
_KEY = re.compile(r"^  ([a-z0-9_]+): (.*)$")

Endpoints = tuple[str, int, str, int]


@dataclass(frozen=True, slots=True)
class Ja4Golden:
    trace: str
    transport: str                 # "tcp", "quic" or "dtls", from the fingerprint's first character
    endpoints: Endpoints           # (client, client port, server, server port)
    ja4: str                       # of the first ClientHello
    ja4_r: str | None              # python only
    rust_ja4: str | None
    python_ja4: str | None
    second_ja4: str | None         # python's JA4.2 (ClientHello after HRR), not compared

    @property
    def oracles_disagree(self) -> bool:
        return None not in (self.rust_ja4, self.python_ja4) and self.rust_ja4 != self.python_ja4


def transport_of(ja4: str) -> str:
    return {"t": "tcp", "q": "quic", "d": "dtls"}.get(ja4[:1], "unknown")


def parse_rust_snapshot(text: str) -> list[dict[str, str]]:
    items: list[dict[str, str]] = []
    for line in text.splitlines():
        item = _ITEM.match(line)
        if item:
            items.append({"stream": item.group(1)})
            continue
        key = _KEY.match(line)
        if key and items:
            items[-1][key.group(1)] = key.group(2).strip()
    return items


def goldens(goldens_dir: Path, trace: str) -> list[Ja4Golden]:
    """Every ClientHello either tool fingerprinted, by endpoints; python's values win when both have one."""
    python = json.loads((goldens_dir / "python-ja4.json").read_text())
    rust = parse_rust_snapshot((goldens_dir / "rust-ja4-insta.snap").read_text())
    by_key: dict[Endpoints, dict[str, str | None]] = {}
    for entry in python:
        if "JA4.1" not in entry:
            continue
        key = (entry["src"], int(entry["srcport"]), entry["dst"], int(entry["dstport"]))
        by_key[key] = {"python": entry["JA4.1"], "ja4_r": entry.get("JA4_r.1"), "second": entry.get("JA4.2")}
    for item in rust:
        if "ja4" not in item:
            continue
        key = (item["src"], int(item["src_port"]), item["dst"], int(item["dst_port"]))
        by_key.setdefault(key, {})["rust"] = item["ja4"]
    out: list[Ja4Golden] = []
    for key, found in by_key.items():
        python_ja4, rust_ja4 = found.get("python"), found.get("rust")
        ja4 = python_ja4 or rust_ja4
        assert ja4 is not None
        out.append(Ja4Golden(trace, transport_of(ja4), key, ja4, found.get("ja4_r"), rust_ja4, python_ja4,
                             found.get("second")))
    return out


def all_goldens(corpus: Path) -> list[Ja4Golden]:
    out: list[Ja4Golden] = []
    for gdir in sorted((corpus / "ja4" / "pcap").glob("*.ja4-goldens")):
        trace = gdir.relative_to(corpus).as_posix().removesuffix(".ja4-goldens")
        out.extend(goldens(gdir, trace))
    return out
