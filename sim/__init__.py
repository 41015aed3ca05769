"""alliance-sim: Monte Carlo forecasts of alliance durability from a batched Mesa model.

The public API: load a scenario, run it, read survival as pandas objects.

    >>> import sim
    >>> scenario = sim.load_scenario("scenarios/ukraine_ceasefire.yaml")
    >>> result = sim.run(scenario, replications=2000, seed=1)
    >>> result.survival.head()  # doctest: +SKIP

Names are imported on first use, so that worker processes, which need only the model,
do not pay for plotting and reporting libraries.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AllianceModel": "sim.model",
    "Outcomes": "sim.outcomes",
    "RunInterrupted": "sim.errors",
    "RunResult": "sim.engine",
    "Scenario": "sim.scenario",
    "ScenarioError": "sim.errors",
    "UserError": "sim.errors",
    "compare": "sim.compare",
    "headline_table": "sim.tables",
    "load_run": "sim.engine",
    "load_scenario": "sim.scenario",
    "override": "sim.scenario",
    "run": "sim.engine",
    "scenario_hash": "sim.scenario",
    "sensitivity": "sim.sensitivity",
    "sweep": "sim.sweep",
    "write_reports": "sim.reports",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return __all__
