"""The sweep file language: which parameters of a base scenario vary, how, and what to report.

A sweep file names a base scenario, the parameters to vary (key paths into the resolved
scenario) and a design: a full grid, a Latin hypercube or a scrambled Sobol' sequence.
Its outputs are P(domain alive) at horizons, and its optional ``sensitivity`` section
the output whose Sobol' indices to estimate. It is read and checked like a scenario file,
with every problem located by file, line and key path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.errors import Problem, ScenarioError, UserError, did_you_mean, format_key_path
from sim.scenario.load import load_scenario, set_value
from sim.scenario.problems import validate_structure
from sim.scenario.schema import Closed, Name, Number, PositiveCount, Scenario, Text
from sim.scenario.yamlfile import Locations, load_yaml, similar_file

PointValue = float | int | str  # a design value: a number, or a month as YYYY-MM


class SweepParameter(Closed):
    """A parameter to vary: where it is in the scenario and which values it takes."""

    path: Text = Field(description="Key path in the resolved scenario, e.g. events.x.probability.")
    values: Annotated[list[Number | str], Field(min_length=1)] | None = Field(
        None, description="Grid values, numbers or YYYY-MM months."
    )
    range: tuple[Number, Number] | None = Field(
        None, description="[low, high] for Latin hypercube and Sobol' designs, or a grid."
    )
    steps: PositiveCount | None = Field(None, description="Grid points over the range.")
    integer: bool = Field(False, description="Round values to whole numbers (months).")
    label: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> SweepParameter:
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError("range needs low < high")
        if self.values is not None and self.range is not None:
            raise ValueError("give either values or a range, not both")
        if self.values is None and self.range is None:
            raise ValueError("give values (a grid) or a range")
        return self


class Design(Closed):
    """How points are chosen."""

    kind: Literal["grid", "lhs", "sobol"]
    points: PositiveCount | None = Field(None, description="Points of a lhs or sobol design.")
    seed: Annotated[int, Field(strict=True, ge=0)] = Field(0, description="Design seed.")


class Output(Closed):
    """An output of interest: P(domain alive) at a horizon."""

    domain: Name
    horizon: PositiveCount


class SensitivitySettings(Closed):
    """Global sensitivity (Sobol' indices) of one output to the parameters' ranges."""

    output: Output
    samples: PositiveCount = Field(64, description="Base samples n (a power of 2).")
    resamples: PositiveCount = Field(1000, description="Bootstrap resamples for the intervals.")


class Sweep(Closed):
    """A sweep file."""

    name: Text
    description: Text
    base: Text = Field(description="Scenario file the sweep varies, relative to this file.")
    replications: PositiveCount | None = None
    seed: Annotated[int, Field(strict=True, ge=0)] | None = None
    design: Design
    parameters: dict[Name, SweepParameter] = Field(min_length=1)
    outputs: list[Output] = Field(min_length=1)
    sensitivity: SensitivitySettings | None = None


def is_sweep_file(path: Path) -> bool:
    """Whether a YAML file is a sweep file (it names a ``base`` and a ``design``), not a scenario.

    A file that cannot be read is not a sweep file: reading it as a scenario reports why.
    """
    try:
        data, _ = load_yaml(Path(path))
    except ScenarioError:
        return False
    return isinstance(data, dict) and "base" in data and "design" in data


def load_sweep(path: str | Path, sensitivity: bool = False) -> tuple[Sweep, Scenario]:
    """Read and check a sweep file and the scenario it varies.

    Args:
        path: The sweep file.
        sensitivity: Check also what Sobol' indices need: a ``sensitivity`` section and
            a range for every parameter.

    Raises:
        ScenarioError: With file, line and key path of every problem found.
    """
    file = Path(path)
    data, locations = load_yaml(file)
    sweep = validate_structure(Sweep, data, locations)
    base_file = file.parent / sweep.base
    if not base_file.is_file():
        guess = similar_file(base_file)
        raise ScenarioError(
            [
                Problem(
                    locations.get(("base",)),
                    ("base",),
                    f"no such scenario file: {sweep.base} (paths are relative to this file)",
                    str(Path(sweep.base).with_name(guess)) if guess else None,
                )
            ]
        )
    base = load_scenario(base_file)
    problems = _check(sweep, base, locations, sensitivity)
    if problems:
        raise ScenarioError(problems)
    return sweep, base


def _check(sweep: Sweep, base: Scenario, locations: Locations, sensitivity: bool) -> list[Problem]:
    problems: list[Problem] = []

    def problem(path: tuple, message: str, suggestion: str | None = None) -> None:
        where = locations.get(path) or locations.get(path[:-1]) or locations.get(())
        problems.append(Problem(where, path, message, suggestion))

    kind = sweep.design.kind
    if kind != "grid" and sweep.design.points is None:
        problem(("design",), f"a {kind} design needs 'points'")
    if kind == "sobol" and sweep.design.points and sweep.design.points & (sweep.design.points - 1):
        problem(("design", "points"), "a Sobol' design needs a power of 2 points (e.g. 64)")
    for name, parameter in sweep.parameters.items():
        here = ("parameters", name)
        if kind != "grid" and parameter.range is None:
            problem(here, f"a {kind} design needs a range for every parameter")
        elif sensitivity and parameter.range is None:
            problem(here, "Sobol' indices need a range for every parameter")
        if kind == "grid" and parameter.range is not None and parameter.steps is None:
            problem(here, "a grid over a range needs 'steps'")
        # Every value a grid lists, or both ends of a range, must make a valid scenario:
        # a bad point found only when the sweep reaches it would leave a half-done study.
        if parameter.values:
            samples = [(("values", i), v) for i, v in enumerate(parameter.values)]
        else:
            samples = [(("range", 0), parameter.range[0]), (("range", 1), parameter.range[1])]
        for position, sample in samples:
            value = cast_value(parameter, sample)
            try:
                set_value(base, {parameter.path: value})
            except ScenarioError as error:  # the value: before UserError, its base class
                message = "; ".join(
                    p.message
                    + ("" if format_key_path(p.key_path) == parameter.path
                       else f" (at {format_key_path(p.key_path)})")
                    for p in error.problems
                )  # fmt: skip
                problem((*here, *position), f"setting {parameter.path} to {value}: {message}")
            except UserError as error:  # the path
                problem((*here, "path"), str(error))
                break
    outputs = [*((("outputs", i), o) for i, o in enumerate(sweep.outputs))]
    if sensitivity and sweep.sensitivity is None:
        problem((), "Sobol' indices need a 'sensitivity' section (its output, samples)")
    if sweep.sensitivity is not None:
        outputs.append((("sensitivity", "output"), sweep.sensitivity.output))
        n = sweep.sensitivity.samples
        if n & (n - 1):
            problem(("sensitivity", "samples"), "Sobol' indices need a power of 2 samples")
    for path, output in outputs:
        if output.domain not in base.channels:
            problem((*path, "domain"), f"unknown domain '{output.domain}'",
                    did_you_mean(output.domain, list(base.channels)))  # fmt: skip
        if output.horizon > base.horizon:
            problem((*path, "horizon"), f"beyond the scenario's horizon of {base.horizon} months")
    return problems


def cast_value(parameter: SweepParameter, value: PointValue) -> PointValue:
    """A design value as the scenario takes it: a whole number if the parameter says so."""
    if isinstance(value, str):
        return value
    return round(value) if parameter.integer else float(value)


def design_size(sweep: Sweep) -> int:
    """How many points the design has, computed without building them."""
    if sweep.design.kind != "grid":
        return int(sweep.design.points or 0)
    size = 1
    for parameter in sweep.parameters.values():
        size *= len(parameter.values) if parameter.values is not None else parameter.steps
    return size
