"""The paper's published values in ``tlsmon report``: where they are printed, and beside which measured value.

The shipped :data:`tlsmon.report.paper.PUBLISHED` is empty (no copy of the paper's tables could be read, see
docs/report.md, "Published values"), so the sections the paper has numbers for must say so. How an entry is
shown is checked with entries made for this test over the known-answer corpus (fixtures/report/): they are
not the paper's numbers, only values whose measured counterpart is known by construction.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fixtures.report import corpus
from tests.report.browser import CHROMIUM, Browser
from tests.report.helpers import run_report
from tlsmon.report.paper import CITATION, PAPER_PLACES, PUBLISHED, Published

URL = "https://example.org/copy-read-for-this-test"
#: Longer than the page is wide, with no hyphen or space to break at: the page must still fit the window.
LONG_URL = "https://example.org/doc/" + "tlsinthewild" * 16

#: Entries of the form paper.py expects, with the measured value the corpus gives each (expected.py).
TEST_ENTRIES: tuple[tuple[Published, Any], ...] = (
    (Published("r2_starttls", (("protocol", "smtp"),), "upgraded_share_of_offered", 0.5,
               "Table III", "SMTP: upgraded where offered", URL), 0.7),
    (Published("r2_starttls", (("protocol", "smtp"),), "connections_offered", 1234,
               "Table III", "SMTP: connections offered STARTTLS", URL), 200),
    (Published("r2_starttls", (("protocol", "nntp"),), "connections_upgraded", 7,
               "Table III", "NNTP: a row the corpus does not have", URL), None),
    (Published("r3_versions", (("port", "all"),), "tlsv12", 0.61,
               "Table IV, passive column", "TLS 1.2", URL), 438),
    (Published("r6_summary", (), "alpn_negotiated", 3, "Section on ALPN", "ALPN negotiated", URL), 10),
    (Published("r8_ocsp", (("port", "all"),), "stapled", 42, "Section on OCSP", "OCSP stapled", LONG_URL), 190),
)


def _doc(out: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return result


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    corpus.write(out)
    return out


@pytest.fixture(scope="module")
def shipped(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("shipped")
    run_report([dataset], out)
    return out


@pytest.fixture(scope="module")
def with_entries(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("entries")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("tlsmon.report.render.PUBLISHED", tuple(e for e, _ in TEST_ENTRIES))
        run_report([dataset], out)
    return out


def test_sections_the_paper_has_numbers_for_say_where_and_show_none(shipped: Path) -> None:
    papers = {s["id"]: s["paper"] for s in _doc(shipped)["sections"]}
    where = {
        "r2": "Table III (STARTTLS: servers offering it, connections upgraded)",
        "r3": "Table IV (negotiated versions, passive column)",
        "r6": "the ALPN counts of the passive data",
        "r8": "the OCSP stapling counts of the passive data",
    }
    assert {k: v for k, v in papers.items() if v is not None} == {
        sid: {"source": CITATION, "where": w, "values": []} for sid, w in where.items()
    }
    assert sorted(papers) == ["r1", "r10", "r11", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9"]


def test_html_says_in_each_of_those_sections_that_no_value_is_shown(shipped: Path) -> None:
    html = (shipped / "report.html").read_text(encoding="utf-8")
    assert html.count("<strong>Published values</strong>") == 4
    assert html.count("hold only its abstract") == 4
    for where in PAPER_PLACES.values():
        assert f"<strong>Published values</strong> — {where}: not shown." in html
    assert "Published (NDSS 2016) beside measured" not in html


def test_each_published_value_is_in_report_json_beside_its_measured_value(with_entries: Path) -> None:
    shown = [v for s in _doc(with_entries)["sections"] if s["paper"] for v in s["paper"]["values"]]
    assert shown == [
        {"table": e.table, "key": dict(e.key), "column": e.column, "label": e.label, "where": e.where,
         "url": e.url, "published": e.value, "measured": measured}
        for e, measured in TEST_ENTRIES
    ]


def test_each_value_goes_to_the_section_of_its_table(with_entries: Path) -> None:
    by_section = {s["id"]: [v["table"] for v in s["paper"]["values"]]
                  for s in _doc(with_entries)["sections"] if s["paper"]}
    assert by_section == {"r2": ["r2_starttls"] * 3, "r3": ["r3_versions"], "r6": ["r6_summary"],
                          "r8": ["r8_ocsp"]}


def test_html_prints_published_beside_measured_with_the_copy_read(with_entries: Path) -> None:
    html = (with_entries / "report.html").read_text(encoding="utf-8")
    assert html.count("Published (NDSS 2016) beside measured") == 4
    assert (
        "<tr><td>SMTP: upgraded where offered</td><td>Table III<br><small>https://example.org/copy-read-for-this-"
        'test</small></td><td class="num">0.5</td><td class="num">0.7</td></tr>'
    ) in html
    assert (
        "<tr><td>NNTP: a row the corpus does not have</td><td>Table III<br><small>https://example.org/copy-read-"
        'for-this-test</small></td><td class="num">7</td><td class="num">—</td></tr>'
    ) in html
    assert html.count("not shown.") == 0


@pytest.mark.parametrize("entry", [e for e, _ in TEST_ENTRIES] + list(PUBLISHED), ids=lambda e: e.label)
def test_entry_names_a_column_of_a_table_its_section_shows(shipped: Path, entry: Published) -> None:
    doc = _doc(shipped)
    section = next(s for s in doc["sections"] if entry.table in s["tables"])
    assert section["id"] in PAPER_PLACES
    columns = doc["tables"][entry.table]["columns"]
    assert entry.column in columns
    assert all(k in columns for k, _ in entry.key)
    assert entry.url.startswith("https://")
    assert entry.where


PAPER_TABLES = """
(() => ({
  tables: [...document.querySelectorAll('table.paper')].map(t => ({
    section: t.closest('section').id, rows: t.querySelectorAll('tbody tr').length,
    width: t.getBoundingClientRect().width})),
  overflowX: document.documentElement.scrollWidth > innerWidth,
}))()
"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/bootstrap.sh adds it)")
def test_published_tables_render_in_chromium_within_the_window(with_entries: Path) -> None:
    with Browser() as browser:
        browser.open((with_entries / "report.html").resolve().as_uri())
        state = browser.evaluate(PAPER_TABLES)
        errors = browser.errors()
    assert errors == []
    assert [(t["section"], t["rows"]) for t in state["tables"]] == [("r2", 3), ("r3", 1), ("r6", 1), ("r8", 1)]
    assert all(t["width"] > 200 for t in state["tables"])
    assert state["overflowX"] is False
