"""Co-failure: whether domains end together more often than they would independently.

For two domains a and b and a horizon h, P(both) is the share of replications in which
both had ended (their first spell) by h. Were their endings independent it would be
P(a)·P(b); the lift P(both) / (P(a)·P(b)) says how many times likelier a joint ending
is than independence gives (above 1: they fail together), the difference P(both) −
P(a)·P(b) by how much. Its 95% interval is the delta method's: with the influence of a
replication that ended a (A = 1 or 0) and b (B), ``AB − p_ab − p_b (A − p_a) − p_a (B −
p_b)``, the variance of the difference is the mean of its square over replications,
divided by n. From a :class:`Summary`'s counts alone, so chunks add up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.months import iso_month
from sim.stats.survival import Summary, normal_quantile

CO_FAILURE_COLUMNS = [
    "domain_a", "domain_b", "horizon", "date", "p_a", "p_b", "p_both", "p_independent",
    "lift", "difference", "difference_low", "difference_high",
]  # fmt: skip


def co_failure(summary: Summary, start_month: int, level: float = 0.95) -> pd.DataFrame:
    """Joint endings of every pair of domains at every report horizon.

    Args:
        summary: A run's summary (its ``co_ended`` counts).
        start_month: Month number of month 0 (see :mod:`sim.months`), for the dates.
        level: Confidence level of the interval of the difference.

    Returns:
        One row per pair (in the domains' order, a before b) and horizon, with the
        columns of :data:`CO_FAILURE_COLUMNS`: ``p_a``, ``p_b`` (each ended by the
        horizon), ``p_both``, ``p_independent`` (= p_a·p_b), ``lift`` (p_both /
        p_independent; NaN where either never ended), ``difference`` (p_both −
        p_independent) and its delta-method interval.
    """
    if summary.co_ended is None:
        raise ValueError("the summary has no co-ending counts")
    domains = list(summary.life_tables)
    n = summary.replications
    z = normal_quantile(level)
    a_index, b_index = np.triu_indices(len(domains), k=1)
    frames = []
    for k, horizon in enumerate(summary.report_horizons):
        counts = summary.co_ended[k].astype(np.float64)
        p_a = np.diag(counts)[a_index] / n
        p_b = np.diag(counts)[b_index] / n
        both = counts[a_index, b_index] / n
        independent = p_a * p_b
        difference = both - independent
        # The influence of each kind of replication (A, B ended or not) on the difference.
        cells = {
            (1, 1): both,
            (1, 0): p_a - both,
            (0, 1): p_b - both,
            (0, 0): 1 - p_a - p_b + both,
        }
        variance = sum(
            share * (a * b - both - p_b * (a - p_a) - p_a * (b - p_b)) ** 2
            for (a, b), share in cells.items()
        )
        half = z * np.sqrt(np.maximum(variance, 0.0) / n)
        with np.errstate(divide="ignore", invalid="ignore"):
            lift = np.where(independent > 0, both / independent, np.nan)
        frames.append(
            pd.DataFrame(
                {
                    "domain_a": [domains[i] for i in a_index],
                    "domain_b": [domains[j] for j in b_index],
                    "horizon": horizon,
                    "date": iso_month(start_month + horizon),
                    "p_a": p_a,
                    "p_b": p_b,
                    "p_both": both,
                    "p_independent": independent,
                    "lift": lift,
                    "difference": difference,
                    "difference_low": difference - half,
                    "difference_high": difference + half,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)[CO_FAILURE_COLUMNS]


def strongest_pairs(
    table: pd.DataFrame, horizon: int, count: int = 3, minimum: float = 0.01
) -> pd.DataFrame:
    """The pairs that co-fail most at ``horizon``: highest lift among clear joint endings.

    A pair counts if both ended together in at least ``minimum`` of the replications and
    the interval of its difference lies above 0 (a lift from a handful of joint endings,
    or within chance of 1, says little).
    """
    here = table[
        (table.horizon == horizon) & (table.p_both >= minimum) & (table.difference_low > 0)
    ]
    return here.sort_values(["lift", "domain_a", "domain_b"], ascending=[False, True, True]).head(
        count
    )
