"""The registries: the generated module equals the IANA CSV files, and every output carries the table.

The CSV files in ``registries/iana/`` are the source; ``scripts/gen_registries.py`` turns them into
``tlsmon/registries.py``; ``read``, ``live`` and ``batch`` write ``registries/registries.parquet`` from it.
The example query of docs/schema.md runs here on a capture whose first client offers an RC4 suite.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import sys
from itertools import pairwise
from pathlib import Path
from types import ModuleType

import duckdb
import pyarrow.parquet as pq
import pytest

from fixtures.make_registry_captures import rc4_offered_pcap
from tlsmon import registries
from tlsmon.batch.runner import BatchOptions, run_batch
from tlsmon.cli import main
from tlsmon.live.service import _prepare_output
from tlsmon.output.registries_file import write_registries
from tlsmon.records.registries_table import EXAMPLE_QUERY, REGISTRY_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
CSV_DIR = ROOT / "registries" / "iana"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_registries", ROOT / "scripts" / "gen_registries.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _csv_rows(name: str) -> list[dict[str, str]]:
    with (CSV_DIR / name).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# --- the generated module and the CSV files -------------------------------------------------------------


def test_generated_module_is_up_to_date() -> None:
    assert (ROOT / "tlsmon" / "registries.py").read_text(encoding="utf-8") == _generator().render()


@pytest.mark.parametrize(
    ("registry", "file_name"),
    [
        ("cipher_suites", "tls-parameters-4.csv"),
        ("supported_groups", "tls-parameters-8.csv"),
        ("signature_schemes", "tls-signaturescheme.csv"),
    ],
)
def test_one_entry_per_csv_row_with_its_description_and_reference(registry: str, file_name: str) -> None:
    rows = _csv_rows(file_name)
    entries = registries.REGISTRIES[registry]
    assert [(e[2], e[5]) for e in entries] == [(r["Description"], r["Reference"]) for r in rows]


def test_cipher_suite_two_bytes_make_one_code() -> None:
    assert (0x1301, 0x1301, "TLS_AES_128_GCM_SHA256", True, "Y", "[RFC8446]") in registries.CIPHER_SUITES


def test_rc4_cipher_suite_is_not_dtls_ok() -> None:
    assert (0xC007, 0xC007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", False, "N", "[RFC8422][RFC6347]") in (
        registries.CIPHER_SUITES
    )


def test_cipher_suite_grease_is_ianas_reserved_row() -> None:
    assert (0x0A0A, 0x0A0A, "Reserved", True, "N", "[RFC8701]") in registries.CIPHER_SUITES


def test_cipher_suite_range_in_the_second_byte() -> None:
    assert (0x001C, 0x001D, "Reserved to avoid conflicts with SSLv3", None, None, "[RFC5246]") in (
        registries.CIPHER_SUITES
    )


def test_cipher_suite_range_of_first_bytes_covers_every_second_byte() -> None:
    assert (0x0100, 0x09FF, "Unassigned", None, None, "") in registries.CIPHER_SUITES


def test_cipher_suite_description_keeps_ianas_line_break() -> None:
    text = "Reserved to avoid conflicts with\nwidely deployed implementations"
    assert (0xFEFE, 0xFEFF, text, None, None, "[Pasi_Eronen]") in registries.CIPHER_SUITES


def test_cipher_suite_ranges_overlap_nowhere_and_leave_only_ianas_own_gap() -> None:
    """IANA writes "0xFA,0x00-C9" where its pattern has 0x00-F9: 0xFACA-0xFAF9 is in no row, as published."""
    covered = [0] * 0x10000
    for first, last, *_ in registries.CIPHER_SUITES:
        for code in range(first, last + 1):
            covered[code] += 1
    assert max(covered) == 1
    assert [c for c in range(0x10000) if not covered[c]] == list(range(0xFACA, 0xFAFA))


def test_supported_group_decimal_range() -> None:
    assert (42, 255, "Unassigned", None, None, "") in registries.SUPPORTED_GROUPS


def test_supported_group_discouraged_is_d() -> None:
    entry = next(e for e in registries.SUPPORTED_GROUPS if e[0] == 19)
    assert entry[2:5] == ("secp192r1", True, "D")


def test_supported_groups_cover_every_code_once() -> None:
    spans = sorted((first, last) for first, last, *_ in registries.SUPPORTED_GROUPS)
    assert spans[0][0] == 0 and spans[-1][1] == 0xFFFF
    assert all(b[0] == a[1] + 1 for a, b in pairwise(spans))


def test_signature_scheme_has_no_dtls_column() -> None:
    assert (0x0804, 0x0804, "rsa_pss_rsae_sha256", None, "Y", "[RFC-ietf-tls-rfc8446bis-13]") in (
        registries.SIGNATURE_SCHEMES
    )


def test_signature_schemes_cover_every_code_once() -> None:
    spans = sorted((first, last) for first, last, *_ in registries.SIGNATURE_SCHEMES)
    assert spans[0][0] == 0 and spans[-1][1] == 0xFFFF
    assert all(b[0] == a[1] + 1 for a, b in pairwise(spans))


# --- the table in every output ----------------------------------------------------------------------------


def test_table_has_one_row_per_entry(tmp_path: Path) -> None:
    table = pq.read_table(write_registries(tmp_path, {}))
    assert table.num_rows == sum(len(e) for e in registries.REGISTRIES.values())
    assert table.schema.names == REGISTRY_COLUMNS.names()


def test_writing_again_replaces_the_one_file(tmp_path: Path) -> None:
    write_registries(tmp_path, {})
    write_registries(tmp_path, {})
    assert sorted(p.name for p in (tmp_path / "registries").iterdir()) == ["registries.parquet"]


def test_read_writes_the_table(tmp_path: Path) -> None:
    capture = tmp_path / "rc4.pcap"
    capture.write_bytes(rc4_offered_pcap())
    assert main(["read", str(capture), "-o", str(tmp_path / "out"), "-q"]) == 0
    assert [p.name for p in (tmp_path / "out" / "registries").iterdir()] == ["registries.parquet"]


def test_batch_writes_the_table_into_the_dataset(tmp_path: Path) -> None:
    capture = tmp_path / "rc4.pcap"
    capture.write_bytes(rc4_offered_pcap())
    run_batch(BatchOptions([str(capture)], tmp_path / "ds"))
    assert [p.name for p in (tmp_path / "ds" / "registries").iterdir()] == ["registries.parquet"]


def test_example_query_names_the_rc4_suite_a_client_offered(tmp_path: Path) -> None:
    capture = tmp_path / "rc4.pcap"
    capture.write_bytes(rc4_offered_pcap())
    out = tmp_path / "out"
    assert main(["read", str(capture), "-o", str(out), "-q"]) == 0
    rows = duckdb.sql(EXAMPLE_QUERY.replace("OUT/", f"{out}/")).fetchall()
    assert [(orig, resp, names) for _, orig, resp, names in rows] == [
        ("10.0.0.1", "10.0.0.2", ["TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"])
    ]


def test_live_writes_the_table_when_it_prepares_its_output(tmp_path: Path) -> None:
    fd = _prepare_output(tmp_path / "live")
    os.close(fd)
    assert [p.name for p in (tmp_path / "live" / "registries").iterdir()] == ["registries.parquet"]


def test_writing_the_same_table_again_leaves_the_file_untouched(tmp_path: Path) -> None:
    path = write_registries(tmp_path, {"tlsmon_version": "1"})
    before = path.stat().st_mtime_ns, path.stat().st_ino
    write_registries(tmp_path, {"tlsmon_version": "1"})
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == before


def test_a_new_version_replaces_the_file(tmp_path: Path) -> None:
    write_registries(tmp_path, {"tlsmon_version": "1"})
    path = write_registries(tmp_path, {"tlsmon_version": "2"})
    assert pq.read_schema(path).metadata[b"tlsmon_version"] == b"2"
