"""Survival statistics from outcomes alone: Kaplan–Meier curves, intervals, medians.

Works on termination months and event flags (see :class:`sim.outcomes.Outcomes`), or on
the per-month counts they reduce to, so it never needs the model. Conventions:

- Survival at month t is P(T > t): a channel that terminates in month t is not alive at t.
- Intervals are pointwise 95% log-log intervals (exponential Greenwood): on
  ``log(-log S)`` with Greenwood's variance, back-transformed, as ``scipy.stats.ecdf``
  (``method='log-log'``) and lifelines compute them. Where S(t) = 1 the interval is [1, 1].
- The median survival is the first month t with S(t) <= 0.5 (lifelines' rule; a curve
  that sits exactly at 0.5 gives the first month it reaches it). Its interval runs from
  where the lower band first reaches 0.5 to where the upper band does, as lifelines
  reads it off the bands. "Not reached" (NR) is reported as None.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtri

from sim.model.outcomes import IntensityTally, Outcomes
from sim.months import iso_month


@dataclass(frozen=True)
class LifeTable:
    """Per-month counts of one channel: the sufficient statistics of its KM curve.

    Attributes:
        events: Terminations in month t, for t = 0..horizon.
        censored: Replications censored at month t.
    """

    events: np.ndarray
    censored: np.ndarray

    @classmethod
    def from_outcomes(cls, months: np.ndarray, events: np.ndarray, horizon: int) -> LifeTable:
        """Count terminations and censorings per month."""
        months = np.asarray(months, dtype=np.int64)
        events = np.asarray(events, dtype=bool)
        return cls(
            np.bincount(months[events], minlength=horizon + 1),
            np.bincount(months[~events], minlength=horizon + 1),
        )

    def __add__(self, other: LifeTable) -> LifeTable:
        return LifeTable(self.events + other.events, self.censored + other.censored)

    @property
    def at_risk(self) -> np.ndarray:
        """Replications still at risk at the start of each month."""
        total = int(self.events.sum() + self.censored.sum())
        leaving = np.cumsum(self.events + self.censored)
        return total - np.concatenate([[0], leaving[:-1]])


@dataclass(frozen=True)
class Summary:
    """Sufficient statistics of a set of outcomes, which chunks add up.

    Attributes:
        life_tables: Per-month terminations and censorings of each domain.
        alive_counts: ``alive_counts[t, k]`` is the number of replications with exactly k
            cooperation domains (channels, not treaties) not terminated at month t (shape
            horizon + 1 by channels + 1).
        endings: ``endings[domain]`` counts of how the first spell ended (not by the
            horizon, lapsed, broken off, formally ended).
        totals: ``totals[domain]`` sums of spells, months alive and interruptions, and
            ``established``: replications in which the domain was established by the
            horizon (it had a first spell).
        event_months: ``event_months[event]`` replications in which the event happened in
            each month 0..horizon, then those in which it did not (length horizon + 2).
        intensity: Intensity histograms and sums per domain and month, if kept.
        treaties: The domains that are treaties' formal status.
        report_horizons: The horizons of ``co_ended``.
        co_ended: ``co_ended[k, a, b]`` replications in which domains a and b had both
            ended (their first spell) by report horizon k; the diagonal counts each
            domain's endings (shape horizons by domains by domains).
    """

    life_tables: dict[str, LifeTable]
    alive_counts: np.ndarray
    endings: dict[str, np.ndarray] = field(default_factory=dict)
    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    event_months: dict[str, np.ndarray] = field(default_factory=dict)
    intensity: IntensityTally | None = None
    treaties: tuple[str, ...] = ()
    report_horizons: tuple[int, ...] = ()
    co_ended: np.ndarray | None = None

    @classmethod
    def from_outcomes(cls, outcomes: Outcomes) -> Summary:
        """Summarise the outcomes of one chunk (or a whole run)."""
        horizon = outcomes.horizon
        names = outcomes.channels
        tables = {
            name: LifeTable.from_outcomes(outcomes.month[i], outcomes.event[i], horizon)
            for i, name in enumerate(names)
        }
        channels = [i for i, name in enumerate(names) if name not in outcomes.treaties]
        domains, replications = len(channels), outcomes.month.shape[1]
        # Month from which each channel counts as terminated (horizon + 1: never).
        ended_from = np.where(
            outcomes.event[channels], outcomes.month[channels], horizon + 1
        ).astype(np.int64)
        rows = np.arange(replications, dtype=np.int64) * (horizon + 2)
        ended = np.bincount(
            (rows + ended_from).ravel(), minlength=replications * (horizon + 2)
        ).reshape(replications, horizon + 2)
        alive = domains - np.cumsum(ended, axis=1)[:, : horizon + 1]
        months = np.arange(horizon + 1, dtype=np.int64) * (domains + 1)
        counts = np.bincount((months + alive).ravel(), minlength=(horizon + 1) * (domains + 1))
        endings = {
            name: np.bincount(outcomes.ending[i].astype(np.int64), minlength=4)
            for i, name in enumerate(names)
        }
        totals = {
            name: {
                field: int(getattr(outcomes, field)[i].sum(dtype=np.int64))
                for field in ("spells", "alive_months", "interruptions")
            }
            | {"established": int(np.count_nonzero(outcomes.emerged[i] >= 0))}
            for i, name in enumerate(names)
        }
        co_ended = _co_ended(outcomes)
        event_months = {
            event: np.bincount(
                np.where(outcomes.event_months[k] < 0, horizon + 1, outcomes.event_months[k]),
                minlength=horizon + 2,
            )
            for k, event in enumerate(outcomes.events)
        }
        return cls(
            tables,
            counts.reshape(horizon + 1, domains + 1),
            endings,
            totals,
            event_months,
            outcomes.tally,
            outcomes.treaties,
            tuple(outcomes.report_horizons),
            co_ended,
        )

    def __add__(self, other: Summary) -> Summary:
        tables = {name: table + other.life_tables[name] for name, table in self.life_tables.items()}
        intensity = (
            self.intensity + other.intensity
            if self.intensity is not None and other.intensity is not None
            else None
        )
        return Summary(
            tables,
            self.alive_counts + other.alive_counts,
            {name: counts + other.endings[name] for name, counts in self.endings.items()},
            {
                name: {key: value + other.totals[name][key] for key, value in fields.items()}
                for name, fields in self.totals.items()
            },
            {name: counts + other.event_months[name] for name, counts in self.event_months.items()},
            intensity,
            self.treaties,
            self.report_horizons,
            self.co_ended + other.co_ended
            if self.co_ended is not None and other.co_ended is not None
            else None,
        )

    @property
    def replications(self) -> int:
        """Replications summarised."""
        first = next(iter(self.life_tables.values()))
        return int(first.events.sum() + first.censored.sum())


_BLOCK = 1 << 16  # replications per block of co-ending counts: float32 sums stay exact


def _co_ended(outcomes: Outcomes) -> np.ndarray:
    """Replications in which each pair of domains had both ended, at each report horizon."""
    domains, replications = outcomes.month.shape
    counts = np.zeros((len(outcomes.report_horizons), domains, domains), dtype=np.int64)
    for k, horizon in enumerate(outcomes.report_horizons):
        for start in range(0, replications, _BLOCK):
            block = slice(start, start + _BLOCK)
            ended = (outcomes.event[:, block] & (outcomes.month[:, block] <= horizon)).astype(
                np.float32
            )
            # A matrix product (BLAS) of 0/1 values: exact, as no sum exceeds 2**24.
            counts[k] += np.rint(ended @ ended.T).astype(np.int64)
    return counts


def kaplan_meier(table: LifeTable, level: float = 0.95) -> pd.DataFrame:
    """Kaplan–Meier survival with log-log intervals, one row per month from 0.

    Returns:
        Columns ``month, p_survive, ci_low, ci_high, at_risk, events``.
    """
    at_risk = table.at_risk
    n = at_risk.astype(np.float64)
    d = table.events.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n > 0, 1 - d / n, 1.0)
        survival = np.cumprod(factor)
        # Counts are never negative, so n > d implies n > 0.
        greenwood = np.cumsum(np.where(n > d, d / (n * (n - d)), 0.0))
        z = normal_quantile(level)
        log_s = np.log(survival)
        se = np.sqrt(greenwood) / np.abs(log_s)
        low = survival ** np.exp(z * se)
        high = survival ** np.exp(-z * se)
    one = survival >= 1
    low = np.where(one, 1.0, np.where(survival <= 0, 0.0, low))
    high = np.where(one, 1.0, np.where(survival <= 0, 0.0, high))
    return pd.DataFrame(
        {
            "month": np.arange(len(survival)),
            "p_survive": survival,
            "ci_low": low,
            "ci_high": high,
            "at_risk": at_risk,
            "events": table.events,
        }
    )


def first_month_at_or_below(curve: np.ndarray, level: float = 0.5) -> int | None:
    """First index where ``curve <= level``, or None if it never gets there."""
    hits = np.flatnonzero(np.asarray(curve) <= level)
    return int(hits[0]) if hits.size else None


@dataclass(frozen=True)
class Median:
    """Median survival in months with its interval; None means not reached (NR)."""

    estimate: int | None
    low: int | None
    high: int | None


def median_survival(curve: pd.DataFrame) -> Median:
    """Median survival and its interval from a :func:`kaplan_meier` table."""
    return Median(
        first_month_at_or_below(curve["p_survive"].to_numpy()),
        first_month_at_or_below(curve["ci_low"].to_numpy()),
        first_month_at_or_below(curve["ci_high"].to_numpy()),
    )


def survival_frame(
    tables: dict[str, LifeTable], start_month: int, level: float = 0.95
) -> pd.DataFrame:
    """Tidy survival of every channel: one row per channel and month.

    Args:
        tables: Life table per channel, in report order.
        start_month: Month number of month 0 (see :mod:`sim.months`), for the date column.
        level: Confidence level of the pointwise intervals.

    Returns:
        Columns ``domain, month, date, p_survive, ci_low, ci_high, at_risk, events``.
    """
    frames = []
    for domain, table in tables.items():
        curve = kaplan_meier(table, level)
        curve.insert(0, "domain", domain)
        curve.insert(2, "date", [iso_month(start_month + m) for m in curve["month"]])
        frames.append(curve)
    return pd.concat(frames, ignore_index=True)


def normal_quantile(level: float) -> float:
    """The standard normal quantile of a two-sided interval at ``level`` (1.96 for 95%)."""
    return float(ndtri(0.5 + level / 2))


def wilson_interval(alive: int, total: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion.

    The closed form, as ``scipy.stats.binomtest(...).proportion_ci(method="wilson")``
    computes it (a test checks that they agree); scipy.stats itself takes most of a second
    to import, which every run would pay.
    """
    low, high = wilson_bounds(alive, total, level)
    return float(low), float(high)


def restricted_mean(
    table: LifeTable, tau: int, curve: pd.DataFrame | None = None
) -> tuple[float, float]:
    """Restricted mean survival time to ``tau`` months and its standard error.

    RMST is the area under the Kaplan–Meier curve from 0 to tau, the expected number of
    months alive within the first tau (for a step curve on whole months, the sum of S(t)
    for t < tau). The standard error is the usual Greenwood-type one (Klein and
    Moeschberger, section 4.5), as lifelines' ``restricted_mean_survival_time`` gives.

    Args:
        table: The channel's life table.
        tau: The horizon in months.
        curve: The table's :func:`kaplan_meier` curve, if the caller has it already.
    """
    curve = kaplan_meier(table) if curve is None else curve
    survival = curve["p_survive"].to_numpy()[: tau + 1]
    rmst = float(survival[:tau].sum())
    n = table.at_risk[: tau + 1].astype(np.float64)
    d = table.events[: tau + 1].astype(np.float64)
    # Area under the curve from month t to tau, for each event month t.
    area_after = np.cumsum(survival[:tau][::-1])[::-1]
    area_after = np.append(area_after, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where((n > d) & (d > 0), area_after**2 * d / (n * (n - d)), 0.0)
    return rmst, float(np.sqrt(terms[1 : tau + 1].sum()))


def horizon_estimates(summary: Summary, horizons: list[int], level: float = 0.95) -> pd.DataFrame:
    """P(alive) at fixed horizons with Wilson intervals and Monte Carlo standard errors.

    Every replication is followed to the horizon (censoring happens only there), so the
    share alive at month h is a binomial proportion: the Kaplan–Meier estimate and the
    proportion coincide, and the Wilson interval is exact in coverage terms.

    Returns:
        One row per domain and horizon: ``domain, horizon, p_survive, ci_low, ci_high, se``.
    """
    rows = []
    for domain, table in summary.life_tables.items():
        total = int(table.at_risk[0])
        ended = np.cumsum(table.events)
        for h in horizons:
            alive = total - int(ended[h])
            low, high = wilson_interval(alive, total, level)
            p = alive / total
            rows.append((domain, h, p, low, high, np.sqrt(p * (1 - p) / total)))
    return pd.DataFrame(rows, columns=["domain", "horizon", "p_survive", "ci_low", "ci_high", "se"])


def domains_alive(summary: Summary, horizons: list[int]) -> pd.DataFrame:
    """How many domains are alive at each horizon: mean, spread and P(at least k).

    Returns:
        One row per horizon: ``horizon, mean, sd``, then ``p_at_least_<k>`` for k = 1..D.
    """
    rows = []
    domains = summary.alive_counts.shape[1] - 1
    for h in horizons:
        counts = summary.alive_counts[h].astype(np.float64)
        total = counts.sum()
        k = np.arange(domains + 1)
        mean = (k * counts).sum() / total
        sd = np.sqrt(((k - mean) ** 2 * counts).sum() / total)
        at_least = np.cumsum(counts[::-1])[::-1] / total
        row = {"horizon": h, "mean": mean, "sd": sd}
        row.update({f"p_at_least_{j}": at_least[j] for j in range(1, domains + 1)})
        rows.append(row)
    return pd.DataFrame(rows)


def wilson_bounds(alive: np.ndarray, total: np.ndarray | int, level: float = 0.95):
    """Wilson score interval, vectorised (the closed form of :func:`wilson_interval`)."""
    z = normal_quantile(level)
    n = np.asarray(total, dtype=np.float64)
    p = np.asarray(alive, dtype=np.float64) / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    # At p = 0 and p = 1 the bound is exactly 0 or 1 (as scipy gives it); the closed form
    # rounds a hair inside, which would leave the estimate outside its own interval.
    low = np.where(p == 0, 0.0, centre - half)
    high = np.where(p == 1, 1.0, centre + half)
    return low, high


def newcombe_paired(a, b, c, d, level: float = 0.95):
    """Difference of paired proportions, p1 − p2, with Newcombe's hybrid score interval.

    For n pairs classified ``a`` (both yes), ``b`` (first only), ``c`` (second only),
    ``d`` (neither): p1 = (a + b)/n, p2 = (a + c)/n. The interval combines the Wilson
    intervals of p1 and p2 with their correlation phi (Newcombe 1998, "Improved
    confidence intervals for the difference between binomial proportions based on paired
    data", Statistics in Medicine 17: 2635–2650, method 10). Works elementwise on arrays.

    Returns:
        ``(difference, low, high)``.
    """
    a, b, c, d = (np.asarray(x, dtype=np.float64) for x in (a, b, c, d))
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson_bounds(a + b, n, level)
    l2, u2 = wilson_bounds(a + c, n, level)
    product = (a + b) * (c + d) * (a + c) * (b + d)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(product > 0, (a * d - b * c) / np.sqrt(product), 0.0)
    below = np.sqrt(
        np.maximum((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0)
    )
    above = np.sqrt(
        np.maximum((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0)
    )
    return p1 - p2, p1 - p2 - below, p1 - p2 + above


Pair = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class PairedTable:
    """Joint counts of one domain's outcomes under two scenarios run on common random numbers.

    ``counts[i, j]`` is the number of replications whose channel terminated in month i
    under the first scenario and in month j under the second, with ``horizon + 1``
    standing for "still alive at the horizon". Every paired statistic of a comparison
    follows from it.
    """

    counts: np.ndarray

    @classmethod
    def from_outcomes(cls, first: Pair, second: Pair, horizon: int) -> PairedTable:
        """Pair ``(months, events)`` of the same replications under two scenarios."""
        size = horizon + 2
        i = np.where(first[1], first[0], horizon + 1).astype(np.int64)
        j = np.where(second[1], second[0], horizon + 1).astype(np.int64)
        counts = np.bincount(i * size + j, minlength=size * size).reshape(size, size)
        return cls(counts)

    @property
    def horizon(self) -> int:
        """Months simulated."""
        return self.counts.shape[0] - 2

    def two_by_two(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per month t: (both alive, first only, second only, neither) as arrays over t."""
        size = self.counts.shape[0]
        # tail[t, u]: replications ending after month t in the first, after u in the second.
        tail = np.cumsum(np.cumsum(self.counts[::-1, ::-1], axis=0), axis=1)[::-1, ::-1]
        total = self.counts.sum()
        months = np.arange(size - 1)
        both = tail[months + 1, months + 1]
        first_alive = tail[months + 1, 0]
        second_alive = tail[0, months + 1]
        first_only = first_alive - both
        second_only = second_alive - both
        return both, first_only, second_only, total - both - first_only - second_only

    def restricted_mean_difference(self, level: float = 0.95) -> tuple[float, float, float]:
        """Paired difference of months alive within the horizon (first − second), with its interval.

        Every replication is followed to the horizon, so each one's restricted survival
        time is min(T, horizon) and the difference of RMSTs is the mean paired difference.
        """
        size = self.counts.shape[0]
        months = np.minimum(np.arange(size), self.horizon).astype(np.float64)
        difference = months[:, None] - months[None, :]
        n = self.counts.sum()
        mean = float((self.counts * difference).sum() / n)
        variance = float((self.counts * (difference - mean) ** 2).sum() / (n - 1)) if n > 1 else 0.0
        z = normal_quantile(level)
        half = z * np.sqrt(variance / n)
        return mean, mean - half, mean + half

    def median_difference(
        self, rng: np.random.Generator, resamples: int = 1000, level: float = 0.95
    ) -> tuple[float | None, float | None, float | None]:
        """Median survival under the first minus under the second, with a paired bootstrap interval.

        Replications are resampled in pairs (a multinomial draw on the joint counts, so
        the cost does not depend on the number of replications); the interval is the
        percentile interval. None where a median is not reached within the horizon
        (for a bound: in more than the tail share of resamples).
        """
        point = _median_difference(self.counts[None, :, :].reshape(1, -1), self.counts.shape[0])
        n = int(self.counts.sum())
        flat = self.counts.ravel() / n
        draws = []
        for start in range(0, resamples, 100):
            batch = rng.multinomial(n, flat, size=min(100, resamples - start))
            draws.append(_median_difference(batch, self.counts.shape[0]))
        values = np.concatenate(draws)
        tail = (1 - level) / 2
        low, high = (
            np.nanquantile(values, [tail, 1 - tail])
            if np.isfinite(values).any()
            else (np.nan, np.nan)
        )
        unreached = np.mean(~np.isfinite(values))

        def clean(value: float, ok: bool) -> float | None:
            return float(value) if ok and np.isfinite(value) else None

        return (
            clean(point[0], True),
            clean(low, unreached <= tail),
            clean(high, unreached <= tail),
        )


def _median_difference(batch: np.ndarray, size: int) -> np.ndarray:
    """Median of the first minus median of the second, for each row of flattened joint counts."""
    joint = batch.reshape(len(batch), size, size)
    total = joint.sum(axis=(1, 2))[:, None]
    medians = []
    for marginal in (joint.sum(axis=2), joint.sum(axis=1)):
        ended = np.cumsum(marginal[:, : size - 1], axis=1)
        reached = ended >= total / 2
        first = np.argmax(reached, axis=1).astype(np.float64)
        medians.append(np.where(reached.any(axis=1), first, np.nan))
    return medians[0] - medians[1]
