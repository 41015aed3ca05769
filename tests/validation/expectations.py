"""The face-validity expectations of docs/validation.md, read from its tables.

The page is the single statement of what the model must do: these helpers parse its
tables, build the knob variants it describes, and measure every row, for the tests and for
regenerating the page's measured columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

import sim
from tests.helpers import ROOT, SCENARIOS, variant

PAGE = ROOT / "docs" / "validation.md"
SEED = 20251202
REPLICATIONS = 10_000


@dataclass(frozen=True)
class Row:
    """One expectation: a scenario against its reference, in one domain."""

    scenario: str
    reference: str
    domain: str
    direction: str
    least: dict[int, float | None]


def _least(cell: str) -> float | None:
    cell = cell.strip()
    return None if cell in ("—", "-", "") else float(cell)


def scenario_rows() -> list[Row]:
    """The rows of the page's first table."""
    text = PAGE.read_text()
    section = text.split("## Scenarios against their reference", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 9 or cells[0] in ("scenario", "---") or set(cells[0]) <= {"-"}:
            continue
        rows.append(
            Row(
                cells[0], cells[1], cells[2], cells[3], {24: _least(cells[4]), 60: _least(cells[5])}
            )
        )
    return rows


def knob_names() -> list[str]:
    """The knobs of the page's second table."""
    section = PAGE.read_text().split("## Mechanisms switched off or pushed hard", 1)[1]
    return [m.group(1) for m in re.finditer(r"^\| (\w+) \|", section, re.MULTILINE)
            if m.group(1) != "knob"]  # fmt: skip


def measure_scenarios(rows: list[Row], workers: int = 2) -> pd.DataFrame:
    """Paired differences of P(alive) for every (scenario, reference) the rows name."""
    frames = []
    for reference in dict.fromkeys(row.reference for row in rows):
        names = list(dict.fromkeys(r.scenario for r in rows if r.reference == reference))
        scenarios = [sim.load_scenario(SCENARIOS / f"{name}.yaml") for name in names]
        base = sim.load_scenario(SCENARIOS / f"{reference}.yaml")
        comparison = sim.compare(
            [base, *scenarios], replications=REPLICATIONS, seed=SEED, workers=workers
        )
        frames.append(comparison.differences("p_alive"))
    return pd.concat(frames, ignore_index=True)


def check(row: Row, table: pd.DataFrame) -> list[str]:
    """What is wrong with a row's measured effects (nothing: an empty list)."""
    problems = []
    sign = -1 if row.direction == "down" else 1
    for horizon, least in row.least.items():
        if least is None:
            continue
        found = table[
            (table.scenario == row.scenario)
            & (table.baseline == row.reference)
            & (table.domain == row.domain)
            & (table.horizon == horizon)
        ].iloc[0]
        if min(sign * found.difference_low, sign * found.difference_high) <= 0:
            problems.append(f"{row} at {horizon}: interval [{found.difference_low:.4f}, "
                            f"{found.difference_high:.4f}] does not exclude 0")  # fmt: skip
        if sign * found.difference < least:
            problems.append(
                f"{row} at {horizon}: effect {found.difference:+.4f} smaller than {least}"
            )
    return problems


def switched_off(scenario: sim.Scenario) -> sim.Scenario:
    """Both parties of every channel want none of it, from month 0."""
    changes = {
        name: {"desire": {party: {"base": -5.0} for party in channel.parties}}
        for name, channel in scenario.channels.items()
    }
    return variant(scenario, channels=changes)


def at_once(scenario: sim.Scenario, name: str, effects: list[dict[str, Any]]) -> sim.Scenario:
    """The scenario with an event in its first month that has these effects.

    Month 1, not 0: a change at month 0 would be part of the start state, from which the
    treaty's covariates measure their changes.
    """
    return variant(scenario, events={name: {"timing": {"month": 1}, "effects": effects}})


def mean_intensity(result: sim.RunResult, domain: str, month: int) -> float:
    """Mean intensity of a domain at a report horizon, over the replications."""
    outcomes = result.outcomes
    row = outcomes.channels.index(domain)
    return float(outcomes.intensity_at[row, outcomes.report_horizons.index(month)].mean())


def alive(result: sim.RunResult, domain: str, month: int) -> float:
    """P(alive) of a domain at a month, from its outcomes."""
    outcomes = result.outcomes
    row = outcomes.channels.index(domain)
    return float(np.mean(~(outcomes.event[row] & (outcomes.month[row] <= month))))
