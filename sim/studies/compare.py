"""Policy what-ifs side by side: scenarios on common random numbers, with paired differences.

Every scenario runs with the same seed and chunk size, so replication i of one scenario
and replication i of another share every random number drawn for what they have in
common (parameters, event timings, noise, ruptures; see :mod:`sim.streams`). A
difference between them then comes from the scenario, not from chance, and paired
statistics are much tighter than those of independent runs:

- P(alive) at each horizon, each scenario with its Wilson interval, and the paired
  difference from the baseline with Newcombe's hybrid score interval for paired
  proportions (method 10);
- the difference of restricted mean survival times (months alive within the horizon),
  a mean of paired differences with a normal interval;
- the difference of median survival, with a paired bootstrap percentile interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.engine.options import RunOptions
from sim.engine.provenance import new_manifest
from sim.engine.runner import run
from sim.errors import RunInterrupted, UserError
from sim.reports.comparison import (
    comparison_figure,
    horizon_rows,
    paired_differences,
    write_comparison,
)
from sim.results import RunResult, load_run
from sim.results.display import html_table, summary_html
from sim.results.rundir import MANIFEST, RunDirectory, safe_name
from sim.scenario import Scenario, scenario_from_dict, scenario_hash, with_horizon
from sim.studies.study import Study

KIND = "comparison"
RUNS = "runs"  # a comparison's subfolder: one run directory per scenario


@dataclass
class Comparison:
    """Scenarios compared on common random numbers with a baseline.

    Attributes:
        table: The tidy table of :func:`sim.reports.comparison.paired_differences`: per
            scenario, domain and measure, the value, the baseline's, and the paired
            difference with its 95% interval.
        baseline: The baseline's name.
        results: Each scenario's run, by name.
        directory: The comparison directory (each run under its ``runs/``), or None.
        manifest: Settings and provenance.
    """

    table: pd.DataFrame
    baseline: str
    results: dict[str, RunResult] = field(repr=False)
    directory: Path | None
    manifest: dict[str, Any] = field(repr=False)

    def _repr_html_(self) -> str:
        """A compact summary for Jupyter: the last horizon's table, and the figure."""
        base = self.results[self.baseline]
        horizon = max(h for h in base.scenario.report_horizons if h <= base.scenario.horizon)
        date, header, rows = horizon_rows(self.table, self.results, horizon)
        table = html_table(header, rows)
        title = f"Comparison with {self.baseline}: P(channel alive) in {date}"
        note = (
            "Cells: P(alive) [Wilson 95% interval]; Δ: paired difference from the baseline "
            f"[Newcombe 95% interval]; {base.replications:,} replications per scenario, seed "
            f"{base.seed}, common random numbers."
        )
        return summary_html(title, table, comparison_figure(self.table, self.results), note)

    def differences(self, measure: str = "p_alive") -> pd.DataFrame:
        """The rows of one measure (``p_alive``, ``median``, ``rmst``, ``mean_intensity``)."""
        return self.table[self.table.measure == measure].reset_index(drop=True)


def _check_comparable(scenarios: list[Scenario]) -> None:
    names = [safe_name(s.name) for s in scenarios]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UserError(f"scenarios must have different names; repeated: {', '.join(duplicates)}")
    first = scenarios[0]
    for scenario in scenarios[1:]:
        if scenario.start != first.start:
            raise UserError(
                f"{scenario.name} starts {scenario.start} but {first.name} starts {first.start}: "
                "compared scenarios must start in the same month"
            )
        if set(scenario.channels) != set(first.channels) or set(scenario.treaties) != set(
            first.treaties
        ):
            raise UserError(f"{scenario.name} and {first.name} have different domains")


def compare(
    scenarios: list[Scenario],
    baseline: Scenario | None = None,
    options: RunOptions | None = None,
    *,
    horizon: int | None = None,
    **changes: Any,
) -> Comparison:
    """Run scenarios on common random numbers and compare each with a baseline.

    Every scenario runs with the same seed, replications and chunk size (the baseline's
    unless the options say otherwise): that is what makes the random numbers common.

    Args:
        scenarios: The scenarios (the first is the baseline unless ``baseline`` is given);
            may be empty when resuming.
        baseline: The scenario the others are compared with (added if not among them).
        options: How to run (:class:`~sim.engine.options.RunOptions`); ``out`` is a
            comparison directory (``"default"``: results/compare-<UTC time>) holding each
            scenario's run under ``runs/`` and the comparison files; ``resume`` one to
            continue (finished runs are reused, interrupted ones resumed).
        horizon: Months to simulate (default: the baseline's).
        **changes: Fields of :class:`~sim.engine.options.RunOptions`.

    Returns:
        The :class:`Comparison`.
    """
    options = RunOptions.of(options, **changes)
    if options.resume is None:
        if not scenarios and baseline is None:
            raise UserError("give at least two scenarios to compare")
        if baseline is not None:  # listed among the others too, as a glob lists it
            scenarios = [s for s in scenarios if s != baseline]
        _check_comparable([*scenarios, *([baseline] if baseline else [])])
        chosen = baseline or scenarios[0]
        ordered = [chosen] + [s for s in scenarios if s.name != chosen.name]
        if len(ordered) < 2:
            raise UserError("give at least two different scenarios to compare")
        _check_comparable(ordered)
        ordered = [with_horizon(s, horizon) if horizon else s for s in ordered]
        settings = options.settings(chosen.replications, chosen.seed)
    else:
        ordered, settings = [], None

    def manifest() -> dict[str, Any]:
        return new_manifest(
            KIND,
            settings,
            baseline=ordered[0].name,
            scenarios=[
                {"name": s.name, "sha256": scenario_hash(s), "scenario": s.model_dump(mode="json")}
                for s in ordered
            ],
            horizon=ordered[0].horizon,
        )

    with Study.open(KIND, options, "compare", manifest, RUNS) as study:
        entries = study.manifest["scenarios"]
        inner = options.replace(
            replications=study.manifest["replications"],
            seed=study.manifest["seed"],
            chunk_size=study.manifest["chunk_size"],
            out=None,
            resume=None,
            force=False,
        )
        known = {s.name: s for s in ordered}
        results = {}
        try:
            for entry in entries:
                results[entry["name"]] = _run_entry(study, entry, known, inner)
        except RunInterrupted:
            if study.path is None:
                raise
            raise RunInterrupted(
                study.path, len(results), len(entries), unit="scenarios",
                command="alliance-sim compare",
            ) from None  # fmt: skip
        baseline_name = study.manifest["baseline"]
        table = paired_differences(results, baseline_name)
        written = write_comparison(table, results, study.path) if study.path else []
        study.finish(written)
        return Comparison(table, baseline_name, results, study.path, study.manifest)


def _run_entry(
    study: Study, entry: dict[str, Any], known: dict[str, Scenario], options: RunOptions
) -> RunResult:
    """Run one scenario of a comparison, or reuse or resume its saved run."""
    scenario = known.get(entry["name"]) or scenario_from_dict(entry["scenario"])
    if study.path is None:
        return run(scenario, options)
    folder = study.path / RUNS / safe_name(entry["name"])
    saved = (folder / MANIFEST).is_file() and RunDirectory(folder).read_manifest()
    if saved and saved.get("status") == "complete":
        return load_run(folder)
    if saved:
        return run(None, options.replace(replications=None, seed=None, chunk_size=None,
                                         resume=folder))  # fmt: skip
    return run(scenario, options.replace(out=folder))
