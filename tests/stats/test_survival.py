"""Survival statistics, checked against scipy.stats.ecdf and lifelines on the same data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats

from sim.stats.survival import (
    LifeTable,
    Summary,
    first_month_at_or_below,
    kaplan_meier,
    median_survival,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import lifelines
    from lifelines.utils import median_survival_times

HORIZON = 60


def _outcomes(seed: int, censor: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    months = rng.geometric(0.02, 3000)
    events = months <= HORIZON
    months = np.minimum(months, HORIZON)
    if censor:
        dropout = rng.integers(1, HORIZON + 1, months.size)
        events &= ~(dropout < months)
        months = np.minimum(months, dropout)
    return months, events


@pytest.mark.parametrize("censor", [False, True])
def test_kaplan_meier_matches_scipy_ecdf_log_log(censor):
    months, events = _outcomes(1, censor)
    ours = kaplan_meier(LifeTable.from_outcomes(months, events, HORIZON))
    sf = stats.ecdf(stats.CensoredData(uncensored=months[events], right=months[~events])).sf
    band = sf.confidence_interval(0.95, method="log-log")
    grid = np.arange(HORIZON + 1)
    np.testing.assert_allclose(ours.p_survive, sf.evaluate(grid), atol=1e-9)
    np.testing.assert_allclose(ours.ci_low, band.low.evaluate(grid), atol=1e-9)
    np.testing.assert_allclose(ours.ci_high, band.high.evaluate(grid), atol=1e-9)


@pytest.mark.parametrize("censor", [False, True])
def test_kaplan_meier_and_median_match_lifelines(censor):
    months, events = _outcomes(2, censor)
    ours = kaplan_meier(LifeTable.from_outcomes(months, events, HORIZON))
    fitter = lifelines.KaplanMeierFitter().fit(months, events)
    grid = np.arange(HORIZON + 1)
    band = fitter.confidence_interval_survival_function_.reindex(grid, method="ffill")
    np.testing.assert_allclose(ours.p_survive, fitter.survival_function_at_times(grid), atol=1e-9)
    np.testing.assert_allclose(ours.ci_low, band.iloc[:, 0], atol=1e-9)
    np.testing.assert_allclose(ours.ci_high, band.iloc[:, 1], atol=1e-9)
    median = median_survival(ours)
    assert median.estimate == fitter.median_survival_time_
    interval = median_survival_times(fitter.confidence_interval_).iloc[0]
    assert (median.low, median.high) == (interval.iloc[0], interval.iloc[1])


def test_at_risk_and_events_count_the_outcomes():
    table = LifeTable.from_outcomes(np.array([1, 1, 2, 3, 3]), np.array([1, 0, 1, 1, 0], bool), 3)
    assert table.at_risk.tolist() == [5, 5, 3, 2]
    assert table.events.tolist() == [0, 1, 1, 1]
    curve = kaplan_meier(table)
    assert curve.p_survive.tolist() == pytest.approx([1, 0.8, 0.8 * 2 / 3, 0.8 * 2 / 3 * 0.5])


def test_median_rule_for_a_curve_exactly_at_one_half_and_not_reached():
    # Two of four terminate in month 2: S(2) = 0.5 exactly, so the median is month 2.
    table = LifeTable.from_outcomes(np.array([2, 2, 5, 5]), np.array([1, 1, 0, 0], bool), 5)
    assert median_survival(kaplan_meier(table)).estimate == 2
    never = LifeTable.from_outcomes(np.array([5, 5]), np.array([0, 0], bool), 5)
    assert median_survival(kaplan_meier(never)).estimate is None
    assert first_month_at_or_below(np.array([1.0, 0.7, 0.6])) is None


@pytest.mark.parametrize(("alive", "total"), [(0, 10), (3, 10), (9_990, 10_000), (10_000, 10_000)])
def test_wilson_interval_matches_scipy_binomtest(alive, total):
    from sim.stats.survival import wilson_interval

    expected = stats.binomtest(alive, total).proportion_ci(0.95, method="wilson")
    assert wilson_interval(alive, total) == pytest.approx((expected.low, expected.high), abs=1e-12)


@pytest.mark.parametrize("total", [1, 7, 2_000, 100_000])
def test_wilson_interval_holds_its_estimate_at_zero_and_one(total):
    # The closed form rounded the bound a hair inside at p = 1 (0.9999999999999998), so a
    # table's interval did not contain its own estimate of 1.
    from sim.stats.survival import wilson_bounds, wilson_interval

    assert wilson_interval(total, total)[1] == 1.0
    assert wilson_interval(0, total)[0] == 0.0
    low, high = wilson_bounds(np.arange(total + 1), total)
    share = np.arange(total + 1) / total
    assert np.all(low <= share)
    assert np.all(share <= high)


def test_summary_of_chunks_equals_summary_of_the_joined_outcomes(chunked_run):
    whole = Summary.from_outcomes(chunked_run.outcomes)
    added = chunked_run.summary
    np.testing.assert_array_equal(whole.co_ended, added.co_ended)
    assert whole.totals == added.totals
    assert whole.report_horizons == added.report_horizons == (12, 24, 60, 120)
