"""What a calibration fits and to what, read from ``calibration/setup.yaml``.

Everything specific to a world lives in that file: the evidence ledger, the scenarios,
the free parameters (with the key paths they set and their admissible ranges), the
channel whose scale the ledger counts, and the ATOP group the alliance channel's
survival is fitted to. The code names no actor or channel, so the same command can
calibrate any dyad whose files follow this layout.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from sim.errors import Problem, ScenarioError
from sim.scenario import load_yaml, validate_structure
from sim.scenario.schema import Closed, Month, Name, Number, Text


class CountedChannel(Closed):
    """A channel whose scale the ledger reports as a count (entries per year, say)."""

    channel: Name
    unit: Text = Field(description="The unit of the ledger's figures that count it.")
    months: list[Month] = Field(min_length=1, description="Months with a count to fit.")
    token_count: Number = Field(gt=0, description="The count that codes as `token_level`.")
    token_level: Number = Field(ge=0, le=1)
    top_level: Number = Field(ge=0, le=1, description="Intensity of the largest count.")


class FreeParameter(Closed):
    """A parameter the calibration fits: the key paths it sets and its admissible range."""

    paths: list[Text] = Field(min_length=1)
    low: Number
    high: Number
    block: Literal["emergence", "base_rate"]
    meaning: Text
    reference: Number | None = Field(
        None, description="Value while the other block is fitted (default: the scenario's)."
    )

    @model_validator(mode="after")
    def _ordered(self) -> FreeParameter:
        if not self.low < self.high:
            raise ValueError("needs low < high")
        return self

    @property
    def in_world(self) -> bool:
        """Whether it is a parameter of the world (not of the calibration's start state)."""
        return not any(path.startswith("state.") for path in self.paths)


class FormationValue(Closed):
    """A treaty's value of a covariate fixed at formation, as ATOP would code it."""

    value: Number
    reason: Text


class MappedCovariate(Closed):
    """A covariate of the world's treaty and the regression terms it stands for.

    ``terms``: its log hazard ratio is the sum of these coefficients (a change that moves
    them all at once). ``mixture``: the log of the hazard ratios of these kinds of one
    event averaged with these shares. ``age_slope``: the coefficient of the covariate's
    interaction with ln(age in years).
    """

    terms: list[Name] = Field(default_factory=list)
    mixture: dict[Name, Number] | None = None
    age_slope: Name | None = None
    reason: Text

    @model_validator(mode="after")
    def _one_form(self) -> MappedCovariate:
        if bool(self.terms) == (self.mixture is not None):
            raise ValueError("give exactly one of: terms, mixture")
        if self.mixture is not None:
            total = sum(self.mixture.values())
            if abs(total - 1) > 1e-9 or min(self.mixture.values()) < 0:
                raise ValueError(
                    f"mixture shares must be non-negative and sum to 1 (sum {total:g})"
                )
        return self


class TreatyHazardSetup(Closed):
    """How the survival regression of alliances maps onto the world's treaty."""

    treaty: Name
    model: Name = Field(description="The model of hazards.csv to take the numbers from.")
    out: Text = Field(description="The scenario fragment to write (treaty_hazard.yaml).")
    draws: int = Field(ge=2, description="Joint draws from the coefficients' covariance.")
    formation: dict[Name, FormationValue]
    baseline_steps: list[int] = Field(min_length=1, description="Ages (months) of the steps.")
    covariates: dict[Name, MappedCovariate]
    reference_class: Name = Field(
        description="The ATOP class (reference_curves.csv) the treaty is compared with."
    )

    @model_validator(mode="after")
    def _steps(self) -> TreatyHazardSetup:
        steps = self.baseline_steps
        if steps[0] != 0 or any(b <= a for a, b in pairwise(steps)):
            raise ValueError("baseline_steps must start at 0 and increase")
        return self


class Setup(Closed):
    """The calibration's setup file."""

    description: Text
    evidence: Text
    base_rates: Text
    fit_scenario: Text
    baseline: Text
    fitted: Text
    base_rate_group: Name
    reference_group: Name
    counted_channel: CountedChannel
    free_parameters: dict[Name, FreeParameter] = Field(min_length=1)
    treaty_hazard: TreatyHazardSetup | None = None

    # The folder the file was read from: its paths are relative to it (set by load_setup).
    folder: Path = Field(Path("."), exclude=True)

    def path(self, relative: str) -> Path:
        """A path of the setup, resolved against the setup file's folder."""
        return (self.folder / relative).resolve()

    def block(self, name: str) -> dict[str, FreeParameter]:
        """The free parameters fitted together in block ``name``."""
        return {key: p for key, p in self.free_parameters.items() if p.block == name}


def load_setup(path: Path) -> Setup:
    """Read and check a calibration setup file.

    Raises:
        ScenarioError: With the line and key path of every problem.
    """
    data, locations = load_yaml(Path(path))
    setup = validate_structure(Setup, data, locations)
    setup = setup.model_copy(update={"folder": Path(path).resolve().parent})
    problems = [
        Problem(locations.get((key,)), (key,), f"no such file: {getattr(setup, key)}")
        for key in ("evidence", "fit_scenario", "baseline")
        if not setup.path(getattr(setup, key)).is_file()
    ]
    if problems:
        raise ScenarioError(problems)
    return setup
