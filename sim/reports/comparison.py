"""Comparisons of runs on common random numbers: paired differences, tables and figures.

Runs of several scenarios with the same seed and chunk size share every random number
drawn for what they have in common (see :mod:`sim.model.streams`), so replication i of
one and replication i of another form a pair, and paired statistics are much tighter
than those of independent runs:

- P(alive) at each horizon, each scenario with its Wilson interval, and the paired
  difference from the baseline with Newcombe's hybrid score interval for paired
  proportions (method 10);
- the difference of restricted mean survival times (months alive within the horizon),
  a mean of paired differences with a normal interval;
- the difference of median survival, with a paired bootstrap percentile interval;
- the mean intensity of each domain at each horizon, and the mean of the paired
  differences of the replications' intensities, with normal intervals.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.model.streams import Stream, study_sequence
from sim.months import iso_month, month_label, parse_month
from sim.reports import figures
from sim.reports.tables import (
    domain_label,
    headline_table,
    interval_cell,
    interval_digits,
    latex_float,
    markdown_grid,
    smaller,
    smaller_if_widened,
)
from sim.results import RunResult
from sim.results.rundir import safe_name
from sim.stats.intensity import mean_interval, paired_mean_difference, tally_means
from sim.stats.survival import PairedTable, newcombe_paired, normal_quantile, wilson_bounds
from sim.storage import write_text

NO_DIFFERENCE = 0.01
"""Differences of P(alive) smaller than this are shaded as no difference in the figure."""
MIN_DIFFERENCE_AXIS = 0.05
"""The difference panels span at least ±this, so that noise of ±0.001 looks like noise."""

COLUMNS = [
    "scenario", "baseline", "domain", "measure", "horizon", "date",
    "value", "value_low", "value_high",
    "baseline_value", "baseline_low", "baseline_high",
    "difference", "difference_low", "difference_high", "method",
]  # fmt: skip


def paired_differences(results: dict[str, RunResult], baseline: str) -> pd.DataFrame:
    """Each scenario against the baseline, per domain: survival, differences, intervals.

    Args:
        results: Runs of the scenarios with the same seed, replications, chunk size and
            horizon, by scenario name.
        baseline: The name of the run the others are compared with.

    Returns:
        A tidy table with the columns of :data:`COLUMNS`: for each scenario other than the
        baseline, domain and measure (``p_alive`` at each report horizon, ``median`` and
        ``rmst`` over the run's horizon, ``mean_intensity`` at each report horizon), the
        scenario's value, the baseline's, and their difference with its 95% interval.
    """
    base = results[baseline]
    start = parse_month(base.scenario.start)
    headlines = {name: headline_table(result) for name, result in results.items()}
    rows: list[dict[str, Any]] = []
    for name, tables in paired_tables(results, baseline).items():
        for domain, table in tables.items():
            common = {"scenario": name, "baseline": baseline, "domain": domain}
            rows += alive_rows(table, base.scenario.report_horizons, start, common)
            summaries = (headlines[name].loc[domain], headlines[baseline].loc[domain])
            rows += _summary_rows(table, base, summaries, common)
            rows += _intensity_rows(results[name], base, domain, start, common)
    return pd.DataFrame(rows, columns=COLUMNS)


def _intensity_rows(
    result: RunResult, base: RunResult, domain: str, start: int, common: dict
) -> list[dict]:
    """Mean intensity at each report horizon: each run's, and their paired difference."""
    ours, theirs = result.outcomes, base.outcomes
    mine = ours.intensity_at[ours.channels.index(domain)]
    baseline = theirs.intensity_at[theirs.channels.index(domain)]
    rows = []
    for h in base.scenario.report_horizons:
        value = mine[ours.report_horizons.index(h)]
        base_value = baseline[theirs.report_horizons.index(h)]
        estimate, low, high = mean_interval(value)
        base_estimate, base_low, base_high = mean_interval(base_value)
        difference, difference_low, difference_high = paired_mean_difference(value, base_value)
        rows.append(
            {
                **common,
                "measure": "mean_intensity",
                "horizon": h,
                "date": iso_month(start + h),
                "value": estimate,
                "value_low": low,
                "value_high": high,
                "baseline_value": base_estimate,
                "baseline_low": base_low,
                "baseline_high": base_high,
                "difference": difference,
                "difference_low": difference_low,
                "difference_high": difference_high,
                "method": "mean over replications [normal]; paired difference: mean of the "
                "replications' differences [normal]",
            }
        )
    return rows


def paired_tables(
    results: dict[str, RunResult], baseline: str
) -> dict[str, dict[str, PairedTable]]:
    """Each scenario's outcomes paired with the baseline's, by scenario and domain."""
    base = results[baseline]
    pairs = {}
    for name, result in results.items():
        if name == baseline:
            continue
        pairs[name] = {}
        for row, domain in enumerate(base.outcomes.channels):
            other = result.outcomes.channels.index(domain)
            pairs[name][domain] = PairedTable.from_outcomes(
                (result.outcomes.month[other], result.outcomes.event[other]),
                (base.outcomes.month[row], base.outcomes.event[row]),
                base.scenario.horizon,
            )
    return pairs


def alive_rows(table: PairedTable, horizons: list[int], start: int, common: dict) -> list[dict]:
    """Rows of P(alive) at each horizon: scenario, baseline and their paired difference.

    Args:
        table: The paired two-by-two counts of one domain.
        horizons: Months from the start to report.
        start: The scenario's start month (months since year 0).
        common: Columns every row carries (scenario, baseline, domain).

    Returns:
        One comparison-table row per horizon, with Wilson and Newcombe 95% intervals.
    """
    both, scenario_only, baseline_only, neither = table.two_by_two()
    n = both[0] + scenario_only[0] + baseline_only[0] + neither[0]
    rows = []
    for h in horizons:
        cells = (both[h], scenario_only[h], baseline_only[h], neither[h])
        difference, low, high = newcombe_paired(*cells)
        value_low, value_high = wilson_bounds(both[h] + scenario_only[h], n)
        base_low, base_high = wilson_bounds(both[h] + baseline_only[h], n)
        rows.append(
            {
                **common,
                "measure": "p_alive",
                "horizon": h,
                "date": iso_month(start + h),
                "value": (both[h] + scenario_only[h]) / n,
                "value_low": value_low,
                "value_high": value_high,
                "baseline_value": (both[h] + baseline_only[h]) / n,
                "baseline_low": base_low,
                "baseline_high": base_high,
                "difference": difference,
                "difference_low": low,
                "difference_high": high,
                "method": "Wilson; paired difference: Newcombe hybrid score (method 10)",
            }
        )
    return rows


def _summary_rows(
    table: PairedTable, base: RunResult, summaries: tuple[pd.Series, pd.Series], common: dict
) -> list[dict]:
    """Median and RMST rows; ``summaries``: the scenario's and the baseline's headline rows."""
    horizon = base.scenario.horizon
    date = iso_month(parse_month(base.scenario.start) + horizon)
    scenario, baseline = summaries
    rng = np.random.default_rng(study_sequence(base.seed, Stream.BOOTSTRAP, f"{common}"))
    difference, low, high = table.median_difference(rng)
    rmst_difference, rmst_low, rmst_high = table.restricted_mean_difference()
    z = normal_quantile(0.95)
    return [
        {
            **common,
            "measure": "median",
            "horizon": horizon,
            "date": date,
            "value": scenario["median"],
            "value_low": scenario["median_low"],
            "value_high": scenario["median_high"],
            "baseline_value": baseline["median"],
            "baseline_low": baseline["median_low"],
            "baseline_high": baseline["median_high"],
            "difference": difference,
            "difference_low": low,
            "difference_high": high,
            "method": "months; empty: not reached; difference: paired bootstrap, 1000 resamples",
        },
        {
            **common,
            "measure": "rmst",
            "horizon": horizon,
            "date": date,
            "value": scenario["rmst"],
            "value_low": scenario["rmst"] - z * scenario["rmst_se"],
            "value_high": scenario["rmst"] + z * scenario["rmst_se"],
            "baseline_value": baseline["rmst"],
            "baseline_low": baseline["rmst"] - z * baseline["rmst_se"],
            "baseline_high": baseline["rmst"] + z * baseline["rmst_se"],
            "difference": rmst_difference,
            "difference_low": rmst_low,
            "difference_high": rmst_high,
            "method": "months alive within the horizon; paired difference: normal interval",
        },
    ]


def _difference(row, digits: int) -> str:
    """A row's difference from the baseline as a cell, a gain marked with ``+``."""
    return interval_cell(row.difference, row.difference_low, row.difference_high, digits, True)


def horizon_rows(table: pd.DataFrame, results: dict[str, RunResult], horizon: int):
    """Date, header and rows of the comparison at one horizon: P(alive) and differences."""
    baseline = table.baseline.iloc[0]
    names = list(dict.fromkeys(table.scenario))
    base = results[baseline]
    date = month_label(parse_month(base.scenario.start) + horizon)
    header = ["Domain", baseline]
    for name in names:
        header += [name, f"Δ {name}"]
    rows = []
    alive = table[(table.measure == "p_alive") & (table.horizon == horizon)]
    for domain in base.domains:
        here = alive[alive.domain == domain]
        first = here.iloc[0]
        cells = [domain_label(base.scenario, domain)]
        cells.append(interval_cell(first.baseline_value, first.baseline_low, first.baseline_high))
        for line in here.itertuples():
            cells.append(interval_cell(line.value, line.value_low, line.value_high))
            cells.append(_difference(line, digits=2))
        rows.append(cells)
    return date, header, rows


def horizon_summary_rows(table: pd.DataFrame, results: dict[str, RunResult]):
    """Header and rows of the differences over the whole horizon: RMST and median."""
    baseline = table.baseline.iloc[0]
    base = results[baseline]
    names = list(dict.fromkeys(table.scenario))
    header = ["Domain"]
    for name in names:
        header += [f"ΔRMST {name}", f"Δmedian {name}"]
    rows = []
    for domain in base.domains:
        here = table[table.domain == domain]
        cells = [domain_label(base.scenario, domain)]
        for name in names:
            rmst = here[(here.measure == "rmst") & (here.scenario == name)].iloc[0]
            median = here[(here.measure == "median") & (here.scenario == name)].iloc[0]
            cells += [_difference(rmst, digits=1), _difference(median, digits=0)]
        rows.append(cells)
    return header, rows


def intensity_rows(table: pd.DataFrame, results: dict[str, RunResult], scenario: str):
    """Header and rows of one scenario's paired differences of mean intensity, by horizon.

    Channels only: a treaty's mean "intensity" is the share in force, which the P(alive)
    tables already give.
    """
    baseline = table.baseline.iloc[0]
    base = results[baseline]
    start = parse_month(base.scenario.start)
    horizons = base.scenario.report_horizons
    header = ["Domain", *(month_label(start + h) for h in horizons)]
    here = table[(table.measure == "mean_intensity") & (table.scenario == scenario)]
    here = here.set_index(["domain", "horizon"])
    rows = []
    for domain in base.domains:
        if domain in base.scenario.treaties:
            continue
        cells = [domain_label(base.scenario, domain)]
        cells += [_difference(here.loc[(domain, h)], digits=2) for h in horizons]
        rows.append(cells)
    return header, rows


def write_comparison(
    table: pd.DataFrame, results: dict[str, RunResult], directory: Path
) -> list[Path]:
    """Write ``comparison.csv``, ``.md``, ``.tex`` and the figures into ``directory``."""
    baseline = table.baseline.iloc[0]
    base = results[baseline]
    written = []
    write_text(directory / "comparison.csv", table.to_csv(index=False))
    written.append(directory / "comparison.csv")
    n = base.replications
    note = (
        f"Common random numbers: seed {base.seed}, {n:,} replications per scenario. "
        "Cells: P(alive) [Wilson 95%]; Δ: paired difference from the baseline [Newcombe 95%]; "
        "ΔRMST: difference in months alive within the horizon [normal 95%]; Δmedian: "
        "difference in median survival [paired bootstrap 95%], NR: not reached."
    )
    names = list(dict.fromkeys(table.scenario))
    # Each what-if adds two columns: beyond one, a smaller type keeps a text column's width.
    size = r"\small" if len(names) == 1 else r"\footnotesize"
    markdown, latex = [], []
    for horizon in base.scenario.report_horizons:
        date, header, rows = horizon_rows(table, results, horizon)
        title = f"P(alive) in {date}, compared with {baseline}"
        markdown += [markdown_grid(header, rows, title), ""]
        groups = [("", 1), (baseline, 1), *((name, 2) for name in names)]
        columns = ["Domain", "P(alive)", *(["P(alive)", "Δ"] * len(names))]
        here = table[(table.measure == "p_alive") & (table.horizon == horizon)]
        bounds = [
            pair
            for prefix in ("value", "baseline", "difference")
            for pair in zip(here[f"{prefix}_low"], here[f"{prefix}_high"], strict=True)
        ]
        fitted = smaller_if_widened(size, bounds)
        latex.append(
            latex_float(title, f"tab:compare-{horizon}", columns, rows, note, groups, fitted)
        )
    header, rows = horizon_summary_rows(table, results)
    end = month_label(parse_month(base.scenario.start) + base.scenario.horizon)
    title = f"Differences from {baseline} over the horizon (to {end}), in months"
    markdown += [markdown_grid(header, rows, title), ""]
    groups = [("", 1), *((name, 2) for name in names)]
    columns = ["Domain", *(["ΔRMST", "Δmedian"] * len(names))]
    widened = any(
        interval_digits(row.difference_low, row.difference_high, digits) > digits
        for measure, digits in (("rmst", 1), ("median", 0))
        for row in table[table.measure == measure].itertuples()
    )
    fitted = smaller(size) if widened else size
    latex.append(latex_float(title, "tab:compare-horizon", columns, rows, note, groups, fitted))
    intensity_note = (
        f"Common random numbers: seed {base.seed}, {n:,} replications per scenario. Cells: "
        f"paired difference of mean intensity (0 to 1) from {baseline} [normal 95%]."
    )
    for name in names:
        header, rows = intensity_rows(table, results, name)
        title = f"Mean intensity, {name} − {baseline}"
        markdown += [markdown_grid(header, rows, title), ""]
        label = f"tab:compare-intensity-{safe_name(name).replace('_', '-')}"
        # Signed intervals in four horizon columns need a size below the headline's; a
        # third decimal (a narrow interval) needs one more, a fifth one more again.
        decimals = max(
            (
                len(found)
                for row in rows
                for cell in row[1:]
                for found in re.findall(r"\.(\d+)", cell)
            ),
            default=2,
        )
        size = r"\footnotesize" if decimals <= 2 else r"\scriptsize" if decimals <= 4 else r"\tiny"
        latex.append(latex_float(title, label, header, rows, intensity_note, size=size))
    markdown += [f"_{note} Mean intensity: {intensity_note.split('Cells: ')[1]}_", ""]
    write_text(directory / "comparison.md", "\n".join(markdown))
    write_text(directory / "comparison.tex", "\n".join(latex))
    written += [directory / "comparison.md", directory / "comparison.tex"]
    for name, build in (
        ("comparison", comparison_figure),
        ("comparison-intensity", intensity_comparison_figure),
    ):
        figure = build(table, results)
        for kind in ("png", "pdf"):
            figures.save(figure, directory / f"{name}.{kind}")
            written.append(directory / f"{name}.{kind}")
    return written


def comparison_figure(table: pd.DataFrame, results: dict[str, RunResult]) -> Figure:
    """Curves of every scenario, and below each domain the paired difference with its band."""
    baseline = table.baseline.iloc[0]
    base = results[baseline]
    names = [baseline, *dict.fromkeys(table.scenario)]
    domains = list(base.domains)
    pairs = paired_tables(results, baseline)
    columns = min(4, len(domains))
    rows = -(-len(domains) // columns)
    start = parse_month(base.scenario.start)
    horizon = base.scenario.horizon
    months = np.arange(horizon + 1)
    differences = {
        name: {domain: newcombe_paired(*pairs[name][domain].two_by_two()) for domain in domains}
        for name in names[1:]
    }
    widest = max(
        float(np.nanmax(np.abs(bound)))
        for by_domain in differences.values()
        for _, low, high in by_domain.values()
        for bound in (low, high)
    )
    limit = max(MIN_DIFFERENCE_AXIS, np.ceil(widest * 1.1 / 0.05) * 0.05)
    with figures.style():
        figure = Figure(figsize=(figures.DOUBLE_COLUMN, 2.3 * rows + 0.6), layout="constrained")
        grid = figure.add_gridspec(2 * rows, columns, height_ratios=[2, 1] * rows)
        for index, domain in enumerate(domains):
            row, column = divmod(index, columns)
            top = figure.add_subplot(grid[2 * row, column])
            bottom = figure.add_subplot(grid[2 * row + 1, column], sharex=top)
            for colour, name in zip(figures.OKABE_ITO, names, strict=False):
                curve = results[name].survival
                curve = curve[curve.domain == domain]
                figures.step_band(
                    top, months, curve.p_survive, curve.ci_low, curve.ci_high, colour, name
                )
            # Differences share one axis across domains, wide enough that Monte Carlo noise
            # (a few thousandths) looks as small as it is, with the band of no difference.
            bottom.axhspan(-NO_DIFFERENCE, NO_DIFFERENCE, color="0.9", linewidth=0)
            bottom.axhline(0, color="grey", linewidth=0.5)
            for colour, name in zip(figures.OKABE_ITO[1:], names[1:], strict=False):
                difference, low, high = differences[name][domain]
                figures.step_band(bottom, months, difference, low, high, colour)
            bottom.set_ylim(-limit, limit)
            top.set_title(domain_label(base.scenario, domain))
            top.set_ylim(0, 1.02)
            top.tick_params(labelbottom=False)
            figures.year_ticks(bottom, start, horizon)
            if column == 0:
                top.set_ylabel("P(alive)")
                bottom.set_ylabel("Δ vs base")
        handles, labels = top.get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside upper center", ncols=len(names), frameon=False)
        caption = (
            f"Scenarios on common random numbers ({base.replications:,} replications "
            f"each, seed {base.seed}): P(alive) with pointwise 95% log-log bands (upper panels) "
            f"and the paired difference from {baseline} with pointwise Newcombe 95% bands "
            f"(lower panels, on one scale for all domains; grey band: |Δ| < {NO_DIFFERENCE:g})."
        )
        figure.supxlabel("\n".join(textwrap.wrap(caption, 150)), fontsize=6, x=0.0, ha="left")
    return figure


def intensity_comparison_figure(table: pd.DataFrame, results: dict[str, RunResult]) -> Figure:
    """Mean intensity of every scenario by month, and below it the paired difference.

    One pair of panels per channel: above, each scenario's mean intensity month by month
    (from its tally); below, the paired difference of mean intensity from the baseline at
    each report horizon, with its 95% interval.
    """
    baseline = table.baseline.iloc[0]
    base = results[baseline]
    names = [baseline, *dict.fromkeys(table.scenario)]
    domains = [d for d in base.domains if d not in base.scenario.treaties]
    columns = min(4, len(domains))
    rows = -(-len(domains) // columns)
    start = parse_month(base.scenario.start)
    horizon = base.scenario.horizon
    months = np.arange(horizon + 1)
    means = {name: tally_means(results[name].summary.intensity) for name in names}
    intensity = table[table.measure == "mean_intensity"]
    with figures.style():
        figure = Figure(figsize=(figures.DOUBLE_COLUMN, 2.3 * rows + 0.6), layout="constrained")
        grid = figure.add_gridspec(2 * rows, columns, height_ratios=[2, 1] * rows)
        for index, domain in enumerate(domains):
            row, column = divmod(index, columns)
            top = figure.add_subplot(grid[2 * row, column])
            bottom = figure.add_subplot(grid[2 * row + 1, column], sharex=top)
            for colour, name in zip(figures.OKABE_ITO, names, strict=False):
                line = results[name].outcomes.channels.index(domain)
                top.plot(months, means[name][line], color=colour, label=name)
            for offset, (colour, name) in enumerate(
                zip(figures.OKABE_ITO[1:], names[1:], strict=False)
            ):
                here = intensity[(intensity.scenario == name) & (intensity.domain == domain)]
                shift = (offset - (len(names) - 2) / 2) * min(2.0, horizon / 60)
                difference = here.difference.to_numpy()
                bottom.errorbar(
                    here.horizon.to_numpy() + shift, difference,
                    yerr=[difference - here.difference_low.to_numpy(),
                          here.difference_high.to_numpy() - difference],
                    color=colour, fmt="o", markersize=2, linewidth=0.8, capsize=1.5,
                )  # fmt: skip
            bottom.axhline(0, color="grey", linewidth=0.5)
            top.set_title(domain_label(base.scenario, domain))
            top.set_ylim(0, 1.02)
            top.tick_params(labelbottom=False)
            figures.year_ticks(bottom, start, horizon)
            bottom.set_xlim(-2, horizon + 3)  # room for the markers at the last horizon
            if column == 0:
                top.set_ylabel("mean intensity")
                bottom.set_ylabel("Δ vs base")
        handles, labels = top.get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside upper center", ncols=len(names), frameon=False)
        caption = (
            f"Scenarios on common random numbers ({base.replications:,} replications "
            f"each, seed {base.seed}): mean intensity of each channel by month (upper panels) "
            f"and the paired difference from {baseline} at the report horizons with 95% "
            "normal intervals (lower panels)."
        )
        figure.supxlabel("\n".join(textwrap.wrap(caption, 150)), fontsize=6, x=0.0, ha="left")
    return figure
