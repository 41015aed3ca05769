"""How one forecast moved across dated runs, as forecasting platforms draw a question's timeline.

The forecast is P(domain alive at the horizon) with its 95% interval, read from each run
directory's ``survival.csv``; its date is when the run started (``started_utc`` in the
manifest). Runs are drawn in date order, each with the scenario it ran, so that a jump can
be traced to a change of scenario, of world state or of model version (a scenario is
named on the figure where it first appears, or returns after another).
"""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from sim.errors import UserError, did_you_mean
from sim.months import iso_month, parse_month
from sim.reports import figures
from sim.reports.tables import domain_label
from sim.results.result import manifest_scenario
from sim.results.rundir import SURVIVAL, RunDirectory
from sim.storage import refuse_to_replace, write_text


def forecast_history(directories: list[str | Path], domain: str, horizon: int) -> pd.DataFrame:
    """P(domain alive at the horizon) in each run, in the order the runs started.

    Args:
        directories: Finished run directories.
        domain: A domain of every run.
        horizon: Months from each run's start (at most each run's horizon).

    Returns:
        Columns ``run`` (directory), ``run_date`` (UTC, ISO 8601), ``scenario``,
        ``version``, ``start``, ``target`` (the month forecast, ``YYYY-MM``),
        ``replications``, ``p_survive``, ``ci_low``, ``ci_high``.

    Raises:
        UserError: A directory that is not a finished run, a domain a run does not have
            (with the likeliest one meant), a horizon beyond a run.
    """
    if not directories:
        raise UserError("give at least one run directory")
    rows = []
    for path in map(Path, directories):
        directory = RunDirectory.existing(path, "run")
        manifest = directory.read_manifest()
        if manifest.get("status") != "complete":
            raise UserError(f"{path} holds an unfinished run: finish it with --resume first")
        domains = list(manifest["domains"])
        if domain not in domains:
            guess = did_you_mean(domain, domains)
            hint = f"; did you mean {guess}?" if guess else ""
            raise UserError(
                f"{path}: no domain {domain!r}{hint} (its domains: {', '.join(domains)})"
            )
        if not 1 <= horizon <= manifest["horizon"]:
            raise UserError(
                f"horizon {horizon} is beyond the run in {path}, which simulated "
                f"{manifest['horizon']} months: choose a horizon from 1 to {manifest['horizon']}"
            )
        survival = pd.read_csv(path / SURVIVAL)
        point = survival[(survival.domain == domain) & (survival.month == horizon)].iloc[0]
        rows.append({
            "run": str(path), "run_date": manifest["started_utc"],
            "scenario": manifest["scenario_name"],
            "version": manifest.get("packages", {}).get("alliance-sim"),
            "start": manifest["start"],
            "target": iso_month(parse_month(manifest["start"]) + horizon),
            "replications": manifest["replications"],
            "p_survive": float(point.p_survive), "ci_low": float(point.ci_low),
            "ci_high": float(point.ci_high),
        })  # fmt: skip
    return pd.DataFrame(rows).sort_values(["run_date", "run"], kind="stable", ignore_index=True)


MIN_SPAN = timedelta(days=1)
"""The least span of dates the figure's axis shows."""


def history_figure(table: pd.DataFrame, label: str, horizon: int) -> Figure:
    """The forecast of each run against the date it was made, with its 95% interval."""
    dates = [datetime.fromisoformat(d.replace("Z", "+00:00")) for d in table.run_date]
    with figures.style():
        figure = Figure(figsize=(figures.SINGLE_COLUMN, 2.6), layout="constrained")
        ax = figure.subplots()
        colour = figures.OKABE_ITO[0]
        p, low, high = (table[c].to_numpy() for c in ("p_survive", "ci_low", "ci_high"))
        ax.step(dates, p, where="post", color=colour, linewidth=0.6, alpha=0.6)
        ax.errorbar(
            dates, p, yerr=[p - low, high - p],
            fmt="o", markersize=2.5, color=colour, elinewidth=0.6, capsize=1.5,
        )  # fmt: skip
        # Each scenario is named where it first appears, or comes back after another.
        previous = None
        for date, row in zip(dates, table.itertuples(), strict=True):
            if row.scenario == previous:
                continue
            previous = row.scenario
            ax.annotate(row.scenario, (date, row.p_survive), xytext=(3, 3),
                        textcoords="offset points", fontsize=4.5, color="0.3")  # fmt: skip
        ax.set_ylim(0, 1.02)
        ax.set_ylabel(f"P({label} alive)")
        ax.set_xlabel("date of the run (UTC)")
        if max(dates) - min(dates) < MIN_SPAN:
            # Runs made within minutes (one session's): a day around them, which the date
            # locator can mark (it warns, and marks oddly, on a span of seconds).
            middle = min(dates) + (max(dates) - min(dates)) / 2
            ax.set_xlim(middle - MIN_SPAN / 2, middle + MIN_SPAN / 2)
        locator = AutoDateLocator(maxticks=6)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        caption = (
            f"P({label} alive {horizon} months after each run's start) as forecast by "
            f"{len(table)} runs, by the date each was made; bars: 95% intervals (chance)."
        )
        ax.set_title("\n".join(textwrap.wrap(caption, 70)), fontsize=6)
    return figure


def write_history(
    directories: list[str | Path],
    domain: str,
    horizon: int,
    stem: str | Path,
    force: bool = False,
) -> list[Path]:
    """Write ``<stem>.csv`` and ``<stem>.png``/``.pdf``: one forecast across dated runs.

    Raises:
        UserError: A run cannot answer (see :func:`forecast_history`), or one of the
            files exists (without ``force``), checked before any is written.
    """
    stem = Path(stem)
    paths = [stem.with_name(f"{stem.name}.{kind}") for kind in ("csv", "png", "pdf")]
    refuse_to_replace(paths, force)
    table = forecast_history(directories, domain, horizon)
    label = domain_label(manifest_scenario(RunDirectory(table.run.iloc[-1]).read_manifest()),
                         domain)  # fmt: skip
    try:
        stem.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create {stem.parent}: {error.strerror}") from None
    write_text(paths[0], table.to_csv(index=False))
    figure = history_figure(table, label, horizon)
    for path in paths[1:]:
        figures.save(figure, path)
    return paths
