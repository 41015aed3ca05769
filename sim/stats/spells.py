"""Spells and endings: how often a domain comes and goes, and how its first spell ends.

A spell is a stretch of months in which a domain's cooperation is established; a
channel can lapse (fall below its threshold for the dormancy window), be broken off (a
rupture not undone within the window), or, for a treaty, be formally ended, and a
channel can be established again later (a second spell). From a :class:`Summary`'s
counts alone, so the chunks of a run add up to the same table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.model.outcomes import ENDINGS  # noqa: F401 (the codes ENDING_COLUMNS names)
from sim.stats.survival import Summary

ENDING_COLUMNS = {1: "p_lapsed", 2: "p_broken_off", 3: "p_formally_ended"}
"""The column of each way a first spell can end (codes of :data:`ENDINGS`)."""
SPELL_COLUMNS = [
    "domain", "replications", "p_established", "mean_spells", "mean_alive_months",
    "mean_interruptions", "p_lapsed", "p_broken_off", "p_formally_ended", "p_not_ended",
]  # fmt: skip


def spells_table(summary: Summary) -> pd.DataFrame:
    """Spells, months alive, interruptions and endings of every domain within the horizon.

    Means are over all replications (a domain never established counts 0 spells and 0
    months); the shares of endings are of first spells, that is of the replications in
    which the domain was established by the horizon.

    Returns:
        One row per domain, with the columns of :data:`SPELL_COLUMNS`: ``replications``,
        ``p_established`` (share with a first spell), ``mean_spells``,
        ``mean_alive_months`` (months in a spell within the horizon),
        ``mean_interruptions`` (ruptures undone within the dormancy window), and the
        shares of first spells that ``p_lapsed``, ``p_broken_off``, ``p_formally_ended``
        or ``p_not_ended`` by the horizon (NaN where the domain was never established).
    """
    n = summary.replications
    rows = []
    for domain, counts in summary.endings.items():
        totals = summary.totals[domain]
        established = totals["established"]
        # Ending 0 ("not ended") also counts the replications never established.
        first_spells = np.asarray(counts, dtype=np.float64).copy()
        first_spells[0] -= n - established
        with np.errstate(divide="ignore", invalid="ignore"):
            shares = first_spells / established if established else np.full(4, np.nan)
        rows.append(
            {
                "domain": domain,
                "replications": n,
                "p_established": established / n,
                "mean_spells": totals["spells"] / n,
                "mean_alive_months": totals["alive_months"] / n,
                "mean_interruptions": totals["interruptions"] / n,
                **{column: shares[code] for code, column in ENDING_COLUMNS.items()},
                "p_not_ended": shares[0],
            }
        )
    return pd.DataFrame(rows, columns=SPELL_COLUMNS)
