"""Scenario events: how often each happened by the horizon, and when.

From a :class:`Summary`'s per-month counts of each event (the month it happened in each
replication, or that it did not by the horizon), so chunks add up. The share that
happened is a binomial proportion with a Wilson interval; the median month among the
replications in which it happened is the first month by which half of them had seen it
(``numpy.quantile(..., method="inverted_cdf")``), a whole month.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.months import iso_month
from sim.stats.survival import Summary, wilson_interval

EVENT_COLUMNS = [
    "event", "replications", "happened", "p_happened", "ci_low", "ci_high",
    "median_month", "median_date",
]  # fmt: skip


def event_table(summary: Summary, start_month: int, level: float = 0.95) -> pd.DataFrame:
    """Per scenario event: the share of replications in which it happened, and its median month.

    Args:
        summary: A run's summary (its ``event_months`` counts).
        start_month: Month number of month 0 (see :mod:`sim.months`), for the dates.
        level: Confidence level of the Wilson interval.

    Returns:
        One row per event in the scenario's order, with the columns of
        :data:`EVENT_COLUMNS`; ``median_month`` and ``median_date`` are empty (None) for
        an event that never happened.
    """
    rows = []
    for event, counts in summary.event_months.items():
        counts = np.asarray(counts, dtype=np.int64)
        total = int(counts.sum())
        by_month = counts[:-1]  # the last entry: did not happen by the horizon
        happened = int(by_month.sum())
        low, high = wilson_interval(happened, total, level)
        median = None
        if happened:
            median = int(np.argmax(2 * np.cumsum(by_month) >= happened))
        rows.append(
            {
                "event": event,
                "replications": total,
                "happened": happened,
                "p_happened": happened / total,
                "ci_low": low,
                "ci_high": high,
                "median_month": median,
                "median_date": None if median is None else iso_month(start_month + median),
            }
        )
    table = pd.DataFrame(rows, columns=EVENT_COLUMNS)
    table["median_month"] = table["median_month"].astype("Int64")
    return table
