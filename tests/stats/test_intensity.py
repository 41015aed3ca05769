"""Intensity from tallies: exact means, histogram quantiles against np.quantile, paired means."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.model.outcomes import INTENSITY_BINS, IntensityTally
from sim.months import parse_month
from sim.stats.intensity import (
    QUANTILES,
    histogram_quantiles,
    horizon_intensity,
    intensity_frame,
    mean_interval,
    paired_mean_difference,
    quantile_column,
)
from tests.helpers import variant

HORIZON = 36


def _histogram(values: np.ndarray) -> np.ndarray:
    """Counts in bins of 0.01 on the last axis, as the model tallies (1.0 in the last bin)."""
    bins = np.minimum((values * INTENSITY_BINS).astype(np.intp), INTENSITY_BINS - 1)
    return np.stack([np.bincount(row, minlength=INTENSITY_BINS) for row in bins])


@pytest.fixture(scope="module")
def stepped(ceasefire):
    """A model stepped by hand, every domain's intensity recorded month by month."""
    scenario = variant(ceasefire, horizon=HORIZON, report_horizons=[12, 24, 36])
    model = sim.AllianceModel(scenario, 2000, seed=3, collect=False, tally=True)
    recorded = [np.stack([model.read(d).copy() for d in model.domains])]
    for _ in range(HORIZON):
        model.step()
        recorded.append(np.stack([model.read(d).copy() for d in model.domains]))
    # paths[domain, month, replication], as the model holds them (float32)
    return scenario, model.domains, np.stack(recorded, axis=1), model.outcomes().tally


def test_tally_holds_the_recorded_intensities(stepped):
    _, domains, paths, tally = stepped
    counts = np.stack([_histogram(paths[d]) for d in range(len(domains))])
    np.testing.assert_array_equal(tally.counts, counts)
    np.testing.assert_allclose(tally.sums, paths.sum(axis=2, dtype=np.float64), rtol=1e-12)


def test_intensity_frame_mean_is_exact_and_quantiles_within_a_bin(stepped):
    scenario, domains, paths, tally = stepped
    frame = intensity_frame(tally, domains, parse_month(scenario.start))
    assert list(frame.columns) == [
        "domain", "month", "date", "mean", "q05", "q25", "q50", "q75", "q95",
    ]  # fmt: skip
    assert len(frame) == len(domains) * (HORIZON + 1)
    for row, domain in enumerate(domains):
        here = frame[frame.domain == domain]
        direct = paths[row].mean(axis=1, dtype=np.float64)
        np.testing.assert_allclose(here["mean"], direct, rtol=1e-12, atol=1e-12)
        for probability in QUANTILES:
            # The order statistic whose bin the histogram's quantile lies in: numpy's default
            # interpolates between two order statistics, which a gap in the values (a closed
            # border's channels near 0, the rest near 0.4) can set far from either.
            direct = np.quantile(paths[row], probability, axis=1, method="inverted_cdf")
            ours = here[quantile_column(probability)].to_numpy()
            assert np.abs(ours - direct).max() <= 0.01 + 1e-9, (domain, probability)
    first = frame[frame.domain == domains[0]]
    assert first.date.iloc[0] == scenario.start
    assert first.date.iloc[12] == "2026-03"


def test_histogram_quantiles_of_known_distributions():
    rng = np.random.default_rng(1)
    samples = np.stack(
        [
            rng.beta(2, 5, 50_000),
            rng.uniform(0, 1, 50_000),
            # A point mass at 0 (channels that ended) beside a spread of live ones.
            np.where(rng.random(50_000) < 0.3, 0.0, rng.beta(5, 3, 50_000)),
            np.ones(50_000),  # a treaty in force everywhere: 1.0 falls in the last bin
        ]
    )
    probabilities = [0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0]
    ours = histogram_quantiles(_histogram(samples), probabilities)
    direct = np.quantile(samples, probabilities, axis=1).T
    assert np.abs(ours - direct).max() <= 0.01 + 1e-12
    # With evenly spread values the interpolation is close to exact.
    np.testing.assert_allclose(ours[1], direct[1], atol=0.002)
    assert np.isnan(histogram_quantiles(np.zeros((1, INTENSITY_BINS)), [0.5])).all()


def test_horizon_intensity_mean_and_standard_error(stepped):
    _, domains, paths, tally = stepped
    table = horizon_intensity(tally, domains, [12, 36]).set_index(["domain", "horizon"])
    for row, domain in enumerate(domains):
        for h in (12, 36):
            values = paths[row, h].astype(np.float64)
            assert table.loc[(domain, h), "mean"] == pytest.approx(values.mean(), rel=1e-12)
            se = values.std() / np.sqrt(values.size)
            # The sd of the bin midpoints is within half a bin width of the direct one.
            assert table.loc[(domain, h), "se"] == pytest.approx(se, abs=0.005 / np.sqrt(2000))


def test_tallies_of_chunks_add_up_to_the_tally_of_the_run():
    rng = np.random.default_rng(2)
    values = rng.random((2, 5, 300))
    whole = IntensityTally(np.stack([_histogram(v) for v in values]), values.sum(axis=2))
    parts = [values[:, :, :100], values[:, :, 100:]]
    tallies = [IntensityTally(np.stack([_histogram(v) for v in p]), p.sum(axis=2)) for p in parts]
    summed = tallies[0] + tallies[1]
    a = intensity_frame(whole, ["a", "b"], 0)
    b = intensity_frame(summed, ["a", "b"], 0)
    np.testing.assert_allclose(a[QUANTILE_COLUMNS], b[QUANTILE_COLUMNS], atol=1e-12)
    np.testing.assert_allclose(a["mean"], b["mean"], rtol=1e-12)


QUANTILE_COLUMNS = [quantile_column(p) for p in QUANTILES]


def test_paired_mean_difference_is_the_mean_of_differences_with_a_normal_interval():
    rng = np.random.default_rng(3)
    common = rng.random(5000)
    first = np.clip(common + rng.normal(0.05, 0.02, 5000), 0, 1).astype(np.float32)
    second = common.astype(np.float32)
    difference, low, high = paired_mean_difference(first, second)
    direct = first.astype(np.float64) - second.astype(np.float64)
    assert difference == pytest.approx(direct.mean(), rel=1e-12)
    half = 1.959963984540054 * direct.std(ddof=1) / np.sqrt(direct.size)
    assert (low, high) == pytest.approx((direct.mean() - half, direct.mean() + half), rel=1e-9)
    # Pairing removes the common part: much narrower than the unpaired interval.
    _, single_low, single_high = mean_interval(first)
    assert high - low < 0.2 * (single_high - single_low)
