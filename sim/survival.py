"""Survival statistics from outcomes alone: Kaplan–Meier curves, intervals, medians.

Works on termination months and event flags (see :class:`sim.model.Outcomes`), or on
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

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sim.months import iso_month
from sim.outcomes import Outcomes


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
            domains not terminated at month t (shape horizon + 1 by domains + 1).
    """

    life_tables: dict[str, LifeTable]
    alive_counts: np.ndarray

    @classmethod
    def from_outcomes(cls, outcomes: Outcomes) -> Summary:
        """Summarise the outcomes of one chunk (or a whole run)."""
        horizon = outcomes.horizon
        domains, replications = outcomes.month.shape
        tables = {
            name: LifeTable.from_outcomes(outcomes.month[i], outcomes.event[i], horizon)
            for i, name in enumerate(outcomes.channels)
        }
        # Month from which each domain counts as terminated (horizon + 1: never).
        ended_from = np.where(outcomes.event, outcomes.month, horizon + 1).astype(np.int64)
        rows = np.arange(replications, dtype=np.int64) * (horizon + 2)
        ended = np.bincount(
            (rows + ended_from).ravel(), minlength=replications * (horizon + 2)
        ).reshape(replications, horizon + 2)
        alive = domains - np.cumsum(ended, axis=1)[:, : horizon + 1]
        months = np.arange(horizon + 1, dtype=np.int64) * (domains + 1)
        counts = np.bincount((months + alive).ravel(), minlength=(horizon + 1) * (domains + 1))
        return cls(tables, counts.reshape(horizon + 1, domains + 1))

    def __add__(self, other: Summary) -> Summary:
        tables = {name: table + other.life_tables[name] for name, table in self.life_tables.items()}
        return Summary(tables, self.alive_counts + other.alive_counts)


def kaplan_meier(table: LifeTable, level: float = 0.95) -> pd.DataFrame:
    """Kaplan–Meier survival with log-log intervals, one row per month from 0.

    Returns:
        Columns ``month, p_survive, ci_low, ci_high, at_risk, events``.
    """
    n = table.at_risk.astype(np.float64)
    d = table.events.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n > 0, 1 - d / n, 1.0)
        survival = np.cumprod(factor)
        greenwood = np.cumsum(np.where((n > 0) & (n > d), d / (n * (n - d)), 0.0))
        z = stats.norm.ppf(0.5 + level / 2)
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
            "at_risk": table.at_risk,
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


def wilson_interval(alive: int, total: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion (scipy's ``binomtest(...).proportion_ci``)."""
    interval = stats.binomtest(alive, total).proportion_ci(level, method="wilson")
    return float(interval.low), float(interval.high)


def restricted_mean(table: LifeTable, tau: int) -> tuple[float, float]:
    """Restricted mean survival time to ``tau`` months and its standard error.

    RMST is the area under the Kaplan–Meier curve from 0 to tau, the expected number of
    months alive within the first tau (for a step curve on whole months, the sum of S(t)
    for t < tau). The standard error is the usual Greenwood-type one (Klein and
    Moeschberger, section 4.5), as lifelines' ``restricted_mean_survival_time`` gives.
    """
    curve = kaplan_meier(table)["p_survive"].to_numpy()[: tau + 1]
    rmst = float(curve[:tau].sum())
    n = table.at_risk[: tau + 1].astype(np.float64)
    d = table.events[: tau + 1].astype(np.float64)
    # Area under the curve from month t to tau, for each event month t.
    area_after = np.cumsum(curve[:tau][::-1])[::-1]
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
