"""``tlsmon report`` over a corpus whose every number is known by construction (fixtures/report/corpus.py).

Each table of report.json is compared, row by row and value by value, with fixtures/report/expected.py; the
headline proportions the corpus was built with are also spelled out literally.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from fixtures.report import corpus, expected
from tests.report.helpers import row, rows, run_report
from tlsmon.cli import main


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    corpus.write(out)
    return out


@pytest.fixture(scope="module")
def report_dir(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    run_report([dataset], out)
    return out


@pytest.fixture(scope="module")
def doc(report_dir: Path) -> dict[str, Any]:
    import json

    result: dict[str, Any] = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    return result


def test_every_table_of_the_report_is_checked(doc: dict[str, Any]) -> None:
    assert list(doc["tables"]) == list(expected.tables())


@pytest.mark.parametrize("table", list(expected.tables()))
def test_table_equals_the_construction(doc: dict[str, Any], table: str) -> None:
    assert rows(doc, table) == expected.tables()[table]


def test_table_iii_smtp_shares_are_the_chosen_proportions(doc: dict[str, Any]) -> None:
    smtp = row(doc, "r2_starttls", protocol="smtp")
    assert (smtp["servers"], smtp["servers_offering"]) == (25, 20)
    assert (smtp["connections"], smtp["connections_offered"], smtp["connections_upgraded"]) == (250, 200, 140)
    assert smtp["upgraded_share_of_all"] == 0.56
    assert smtp["upgraded_share_of_offered"] == 0.7


def test_upgrade_without_announcement_has_no_share_of_offered(doc: dict[str, Any]) -> None:
    irc = row(doc, "r2_starttls", protocol="irc")
    assert (irc["connections_offered"], irc["connections_upgraded"]) == (0, 4)
    assert irc["upgraded_share_of_offered"] is None


def test_table_iii_protocol_order(doc: dict[str, Any]) -> None:
    assert [r["protocol"] for r in rows(doc, "r2_starttls")] == [
        "smtp", "submission", "imap", "pop3", "xmpp-c2s", "xmpp-s2s", "irc"]


def test_table_iv_versions_on_443_are_one_one_six_two(doc: dict[str, Any]) -> None:
    https = row(doc, "r3_versions", port="443")
    versions = (https["tlsv10"], https["tlsv11"], https["tlsv12"], https["tlsv13"], https["total"])
    assert versions == (40, 40, 240, 80, 400)


def test_validity_of_443_servers_is_thirty_six_four(doc: dict[str, Any]) -> None:
    https = row(doc, "r5_servers", port="443")
    assert (https["verifiable"], https["expired"], https["broken"], https["total"]) == (30, 6, 4, 40)


def test_interim_records_and_duplicate_certificates_are_not_counted(doc: dict[str, Any]) -> None:
    overview = rows(doc, "r1_overview")[0]
    assert overview["connections"] == 826  # 828 rows, two of them interim
    assert rows(doc, "r9_summary")[0]["leaf_certificates"] == 73


def test_report_json_records_the_root_store_version(doc: dict[str, Any]) -> None:
    assert doc["dataset"]["certifi_versions"] == ["2024.02.02"]
    assert doc["dataset"]["connection_files"] == 2


def test_since_keeps_only_the_second_day(dataset: Path, tmp_path: Path) -> None:
    doc = run_report([dataset], tmp_path, "--since", "2024-05-02")
    want = expected.tables(since=corpus.DAY1)
    assert {name: rows(doc, name) for name in want} == want
    assert rows(doc, "r1_overview")[0]["connections"] == 60


def test_until_keeps_only_the_first_day(dataset: Path, tmp_path: Path) -> None:
    doc = run_report([dataset], tmp_path, "--until", "2024-05-02T00:00:00+00:00")
    want = expected.tables(until=corpus.DAY1)
    assert {name: rows(doc, name) for name in want} == want


def test_exclude_tor_leaves_tor_out_of_every_section_but_r7(dataset: Path, tmp_path: Path) -> None:
    doc = run_report([dataset], tmp_path, "--exclude-tor")
    want = expected.tables(exclude_tor=True)
    assert {name: rows(doc, name) for name in want} == want
    assert rows(doc, "r7_summary")[0] == {"connections_with_certificate": 568, "tor_like_connections": 10,
                                          "tor_like_servers": 5, "excluded_from_other_sections": True}
    assert all(r["port"] != "9001" for r in rows(doc, "r1_ports"))


def test_csv_tables_hold_the_json_numbers(doc: dict[str, Any], report_dir: Path) -> None:
    for name, table in doc["tables"].items():
        with (report_dir / "tables" / f"{name}.csv").open(encoding="utf-8") as fh:
            lines = list(csv.reader(fh))
        assert lines[0] == table["columns"]
        as_text = [["" if v is None else str(v) for v in r.values()] for r in table["rows"]]
        assert lines[1:] == as_text, name


def test_format_json_writes_only_report_json(dataset: Path, tmp_path: Path) -> None:
    assert main(["report", str(dataset), "-o", str(tmp_path), "--format", "json"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_two_datasets_are_read_as_one(dataset: Path, tmp_path: Path) -> None:
    other = tmp_path / "copy"
    corpus.write(other)
    doc = run_report([dataset, other], tmp_path / "out", "--format", "json")
    assert rows(doc, "r1_overview")[0]["connections"] == 2 * 826
    assert rows(doc, "r9_summary")[0]["leaf_certificates"] == 73


def test_a_directory_without_connections_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err == f"tlsmon report: {tmp_path}: not a tlsmon dataset (no connections/ directory)\n"


def test_since_after_until_is_a_usage_error(dataset: Path, tmp_path: Path) -> None:
    assert main(["report", str(dataset), "-o", str(tmp_path), "--since", "2024-05-03", "--until", "2024-05-02"]) == 2


def test_an_empty_window_gives_empty_tables_and_zero_counts(dataset: Path, tmp_path: Path) -> None:
    doc = run_report([dataset], tmp_path, "--since", "2030-01-01")
    overview = rows(doc, "r1_overview")[0]
    assert overview["connections"] == 0 and overview["first_start"] is None and overview["span_seconds"] is None
    per_row_tables = [n for n in doc["tables"] if not n.endswith(("_overview", "_summary"))]
    assert all(rows(doc, n) == [] for n in per_row_tables)
    assert rows(doc, "r9_summary")[0]["leaf_certificates"] == 0
    assert "<svg" not in (tmp_path / "report.html").read_text(encoding="utf-8")
