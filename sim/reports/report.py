"""Reports of a run: tables, relationship-level measures, figures and a methods paragraph.

``write_reports`` turns a finished run into the files a paper needs, in its run
directory: ``table.md``, ``table.tex``, ``table.csv``, ``relationship.csv``,
``intensity.csv``, ``spells.csv``, ``co_failure.csv``, ``events.csv``,
``survival.png``/``.pdf``, ``alive.png``/``.pdf``, ``intensity.png``/``.pdf``,
``termination.csv``, ``termination.png``/``.pdf``, ``methods.md`` and, for a run that
draws parameters from a joint sample, ``uncertainty-<group>.csv``/``.md`` and the fan
chart ``fan-<group>.png``/``.pdf``. It works from the run's saved results (its
statistics, and its outcomes for the uncertainty tables), so ``alliance-sim report
DIR`` rebuilds them without simulating.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import textwrap
from collections.abc import Iterator
from concurrent.futures import BrokenExecutor, Executor, wait
from pathlib import Path

import numpy as np
import pandas as pd

from sim.defaults import REPORT_FORMATS
from sim.months import iso_month, month_label, parse_month
from sim.reports import figures, forecasts
from sim.reports.measures import (
    INTENSITY_FORMAT,
    measures_methods,
    run_co_failure,
    run_events,
    run_intensity,
    run_spells,
    spells_markdown,
)
from sim.reports.tables import (
    csv_table,
    domain_label,
    headline_table,
    latex_table,
    markdown_grid,
    markdown_table,
    provenance_line,
    word_list,
)
from sim.reports.uncertainty import run_groups, uncertainty_markdown, uncertainty_table
from sim.results import RunResult
from sim.results.rundir import RunDirectory
from sim.stats.survival import domains_alive
from sim.storage import write_text


def relationship_table(result: RunResult, headline: pd.DataFrame | None = None) -> pd.DataFrame:
    """Relationship-level measures at the report horizons.

    Args:
        result: A finished run.
        headline: Its :func:`sim.tables.headline_table`, if the caller has it already.

    Returns:
        One row per horizon: ``horizon, date``, ``p_<alliance channel>`` (if the scenario
        names one), ``mean`` and ``sd`` of the number of domains alive, and
        ``p_at_least_<k>`` for every k.
    """
    scenario = result.scenario
    horizons = scenario.report_horizons
    table = domains_alive(result.summary, horizons)
    start = parse_month(scenario.start)
    table.insert(1, "date", [iso_month(start + h) for h in horizons])
    core = scenario.alliance_channel
    if core is not None:
        headline = headline_table(result) if headline is None else headline
        table.insert(2, f"p_{core}", [headline.loc[core, f"p_{h}"] for h in horizons])
    return table


def _relationship_markdown(result: RunResult, table: pd.DataFrame) -> str:
    """The :func:`relationship_table` as Markdown."""
    domains = len(result.scenario.channels)
    half = -(-domains // 2)
    start = parse_month(result.scenario.start)
    core = result.scenario.alliance_channel
    header = ["Horizon", "Domains alive, mean (sd)", f"P(all {domains})", f"P(at least {half})"]
    header.append("P(at least 1)")
    if core:
        header.insert(1, f"P({domain_label(result.scenario, core)} alive)")
    rows = []
    for _, row in table.iterrows():
        cells = [month_label(start + int(row.horizon)), f"{row['mean']:.1f} ({row.sd:.1f})"]
        cells += [f"{row[f'p_at_least_{k}']:.2f}" for k in (domains, half, 1)]
        if core:
            cells.insert(1, f"{row[f'p_{core}']:.2f}")
        rows.append(cells)
    return markdown_grid(header, rows, title="Relationship-level measures") + "\n"


def methods_text(
    result: RunResult,
    table: pd.DataFrame | None = None,
    co_failures: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
) -> str:
    """A methods paragraph a paper can adapt, with the run's settings and error margins.

    Args:
        result: A finished run.
        table: Its headline table, if the caller has it already.
        co_failures: Its co-failure table (:func:`sim.reports.measures.run_co_failure`),
            if the caller has it already.
        events: Its events table (:func:`sim.reports.measures.run_events`), likewise.
    """
    manifest = result.manifest
    scenario = result.scenario
    table = headline_table(result) if table is None else table
    horizons = scenario.report_horizons
    errors = table[[f"se_{h}" for h in horizons]].to_numpy()
    n = result.replications
    start = month_label(parse_month(scenario.start))
    packages = manifest["packages"]
    commit = (manifest["git"].get("commit") or "unknown")[:12]
    dirty = " with uncommitted changes" if manifest["git"].get("dirty") else ""
    horizon_text = ", ".join(str(h) for h in horizons)
    paragraphs = [
        f"We simulated {n:,} replications of the scenario *{scenario.name}* (SHA-256 of the "
        f"resolved scenario {manifest['scenario_sha256']}) from {start} over "
        f"{scenario.horizon} months with alliance-sim {packages.get('alliance-sim')} (git "
        f"commit {commit}{dirty}; Mesa {packages.get('mesa')}, NumPy {packages.get('numpy')}, "
        f"SciPy {packages.get('scipy')}, Python {packages.get('python')}), using seed "
        f"{result.seed} and chunks of {manifest['chunk_size']:,} replications (random streams "
        "from NumPy's SeedSequence, spawned per chunk). The model is an agent-based model of "
        "state actors and the cooperation channels between them, described in the ODD "
        "protocol in docs/model.md of the software. A channel terminates when its intensity "
        f"stays below its threshold for {scenario.termination.dormancy_months} consecutive "
        "months (an abrupt rupture ends it only if it does not recover within them); "
        "survival of a domain at month t is the probability "
        "that its channel has not terminated by t.",
        "For each domain we estimated survival with the Kaplan–Meier estimator and pointwise "
        "95% confidence intervals on the log-log scale with Greenwood's variance (exponential "
        "Greenwood intervals). Because every replication is followed to the horizon, the "
        f"probability that a channel is alive at each report horizon ({horizon_text} months) "
        "is a binomial proportion, reported with a Wilson score 95% interval. The median "
        "survival is the first month at which the survival curve is at or below 0.5 (not "
        "reached, NR, if it stays above 0.5 within the horizon), with the interval given by "
        "the months at which the lower and upper confidence bands first reach 0.5 "
        "(Brookmeyer–Crowley). The restricted mean survival time is the area under the "
        "survival curve up to the horizon.",
        "These are Monte Carlo estimates. The Monte Carlo standard error of the probabilities "
        f"in the headline table, sqrt(p(1 − p)/{n:,}), ranges from {errors.min():.4f} to "
        f"{errors.max():.4f} (at most {0.5 / np.sqrt(n):.4f} for any probability); the "
        "intervals describe this simulation error, not uncertainty about the model's "
        "assumptions, which the scenario expresses through its events and parameter "
        "distributions.",
    ]
    last = horizons[-1]
    sure = [domain_label(scenario, d) for d in table.index if table.loc[d, f"p_{last}"] >= 0.99]
    if sure:
        one = len(sure) == 1
        paragraphs.append(
            f"{word_list(sure)} {'is' if one else 'are'} alive at {last} months in at least "
            f"99% of replications: nothing in this scenario moves {'its' if one else 'their'} "
            f"drivers far enough to end {'it' if one else 'them'}. That is a statement about "
            "the scenario, not a certainty; on past partnerships whose cooperation ended, "
            "the model was too sure that channels survive (calibration/report.md of the "
            "software, analogue backtest)."
        )
    body = "\n\n".join(textwrap.fill(p, 88) for p in paragraphs)
    if result.summary.co_ended is not None:
        co_failures = run_co_failure(result) if co_failures is None else co_failures
        events = run_events(result) if events is None else events
        body += "\n\n" + "\n\n".join(measures_methods(result, co_failures, events))
    return f"# Methods\n\n{body}\n\n{provenance_line(result)}\n"


@contextlib.contextmanager
def _young_objects_collected() -> Iterator[None]:
    """Leave the objects that exist already out of garbage collection for a while.

    Drawing figures makes hundreds of thousands of short-lived objects, which set off
    full collections; each would go through every object of the process as well (the
    run, its tables, the libraries: some 200,000), a few tenths of a second in all that
    finds nothing to free. Those are frozen (:func:`gc.freeze`) for the block.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _figure_names(intensity: bool, groups: list[str]) -> list[str]:
    """The run's figures, in the order they are drawn and listed.

    Args:
        intensity: Whether the run kept the intensity tally (its figure needs it).
        groups: The uncertainty groups, one fan figure each.
    """
    names = ["survival", "alive", *(["intensity"] if intensity else []), "termination"]
    return [*names, *(f"fan-{group}" for group in groups)]


def _write_figures(
    result: RunResult,
    target: Path,
    trend: pd.DataFrame | None,
    termination: pd.DataFrame,
    groups: list[str],
    summary_kinds: list[str],
    fan_kinds: list[str],
) -> None:
    """Draw the figures of a run and save each in its formats (``png``, ``pdf``).

    The figures drawn from the run's statistics are saved in ``summary_kinds``, the fan
    figures (which read its outcomes) in ``fan_kinds``; a figure with no format is not
    drawn.
    """
    jobs = [
        (name, fan_kinds if name.startswith("fan-") else summary_kinds)
        for name in _figure_names(trend is not None, groups)
    ]
    jobs = [(name, kinds) for name, kinds in jobs if kinds]
    if not jobs:
        return
    # The panel figures are drawn one after another into the same panels, each saved
    # before the next is drawn (see figures.Panels).
    panels = figures.run_panels(result)
    builds = {
        "survival": lambda: figures.survival_figure(result, panels),
        "alive": lambda: figures.alive_figure(result),
        "intensity": lambda: figures.intensity_figure(result, trend, panels),
        "termination": lambda: forecasts.termination_figure(result, termination, panels),
    }
    for group in groups:
        builds[f"fan-{group}"] = lambda group=group: forecasts.fan_figure(result, group, panels)
    for name, kinds in jobs:
        figure = builds[name]()
        for kind in kinds:
            figures.save(figure, target / f"{name}.{kind}")


def _keeps_measures(result: RunResult) -> bool:
    """Whether the run kept the intensity tally and co-endings (runs of the engine do)."""
    return result.summary.intensity is not None and result.summary.co_ended is not None


def write_summary_figures(result: RunResult, target: Path, kind: str) -> None:
    """Draw a run's figures from its statistics (all but the fan figures) in one format.

    The share of :func:`write_reports` that another process takes on, given the run
    without its outcomes (which it does not read).
    """
    trend = run_intensity(result) if _keeps_measures(result) else None
    termination = forecasts.termination_table(result)
    with _young_objects_collected():
        _write_figures(result, target, trend, termination, [], [kind], [])


def write_reports(
    result: RunResult,
    directory: str | Path | None = None,
    formats=REPORT_FORMATS,
    *,
    record: bool = True,
    intensity: bool = False,
    elsewhere: Executor | None = None,
) -> list[Path]:
    """Write tables, figures and ``methods.md`` for a run.

    Args:
        result: A finished run (from :func:`sim.run` or :func:`sim.load_run`).
        directory: Where to write (default: the run's own directory).
        formats: Any of ``md``, ``tex``, ``csv``, ``png``, ``pdf``.
        record: List the files in the run's manifest (off while the run itself is
            finishing, which records them).
        intensity: Add the expected intensity beside P(alive) at each horizon in the
            headline table (``table.md``, ``.tex``, ``.csv``).
        elsewhere: A pool of one other process that can import this package (see
            :func:`sim.engine.executors.side_process`): it draws the figures of the last
            format (:func:`write_summary_figures`) while this process writes the tables
            and the other figures. Drawing is most of the reports' time: on this
            project's 2-core machine the reports of 100,000 replications took 2.1-2.7 s
            this way and 2.8-3.4 s in one process (see the README). The files are the
            same either way; if the process cannot start, or dies, its figures are
            drawn here.

    Returns:
        The files written.
    """
    unknown = set(formats) - set(REPORT_FORMATS)
    if unknown:
        raise ValueError(f"unknown report formats: {', '.join(sorted(unknown))}")
    target = Path(directory or result.directory)
    written: list[Path] = []
    kinds = [kind for kind in ("png", "pdf") if kind in formats]
    here, away = kinds, None
    if kinds and elsewhere is not None:
        # Sent first: the other process loads the plotting libraries while this one
        # makes the tables. It gets the run without its outcomes, which it does not
        # read (and which a run may still be writing).
        portable = dataclasses.replace(result, _outcomes=None, _pending=None)
        with contextlib.suppress(BrokenExecutor):  # no other process: all drawn here
            away = elsewhere.submit(write_summary_figures, portable, target, kinds[-1])
            here = kinds[:-1]

    def text(name: str, content: str) -> None:
        write_text(target / name, content)
        written.append(target / name)

    try:
        headline = headline_table(result, intensity=intensity)
        relationship = relationship_table(result, headline)
        # Runs of the engine keep what these need; a summary made by hand may not.
        kept = _keeps_measures(result)
        spells = run_spells(result)
        co_failures = run_co_failure(result) if kept else None
        events = run_events(result)
        trend = run_intensity(result) if kept else None
        termination = forecasts.termination_table(result)
        groups = run_groups(result)
        if "md" in formats:
            markdown = markdown_table(result, headline) + "\n"
            markdown += _relationship_markdown(result, relationship) + "\n"
            text("table.md", markdown + spells_markdown(result, spells))
        if "tex" in formats:
            text("table.tex", latex_table(result, headline))
        if "csv" in formats:
            text("table.csv", csv_table(result, headline))
            text("relationship.csv", relationship.to_csv(index=False))
            text("spells.csv", spells.to_csv(index=False))
            text("events.csv", events.to_csv(index=False))
            text("termination.csv", termination.to_csv(index=False))
            if kept:
                text("intensity.csv", trend.to_csv(index=False, float_format=INTENSITY_FORMAT))
                text("co_failure.csv", co_failures.to_csv(index=False))
        if kinds:
            with _young_objects_collected():
                _write_figures(result, target, trend, termination, groups, here, kinds)
                if away is not None:
                    try:
                        away.result()
                    except BrokenExecutor:
                        # The other process died before it was done: its figures are drawn
                        # here (atomically written, so any it saved are whole).
                        _write_figures(result, target, trend, termination, [], kinds[-1:], [])
            written += [
                target / f"{name}.{kind}"
                for name in _figure_names(trend is not None, groups)
                for kind in kinds
            ]
        for group in groups:
            table = uncertainty_table(result, group)
            if "csv" in formats:
                text(f"uncertainty-{group}.csv", table.to_csv(index=False))
            if "md" in formats:
                text(f"uncertainty-{group}.md", uncertainty_markdown(table, group, result.scenario))
        text("methods.md", methods_text(result, headline, co_failures, events))
        if record and result.directory is not None and target == Path(result.directory):
            run_directory = RunDirectory(target)
            manifest = run_directory.read_manifest()
            names = [p.name for p in written]
            manifest["outputs"] = list(dict.fromkeys([*manifest.get("outputs", []), *names]))
            run_directory.write_manifest(manifest)
        return written
    finally:
        if away is not None:
            wait([away])  # never return, or raise, with the other process still writing
