"""Simulated moments: the model's counterparts of the calibration targets.

Every moment comes from a run of a scenario with the free parameters set at their key
paths (:func:`with_parameters`), on common random numbers (one seed), so the objective
is a deterministic, nearly smooth function of the parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.calibration.setup import Setup
from sim.calibration.targets import Target
from sim.engine.runner import run
from sim.months import iso_month, parse_month
from sim.results import RunResult
from sim.scenario import Scenario
from sim.scenario.load import set_value
from sim.stats.survival import horizon_estimates


@dataclass(frozen=True)
class Settings:
    """How hard the calibration works; the defaults give a stable fit in about a minute."""

    replications: int = 1000
    treaty_replications: int = 2000
    seed: int = 20230913
    search_points: int = 32  # per free parameter of a block
    posterior_points: int = 64  # per free parameter of a block, per round
    posterior_draws: int = 200
    search_iterations: int = 200  # Nelder–Mead iterations per block
    analogue_replications: int = 2000  # per case of the analogue backtest


def with_parameters(setup: Setup, scenario: Scenario, values: dict[str, float]) -> Scenario:
    """The scenario with the given free parameters set at all their paths."""
    free = setup.free_parameters
    settings = {path: float(value) for name, value in values.items() for path in free[name].paths}
    return set_value(scenario, settings)


def world_values(setup: Setup, values: dict[str, float]) -> dict[str, float]:
    """The parameters of ``values`` that belong to the world (not to the start state)."""
    return {name: v for name, v in values.items() if setup.free_parameters[name].in_world}


def emergence_moments(setup: Setup, scenario: Scenario, settings: Settings) -> dict[str, float]:
    """Simulated counterparts of the emergence targets, from a run of the fit scenario.

    Mean intensities come from the run's monthly intensity sums, emergence months from
    its outcomes (a channel never established counts as established after the horizon).
    """
    result = run(scenario, replications=settings.replications, seed=settings.seed, workers=1)
    start = parse_month(scenario.start)
    horizon = scenario.horizon
    sums = result.summary.intensity.sums
    domains = list(result.domains)
    counted = setup.counted_channel
    moments: dict[str, float] = {}

    def mean(domain: str, month: int) -> float:
        return float(sums[domains.index(domain), month] / settings.replications)

    for month in counted.months:
        moments[f"counted_intensity.{counted.channel}.{month}"] = mean(
            counted.channel, parse_month(month) - start
        )
    end = iso_month(start + horizon)
    for name in scenario.channels:
        moments[f"intensity.{end}.{name}"] = mean(name, horizon)
        emerged = result.outcomes.emerged[domains.index(name)].astype(np.int64)
        moments[f"emergence.{name}"] = float(np.median(np.where(emerged < 0, horizon + 1, emerged)))
    return moments


def _ten_years(scenario: Scenario, settings: Settings) -> RunResult:
    """Ten years of ``scenario`` at the treaty's replications, in this process."""
    replications, seed = settings.treaty_replications, settings.seed
    return run(scenario, replications=replications, seed=seed, horizon=120, workers=1)


def base_rate_moments(scenario: Scenario, settings: Settings) -> dict[str, float]:
    """Simulated counterparts of the base-rate targets: the alliance channel's survival."""
    alliance = scenario.alliance_channel
    table = horizon_estimates(_ten_years(scenario, settings).summary, [12, 60, 120])
    curve = table[table.domain == alliance].set_index("horizon").p_survive
    return {f"alliance_survival.{alliance}.{h}": float(curve[h]) for h in (12, 60, 120)}


def treaty_survival(scenario: Scenario, treaty: str, settings: Settings) -> pd.DataFrame:
    """The treaty's survival in force over ten years of a run of ``scenario``.

    Returns:
        One row per month 1..120: ``month, p_survive, ci_low, ci_high`` (Wilson 95%).
    """
    table = horizon_estimates(_ten_years(scenario, settings).summary, list(range(1, 121)))
    table = table[table.domain == treaty].rename(columns={"horizon": "month"})
    return table[["month", "p_survive", "ci_low", "ci_high"]].reset_index(drop=True)


def objective(moments: dict[str, float], wanted: list[Target]) -> float:
    """J = Σ ((simulated − observed) / sigma)² over the targets."""
    return float(sum(((moments[t.name] - t.observed) / t.sigma) ** 2 for t in wanted))
