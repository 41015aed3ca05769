"""alliance-sim: Monte Carlo forecasts of alliance durability from a batched Mesa model.

The public API: load a scenario, run it, read survival as pandas objects.

    >>> import sim
    >>> scenario = sim.load_scenario("scenarios/ukraine_ceasefire.yaml")
    >>> result = sim.run(scenario, replications=2000, seed=1)
    >>> result.survival.head()  # doctest: +SKIP

The package is layered as the data flows (docs/architecture.md): :mod:`sim.scenario` →
:mod:`sim.model` → :mod:`sim.engine` → :mod:`sim.results` → :mod:`sim.stats` →
:mod:`sim.reports`, with :mod:`sim.studies` and :mod:`sim.calibration` above and
:mod:`sim.cli` on top.

Names are imported on first use (``sim.run``, ``from sim import run``): ``import sim`` is
instant, so that the command line has its Ctrl-C handling in place before it spends
seconds loading NumPy, pandas and Mesa, and worker processes load only what they run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.lazy import lazy_exports

if TYPE_CHECKING:  # for type checkers and editors: the same names, imported eagerly
    from sim.engine.options import RunOptions
    from sim.engine.runner import run
    from sim.errors import RunInterrupted, ScenarioError, UserError
    from sim.model import AllianceModel, Outcomes
    from sim.reports.report import write_reports
    from sim.reports.tables import headline_table
    from sim.results import RunResult, load_run
    from sim.scenario import Scenario, load_scenario, override, scenario_hash
    from sim.studies.compare import compare
    from sim.studies.sensitivity import sensitivity
    from sim.studies.sweep import sweep

_EXPORTS = {
    "AllianceModel": "sim.model",
    "Outcomes": "sim.model",
    "RunInterrupted": "sim.errors",
    "RunOptions": "sim.engine.options",
    "RunResult": "sim.results",
    "Scenario": "sim.scenario",
    "ScenarioError": "sim.errors",
    "UserError": "sim.errors",
    "compare": "sim.studies.compare",
    "headline_table": "sim.reports.tables",
    "load_run": "sim.results",
    "load_scenario": "sim.scenario",
    "override": "sim.scenario",
    "run": "sim.engine.runner",
    "scenario_hash": "sim.scenario",
    "sensitivity": "sim.studies.sensitivity",
    "sweep": "sim.studies.sweep",
    "write_reports": "sim.reports.report",
}

__all__ = [
    "AllianceModel",
    "Outcomes",
    "RunInterrupted",
    "RunOptions",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "UserError",
    "compare",
    "headline_table",
    "load_run",
    "load_scenario",
    "override",
    "run",
    "scenario_hash",
    "sensitivity",
    "sweep",
    "write_reports",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
