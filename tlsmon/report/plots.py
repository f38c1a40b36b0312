"""Charts of the report: matplotlib (Agg, no display), returned as inline SVG so the HTML works from file://.

Every chart has labelled axes with units, ports in numeric order (top to bottom) with their service name,
and the aggregate row ('all') last. Shares are percentages of the row's total, which is printed on the bar.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

SERVICES: dict[int, str] = {
    21: "ftp", 24: "lmtp", 25: "smtp", 80: "http", 110: "pop3", 119: "nntp", 143: "imap", 194: "irc",
    389: "ldap", 443: "https", 465: "smtps", 563: "nntps", 587: "submission", 636: "ldaps", 853: "dns-tls",
    989: "ftps-data", 990: "ftps", 993: "imaps", 995: "pop3s", 1080: "socks", 3128: "http-proxy",
    3306: "mysql", 3389: "rdp", 4190: "sieve", 5222: "xmpp-c2s", 5223: "xmpp-tls", 5269: "xmpp-s2s",
    5432: "postgresql", 6667: "irc", 6697: "ircs", 8080: "http-alt", 8443: "https-alt",
}

# Colour-blind-safe palette (Okabe & Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000", "#999999")

plt.rcParams.update({
    "font.size": 9, "axes.titlesize": 10, "axes.spines.top": False, "axes.spines.right": False,
    "svg.fonttype": "none", "svg.hashsalt": "tlsmon",
})


def port_label(port: str) -> str:
    """'25 smtp' for a known port, 'all ports' and 'other ports' for the aggregate rows."""
    if port in ("all", "other"):
        return f"{port} ports"
    name = SERVICES.get(int(port))
    return f"{port} {name}" if name else port


def to_svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _legend_below(ax: Axes, columns: int) -> None:
    """The legend under the x-axis label, at the same distance whatever the chart's height."""
    fig = ax.get_figure(root=True)
    inches = ax.get_position().height * (fig.get_figheight() if isinstance(fig, Figure) else 4.0)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.6 / max(inches, 0.5)), ncol=columns, frameon=False,
              fontsize=8)


def _height(rows: float) -> float:
    return 1.0 + 0.32 * max(rows, 1)


def stacked_shares(
    labels: Sequence[str], totals: Sequence[int], series: Sequence[tuple[str, Sequence[int]]], title: str,
    xlabel: str = "share of connections (%)", ax: Axes | None = None, colors: Sequence[str] = PALETTE,
) -> Figure:
    """One horizontal 100 % bar per label, split into the series; each bar annotated with n = total."""
    fig: Figure
    if ax is None:
        fig, ax = plt.subplots(figsize=(8.5, _height(len(labels))))
    else:
        fig = ax.get_figure()  # type: ignore[assignment]
    ys = list(range(len(labels)))[::-1]
    left = [0.0] * len(labels)
    for i, (name, counts) in enumerate(series):
        shares = [100.0 * c / t if t else 0.0 for c, t in zip(counts, totals, strict=True)]
        ax.barh(ys, shares, left=left, color=colors[i % len(colors)], label=name, height=0.7)
        left = [a + b for a, b in zip(left, shares, strict=True)]
    for y, total in zip(ys, totals, strict=True):
        ax.text(101, y, f"n = {total:,}", va="center", fontsize=8)
    ax.set_yticks(ys, list(labels))
    ax.set_xlim(0, 100)
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left")
    _legend_below(ax, min(len(series), 6))
    return fig


def grouped_shares(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], title: str, xlabel: str,
) -> Figure:
    """Horizontal grouped bars of percentages (0 to 100), one group per label."""
    fig, ax = plt.subplots(figsize=(8.5, _height(len(labels) * max(1, len(series)) * 0.45)))
    n = len(series)
    width = 0.8 / max(n, 1)
    base = list(range(len(labels)))[::-1]
    for i, (name, values) in enumerate(series):
        ys = [b + 0.4 - width * (i + 0.5) for b in base]
        ax.barh(ys, [v or 0.0 for v in values], height=width, color=PALETTE[i % len(PALETTE)], label=name)
        for y, v in zip(ys, values, strict=True):
            ax.text((v or 0.0) + 1, y, "n/a" if v is None else f"{v:.1f}", va="center", fontsize=7,
                    color="#777" if v is None else "black")
    ax.set_yticks(base, list(labels))
    ax.set_xlim(0, 110)
    ax.set_xticks(range(0, 101, 20))
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left")
    _legend_below(ax, 1)
    return fig


def share_bar(labels: Sequence[str], shares: Sequence[float], title: str, xlabel: str, ax: Axes) -> None:
    """Horizontal bars of one percentage per label, the value printed at the end of each bar."""
    ys = list(range(len(labels)))[::-1]
    ax.barh(ys, shares, color=PALETTE[0], height=0.7)
    for y, v in zip(ys, shares, strict=True):
        ax.text(v + 1, y, f"{v:.1f}", va="center", fontsize=8)
    ax.set_xlim(0, 112)
    ax.set_xticks(range(0, 101, 20))
    ax.set_yticks(ys, list(labels))
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left")


def counts_bar(labels: Sequence[str], counts: Sequence[int], title: str, xlabel: str, ax: Axes) -> None:
    """Horizontal bars of plain counts with the value at the end of each bar."""
    ys = list(range(len(labels)))[::-1]
    ax.barh(ys, counts, color=PALETTE[0], height=0.7)
    top = max(counts) if counts else 1
    for y, c in zip(ys, counts, strict=True):
        ax.text(c + top * 0.01, y, f"{c:,}", va="center", fontsize=8)
    ax.set_xlim(0, top * 1.15 if top else 1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_yticks(ys, list(labels))
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left")


def panels(count: int, rows: int) -> tuple[Figure, list[Axes]]:
    fig, axes = plt.subplots(1, count, figsize=(8.5, _height(rows)), squeeze=False)
    fig.subplots_adjust(wspace=0.6)
    return fig, list(axes[0])
