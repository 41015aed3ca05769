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
