"""Scenario sweeps: how survival moves as assumptions vary.

A sweep file names a base scenario, the parameters to vary (key paths into the resolved
scenario) and a design: a full grid, a Latin hypercube or a scrambled Sobol' sequence
(``scipy.stats.qmc``). Every point is the base scenario with those values, run with the
same seed, so points share common random numbers and differences between them come
from the parameters. Points run together on one executor; each finished point is saved
at once, so an interrupted sweep resumes point by point.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import Field, model_validator
from scipy.stats import qmc

from sim import figures
from sim.engine import DEFAULT_CHUNK_SIZE, Job, summarise_jobs
from sim.errors import Problem, ScenarioError, UserError, did_you_mean
from sim.months import iso_month, parse_month
from sim.provenance import git_state, machine, package_versions, utc_now
from sim.rundir import RunDirectory, output_path
from sim.scenario import (
    Scenario,
    load_scenario,
    scenario_from_dict,
    scenario_hash,
    validate_structure,
    with_run_settings,
)
from sim.schema import TIMING_KINDS, Closed, Name, Number, PositiveCount, Text
from sim.storage import write_json, write_text
from sim.survival import horizon_estimates
from sim.tables import domain_label
from sim.yamlfile import Locations, load_yaml

Value = float | int | str
POINTS = "points"  # a study's subfolder: one saved file of estimates per finished point


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


def _parse_path(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for piece in path.split("."):
        name, *indices = piece.replace("]", "").split("[")
        if name:
            parts.append(name)
        parts += [int(i) for i in indices]
    return parts


def set_value(scenario: Scenario, values: dict[str, Value]) -> Scenario:
    """The scenario with values set at key paths, validated like a file.

    Setting a timing kind (``events.x.timing.month``) replaces the event's timing, since
    an event has one timing; setting a documented number or a distribution replaces it
    with the plain value.

    Raises:
        UserError: A path that does not exist.
        ScenarioError: A value the scenario does not accept.
    """
    # None values stay, so a channel parameter inherited from channel_defaults can be set.
    data = scenario.model_dump(mode="json")
    for path, value in values.items():
        parts = _parse_path(path)
        node: Any = data
        for depth, part in enumerate(parts):
            after = parts[depth + 1] if depth + 1 < len(parts) else None
            if part == "timing" and after in TIMING_KINDS and isinstance(node, dict):
                node[part] = {}  # an event has one timing: a new kind replaces the old
            elif isinstance(node, dict) and part not in node:
                parent_is_new_timing = depth > 0 and parts[depth - 1] == "timing" and not node
                if not parent_is_new_timing:
                    suggestion = did_you_mean(str(part), list(node))
                    hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
                    raise UserError(f"{path}: no '{part}' in the scenario{hint}")
            elif isinstance(node, list) and not (isinstance(part, int) and part < len(node)):
                raise UserError(f"{path}: no item [{part}] in the scenario")
            if after is None:
                node[part] = value
            else:
                node = node[part]
    updated = scenario_from_dict(data)
    updated._files = scenario._files
    return updated


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
    base = load_scenario(file.parent / sweep.base)
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
        sample = parameter.values[0] if parameter.values else parameter.range[0]
        try:
            set_value(base, {parameter.path: cast_value(parameter, sample)})
        except UserError as error:
            problem((*here, "path"), str(error))
        except ScenarioError as error:
            message = "; ".join(
                f"{p.message} at {'.'.join(map(str, p.key_path))}" for p in error.problems
            )
            problem((*here, "path"), f"setting {parameter.path} to {sample} gives: {message}")
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


def cast_value(parameter: SweepParameter, value: Value) -> Value:
    """A design value as the scenario takes it: a whole number if the parameter says so."""
    if isinstance(value, str):
        return value
    return round(value) if parameter.integer else float(value)


def design_points(sweep: Sweep) -> list[dict[str, Value]]:
    """The parameter values of every point of the design, in order."""
    parameters = sweep.parameters
    if sweep.design.kind == "grid":
        axes = []
        for parameter in parameters.values():
            values = parameter.values
            if values is None:
                values = list(np.linspace(*parameter.range, parameter.steps))
            axes.append([cast_value(parameter, v) for v in values])
        return [
            dict(zip(parameters, combination, strict=True))
            for combination in itertools.product(*axes)
        ]
    dimensions = len(parameters)
    if sweep.design.kind == "lhs":
        sampler = qmc.LatinHypercube(d=dimensions, rng=sweep.design.seed)
        unit = sampler.random(sweep.design.points)
    else:
        sampler = qmc.Sobol(d=dimensions, scramble=True, rng=sweep.design.seed)
        unit = sampler.random_base2(int(math.log2(sweep.design.points)))
    lows = [p.range[0] for p in parameters.values()]
    highs = [p.range[1] for p in parameters.values()]
    scaled = qmc.scale(unit, lows, highs)
    return [
        {name: cast_value(p, row[i]) for i, (name, p) in enumerate(parameters.items())}
        for row in scaled
    ]


def point_key(values: dict[str, Value]) -> str:
    """A stable name for a point, from its parameter values."""
    text = json.dumps(values, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def study_horizons(spec: Sweep, base: Scenario) -> list[int]:
    """The horizons a study estimates at: the base's report horizons and every output's."""
    outputs = [*spec.outputs, *([spec.sensitivity.output] if spec.sensitivity else [])]
    return sorted({*base.report_horizons, *(output.horizon for output in outputs)})


def evaluate_points(
    spec: Sweep,
    base: Scenario,
    points: list[dict[str, Value]],
    *,
    directory: Path | None,
    chunk_size: int,
    workers: int | None,
    executor: str,
    scheduler: str | None,
    progress: bool,
    description: str,
) -> dict[str, pd.DataFrame]:
    """P(alive) at the study's horizons for every point, reusing points saved in ``directory``.

    Returns:
        Horizon estimates (see :func:`sim.survival.horizon_estimates`) at
        :func:`study_horizons`, by point key.
    """
    paths = {name: parameter.path for name, parameter in spec.parameters.items()}
    horizons = study_horizons(spec, base)
    unique = {point_key(values): values for values in points}
    done: dict[str, pd.DataFrame] = {}
    folder = directory / POINTS if directory else None
    jobs = []
    for key, values in unique.items():
        saved = folder / f"{key}.json" if folder else None
        if saved is not None and saved.is_file():
            done[key] = pd.DataFrame(json.loads(saved.read_text())["estimates"])
            continue
        scenario = set_value(base, {paths[name]: value for name, value in values.items()})
        jobs.append(Job(key, scenario, chunk_size))
    try:
        for key, summary in summarise_jobs(
            jobs, workers=workers, executor=executor, scheduler=scheduler, progress=progress,
            description=description,
        ):  # fmt: skip
            estimates = horizon_estimates(summary, horizons)
            done[key] = estimates
            if folder is not None:
                record = {"values": unique[key], "estimates": estimates.to_dict("list")}
                write_json(folder / f"{key}.json", record)
    except KeyboardInterrupt:
        where = f"; continue with --resume {directory}" if directory else ""
        raise UserError(
            f"interrupted: {len(done)} of {len(unique)} points are done{where}"
        ) from None
    return done


def open_study(
    file: str | Path | None,
    kind: str,
    *,
    out: str | Path | None,
    resume: str | Path | None,
    force: bool,
    replications: int | None,
    seed: int | None,
    chunk_size: int,
) -> tuple[Sweep, Scenario, RunDirectory | None, dict[str, Any]]:
    """Load a sweep file, or the one saved in a directory to resume; create the directory.

    Args:
        file: The sweep file (None when resuming).
        kind: ``"sweep"`` or ``"sensitivity"``; a sensitivity file is checked for what
            Sobol' indices need before anything is written.
        out: Directory to create (``"default"``: results/<kind>-<name>-<UTC time>), or
            None to keep results in memory.
        resume: A directory of this kind to continue.
        force: Replace ``out`` if it is an existing directory of this kind.
        replications: Replications per point (default: the file's, else the base's).
        seed: Seed of every point (default: the file's, else the base's).
        chunk_size: Replications per chunk.

    Returns:
        The sweep, its base scenario with the run settings applied, the directory (None
        to keep results in memory) and the manifest.
    """
    if resume is not None:
        directory = RunDirectory.resumable(Path(resume), kind)
        manifest = directory.read_manifest()
        sweep = Sweep.model_validate(manifest["sweep"])
        base = scenario_from_dict(manifest["scenario"])
        return sweep, base, directory, manifest
    if file is None:
        raise UserError(f"give a sweep file, or --resume DIR of an interrupted {kind}")
    sweep, base = load_sweep(file, sensitivity=kind == "sensitivity")
    base = with_run_settings(
        base,
        replications=replications or sweep.replications,
        seed=sweep.seed if seed is None else seed,
    )
    manifest = {
        "format": f"alliance-sim {kind} 1",
        "status": "running",
        "sweep_file": str(file),
        "sweep": sweep.model_dump(mode="json"),
        "scenario_sha256": scenario_hash(base),
        "scenario": base.model_dump(mode="json"),
        "seed": base.seed,
        "replications": base.replications,
        "chunk_size": chunk_size,
        "packages": package_versions(),
        "git": git_state(),
        "started_utc": utc_now(),
        "finished_utc": None,
        **machine(),
    }
    directory = None
    if out is not None:
        path = output_path(out, f"{kind}-{sweep.name}", manifest["started_utc"])
        directory = RunDirectory.create(path, force, manifest=manifest, folder=POINTS)
    return sweep, base, directory, manifest


def sweep(
    file: str | Path | None = None,
    *,
    replications: int | None = None,
    seed: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    out: str | Path | None = None,
    resume: str | Path | None = None,
    force: bool = False,
    progress: bool = False,
) -> pd.DataFrame:
    """Run a sweep: every point of its design, on common random numbers.

    Args:
        file: The sweep YAML file (omit when resuming).
        replications: Replications per point (default: the sweep file's, else the base's).
        seed: Seed of every point (default: the sweep file's, else the base's).
        chunk_size: Replications per chunk.
        workers: Worker processes (default: all cores).
        executor: ``"local"`` or ``"dask"``.
        scheduler: Address of a Dask scheduler.
        out: Directory to write (``"default"``: results/sweep-<name>-<UTC time>).
        resume: A sweep directory to continue; finished points are not run again.
        force: Replace ``out`` if it is an existing sweep.
        progress: Show a progress bar on stderr.

    Returns:
        The tidy sweep table: one row per point, domain and horizon, with the parameter
        values and P(alive) with its Wilson 95% interval and standard error.
    """
    spec, base, directory, manifest = open_study(
        file, "sweep", out=out, resume=resume, force=force, replications=replications,
        seed=seed, chunk_size=chunk_size,
    )  # fmt: skip
    points = design_points(spec)
    estimates = evaluate_points(
        spec, base, points, directory=directory.path if directory else None,
        chunk_size=manifest["chunk_size"], workers=workers, executor=executor,
        scheduler=scheduler, progress=progress, description=spec.name,
    )  # fmt: skip
    table = sweep_table(base, points, estimates)
    if directory is not None:
        directory.finish(manifest, write_sweep(table, spec, base, directory.path))
    table.attrs.update(
        sweep=spec.name,
        outputs=[(o.domain, o.horizon) for o in spec.outputs],
        directory=str(directory.path) if directory else None,
    )
    return table


def sweep_table(
    base: Scenario, points: list[dict[str, Value]], estimates: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    """Join point values and estimates, in design order."""
    start = parse_month(base.start)
    frames = []
    for index, values in enumerate(points):
        frame = estimates[point_key(values)].copy()
        frame.insert(0, "point", index)
        for offset, (name, value) in enumerate(values.items()):
            frame.insert(1 + offset, name, value)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    table.insert(table.columns.get_loc("horizon") + 1, "date",
                 [iso_month(start + h) for h in table.horizon])  # fmt: skip
    return table


def write_sweep(table: pd.DataFrame, spec: Sweep, base: Scenario, directory: Path) -> list[Path]:
    """Write ``sweep.csv`` and ``sweep.png``/``.pdf`` for the outputs of interest."""
    write_text(directory / "sweep.csv", table.to_csv(index=False))
    figure = sweep_figure(table, spec, base)
    written = [directory / "sweep.csv"]
    for kind in ("png", "pdf"):
        figures.save(figure, directory / f"sweep.{kind}")
        written.append(directory / f"sweep.{kind}")
    return written


def sweep_figure(table: pd.DataFrame, spec: Sweep, base: Scenario) -> Figure:
    """One panel per output of interest: a line for one parameter, a heatmap for a 2-D grid."""
    names = list(spec.parameters)
    labels = {n: spec.parameters[n].label or n.replace("_", " ") for n in names}
    outputs = spec.outputs
    columns = min(len(outputs), 2)
    rows = -(-len(outputs) // columns)
    heatmap = len(names) == 2 and spec.design.kind == "grid"
    with figures.style():
        figure = Figure(figsize=(figures.DOUBLE_COLUMN if columns > 1 else figures.SINGLE_COLUMN,
                                 2.6 * rows + 0.4), layout="constrained")  # fmt: skip
        axes = figure.subplots(rows, columns, squeeze=False)
        for ax, output in zip(axes.flat, outputs, strict=False):
            here = table[(table.domain == output.domain) & (table.horizon == output.horizon)]
            title = f"P({domain_label(base, output.domain)} alive at {output.horizon} months)"
            if heatmap:
                grid = here.pivot_table(index=names[1], columns=names[0], values="p_survive")
                image = ax.pcolormesh(range(grid.shape[1] + 1), range(grid.shape[0] + 1),
                                      grid.to_numpy(), cmap="viridis", vmin=0, vmax=1)  # fmt: skip
                ax.set_xticks(
                    np.arange(grid.shape[1]) + 0.5,
                    [f"{v:g}" if not isinstance(v, str) else v for v in grid.columns],
                )
                ax.set_yticks(
                    np.arange(grid.shape[0]) + 0.5,
                    [f"{v:g}" if not isinstance(v, str) else v for v in grid.index],
                )
                for (y, x), value in np.ndenumerate(grid.to_numpy()):
                    ax.text(x + 0.5, y + 0.5, f"{value:.2f}", ha="center", va="center", fontsize=5,
                            color="white" if value < 0.6 else "black")  # fmt: skip
                figure.colorbar(image, ax=ax, shrink=0.8)
                ax.set_xlabel(labels[names[0]])
                ax.set_ylabel(labels[names[1]])
            else:
                ordered = here.sort_values(names[0])
                x = ordered[names[0]]
                if len(names) == 1:
                    ax.fill_between(x, ordered.ci_low, ordered.ci_high, color=figures.OKABE_ITO[0],
                                    alpha=0.25, linewidth=0)  # fmt: skip
                    ax.plot(
                        x, ordered.p_survive, color=figures.OKABE_ITO[0], marker="o", markersize=2
                    )
                else:
                    ax.errorbar(x, ordered.p_survive, yerr=[ordered.p_survive - ordered.ci_low,
                                ordered.ci_high - ordered.p_survive], fmt="o", markersize=2,
                                color=figures.OKABE_ITO[0], elinewidth=0.5)  # fmt: skip
                ax.set_xlabel(labels[names[0]])
                ax.set_ylabel("P(alive)")
                ax.set_ylim(0, 1.02)
            ax.set_title(title)
        for ax in axes.flat[len(outputs) :]:
            ax.set_visible(False)
        n = base.replications
        caption = (
            f"Sweep {spec.name}: {len(table.point.unique())} points ({spec.design.kind}), "
            f"{n:,} replications each on common random numbers; "
            + ("cells: P(alive)." if heatmap else "bands and bars: Wilson 95% intervals.")
        )
        figure.supxlabel(caption, fontsize=6, x=0.0, ha="left")
    return figure
