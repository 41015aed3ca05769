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
"""

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
