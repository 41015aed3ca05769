"""Survival small multiples in Bokeh, whose data a page replaces without redrawing.

One panel per domain: P(alive) of the baseline and of the scenario, each with its
pointwise 95% band (the run's Kaplan–Meier curves, :attr:`sim.RunResult.survival`).
The live page sets new data from Python; the exported page swaps precomputed data in
the browser. Both draw the same figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from bokeh.layouts import gridplot
from bokeh.models import ColumnDataSource, LayoutDOM
from bokeh.plotting import figure

from sim.months import parse_month
from sim.reports.figures import OKABE_ITO
from sim.reports.tables import domain_label
from sim.results import RunResult
from sim.scenario import Scenario

CURVE_COLUMNS = ("p_survive", "ci_low", "ci_high")
DIGITS = 4
"""Decimals kept of the curves (far below their Monte Carlo error)."""
COLUMNS = 4


def domains(scenario: Scenario) -> list[str]:
    """The domains in the order of the reports: channels, then treaties."""
    return [*scenario.channels, *scenario.treaties]


def curve_data(result: RunResult) -> list[dict[str, list[float]]]:
    """Each domain's survival curve and band, as the plots' data (rounded)."""
    survival = result.survival
    out = []
    for domain in domains(result.scenario):
        curve = survival[survival.domain == domain]
        data = {"month": curve.month.tolist()}
        data.update({c: np.round(curve[c].to_numpy(), DIGITS).tolist() for c in CURVE_COLUMNS})
        out.append(data)
    return out


@dataclass
class SurvivalPlots:
    """The small multiples and the data sources of their two curves per domain."""

    layout: LayoutDOM
    scenario: list[ColumnDataSource]
    baseline: list[ColumnDataSource]

    def show(self, scenario: list[dict], baseline: list[dict]) -> None:
        """Replace both curves of every domain."""
        for sources, data in ((self.scenario, scenario), (self.baseline, baseline)):
            for source, curve in zip(sources, data, strict=True):
                source.data = curve


def survival_plots(
    scenario: Scenario, names: tuple[str, str] = ("scenario", "baseline")
) -> SurvivalPlots:
    """Empty small multiples of a scenario's domains, to fill with :meth:`SurvivalPlots.show`."""
    start = parse_month(scenario.start)
    ticks = list(range(0, scenario.horizon + 1, max(12, scenario.horizon // 60 * 12)))  # years
    plots, ours, theirs = [], [], []
    empty = {"month": [], **{c: [] for c in CURVE_COLUMNS}}
    for index, domain in enumerate(domains(scenario)):
        plot = figure(width=250, height=180, y_range=(0, 1.02), toolbar_location=None,
                      title=domain_label(scenario, domain), name=f"plot-{domain}")  # fmt: skip
        curves = (
            (OKABE_ITO[0], "baseline", names[1], theirs),
            (OKABE_ITO[1], "scenario", names[0], ours),
        )
        for colour, role, label, sources in curves:
            source = ColumnDataSource(dict(empty), name=f"{role}-{domain}")
            plot.varea(x="month", y1="ci_low", y2="ci_high", source=source, fill_color=colour,
                       fill_alpha=0.25)  # fmt: skip
            legend = {"legend_label": label} if index == 0 else {}
            plot.step(x="month", y="p_survive", source=source, color=colour, mode="after",
                      **legend)  # fmt: skip
            sources.append(source)
        plot.xaxis.ticker = ticks
        plot.xaxis.major_label_overrides = {m: str((start + m) // 12) for m in ticks}
        plot.yaxis.axis_label = "P(alive)" if index % COLUMNS == 0 else None
        if index == 0:
            plot.legend.location = "bottom_left"
            plot.legend.label_text_font_size = "8pt"
        plots.append(plot)
    return SurvivalPlots(gridplot(plots, ncols=COLUMNS, toolbar_location=None), ours, theirs)
