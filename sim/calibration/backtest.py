"""Backtest: the calibrated baseline's forecast against observations held out of the fit."""

from __future__ import annotations

import pandas as pd

from sim.calibration.ledger import Evidence, held_out
from sim.calibration.moments import Settings
from sim.calibration.setup import Setup
from sim.engine.runner import run
from sim.months import parse_month
from sim.scenario import Scenario


def backtest_table(
    setup: Setup,
    evidence: Evidence,
    forecast: Scenario,
    base_rates: pd.DataFrame,
    settings: Settings,
) -> tuple[pd.DataFrame, int]:
    """Score the March 2025 forecast against the held-out observations.

    The forecast is the fitted baseline run from the March 2025 state: for each held-out
    observation of a domain in month m, the forecast probability that the domain is alive
    at m. An observation of a treaty's practice, still active, also scores the forecast
    that the treaty is in force at m (a practice runs under its treaty; these rows have the
    treaty's name as their domain and ``:in_force`` after their id). The reference
    forecast is ATOP's survival of all alliances at the same age (log-linear between 0 and
    12 months), a base rate that knows nothing of this dyad.

    Returns:
        One row per held-out observation (and one more per active observation of a
        treaty's practice), and the longest forecast horizon used.
    """
    start = parse_month(forecast.start)
    observations = held_out(evidence)
    longest = max(parse_month(o.month) - start for o in observations)
    result = run(
        forecast,
        replications=10 * settings.replications,
        seed=settings.seed,
        horizon=max(longest, 12),
        workers=1,
    )
    curve = result.survival.set_index(["domain", "month"]).p_survive
    yearly = float(base_rates.set_index("group").loc[setup.reference_group, "s_1y"])
    treaty_of = {treaty.channel: name for name, treaty in forecast.treaties.items()}
    rows = []
    for o in observations:
        months = parse_month(o.month) - start
        scored = [(o.id, o.domain, int(o.active))]
        if o.active and o.domain in treaty_of:
            scored.append((f"{o.id}:in_force", treaty_of[o.domain], 1))
        for key, domain, observed in scored:
            rows.append(
                {
                    "id": key,
                    "domain": domain,
                    "month": o.month,
                    "months_ahead": months,
                    "observed": observed,
                    "forecast": float(curve[(domain, months)]),
                    "reference": float(yearly ** (months / 12)),
                }
            )
    return pd.DataFrame(rows), longest


def brier(table: pd.DataFrame, column: str) -> float:
    """Mean squared difference between a forecast column and the outcomes."""
    return float(((table[column] - table.observed) ** 2).mean())


def reliability(table: pd.DataFrame) -> pd.DataFrame:
    """Calibration table: forecasts binned, with the share of outcomes that happened."""
    bins = [0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0 + 1e-9]
    labels = ["[0, 0.5)", "[0.5, 0.8)", "[0.8, 0.9)", "[0.9, 0.95)", "[0.95, 0.99)", "[0.99, 1]"]
    binned = pd.cut(table.forecast, bins=bins, labels=labels, right=False)
    grouped = table.groupby(binned, observed=False)
    return pd.DataFrame(
        {
            "forecasts": grouped.size().astype(int),
            "mean_forecast": grouped.forecast.mean(),
            "observed_share": grouped["observed"].mean(),
        }
    )
