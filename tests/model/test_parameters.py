"""Parameter draws: the language's distributions, joint samples, and kept draws (DrawMemo).

Each distribution is checked against scipy's; draws kept for a study's next chunk are the
draws themselves.
"""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import TypeAdapter
from scipy import stats

from sim.engine.chunks import simulate_chunk
from sim.errors import ScenarioError
from sim.model.outcomes import FIELDS
from sim.model.parameters import DrawMemo, ParameterSampler
from sim.model.streams import Streams, sample_rows
from sim.results.settings import RunSettings
from sim.scenario import set_value, with_horizon
from sim.scenario.schema import Documented, Empirical, Param
from tests.helpers import variant

SIZE = 2_000


def outcomes(scenario, memo: DrawMemo | None):
    settings = RunSettings(SIZE, 41, SIZE)
    return simulate_chunk(scenario, settings, 3, SIZE, tally=False, draw_memo=memo)


def assert_same(these, those) -> None:
    for field in [*FIELDS, "intensity_at", "event_months"]:
        np.testing.assert_array_equal(getattr(these, field), getattr(those, field), field)
    assert these.parameters.keys() == those.parameters.keys()
    for key, values in these.parameters.items():
        np.testing.assert_array_equal(values, those.parameters[key], key)


def test_a_study_s_chunks_give_the_same_outcomes_with_the_memo(ceasefire):
    """The points of a sweep, through one memo, give what each gives drawn afresh.

    The second point moves an event and fixes a judged number; the base, run again last,
    takes every draw from the memo: had a chunk written into a kept array, it would differ.
    """
    base = with_horizon(ceasefire, 36)
    point = set_value(base, {"events.ceasefire.timing.month": 12,
                             "channel_defaults.wind_down": 6.0})  # fmt: skip
    memo = DrawMemo()
    for scenario in (base, point, base):
        assert_same(outcomes(scenario, memo), outcomes(scenario, None))


def judged(high: float) -> Documented:
    return Documented(value=9.0, judgement=(4.0, high))


def test_the_memo_keeps_a_parameter_s_draws_under_its_chunk_key_and_value():
    memo = DrawMemo()

    def sampler(chunk_index: int) -> ParameterSampler:
        return ParameterSampler(Streams(5, chunk_index), 1_000, memo=memo)

    kept = sampler(0)(judged(18.0), "x")
    assert sampler(0)(judged(18.0), "x") is kept  # a later chunk alike takes it
    np.testing.assert_array_equal(kept, ParameterSampler(Streams(5, 0), 1_000)(judged(18.0), "x"))
    # Another range at the same key path, or another key path: drawn afresh, as without.
    for param, key in ((judged(20.0), "x"), (judged(18.0), "y")):
        drawn = sampler(0)(param, key)
        assert not np.array_equal(drawn, kept)
        np.testing.assert_array_equal(drawn, ParameterSampler(Streams(5, 0), 1_000)(param, key))
    # Only the latest chunk's draws are kept: chunk 0's are drawn again after chunk 1's.
    assert not np.array_equal(sampler(1)(judged(18.0), "x"), kept)
    again = sampler(0)(judged(18.0), "x")
    assert again is not kept
    np.testing.assert_array_equal(again, kept)


@pytest.mark.parametrize(
    "param",
    [
        {"value": 0.3, "judgement": [0.1, 0.6]},
        {"dist": "normal", "mean": -0.2, "sd": 0.05},
        {"dist": "truncnorm", "mean": 0.3, "sd": 0.2, "low": 0.0, "high": 1.0},
        {"dist": "uniform", "low": 0.2, "high": 0.6},
        {"dist": "beta", "a": 2.0, "b": 5.0},
        {"dist": "triangular", "low": 0.1, "mode": 0.2, "high": 0.7},
        {"dist": "empirical", "values": [0.1, 0.4, 0.2]},
        {"dist": "empirical", "values": [0.1, 0.4, 0.2], "group": "posterior"},
    ],
    ids=["judged", "normal", "truncnorm", "uniform", "beta", "triangular", "empirical",
         "empirical-group"],
)  # fmt: skip
@pytest.mark.parametrize("joint_draws", [None, 64])
def test_every_kind_of_drawn_parameter_is_kept_as_drawn(param, joint_draws):
    parsed = TypeAdapter(Param).validate_python(param)
    memo = DrawMemo()

    def sampler(memo: DrawMemo | None) -> ParameterSampler:
        return ParameterSampler(Streams(5, 0), 1_000, joint_draws=joint_draws, memo=memo)

    kept = sampler(memo)(parsed, "x")
    np.testing.assert_array_equal(kept, sampler(None)(parsed, "x"))
    again = TypeAdapter(Param).validate_python(param)  # equal, not the same object
    assert sampler(memo)(again, "x") is kept


@pytest.mark.parametrize("fixed", [True, False])
def test_numbers_not_drawn_come_back_as_numbers_through_a_memo(fixed):
    sampler = ParameterSampler(Streams(5, 0), 1_000, fixed=fixed, memo=DrawMemo())
    assert sampler(0.25, "x") == np.float32(0.25)
    assert sampler(Documented(value=0.5, judgement=(0.5, 0.5)), "y") == np.float32(0.5)
    value = sampler(judged(18.0), "z")
    assert np.ndim(value) == (0 if fixed else 1)
    assert list(sampler.drawn) == ([] if fixed else ["z"])


# Each language distribution beside scipy's, built here from the parameters' textbook
# meaning (not by sim's own frozen_distribution, which the sampler itself uses).
DISTRIBUTIONS = [
    ({"dist": "normal", "mean": -0.2, "sd": 0.05}, stats.norm(-0.2, 0.05)),
    (
        {"dist": "truncnorm", "mean": 0.3, "sd": 0.2, "low": 0.0, "high": 1.0},
        stats.truncnorm((0.0 - 0.3) / 0.2, (1.0 - 0.3) / 0.2, loc=0.3, scale=0.2),
    ),
    ({"dist": "uniform", "low": 0.2, "high": 0.6}, stats.uniform(0.2, 0.4)),
    ({"dist": "beta", "a": 2.0, "b": 5.0}, stats.beta(2.0, 5.0)),
    (
        {"dist": "triangular", "low": 0.1, "mode": 0.2, "high": 0.7},
        stats.triang((0.2 - 0.1) / 0.6, loc=0.1, scale=0.6),
    ),
]


@pytest.mark.parametrize(
    ("param", "dist"), DISTRIBUTIONS, ids=[param["dist"] for param, _ in DISTRIBUTIONS]
)
def test_distribution_draws_follow_the_distribution(param, dist):
    parsed = TypeAdapter(Param).validate_python(param)
    draws = ParameterSampler(Streams(5, 0), 40_000)(parsed, "x")
    low, high = dist.support()
    assert draws.min() >= low
    assert draws.max() <= high
    assert abs(draws.mean() - dist.mean()) < 4 * dist.std() / np.sqrt(draws.size)
    # Standard error of a sample standard deviation: sd·sqrt((excess kurtosis + 2) / 4n).
    kurtosis = float(dist.stats(moments="k"))
    assert abs(draws.std() - dist.std()) < 4 * dist.std() * np.sqrt(
        (kurtosis + 2) / (4 * draws.size)
    )
    # The whole shape, not two moments: a Kolmogorov–Smirnov test at level 0.001.
    assert stats.kstest(draws, dist.cdf).pvalue > 1e-3


def test_empirical_groups_draw_jointly():
    a = Empirical(dist="empirical", values=[1.0, 2.0, 3.0], group="g")
    b = Empirical(dist="empirical", values=[10.0, 20.0, 30.0], group="g")
    sampler = ParameterSampler(Streams(3, 0), 500)
    first, second = sampler(a, "x"), sampler(b, "y")
    assert np.array_equal(second, first * 10)
    rows = sample_rows(Streams(3, 0), 500, "group:g", 3)
    assert np.array_equal(first, np.array([1.0, 2.0, 3.0], np.float32)[rows])


def test_groups_need_samples_of_one_size(baseline):
    with pytest.raises(ScenarioError, match="samples of different sizes"):
        variant(
            baseline,
            channels={
                "military": {"growth": {"dist": "empirical", "values": [0.05, 0.06], "group": "g"}},
                "labour": {
                    "growth": {"dist": "empirical", "values": [0.05, 0.06, 0.07], "group": "g"}
                },
            },
        )
