"""Privacy: no credential, address or message text that crossed the wire in plaintext reaches the Parquet output.

Every capture under fixtures/pcaps (the STARTTLS sessions and all the others) goes through ``tlsmon read``.
Each Parquet file it writes is searched twice for every secret of fixtures/pcaps/starttls/MANIFEST.json (user
names, passwords, base64 AUTH blobs, an LDAP DN, MAIL FROM/RCPT TO addresses, a message's subject and body) and
of fixtures/pcaps/preambles/MANIFEST.json (PROXY protocol TLV values, unknown preamble text, a protected FTP
command after GridFTP's ADAT exchange):
in the file's raw bytes, and in every decoded value of every column (strings, binaries, lists, structs), so
neither a compressed page nor a nested value can hide one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tlsmon.cli import main

PCAPS = Path(__file__).resolve().parents[2] / "fixtures" / "pcaps"
STARTTLS_MANIFEST: dict[str, Any] = json.loads((PCAPS / "starttls" / "MANIFEST.json").read_text())
PREAMBLE_MANIFEST: dict[str, Any] = json.loads((PCAPS / "preambles" / "MANIFEST.json").read_text())
SECRET_FILES = [("starttls", e) for e in STARTTLS_MANIFEST["files"]] + [
    ("preambles", e) for e in PREAMBLE_MANIFEST["files"]
]
SECRETS: tuple[str, ...] = tuple(sorted({s for _, entry in SECRET_FILES for s in entry["secrets"]}))
_SUFFIXES = (".pcap", ".pcapng", ".pcap.gz", ".pcap.zst", ".pcapng.zst", ".pcapng.gz")
CAPTURES = sorted(p for p in PCAPS.rglob("*") if p.is_file() and p.name.endswith(_SUFFIXES))


def _values(value: object) -> Iterator[str | bytes]:
    """Every string and binary inside a decoded Parquet value, however nested."""
    if isinstance(value, str | bytes):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _values(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _values(item)


def _found(haystack: str | bytes, secret: str) -> bool:
    if isinstance(haystack, bytes):
        return secret.encode() in haystack
    return secret in haystack


def test_the_secrets_are_really_on_the_wire() -> None:
    """Each capture's listed secrets are in its bytes: the search below looks for something that is there."""
    assert len(SECRETS) >= 15
    for folder, entry in SECRET_FILES:
        raw = (PCAPS / folder / entry["file"]).read_bytes()
        for secret in entry["secrets"]:
            assert secret.encode() in raw, f"{entry['file']}: {secret!r}"


@pytest.mark.parametrize("capture", CAPTURES, ids=[str(p.relative_to(PCAPS)) for p in CAPTURES])
def test_no_secret_in_the_parquet_output(capture: Path, tmp_path: Path) -> None:
    main(["read", str(capture), "-o", str(tmp_path), "-q"])
    files = sorted(tmp_path.rglob("*.parquet"))
    if capture.parent.name in ("starttls", "preambles"):
        assert files, f"{capture.name}: no Parquet written"
    for path in files:
        raw = path.read_bytes()
        leaked = [s for s in SECRETS if s.encode() in raw]
        assert not leaked, f"{path.relative_to(tmp_path)} bytes contain {leaked}"
        table = pq.read_table(path)
        for name in table.column_names:
            if pa.types.is_timestamp(table.schema.field(name).type):
                continue  # numbers only; pyarrow cannot turn ns values into datetimes
            for haystack in _values(table.column(name).to_pylist()):
                leaked = [s for s in SECRETS if _found(haystack, s)]
                assert not leaked, f"{path.relative_to(tmp_path)}: a value contains {leaked}: {haystack!r}"
