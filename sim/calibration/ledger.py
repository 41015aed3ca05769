"""The evidence ledger: dated, sourced observations of a dyad's cooperation, domain by domain.

Observations inside the ledger's fit window say which channels were active by when (the
calibration's targets); observations after it are held out for the backtest; earlier
ones fix the starting state. The ledger is checked like a scenario file, with every
problem located by line and key path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from sim.errors import Problem, ScenarioError, did_you_mean
from sim.months import parse_month
from sim.scenario import load_yaml, validate_structure
from sim.scenario.schema import Closed, Month, Name, Text

DateText = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$")]


class ReportedFigure(Closed):
    """A figure an observation reports, with the range where sources disagree."""

    value: float
    unit: Text
    low: float | None = None
    high: float | None = None


class EvidenceSource(Closed):
    """Where an observation comes from: outlet or body, and date."""

    name: Text
    date: DateText
    url: Text | None = None


class Observation(Closed):
    """One dated observation of a cooperation domain."""

    id: Name
    domain: Name
    month: Month
    observed: Text
    active: bool
    figure: ReportedFigure | None = None
    sources: list[EvidenceSource] = Field(min_length=1)
    note: Text | None = None


class Evidence(Closed):
    """The evidence ledger."""

    description: Text
    fit_window: tuple[Month, Month]
    observations: list[Observation] = Field(min_length=1)


def load_evidence(path: Path, domains: list[str]) -> Evidence:
    """Read and check the evidence ledger against the world's domains.

    Raises:
        ScenarioError: Every problem, with line and key path.
    """
    data, locations = load_yaml(Path(path))
    evidence = validate_structure(Evidence, data, locations)
    problems = []
    seen: set[str] = set()
    for index, item in enumerate(evidence.observations):
        here = ("observations", index)
        where = locations.get((*here, "domain")) or locations.get(here)
        if item.domain not in domains:
            problems.append(
                Problem(
                    where,
                    (*here, "domain"),
                    f"unknown domain '{item.domain}'",
                    did_you_mean(item.domain, domains),
                )
            )
        if item.id in seen:
            problems.append(Problem(locations.get(here), (*here, "id"), f"duplicate id {item.id}"))
        seen.add(item.id)
        figure = item.figure
        if figure and not (figure.low or figure.value) <= figure.value <= (
            figure.high or figure.value
        ):
            problems.append(Problem(where, (*here, "figure"), "needs low <= value <= high"))
    for domain in domains:
        if not any(o.domain == domain for o in in_window(evidence)):
            problems.append(
                Problem(
                    locations.get(()),
                    ("observations",),
                    f"no observation of {domain} in the fit window",
                )
            )
    if problems:
        raise ScenarioError(problems)
    return evidence


def in_window(evidence: Evidence) -> list[Observation]:
    """Observations dated inside the fit window: the calibration's evidence."""
    first, last = (parse_month(m) for m in evidence.fit_window)
    return [o for o in evidence.observations if first <= parse_month(o.month) <= last]


def held_out(evidence: Evidence) -> list[Observation]:
    """Observations after the fit window: the backtest's outcomes."""
    last = parse_month(evidence.fit_window[1])
    return [o for o in evidence.observations if parse_month(o.month) > last]
