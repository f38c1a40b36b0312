"""The report as a person sees it: report.html opened from a file:// URL in headless Chromium.

Every section must be there with its heading, explanation and tables, every chart must have been drawn (an SVG
with a real size and marks in it), and the page must load with no console error, uncaught exception or failed
resource. A full-page screenshot is taken and checked to be a real, tall PNG.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest

from fixtures.report import corpus
from tests.report.browser import CHROMIUM, Browser
from tests.report.helpers import run_report
from tlsmon.report.sections import SECTIONS

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/bootstrap.sh adds it)")

PAGE_STATE = """
(() => {
  const sections = [...document.querySelectorAll('main > section')].map(s => ({
    id: s.id,
    heading: (s.querySelector('h2') || {}).textContent || '',
    how: !!s.querySelector('.how'),
    tables: [...s.querySelectorAll('table')].map(t => ({id: t.id, rows: t.querySelectorAll('tbody tr').length,
                                                       height: t.getBoundingClientRect().height})),
    charts: [...s.querySelectorAll('figure.chart svg')].map(svg => {
      const box = svg.getBoundingClientRect();
      return {width: box.width, height: box.height, marks: svg.querySelectorAll('path, rect, use').length,
              text: svg.textContent.length};
    }),
  }));
  return {title: document.title, sections, overflowX: document.documentElement.scrollWidth > innerWidth};
})()
"""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[str], bytes]:
    data = tmp_path_factory.mktemp("corpus")
    corpus.write(data)
    out = tmp_path_factory.mktemp("report")
    run_report([data], out)
    with Browser() as browser:
        browser.open((out / "report.html").resolve().as_uri())
        state = browser.evaluate(PAGE_STATE)
        png = browser.screenshot(out / "report.png")
        errors = browser.errors()
    return state, errors, png


def test_page_loads_without_console_errors(page: tuple[dict[str, Any], list[str], bytes]) -> None:
    _, errors, _ = page
    assert errors == []


def test_every_section_is_rendered_with_heading_and_explanation(page: tuple[dict[str, Any], list[str], bytes]) -> None:
    state, _, _ = page
    assert [s["id"] for s in state["sections"]] == [s.id for s in SECTIONS]
    for rendered, section in zip(state["sections"], SECTIONS, strict=True):
        assert rendered["heading"] == section.title
        assert rendered["how"], section.id


def test_every_table_is_rendered_with_rows(page: tuple[dict[str, Any], list[str], bytes]) -> None:
    state, _, _ = page
    for rendered, section in zip(state["sections"], SECTIONS, strict=True):
        ids = [t["id"] for t in rendered["tables"] if t["id"]]
        assert ids == [f"t-{spec.name}" for spec in section.tables]
        assert all(t["rows"] > 0 and t["height"] > 20 for t in rendered["tables"]), section.id


def test_every_chart_is_drawn(page: tuple[dict[str, Any], list[str], bytes]) -> None:
    state, _, _ = page
    for rendered, section in zip(state["sections"], SECTIONS, strict=True):
        charts = rendered["charts"]
        assert len(charts) == (1 if section.plot else 0), section.id
        for chart in charts:
            assert chart["width"] > 400 and chart["height"] > 100, section.id
            assert chart["marks"] > 10 and chart["text"] > 0, section.id


def test_page_fits_the_window_width(page: tuple[dict[str, Any], list[str], bytes]) -> None:
    state, _, _ = page
    assert state["overflowX"] is False


def test_screenshot_is_the_whole_page(page: tuple[dict[str, Any], list[str], bytes]) -> None:
    _, _, png = page
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width == 1200
    assert height > 3000


def test_the_checker_sees_console_errors_and_failed_loads(tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><img src="missing.png"><script>console.error("boom")</script>'
                   "</body></html>", encoding="utf-8")
    with Browser() as browser:
        browser.open(bad.as_uri())
        errors = browser.errors()
    assert len(errors) == 2
    assert any("boom" in e for e in errors)
    assert any("missing.png" in e or "ERR_FILE_NOT_FOUND" in e for e in errors)
