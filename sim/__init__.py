"""alliance-sim: Monte Carlo forecasts of alliance durability from a batched Mesa model.

The public API: load a scenario, run it, read survival as pandas objects.

    >>> import sim
    >>> scenario = sim.load_scenario("scenarios/ukraine_ceasefire.yaml")
    >>> result = sim.run(scenario, replications=2000, seed=1)
    >>> result.survival.head()  # doctest: +SKIP
"""

from sim.compare import compare
from sim.engine import RunInterrupted, RunResult, load_run, run
from sim.errors import ScenarioError, UserError
from sim.model import AllianceModel
from sim.outcomes import Outcomes
from sim.reports import write_reports
from sim.scenario import Scenario, load_scenario, override, scenario_hash
from sim.sensitivity import sensitivity
from sim.sweep import sweep
from sim.tables import headline_table

__all__ = [
    "AllianceModel",
    "Outcomes",
    "RunInterrupted",
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
