"""Intensity of cooperation over replications: means, quantiles and paired differences.

Works on the intensity tallies a run keeps (:class:`sim.model.outcomes.IntensityTally`:
per domain and month, a histogram of the replications' intensities in bins of width
0.01, and their sum) and on the per-replication intensities at the report horizons. The
tally holds everything the outputs need without keeping every replication's path:

- the mean over replications is the sum divided by the count, exactly;
- a quantile is read off the histogram by linear interpolation within the bin that
  holds it (replications spread evenly across their bin), so it is accurate to a bin
  width (0.01) whatever the number of replications;
- a standard deviation is computed with each value at its bin's midpoint, accurate to
  half a bin width: good enough for a Monte Carlo standard error, not reported as a
  statistic of its own.

A treaty's "intensity" is 1 while it is in force and 0 after, so its mean is the share
of replications in which it is in force.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.model.outcomes import IntensityTally
from sim.months import iso_month
from sim.stats.survival import normal_quantile

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""The quantiles of intensity.csv: the median, and the 50% and 90% central ranges."""


def quantile_column(probability: float) -> str:
    """The column name of a quantile: ``q05`` for 0.05, ``q50`` for the median."""
    return f"q{round(probability * 100):02d}"


def histogram_quantiles(counts: np.ndarray, probabilities: Sequence[float]) -> np.ndarray:
    """Quantiles of values on [0, 1] from their histogram in equal bins.

    The p-quantile lies in the first bin whose cumulative count reaches p·n; within it the
    bin's values are taken as spread evenly, so the quantile is the bin's lower edge plus
    the share of the bin needed to reach p·n. Where values sit on a bin edge (a channel
    at exactly 0) the estimate can be up to one bin width above them.

    Args:
        counts: Histogram counts, bins on the last axis (``counts[..., b]`` values in
            ``[b / bins, (b + 1) / bins)``, 1.0 in the last bin).
        probabilities: Quantile levels in [0, 1].

    Returns:
        Quantiles with shape ``counts.shape[:-1] + (len(probabilities),)``; NaN where a
        histogram is empty.
    """
    counts = np.asarray(counts, dtype=np.float64)
    bins = counts.shape[-1]
    total = counts.sum(axis=-1, keepdims=True)
    cumulative = np.cumsum(counts, axis=-1)
    before = cumulative - counts
    occupied = counts > 0
    result = []
    for probability in probabilities:
        target = probability * total
        # The first occupied bin whose cumulative count reaches the target.
        reached = (cumulative >= target) & occupied
        index = np.argmax(reached, axis=-1)[..., None]
        held = np.take_along_axis(counts, index, axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.clip((target - np.take_along_axis(before, index, axis=-1)) / held, 0, 1)
        value = (index + share) / bins
        result.append(np.where(total > 0, value, np.nan)[..., 0])
    return np.stack(result, axis=-1)


def histogram_sd(counts: np.ndarray) -> np.ndarray:
    """Standard deviation of values on [0, 1] from their histogram in equal bins.

    Each value is taken at its bin's midpoint, at most half a bin width from it; the
    standard deviation of the midpoints is then within half a bin width of that of the
    values (Minkowski's inequality).
    """
    counts = np.asarray(counts, dtype=np.float64)
    bins = counts.shape[-1]
    middle = (np.arange(bins) + 0.5) / bins
    total = counts.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (counts * middle).sum(axis=-1) / total
        square = (counts * (middle - mean[..., None]) ** 2).sum(axis=-1) / total
    return np.sqrt(square)


def tally_means(tally: IntensityTally) -> np.ndarray:
    """Mean intensity per domain and month (``[domain, month]``), from the exact sums."""
    total = tally.counts.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, tally.sums / total, np.nan)


def intensity_frame(
    tally: IntensityTally,
    domains: Sequence[str],
    start_month: int,
    probabilities: Sequence[float] = QUANTILES,
) -> pd.DataFrame:
    """Each domain's intensity over the replications, month by month.

    Args:
        tally: A run's intensity tally (rows in the order of ``domains``).
        domains: The domain names, the tally's rows.
        start_month: Month number of month 0 (see :mod:`sim.months`), for the dates.
        probabilities: The quantiles to give.

    Returns:
        One row per domain and month from 0 to the horizon: ``domain, month, date, mean``
        and a column per quantile (``q05, q25, q50, q75, q95`` by default).
    """
    means = tally_means(tally)
    quantiles = histogram_quantiles(tally.counts, probabilities)
    months = np.arange(means.shape[1])
    frames = []
    for row, domain in enumerate(domains):
        frame = pd.DataFrame(
            {
                "domain": domain,
                "month": months,
                "date": [iso_month(start_month + m) for m in months],
                "mean": means[row],
            }
        )
        for column, probability in enumerate(probabilities):
            frame[quantile_column(probability)] = quantiles[row, :, column]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def horizon_intensity(
    tally: IntensityTally, domains: Sequence[str], horizons: Sequence[int]
) -> pd.DataFrame:
    """Expected intensity of each domain at the report horizons, with its standard error.

    Returns:
        One row per domain and horizon: ``domain, horizon, mean, se`` (the mean exact
        from the sums; the standard error sd / sqrt(n), the sd from the histogram).
    """
    means = tally_means(tally)
    sds = histogram_sd(tally.counts)
    total = tally.counts.sum(axis=-1)
    rows = [
        (domain, h, float(means[row, h]), float(sds[row, h] / np.sqrt(total[row, h])))
        for row, domain in enumerate(domains)
        for h in horizons
    ]
    return pd.DataFrame(rows, columns=["domain", "horizon", "mean", "se"])


def mean_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """The mean of ``values`` with a normal interval, mean ± z·sd/√n."""
    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean())
    sd = float(values.std(ddof=1)) if values.size > 1 else 0.0
    half = normal_quantile(level) * sd / np.sqrt(values.size)
    return mean, mean - half, mean + half


def paired_mean_difference(
    first: np.ndarray, second: np.ndarray, level: float = 0.95
) -> tuple[float, float, float]:
    """Mean of the paired differences ``first − second``, with a normal interval.

    For replications run on common random numbers, replication i of one scenario and of
    another form a pair; the interval is that of a mean of the n differences.
    """
    first = np.asarray(first, dtype=np.float64)
    second = np.asarray(second, dtype=np.float64)
    return mean_interval(first - second, level)
