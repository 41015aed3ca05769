"""The scalar Mesa peer as an oracle: the batched model's outcome distributions must agree.

``benchmarks/peer.py`` implements the dynamics of docs/model.md again, one ``mesa.Model``
per replication with Python floats and Python's ``random``: it shares no code and no
random numbers with ``sim.model``. On two library scenarios, for every domain, P(alive)
at each report horizon and the month the survival curve crosses one half must agree
within Monte Carlo error. Each comparison is a difference of two independent
proportions, allowed ``z`` standard errors, with ``z`` set by a Bonferroni correction so
that the whole family fails by chance with probability 0.01.

What it can see: with 600 peer replications a gap must reach about 0.07 in P(alive)
near 0.8 (0.085 near 0.5) to fail it. A sign error or a missing mechanism in a
scenario's driving channels moves P(alive) by far more; small effects do not show here
(dropping the leader-exit ratios from the treaty hazard moves it by about a quarter of
the tolerance), and are tested against the numbers they must produce instead
(``tests/validation/test_hazard_ratios.py``).
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest

from benchmarks import peer
from sim.model.model import AllianceModel
from sim.scenario import load_scenario
from tests.helpers import SCENARIOS

ORACLE_SCENARIOS = ("ukraine_ceasefire", "putin_exit")
PEER_REPLICATIONS = 600
BATCHED_REPLICATIONS = 20_000
FAMILY_ERROR = 0.01


def survival(ended: np.ndarray, horizon: int) -> np.ndarray:
    """Share of replications whose first spell has not ended, months 0 to horizon.

    Args:
        ended: End month per domain and replication (anything past the horizon: not ended).
        horizon: The last month.
    """
    months = np.arange(horizon + 1)
    return (ended[:, None, :] > months[None, :, None]).mean(axis=2)


def median_month(curve: np.ndarray) -> int | None:
    """First month the curve is at or below one half (None: not reached)."""
    below = np.flatnonzero(curve <= 0.5)
    return int(below[0]) if below.size else None


def difference_se(p1: float, n1: int, p2: float, n2: int) -> float:
    """Standard error of the difference of two independent proportions (pooled, plus one)."""
    pooled = (p1 * n1 + p2 * n2 + 1) / (n1 + n2 + 2)
    return float(np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2)))


@pytest.fixture(scope="module", params=ORACLE_SCENARIOS)
def both(request):
    path = SCENARIOS / f"{request.param}.yaml"
    scenario = load_scenario(path)
    outcomes = AllianceModel(scenario, BATCHED_REPLICATIONS, seed=2024, collect=False).run()
    batched = np.where(outcomes.event, outcomes.month, scenario.horizon + 1)
    scalar = peer.batch_end_months(path, PEER_REPLICATIONS, seed=99, processes=2)
    assert list(outcomes.channels) == [*scenario.channels, *scenario.treaties]
    return scenario, batched, scalar


@pytest.mark.slow
def test_peer_and_batched_model_agree_within_monte_carlo_error(both):
    scenario, batched, scalar = both
    horizon = scenario.horizon
    horizons = [h for h in scenario.report_horizons if h <= horizon]
    domains = [*scenario.channels, *scenario.treaties]
    # Per scenario: a proportion per domain and horizon, two per median of each model.
    comparisons = len(ORACLE_SCENARIOS) * len(domains) * (len(horizons) + 4)
    z = NormalDist().inv_cdf(1 - FAMILY_ERROR / (2 * comparisons))
    n_b, n_s = batched.shape[1], scalar.shape[1]
    s_b, s_s = survival(batched, horizon), survival(scalar, horizon)
    failures = []
    for d, domain in enumerate(domains):
        for h in horizons:
            se = difference_se(s_b[d, h], n_b, s_s[d, h], n_s)
            if abs(s_b[d, h] - s_s[d, h]) > z * se:
                failures.append(f"{domain} P(alive at {h}): {s_b[d, h]:.3f} vs {s_s[d, h]:.3f}")
        # Where one model's curve crosses one half, the other's must be near one half.
        for name, own, other, n_other in (
            ("batched", s_b[d], s_s[d], n_s),
            ("peer", s_s[d], s_b[d], n_b),
        ):
            month = median_month(own)
            if month is None:
                continue
            se = difference_se(0.5, n_b + n_s - n_other, 0.5, n_other)
            if other[month] > 0.5 + z * se or (month > 0 and other[month - 1] < 0.5 - z * se):
                failures.append(f"{domain}: {name} median {month}, other {other[month]:.3f}")
    assert not failures, f"{scenario.name}: {failures} (z = {z:.2f})"


def test_batch_run_matches_the_loop_bit_for_bit():
    path = SCENARIOS / "ukraine_ceasefire.yaml"
    scenario = load_scenario(path)
    looped = peer.end_months(scenario, 3, seed=5)
    batched = peer.batch_end_months(path, 3, seed=5, processes=2)
    assert looped.shape == (len(scenario.channels) + len(scenario.treaties), 3)
    np.testing.assert_array_equal(looped, batched)
