"""Zeek ASCII logs and btest baselines as the oracle sees them.

A btest baseline file holds one *block* per Zeek run: a ``#fields`` header then tab-separated rows
(``zeek-cut`` output, ``*.cut``, has a bare header line instead). Several runs appended to one file (``cat
ssl.log >> ssl-all.log`` after each ``TEST-EXEC``) give several blocks, in ``TEST-EXEC`` order.
``_provenance.txt`` beside the baseline names the btest and its traces in that order, so block *i* belongs to
trace *i*; a baseline copied next to several captures is the same file each time and is read once.

Values keep Zeek's conventions until ``zeek_str``/``zeek_bool``/``zeek_vector`` convert them: ``-`` unset,
``(empty)`` an empty container, ``T``/``F`` booleans, ``,`` between vector elements, ``\\xHH`` escapes for
bytes that are not printable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

UNSET = "-"
EMPTY = "(empty)"
_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")

# Baselines produced by a btest that ran several traces but kept each run's log in its own file (``mv ssl.log
# ssl-twimg.log``): one block, so the block order cannot say which trace it came from.
SINGLE_RUN_FILES: dict[str, str] = {
    "scripts.base.protocols.ssl.dtls/ssl.log": "tls/dtls1_0.pcap",
    "scripts.base.protocols.ssl.dtls/ssl1_2.log": "tls/dtls1_2.pcap",
    "scripts.policy.protocols.ssl.validate-ocsp/ssl.log": "tls/ocsp-stapling.pcap",
    "scripts.policy.protocols.ssl.validate-ocsp/ssl-twimg.log": "tls/ocsp-stapling-twimg.pcap",
    "scripts.policy.protocols.ssl.validate-ocsp/ssl-digicert.log": "tls/ocsp-stapling-digicert.pcap",
}


@dataclass(frozen=True, slots=True)
class LogBlock:
    fields: tuple[str, ...]
    rows: tuple[dict[str, str], ...]


@dataclass(frozen=True, slots=True)
class Provenance:
    btest: str
    baseline: str
    traces: tuple[str, ...]
    exec_lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BaselineRow:
    """One ssl.log row attributed to the capture that produced it."""

    baseline: str          # "<baseline dir>/<file name>"
    trace: str             # corpus-relative capture path
    values: dict[str, str]
    exec_line: str         # the TEST-EXEC that ran Zeek on this trace ("" when not recorded)


def parse_log(text: str) -> list[LogBlock]:
    blocks: list[LogBlock] = []
    fields: tuple[str, ...] | None = None
    rows: list[dict[str, str]] = []
    for line in text.splitlines():
        if not line or line.startswith("### "):
            continue
        if line.startswith("#fields\t"):
            if fields is not None:
                blocks.append(LogBlock(fields, tuple(rows)))
            fields, rows = tuple(line.split("\t")[1:]), []
        elif line.startswith("#"):
            continue
        elif fields is None:
            fields, rows = tuple(line.split("\t")), []
        else:
            cells = line.split("\t")
            if len(cells) != len(fields):
                raise ValueError(f"row has {len(cells)} cells, header has {len(fields)}: {line!r}")
            rows.append(dict(zip(fields, cells, strict=True)))
    if fields is not None:
        blocks.append(LogBlock(fields, tuple(rows)))
    return blocks


def unescape(text: str) -> str:
    if "\\x" not in text:
        return text
    raw = bytearray()
    pos = 0
    for m in _ESCAPE.finditer(text):
        raw += text[pos:m.start()].encode()
        raw.append(int(m.group(1), 16))
        pos = m.end()
    raw += text[pos:].encode()
    return raw.decode("utf-8", "surrogateescape")


def zeek_str(cell: str) -> str | None:
    if cell == UNSET:
        return None
    if cell == EMPTY:
        return ""
    return unescape(cell)


def zeek_bool(cell: str) -> bool | None:
    if cell == UNSET:
        return None
    if cell in ("T", "F"):
        return cell == "T"
    raise ValueError(f"not a Zeek bool: {cell!r}")


def zeek_vector(cell: str) -> list[str]:
    """A vector cell; unset and empty both mean "no elements" (tlsmon's empty list)."""
    if cell in (UNSET, EMPTY):
        return []
    return [unescape(v) for v in cell.split(",")]


def parse_provenance(text: str) -> Provenance:
    btest = baseline = ""
    traces: tuple[str, ...] = ()
    execs: list[str] = []
    for line in text.splitlines():
        if line.startswith("btest: "):
            btest = line.removeprefix("btest: ").strip()
        elif line.startswith("baseline: "):
            baseline = line.removeprefix("baseline: ").strip().rstrip("/").rsplit("/", 1)[-1]
        elif line.startswith("traces used by this btest (in order):"):
            traces = tuple(line.split(":", 1)[1].split())
        elif line.startswith("# @TEST-EXEC:"):
            execs.append(line.removeprefix("# @TEST-EXEC:").strip())
    return Provenance(btest, baseline, traces, tuple(execs))


def exec_line_for(prov: Provenance, trace: str, occurrence: int) -> str:
    """The ``occurrence``-th TEST-EXEC line that reads ``trace`` ("" when the provenance does not show it)."""
    hits = [line for line in prov.exec_lines if trace in line]
    return hits[occurrence] if occurrence < len(hits) else (hits[-1] if hits else "")


def btest_stem(prov: Provenance) -> str:
    name = prov.btest.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0]


def assign_traces(key: str, prov: Provenance, n_blocks: int) -> list[str]:
    """The trace (as the btest spells it, e.g. ``tls/dhe.pcap``) behind each of ``n_blocks`` blocks."""
    distinct = list(dict.fromkeys(prov.traces))
    if len(distinct) == 1:
        return distinct * n_blocks
    if key in SINGLE_RUN_FILES and n_blocks == 1:
        return [SINGLE_RUN_FILES[key]]
    if n_blocks == len(prov.traces):
        return list(prov.traces)
    raise ValueError(
        f"{key}: {n_blocks} log blocks but the btest ran {len(prov.traces)} traces {prov.traces}; "
        "add the file to SINGLE_RUN_FILES"
    )


def trace_path(zeek_root: Path, trace: str) -> str:
    """Corpus-relative path of a btest trace; a gzipped trace is read from its unpacked copy beside it."""
    rel = f"zeek/Traces/{trace}"
    if rel.endswith(".gz") and (zeek_root / "Traces" / trace.removesuffix(".gz")).exists():
        rel = rel.removesuffix(".gz")
    return rel


def baseline_files(zeek_root: Path, prefix: str) -> Iterator[tuple[str, Path, Provenance]]:
    """Each distinct baseline log (``<prefix>*.log`` or ``.cut``) once, with the provenance that fits it best.

    A baseline copied next to several captures carries each capture's provenance; some copies name the wrong
    btest (two btests share a baseline name). Prefer the copy whose btest file name matches the baseline name.
    """
    copies: dict[str, list[tuple[Path, Provenance]]] = {}
    for path in sorted(zeek_root.glob(f"Traces/**/*.zeek-baselines/*/{prefix}*")):
        prov_file = path.parent / "_provenance.txt"
        if not path.name.endswith((".log", ".cut")) or not prov_file.exists():
            continue
        key = f"{path.parent.name}/{path.name}"
        copies.setdefault(key, []).append((path, parse_provenance(prov_file.read_text())))
    for key, found in sorted(copies.items()):
        baseline_dir = key.split("/", 1)[0]
        best = [c for c in found if baseline_dir.endswith("." + btest_stem(c[1]))]
        path, prov = (best or found)[0]
        yield key, path, prov


def ssl_baseline_rows(corpus: Path) -> list[BaselineRow]:
    zeek_root = corpus / "zeek"
    out: list[BaselineRow] = []
    for key, path, prov in baseline_files(zeek_root, "ssl"):
        blocks = parse_log(path.read_text())
        seen: dict[str, int] = {}
        for block, trace in zip(blocks, assign_traces(key, prov, len(blocks)), strict=True):
            occurrence = seen.get(trace, 0)
            seen[trace] = occurrence + 1
            line = exec_line_for(prov, trace, occurrence)
            rel = trace_path(zeek_root, trace)
            out.extend(BaselineRow(key, rel, row, line) for row in block.rows)
    return out
