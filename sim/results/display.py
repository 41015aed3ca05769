"""Notebook display: results as compact HTML, a headline table beside a figure.

Jupyter shows an object by its ``_repr_html_``; run, comparison and sweep results build
theirs with these helpers: an HTML table of already formatted cells and a figure inlined
as a base64 PNG. A run's own summary (:func:`run_html`) is drawn here from its statistics
alone, since results sit below the reports (docs/architecture.md); comparisons and sweeps
draw theirs with their report figures.
"""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING

import matplotlib
from matplotlib.figure import Figure

from sim.months import month_label, parse_month
from sim.stats.survival import horizon_estimates

if TYPE_CHECKING:
    from sim.results.result import RunResult

DPI = 100
"""Resolution of inline figures: sharp on a screen, a few tens of kilobytes."""
_PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def html_table(header: list[str], rows: list[list[str]], caption: str | None = None) -> str:
    """An HTML table of text cells (escaped), the first column left-aligned."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td style="text-align:{"left" if i == 0 else "right"}">{html.escape(c)}</td>'
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    title = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def figure_html(figure: Figure, width: int = 480) -> str:
    """A figure as an inline PNG image."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{encoded}" width="{width}"/>'


def summary_html(title: str, table: str, figure: Figure | None, note: str = "") -> str:
    """A title, the table and the figure side by side (wrapping on a narrow screen)."""
    picture = f"<div>{figure_html(figure)}</div>" if figure is not None else ""
    footer = f"<p><small>{html.escape(note)}</small></p>" if note else ""
    return (
        f"<div><p><b>{html.escape(title)}</b></p>"
        '<div style="display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start">'
        f"<div>{table}</div>{picture}</div>{footer}</div>"
    )


def _label(result: RunResult, domain: str) -> str:
    scenario = result.scenario
    found = scenario.channels.get(domain) or scenario.treaties.get(domain)
    return (found.label if found is not None else None) or domain.replace("_", " ").capitalize()


def run_html(result: RunResult) -> str:
    """A run as HTML: P(alive) with Wilson 95% intervals at the report horizons, and curves."""
    scenario = result.scenario
    start = parse_month(scenario.start)
    horizons = [h for h in scenario.report_horizons if h <= scenario.horizon]
    estimates = horizon_estimates(result.summary, horizons).set_index(["domain", "horizon"])
    header = ["Domain", *(month_label(start + h) for h in horizons)]
    rows = [
        [_label(result, domain)]
        + [
            f"{estimates.loc[(domain, h), 'p_survive']:.2f} "
            f"[{estimates.loc[(domain, h), 'ci_low']:.2f}, "
            f"{estimates.loc[(domain, h), 'ci_high']:.2f}]"
            for h in horizons
        ]
        for domain in result.summary.life_tables
    ]
    survival = result.survival
    with matplotlib.rc_context({"font.size": 7, "axes.spines.top": False,
                                "axes.spines.right": False}):  # fmt: skip
        figure = Figure(figsize=(4.8, 3.0), layout="constrained")
        ax = figure.subplots()
        for index, domain in enumerate(result.summary.life_tables):
            curve = survival[survival.domain == domain]
            ax.step(curve.month, curve.p_survive, where="post", linewidth=0.9,
                    color=_PALETTE[index % len(_PALETTE)],
                    linestyle=("-", "--", ":")[index // len(_PALETTE) % 3],
                    label=_label(result, domain))  # fmt: skip
        ax.set_ylim(0, 1.02)
        ax.set_xlim(0, scenario.horizon)
        ax.set_xlabel(f"months from {month_label(start)}")
        ax.set_ylabel("P(alive)")
        ax.legend(fontsize=5, frameon=False, loc="lower left", ncols=2)
    where = f"; saved in {result.directory}" if result.directory else ""
    note = (
        f"Seed {result.seed}, {result.replications:,} replications, sha256 "
        f"{result.manifest.get('scenario_sha256', '')[:12]}{where}. Cells: P(alive) "
        "[Wilson 95% interval]."
    )
    title = f"Run of {scenario.name}: P(channel alive)"
    return summary_html(title, html_table(header, rows), figure, note)
