"""Forecasts at a glance: fan charts over parameter draws, and when each domain ends.

Two figures a reader takes in at once, as forecasting platforms draw them:

- **Fan chart** (``fan-<group>.png``), for a run that draws parameters from a joint sample
  (``--parameter-uncertainty``): per domain and month, P(alive) under each draw of the
  sample, with its own sampling noise removed, gives a distribution over the draws; its
  50%, 80% and 90% central bands are drawn around the pooled P(alive), beside the chance
  only (Monte Carlo) 95% interval of the pooled estimate. The noise is removed as
  :mod:`sim.reports.uncertainty` removes it from the variance: each draw's estimate is
  pulled towards the mean of the draws by the factor
  sqrt(max(var − noise, 0) / var), so that the spread of the pulled estimates is the
  parameters' spread alone.
- **Termination dates** (``termination.png``, ``termination.csv``): per domain, the
  chance of ending in each calendar year (bars, the distribution's density by year) and of
  having ended by each year's end (line, its distribution function), from the
  Kaplan–Meier curve (exact here: every replication is followed to the horizon).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from sim.months import parse_month
from sim.reports import figures
from sim.reports.uncertainty import drawn_rows
from sim.results import RunResult

BANDS = ((0.90, 0.15), (0.80, 0.25), (0.50, 0.4))
"""Central bands of the fan (share of draws, opacity), widest first."""


def draw_survival(result: RunResult, group: str) -> tuple[np.ndarray, np.ndarray]:
    """P(alive) per domain, draw and month, each draw's sampling noise removed.

    Returns:
        ``(curves, pooled)``: ``curves[d, k, t]`` for the draws that some replication
        used, and ``pooled[d, t]`` over all replications.
    """
    drawn, rows = drawn_rows(result, group)
    counts = np.bincount(drawn, minlength=rows)
    used = counts > 0
    outcomes = result.outcomes
    months = result.scenario.horizon + 1
    curves, pooled = [], []
    for index in range(len(outcomes.channels)):
        ended = outcomes.event[index]
        cells = drawn[ended] * months + outcomes.month[index][ended].astype(np.int64)
        by_month = np.bincount(cells, minlength=rows * months).reshape(rows, months)[used]
        alive = 1 - np.cumsum(by_month, axis=1) / counts[used, None]
        mean = alive.mean(axis=0)
        spread = alive.var(axis=0)
        noise = np.mean(alive * (1 - alive) / np.maximum(counts[used, None] - 1, 1), axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(spread > 0, np.sqrt(np.maximum(spread - noise, 0) / spread), 0)
        curves.append(mean + factor * (alive - mean))
        pooled.append(1 - np.cumsum(by_month.sum(axis=0)) / counts.sum())
    return np.stack(curves), np.stack(pooled)


def fan_caption(result: RunResult, group: str, draws: int) -> str:
    """The fan chart's caption."""
    return (
        f"P(alive) per domain, scenario {result.scenario.name}, {result.replications:,} "
        f"replications over {draws:,} draws of the '{group}' sample: pooled estimate (line); "
        "bands of 50%, 80% and 90% of the draws, each draw's sampling noise removed "
        "(parameter uncertainty); dashed: the pooled estimate's 95% interval from chance "
        "alone (Monte Carlo error)."
    )


def fan_figure(result: RunResult, group: str, panels: figures.Panels | None = None) -> Figure:
    """Fan charts of P(alive) over the draws of a joint sample, beside chance alone.

    Args:
        result: The run.
        group: The joint sample.
        panels: The run's :class:`sim.reports.figures.Panels` to draw into (new ones if
            not given).
    """
    curves, pooled = draw_survival(result, group)
    domains = list(result.domains)
    survival = result.survival
    months = np.arange(curves.shape[2])
    colour = figures.OKABE_ITO[0]
    with figures.style():
        caption = fan_caption(result, group, curves.shape[1])
        figure, axes = (panels or figures.run_panels(result)).draw(caption, "P(alive)")
        for index, (ax, domain) in enumerate(zip(axes, domains, strict=True)):
            for share, alpha in BANDS:
                low, high = np.quantile(curves[index], [(1 - share) / 2, (1 + share) / 2], axis=0)
                ax.fill_between(months, low, high, step="post", color=colour, alpha=alpha,
                                linewidth=0, label=f"{share:.0%} of draws")  # fmt: skip
            ax.step(months, pooled[index], where="post", color=colour,
                    linewidth=figures.CURVE_WIDTH, label="pooled")  # fmt: skip
            curve = survival[survival.domain == domain]
            for bound, label in ((curve.ci_low, "chance 95%"), (curve.ci_high, None)):
                ax.step(curve.month, bound, where="post", color=figures.OKABE_ITO[7],
                        linewidth=0.5, linestyle=(0, (2, 1.5)), label=label)  # fmt: skip
        axes[0].legend(frameon=False, loc="lower left", fontsize=4.5)
    return figure


def termination_table(result: RunResult) -> pd.DataFrame:
    """Per domain and calendar year: the chance of ending in the year, and by its end.

    Returns:
        Columns ``domain, year, first_month, last_month`` (months from the start that the
        year covers within the horizon), ``p_end_in_year``, ``p_ended_by_end``;
        ``p_alive_at_horizon`` repeats, per domain, the chance of not ending at all.
    """
    start = parse_month(result.scenario.start)
    horizon = result.scenario.horizon
    survival = result.survival
    rows = []
    # The domains from the manifest, not from the outcomes: a run writes this table while
    # its outcomes file is still being written, and reading the outcomes would wait.
    for domain in result.domains:
        curve = survival[survival.domain == domain].set_index("month").p_survive
        at = curve.reindex(range(horizon + 1)).ffill().to_numpy()
        before = 0.0
        for year in range(start // 12, (start + horizon) // 12 + 1):
            first = max(year * 12 - start, 1)
            last = min(year * 12 + 11 - start, horizon)
            if last < first:
                continue
            ended = 1 - float(at[last])
            rows.append({
                "domain": domain, "year": year, "first_month": first, "last_month": last,
                "p_end_in_year": ended - before, "p_ended_by_end": ended,
                "p_alive_at_horizon": float(at[horizon]),
            })  # fmt: skip
            before = ended
    return pd.DataFrame(rows)


def termination_caption(result: RunResult) -> str:
    """The termination figure's caption."""
    return (
        f"When each domain ends, scenario {result.scenario.name}, {result.replications:,} "
        "replications: bars, the chance of ending in each calendar year (a part year at "
        "either end covers the months simulated); points, the chance of having ended by "
        "each year's end (or the horizon). What the last point leaves below 1 is the chance "
        "of not ending within the horizon."
    )


def termination_figure(
    result: RunResult, table: pd.DataFrame | None = None, panels: figures.Panels | None = None
) -> Figure:
    """Per domain: the distribution of the termination date by year (density and CDF).

    Args:
        result: The run.
        table: Its :func:`termination_table`, if the caller has it already.
        panels: The run's :class:`sim.reports.figures.Panels` to draw into (new ones if
            not given).
    """
    table = termination_table(result) if table is None else table
    domains = list(result.domains)  # see termination_table
    with figures.style():
        caption = termination_caption(result)
        figure, axes = (panels or figures.run_panels(result)).draw(caption, "P(ended)")
        for ax, domain in zip(axes, domains, strict=True):
            here = table[table.domain == domain]
            ends = np.minimum(here.last_month + 1, result.scenario.horizon)
            ax.plot([0, *ends], [0, *here.p_ended_by_end], color=figures.OKABE_ITO[0],
                    marker="o", markersize=1.5, label="by the year's end")  # fmt: skip
            # The bars, 0.8 of their year wide and centred on it, as one collection: drawn
            # at once, where separate patches would be drawn one by one. Added after the
            # line, so that the legend lists them second.
            span = (here.last_month - here.first_month + 1).to_numpy()
            left = here.first_month.to_numpy() + 0.1 * span
            right, top, bottom = left + 0.8 * span, here.p_end_in_year.to_numpy(), 0 * span
            corners = np.stack([[left, bottom], [left, top], [right, top], [right, bottom]])
            bars = PolyCollection(corners.transpose(2, 0, 1), facecolor=figures.OKABE_ITO[1],
                                  alpha=0.7, linewidth=0, label="in the year")  # fmt: skip
            ax.add_collection(bars, autolim=False)
        axes[0].legend(frameon=False, loc="upper left", fontsize=5)
    return figure
