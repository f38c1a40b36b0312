"""Writing the report: ``report.json`` (every number), ``tables/*.csv`` and a self-contained ``report.html``.

The HTML has no script and no external resource: styles are inline in the head and charts are inline SVG,
so it opens the same from a file:// URL, offline, as from a web server.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path

from tlsmon.report.paper import CITATION, PAPER_PLACES, PUBLISHED, Published
from tlsmon.report.plots import port_label
from tlsmon.report.queries import Table, Value
from tlsmon.report.sections import Section, TableSpec


def write_json(path: Path, meta: Mapping[str, object], sections: Sequence[Section],
               tables: Mapping[str, Table]) -> None:
    doc = {
        **meta,
        "sections": [
            {
                "id": s.id,
                "title": s.title,
                "method": s.method,
                "left_out": s.left_out,
                "tables": [t.name for t in s.tables],
                "paper": _paper_entries(s, tables),
            }
            for s in sections
        ],
        "tables": {
            name: {"columns": list(t.columns), "rows": t.records()} for name, t in tables.items()
        },
    }
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def write_csv(directory: Path, tables: Mapping[str, Table]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, t in tables.items():
        with (directory / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(t.columns)
            w.writerows(["" if v is None else v for v in row] for row in t.rows)


def measured(entry: Published, tables: Mapping[str, Table]) -> Value:
    """The measured value an entry of :data:`PUBLISHED` compares with, or None when the row is absent."""
    t = tables.get(entry.table)
    if t is None:
        return None
    for rec in t.records():
        if all(str(rec.get(k)) == v for k, v in entry.key):
            return rec.get(entry.column)
    return None


def _paper_entries(section: Section, tables: Mapping[str, Table]) -> dict[str, object] | None:
    if section.id not in PAPER_PLACES:
        return None
    names = {t.name for t in section.tables}
    return {
        "source": CITATION,
        "where": PAPER_PLACES[section.id],
        "values": [
            {"table": e.table, "key": dict(e.key), "column": e.column, "label": e.label, "where": e.where,
             "url": e.url, "published": e.value, "measured": measured(e, tables)}
            for e in PUBLISHED if e.table in names
        ],
    }


#: Column headers a person reads better than the JSON names.
LABELS = {"sslv2": "SSL 2", "sslv3": "SSL 3", "tlsv10": "TLS 1.0", "tlsv11": "TLS 1.1", "tlsv12": "TLS 1.2",
          "tlsv13": "TLS 1.3", "tls13_connections": "TLS 1.3 connections", "alpn": "ALPN",
          "not_yet_valid": "not yet valid", "self_signed": "self-signed", "span_seconds": "time span",
          "tls_connections": "TLS connections", "implicit_tls": "implicit TLS", "starttls": "STARTTLS",
          "quic": "QUIC", "dtls": "DTLS",
          "client_offered_alpn": "client offered ALPN", "alpn_negotiated": "ALPN negotiated",
          "servers_negotiating": "servers negotiating ALPN"}


def _label(column: str) -> str:
    return LABELS.get(column, column.replace("_", " "))


def _cell(column: str, value: Value, base: Value, pct: bool) -> str:
    if column == "port" and isinstance(value, str):
        return f"<td>{escape(port_label(value))}</td>"
    if value is None:
        return '<td class="na">—</td>'
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if isinstance(value, float) and "share" in column:
        return f'<td class="num">{100.0 * value:.1f} %</td>'
    if column == "span_seconds" and isinstance(value, int | float):
        return f'<td class="num">{_duration(float(value))}</td>'
    if isinstance(value, int) and column == "prime_bits":
        return f'<td class="num">{value}</td>'
    if isinstance(value, int):
        text = f"{value:,}"
        if pct and isinstance(base, int) and base > 0 and value > 0:
            text += f' <span class="pct">({100.0 * value / base:.1f} %)</span>'
        return f'<td class="num">{text}</td>'
    if isinstance(value, float):
        return f'<td class="num">{value:,.3f}</td>'
    text = str(value)
    if column in ("first_start", "last_end"):
        return f'<td class="num">{escape(text[:19].replace("T", " "))} UTC</td>'
    if column == "fingerprint":
        return f'<td class="mono" title="{escape(text)}">{escape(text[:16])}…</td>'
    return f"<td>{escape(text)}</td>"


def _files(count: object, kind: str) -> str:
    return f"{count} {kind} file{'' if count == 1 else 's'}"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:,.1f} s"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:,.1f} h"
    return f"{seconds / 86400:,.1f} days"


def _table_html(spec: TableSpec, t: Table) -> str:
    if len(t.rows) == 1 and spec.transpose:
        return _transposed_html(spec, t)
    head = "".join(f"<th>{escape(_label(c))}</th>" for c in t.columns)
    if not t.rows:
        body = f'<tr><td class="empty" colspan="{len(t.columns)}">no rows</td></tr>'
    else:
        lines = []
        for rec in t.records():
            base = rec.get(spec.pct_base) if spec.pct_base else None
            cells = "".join(
                _cell(c, v, base, spec.pct_base is not None and c != spec.pct_base and c not in spec.no_pct)
                for c, v in rec.items()
            )
            cls = ' class="total"' if rec.get("port") == "all" else ""
            lines.append(f"<tr{cls}>{cells}</tr>")
        body = "\n".join(lines)
    note = _pct_note(spec)
    return (
        f'<table id="t-{escape(t.name)}"><caption>{escape(spec.caption)} <code>{escape(t.name)}</code>{note}'
        f"</caption>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table>"
    )


def _pct_note(spec: TableSpec) -> str:
    if not spec.pct_base:
        return ""
    return f'<span class="note">Percentages are of {escape(_label(spec.pct_base))}.</span>'


def _transposed_html(spec: TableSpec, t: Table) -> str:
    """A one-row table as name/value pairs, so a wide summary stays readable."""
    rec = t.records()[0]
    base = rec.get(spec.pct_base) if spec.pct_base else None
    body = "\n".join(
        f"<tr><th>{escape(_label(c))}</th>"
        + _cell(c, v, base, spec.pct_base is not None and c != spec.pct_base and c not in spec.no_pct)
        + "</tr>"
        for c, v in rec.items()
    )
    note = _pct_note(spec)
    return (
        f'<table class="kv" id="t-{escape(t.name)}"><caption>{escape(spec.caption)} <code>{escape(t.name)}</code>'
        f"{note}</caption>\n<tbody>\n{body}\n</tbody></table>"
    )


def _paper_html(section: Section, tables: Mapping[str, Table]) -> str:
    info = _paper_entries(section, tables)
    if info is None:
        return ""
    values = info["values"]
    assert isinstance(values, list)
    if not values:
        return (
            f'<p class="paper"><strong>Published values</strong> — {escape(str(info["where"]))}: not shown. '
            "The copies of the paper searched for this build hold only its abstract, and a number not read "
            "in the paper would mislead; docs/report.md lists them, and an entry in tlsmon/report/paper.py "
            "prints one here beside its measured value.</p>"
        )
    rows = "".join(
        f"<tr><td>{escape(str(v['label']))}</td><td>{escape(str(v['where']))}<br><small>"
        f"{escape(str(v['url']))}</small></td>"
        f'<td class="num">{v["published"]}</td><td class="num">{"—" if v["measured"] is None else v["measured"]}'
        "</td></tr>"
        for v in values
    )
    return (
        '<table class="paper"><caption>Published (NDSS 2016) beside measured</caption><thead><tr><th>value</th>'
        f"<th>where</th><th>published</th><th>measured</th></tr></thead><tbody>{rows}</tbody></table>"
    )


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;background:#fff}
main{max-width:60rem;margin:0 auto;padding:1.5rem 1.5rem 4rem}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;margin:2.5rem 0 .5rem;border-bottom:2px solid #0072B2;
padding-bottom:.2rem}
p{line-height:1.45;max-width:52rem}.meta{color:#444;font-size:.9rem}
nav ol{columns:2;font-size:.95rem}nav a{color:#0057a0}
table{border-collapse:collapse;margin:1rem 0;font-size:.85rem;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:.3rem 0;caption-side:top}
caption code{font-weight:400;color:#666;font-size:.8rem}
caption .note{display:block;font-weight:400;color:#555;font-size:.8rem}table.kv{min-width:26rem}
th,td{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:#f3f6f9;font-weight:600}td.num{text-align:right;white-space:nowrap}
td.na,td.empty{color:#888}tr.total td{font-weight:600;border-top:2px solid #999}
.pct{color:#666;font-size:.8em}.mono{font-family:ui-monospace,monospace}
figure{margin:1rem 0}figure svg{max-width:100%;height:auto}
.how{background:#f7f7f7;border-left:4px solid #0072B2;padding:.5rem .9rem;margin:.6rem 0}
.how p{margin:.3rem 0}.paper{background:#fff8e6;border-left:4px solid #E69F00;padding:.5rem .9rem}
.paper small{overflow-wrap:anywhere}
"""


def write_html(path: Path, meta: Mapping[str, object], sections: Sequence[Section], tables: Mapping[str, Table],
               charts: Mapping[str, str | None]) -> None:
    dataset = meta["dataset"]
    assert isinstance(dataset, dict)
    window = ", ".join(
        f"{k} {dataset[k]}" for k in ("since", "until") if dataset.get(k)
    ) or "whole dataset"
    roots = ", ".join(dataset.get("certifi_versions") or []) or "not recorded"
    toc = "".join(f'<li><a href="#{s.id}">{escape(s.title)}</a></li>' for s in sections)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>tlsmon report</title>",
        f"<style>{STYLE}</style></head><body><main>",
        "<h1>TLS in the wild — tlsmon report</h1>",
        f'<p class="meta">Datasets: {escape(", ".join(dataset["datasets"]))} '
        f'({_files(dataset["connection_files"], "connection")}, '
        f'{_files(dataset["certificate_files"], "certificate")}). '
        f"Window: {escape(window)}. Tor-like certificates: "
        f'{"excluded" if dataset["exclude_tor"] else "included"}. Mozilla root store: certifi {escape(roots)}. '
        f"Generated {escape(str(meta['generated_at']))} by tlsmon {escape(str(meta['tlsmon_version']))}. "
        "Every number is also in report.json and tables/*.csv.</p>",
        f"<nav><ol>{toc}</ol></nav>",
    ]
    for s in sections:
        parts.append(f'<section id="{s.id}"><h2>{escape(s.title)}</h2>')
        parts.append(
            f'<div class="how"><p><strong>How it is computed.</strong> {escape(s.method)}</p>'
            f"<p><strong>Left out.</strong> {escape(s.left_out)}</p></div>"
        )
        chart = charts.get(s.id)
        if chart:
            parts.append(f'<figure class="chart" id="fig-{s.id}" role="img" aria-label="{escape(s.title)}: chart of '
                         f'the table below">{chart}</figure>')
        for spec in s.tables:
            parts.append(_table_html(spec, tables[spec.name]))
        parts.append(_paper_html(s, tables))
        parts.append("</section>")
    parts.append("</main></body></html>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
