"""The treaty's response to a leader's exit and to the war's end, against the regression.

The treaty's survival must move by the amount the survival regression of alliances
implies (issue 15, "Done when", second item). Each test changes one event's timing in a
library scenario and compares the treaty's cumulative hazard over a window with and
without the change, on common random numbers. Everything else that could move the hazard
is held fixed in both runs (the desire covariate's ratio set to 1, the abrogation event,
the leaders' random exits and the scenario's other events removed, the successor as
committed as Putin), so the ratio of cumulative hazards estimates the mapped ratio itself.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.engine.runner import run
from sim.scenario import load_scenario, override
from sim.stats.survival import horizon_estimates
from tests.helpers import SCENARIOS

TREATY = "mutual_defence_treaty"
REPLICATIONS = 40_000
AGE0 = 9  # the treaty was signed in June 2024; the runs start in March 2025


def isolated(scenario, **events):
    """The scenario with only the treaty's formal hazard free to respond to ``events``.

    The desire covariate's ratio is 1, and the abrogation event, the leaders' random exits
    and every scenario event are removed, then ``events`` are added.
    """
    removed = dict.fromkeys(scenario.events)
    changes = {
        "treaties": {TREATY: {"covariates": {"desire": {"log_hazard_ratio": 0.0}}}},
        "events": removed | events,
    }
    return override(scenario, changes)


def _windows(scenario, *bounds: tuple[int, int]) -> list[tuple[float, int]]:
    """Cumulative hazards of the treaty over months (start, end], and the ends behind them."""
    horizon = max(end for _, end in bounds)
    result = run(scenario, replications=REPLICATIONS, seed=2024, horizon=horizon, workers=1)
    months = sorted({month for window in bounds for month in window})
    table = horizon_estimates(result.summary, months)
    alive = table[table.domain == TREATY].set_index("horizon").p_survive
    windows = []
    for start, end in bounds:
        at_start, at_end = round(alive[start] * REPLICATIONS), round(alive[end] * REPLICATIONS)
        windows.append((-math.log(at_end / at_start), at_start - at_end))
    return windows


def _window(scenario, start: int, end: int) -> tuple[float, int]:
    """Cumulative hazard of the treaty over months (start, end], and the ends behind it."""
    return _windows(scenario, (start, end))[0]


def _log_ratio_se(*windows: tuple[float, int]) -> float:
    """SE of a log ratio of cumulative hazards, as if the runs were independent.

    Each cumulative hazard's log has variance about 1/ends (delta method); common random
    numbers make the runs positively correlated, so this bounds the SE from above.
    """
    return math.sqrt(sum(1 / ends for _, ends in windows))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("file", "event", "actor", "covariate"),
    [
        ("putin_exit.yaml", "putin_exit", "russia", "russia_leader_exit"),
        ("baseline.yaml", "kim_exit", "dprk", "dprk_leader_exit"),
    ],
    ids=["putin", "kim"],
)
def test_a_leaders_exit_multiplies_the_treatys_hazard_by_its_leader_exit_ratio(
    file, event, actor, covariate
):
    scenario = load_scenario(SCENARIOS / file)
    # The scenario's exit, timed at March 2026 (month 12), with a successor as committed.
    exit_in_march = {
        "description": scenario.events[event].description,
        "reason": "the scenario's event, timed and without a change of commitment",
        "timing": {"month": "2026-03"},
        "effects": [{"target": f"{actor}.leader_transition", "set": 1, "duration": 12}],
    }
    changed, unchanged = isolated(scenario, **{event: exit_in_march}), isolated(scenario)
    # The transition window: the twelve months whose hazard the covariate raises.
    with_exit, without = _window(changed, 12, 24), _window(unchanged, 12, 24)
    ratio = changed.treaties[TREATY].covariates[covariate].log_hazard_ratio.value
    measured = math.log(with_exit[0] / without[0])
    assert measured == pytest.approx(ratio, abs=4 * _log_ratio_se(with_exit, without))
    assert measured > 0.1  # and the effect shows: no effect lies far outside the interval


@pytest.mark.slow
def test_the_wars_end_divides_the_treatys_hazard_by_the_war_ratio_from_the_next_year():
    ceasefire = load_scenario(SCENARIOS / "ukraine_ceasefire.yaml")
    # The library's ceasefire, timed at March 2026 (month 12), taking hold at once.
    in_march = {
        "description": ceasefire.events["ceasefire"].description,
        "reason": "the library event, timed, without a ramp or its other effects",
        "timing": {"month": "2026-03"},
        "effects": [{"target": "russia.war_intensity", "set": 0.1}],
    }
    peace, war = isolated(ceasefire, ceasefire=in_march), isolated(ceasefire)
    treaty = war.treaties[TREATY]
    at_war, ended = treaty.covariates["war"], treaty.covariates["war_ended"]
    # The regression's data are yearly, so 2026, in which Russia fought until March, still
    # counts as a year at war: the hazards decided in months 12..21 (March to December
    # 2026) are unchanged. In 2027 (months 22..33) the war's ratio gives way to war_ended's.
    this_year, next_year = (12, 22), (22, 34)
    ages = AGE0 + np.arange(*next_year)
    steps = sorted(treaty.baseline, key=lambda s: s.from_month)
    h0 = np.array([[s.hazard for s in steps if s.from_month <= a][-1] for a in ages])
    slope = at_war.age_slope.value * np.log((ages + 0.5) / 12)
    war_ratio = np.exp(at_war.log_hazard_ratio.value + slope)
    # Cumulative hazards are sums of -log(1 - h); with monthly hazards near 0.01 their
    # ratio is that of the sums of h to a few parts in a thousand.
    expected = math.log(math.exp(ended.log_hazard_ratio.value) * h0.sum() / (war_ratio * h0).sum())
    peace_now, peace_next = _windows(peace, this_year, next_year)
    war_now, war_next = _windows(war, this_year, next_year)
    # Identical hazards on common random numbers: the same ends, to the replication.
    assert peace_now == war_now
    measured = math.log(peace_next[0] / war_next[0])
    assert measured == pytest.approx(expected, abs=4 * _log_ratio_se(peace_next, war_next))
    assert measured < -1.0  # peace removes most of the hazard of a young alliance at war
