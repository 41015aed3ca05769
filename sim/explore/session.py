"""An edited scenario run against its baseline on common random numbers, as the page shows it.

A :class:`Session` holds the scenario as loaded, the baseline it is compared with, the
replications and the seed; :meth:`Session.explore` runs an edited scenario with the
public API (:func:`sim.run`) and pairs it with the baseline's run (kept, since the
baseline does not change while controls move). Every number shown comes from the
report functions of :mod:`sim.reports`, so the page and ``alliance-sim run`` agree
cell for cell.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pandas as pd

from sim.engine.runner import run
from sim.errors import UserError
from sim.months import parse_month
from sim.reports.comparison import COLUMNS, alive_rows, paired_tables
from sim.reports.tables import domain_label, interval_cell, markdown_table
from sim.results import RunResult
from sim.scenario import Scenario, scenario_hash

DEFAULT_REPLICATIONS = 5_000
"""Replications of a first look: a change redraws in about a second."""


@dataclass
class Exploration:
    """One edited scenario beside its baseline, run on common random numbers.

    Attributes:
        result: The edited scenario's run.
        baseline: The baseline's run (same seed, replications and chunk size).
        table: The P(alive) rows of :func:`sim.reports.comparison.paired_differences` of
            the two (its other measures, the median's bootstrap above all, take seconds).
        seconds: Time the edited scenario took to run.
    """

    result: RunResult
    baseline: RunResult
    table: pd.DataFrame = field(repr=False)
    seconds: float

    @property
    def results(self) -> dict[str, RunResult]:
        """Both runs by the names the comparison table uses."""
        return {
            self.table.baseline.iloc[0]: self.baseline,
            self.table.scenario.iloc[0]: self.result,
        }

    def headline_markdown(self) -> str:
        """The edited scenario's headline table, as ``alliance-sim run`` writes table.md."""
        return markdown_table(self.result)

    def differences(self) -> pd.DataFrame:
        """P(alive) at each report horizon: scenario, baseline and paired difference."""
        rows = self.table[self.table.measure == "p_alive"]
        scenario = self.result.scenario
        return pd.DataFrame(
            {
                "domain": [domain_label(scenario, d) for d in rows.domain],
                "date": rows.date.to_numpy(),
                "scenario": [
                    interval_cell(r.value, r.value_low, r.value_high) for r in rows.itertuples()
                ],
                "baseline": [
                    interval_cell(r.baseline_value, r.baseline_low, r.baseline_high)
                    for r in rows.itertuples()
                ],
                "difference": [
                    interval_cell(r.difference, r.difference_low, r.difference_high, signed=True)
                    for r in rows.itertuples()
                ],
            }
        )


@dataclass
class Session:
    """A scenario being explored: what it is compared with and how it is run.

    Attributes:
        scenario: The scenario as loaded (edits apply to it).
        baseline: The scenario compared with (the unedited scenario by default).
        replications: Replications per run.
        seed: The seed of every run (common random numbers).
        workers: Worker processes (None: all cores; a run of one chunk runs in-process).
    """

    scenario: Scenario
    baseline: Scenario
    replications: int = DEFAULT_REPLICATIONS
    seed: int = 0
    workers: int | None = None
    _baseline_runs: dict[tuple[str, int, int], RunResult] = field(default_factory=dict, repr=False)

    @classmethod
    def of(
        cls,
        scenario: Scenario,
        baseline: Scenario | None = None,
        replications: int | None = None,
        seed: int | None = None,
        workers: int | None = None,
    ) -> Session:
        """A session with the scenario's own seed and :data:`DEFAULT_REPLICATIONS` by default."""
        baseline = baseline or scenario
        domains = (set(scenario.channels), set(scenario.treaties))
        if scenario.start != baseline.start or domains != (
            set(baseline.channels),
            set(baseline.treaties),
        ):
            raise UserError(
                f"{baseline.name} cannot be the baseline of {scenario.name}: a baseline must "
                "start in the same month and have the same domains"
            )
        return cls(scenario, baseline, replications or DEFAULT_REPLICATIONS,
                   scenario.seed if seed is None else seed, workers)  # fmt: skip

    def _run(self, scenario: Scenario) -> RunResult:
        return run(scenario, replications=self.replications, seed=self.seed, workers=self.workers)

    def baseline_run(self) -> RunResult:
        """The baseline's run at the session's settings (run once, then kept)."""
        key = (scenario_hash(self.baseline), self.replications, self.seed)
        if key not in self._baseline_runs:
            self._baseline_runs[key] = self._run(self.baseline)
        return self._baseline_runs[key]

    def explore(self, edited: Scenario) -> Exploration:
        """Run an edited scenario and pair it with the baseline's run."""
        base = self.baseline_run()
        began = time.perf_counter()
        result = self._run(edited)
        seconds = time.perf_counter() - began
        names = _names(edited, self.baseline)
        return Exploration(result, base, alive_differences(result, base, names), seconds)


def alive_differences(
    result: RunResult, baseline: RunResult, names: tuple[str, str]
) -> pd.DataFrame:
    """P(alive) at the report horizons, paired with the baseline: comparison's rows."""
    start = parse_month(baseline.scenario.start)
    horizons = baseline.scenario.report_horizons
    rows = []
    pairs = paired_tables({names[0]: result, names[1]: baseline}, names[1])[names[0]]
    for domain, table in pairs.items():
        common = {"scenario": names[0], "baseline": names[1], "domain": domain}
        rows += alive_rows(table, horizons, start, common)
    return pd.DataFrame(rows, columns=COLUMNS)


def _names(edited: Scenario, baseline: Scenario) -> tuple[str, str]:
    """Names for the two runs in tables and legends (the edited one marked if they clash)."""
    if edited.name == baseline.name:
        return f"{edited.name} (edited)", f"{baseline.name} (as loaded)"
    return edited.name, baseline.name


def settings_line(exploration: Exploration) -> str:
    """What the page shows was run: replications, seed, time."""
    result = exploration.result
    return (
        f"{result.replications:,} replications, seed {result.seed}, chunk size "
        f"{result.settings.chunk_size:,}; the scenario ran in {exploration.seconds:.1f} s"
    )
