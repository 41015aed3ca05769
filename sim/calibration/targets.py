"""Calibration targets: the numbers the model should reproduce, each with its scale and source.

(a) Emergence: the model, started at the beginning of the ledger's fit window, should
    establish each latent channel about when the ledger first records it active, grow the
    counted channel as its counts grew, and arrive at the end of the window near the
    coded state of that month.
(b) Base rate: in the baseline, the alliance channel should survive like the ATOP group
    named in the setup.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.calibration.ledger import Evidence, in_window
from sim.calibration.setup import Setup
from sim.errors import UserError
from sim.months import parse_month
from sim.scenario import Scenario
from sim.scenario.schema import point_value

EMERGENCE_SIGMA = 2.0  # months: evidence dates are to the month, emergence is gradual
INTENSITY_SIGMA = 0.10  # one step of the coding scale is 0.2


@dataclass(frozen=True)
class Target:
    """One number the model should reproduce."""

    name: str
    block: str  # "emergence" (target a) or "base_rate" (target b)
    observed: float
    sigma: float
    source: str


def targets(
    setup: Setup,
    evidence: Evidence,
    start_scenario: Scenario,
    reference: Scenario,
    base_rates: pd.DataFrame,
) -> list[Target]:
    """Every calibration target, from the ledger, the coded end-of-window state and ATOP.

    Args:
        setup: What is fitted (the counted channel, the ATOP group).
        evidence: The ledger.
        start_scenario: The calibration scenario, started at the beginning of the fit
            window (which channels start latent).
        reference: A scenario holding the coded state of the end of the fit window.
        base_rates: The table of :func:`sim.calibration.baserates.base_rates`.
    """
    start = parse_month(start_scenario.start)
    found: list[Target] = []
    for domain, state in start_scenario.state.channels.items():
        threshold = start_scenario.channels[domain].threshold
        threshold = start_scenario.channel_defaults.threshold if threshold is None else threshold
        if point_value(state.intensity) >= point_value(threshold):
            continue  # alive at the start: nothing to emerge
        seen = [o for o in in_window(evidence) if o.domain == domain and o.active]
        if not seen:
            raise UserError(
                f"{domain} starts below its threshold in {start_scenario.start}, but the "
                "evidence ledger has no active observation of it in the fit window to date "
                "its emergence"
            )
        first = min(seen, key=lambda o: o.month)
        found.append(
            Target(
                f"emergence.{domain}",
                "emergence",
                parse_month(first.month) - start,
                EMERGENCE_SIGMA,
                f"{first.id} ({first.month})",
            )
        )
    counted = setup.counted_channel
    counts = {
        o.month: o
        for o in evidence.observations
        if o.domain == counted.channel and o.figure and o.figure.unit == counted.unit
    }
    missing = [month for month in counted.months if month not in counts]
    if missing:
        raise UserError(
            f"the evidence ledger has no figure in '{counted.unit}' for {counted.channel} "
            f"in {', '.join(missing)} (calibration/setup.yaml, counted_channel.months)"
        )
    # Counts on a log scale between the token count and the largest count in the ledger.
    highest = max(o.figure.value for o in counts.values())
    span = counted.top_level - counted.token_level
    for month in counted.months:
        count = counts[month].figure.value
        coded = counted.token_level + span * np.log(count / counted.token_count) / np.log(
            highest / counted.token_count
        )
        found.append(
            Target(
                f"counted_intensity.{counted.channel}.{month}",
                "emergence",
                float(coded),
                INTENSITY_SIGMA,
                f"{counts[month].id}: {count:,.0f} {counted.unit}",
            )
        )
    end = reference.state.month
    for domain, state in reference.state.channels.items():
        found.append(
            Target(
                f"intensity.{end}.{domain}",
                "emergence",
                point_value(state.intensity),
                INTENSITY_SIGMA,
                f"coded state of {end} (scenarios/world)",
            )
        )
    if not setup.block("base_rate"):
        return found  # nothing is fitted to the base rate
    rates = base_rates.set_index("group").loc[setup.base_rate_group]
    alliance = reference.alliance_channel
    for years, months in ((1, 12), (5, 60), (10, 120)):
        half_width = (rates[f"s_{years}y_high"] - rates[f"s_{years}y_low"]) / 2
        found.append(
            Target(
                f"alliance_survival.{alliance}.{months}",
                "base_rate",
                float(rates[f"s_{years}y"]),
                float(half_width / 1.96),
                f"ATOP v4.01, group {setup.base_rate_group}, S({years}y)",
            )
        )
    return found
