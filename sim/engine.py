"""The Monte Carlo engine: replications in seeded chunks, reduced to outcomes.

Replications are split into fixed-size chunks; chunk k covers replications
``[k·chunk_size, (k+1)·chunk_size)`` and draws every random number from streams
derived from ``SeedSequence(seed)`` and k (see :mod:`sim.streams`), so results depend
on the seed and the chunk size, never on how chunks are scheduled.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from threadpoolctl import threadpool_limits

from sim.model import AllianceModel, Outcomes
from sim.months import parse_month
from sim.scenario import Scenario, with_run_settings
from sim.survival import LifeTable, survival_frame

DEFAULT_CHUNK_SIZE = 10_000


def chunk_sizes(replications: int, chunk_size: int) -> list[int]:
    """Sizes of the chunks that make up ``replications`` (the last may be smaller)."""
    full, rest = divmod(replications, chunk_size)
    return [chunk_size] * full + ([rest] if rest else [])


def simulate_chunk(scenario: Scenario, seed: int, chunk_index: int, size: int) -> Outcomes:
    """Run one chunk of replications to the scenario's horizon.

    BLAS is held to one thread so a chunk's numbers cannot depend on how many threads
    a matrix product happens to use in the process that runs it.
    """
    with threadpool_limits(limits=1):
        model = AllianceModel(scenario, size, seed=seed, chunk_index=chunk_index, collect=False)
        return model.run()


@dataclass(frozen=True)
class RunResult:
    """A finished run: the scenario as run, its outcomes and survival estimates."""

    scenario: Scenario
    seed: int
    chunk_size: int
    outcomes: Outcomes

    @property
    def life_tables(self) -> dict[str, LifeTable]:
        """Per-month event and censoring counts per channel."""
        o = self.outcomes
        return {
            channel: LifeTable.from_outcomes(o.month[i], o.event[i], o.horizon)
            for i, channel in enumerate(o.channels)
        }

    @property
    def survival(self) -> pd.DataFrame:
        """Tidy Kaplan–Meier survival per channel and month, with 95% log-log intervals."""
        return survival_frame(self.life_tables, parse_month(self.scenario.start))


def run(
    scenario: Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    horizon: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> RunResult:
    """Run a scenario's replications and collect their outcomes.

    Args:
        scenario: A resolved scenario (see :func:`sim.load_scenario`).
        replications: Number of replications (default: the scenario's).
        seed: Run seed (default: the scenario's).
        horizon: Months to simulate (default: the scenario's).
        chunk_size: Replications per chunk; part of what fixes the random numbers.
    """
    scenario = with_run_settings(scenario, replications=replications, seed=seed, horizon=horizon)
    parts = [
        simulate_chunk(scenario, scenario.seed, index, size)
        for index, size in enumerate(chunk_sizes(scenario.replications, chunk_size))
    ]
    return RunResult(scenario, scenario.seed, chunk_size, Outcomes.concatenate(parts))
