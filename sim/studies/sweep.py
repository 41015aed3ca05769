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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.defaults import MAX_POINTS
from sim.engine.executors import ctrl_c_deferred
from sim.engine.options import RunOptions
from sim.engine.provenance import new_manifest
from sim.engine.runner import Job, summarise_jobs
from sim.errors import RunInterrupted, UserError
from sim.months import iso_month, parse_month
from sim.reports.tables import domain_label
from sim.results.settings import RunSettings
from sim.scenario import Scenario, scenario_from_dict, scenario_hash, set_value
from sim.scenario.sweepfile import PointValue, Sweep, cast_value, design_size, load_sweep
from sim.stats.survival import horizon_estimates
from sim.storage import write_json
from sim.studies.study import Study

POINTS = "points"  # a study's subfolder: one saved file of estimates per finished point


@dataclass
class SweepResult:
    """A finished sweep.

    Attributes:
        table: One row per point, domain and horizon: the point's parameter values and
            P(alive) with its Wilson 95% interval and standard error.
        sweep: The sweep file as read.
        base: The base scenario.
        settings: Replications, seed and chunk size of every point.
        directory: The sweep directory, or None.
        manifest: Settings and provenance.
    """

    table: pd.DataFrame
    sweep: Sweep
    base: Scenario = field(repr=False)
    settings: RunSettings
    directory: Path | None
    manifest: dict[str, Any] = field(repr=False)

    @property
    def points(self) -> int:
        """The number of design points."""
        return int(self.table.point.nunique())

    def _repr_html_(self) -> str:
        """A compact summary for Jupyter: each output's range over the points, and the figure."""
        from sim.reports.sweep import sweep_figure  # matplotlib: loaded when a figure is drawn
        from sim.results.display import html_table, summary_html

        rows = []
        for output in self.sweep.outputs:
            here = self.table[
                (self.table.domain == output.domain) & (self.table.horizon == output.horizon)
            ]
            lowest, highest = here.loc[here.p_survive.idxmin()], here.loc[here.p_survive.idxmax()]
            where = ", ".join(f"{name} {lowest[name]}" for name in self.sweep.parameters)
            rows.append([
                f"{domain_label(self.base, output.domain)} at {output.horizon} months",
                f"{lowest.p_survive:.2f}", f"{highest.p_survive:.2f}", where,
            ])  # fmt: skip
        header = ["P(alive)", "Lowest", "Highest", "Lowest at"]
        figure = sweep_figure(self.table, self.sweep, self.base, self.settings)
        title = f"Sweep {self.sweep.name}: {self.points} points ({self.sweep.design.kind})"
        note = f"{self.settings.replications:,} replications per point, seed {self.settings.seed}."
        return summary_html(title, html_table(header, rows), figure, note)


def design_points(sweep: Sweep) -> list[dict[str, PointValue]]:
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
    # scipy.stats takes most of a second to import: a grid, the usual design, does without.
    from scipy.stats import qmc

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


def point_key(values: dict[str, PointValue]) -> str:
    """A stable name for a point, from its parameter values."""
    text = json.dumps(values, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def study_horizons(sweep_file: Sweep, base: Scenario) -> list[int]:
    """The horizons a study estimates at: the base's report horizons and every output's."""
    outputs = [
        *sweep_file.outputs,
        *([sweep_file.sensitivity.output] if sweep_file.sensitivity else []),
    ]
    return sorted({*base.report_horizons, *(output.horizon for output in outputs)})


def open_sweep_study(
    kind: str, file: str | Path | None, options: RunOptions, max_points: int | None = None
) -> tuple[Study, Sweep, Scenario, RunSettings]:
    """Load a sweep file (or the one a study to resume saved) and open its study.

    Args:
        kind: ``"sweep"`` or ``"sensitivity"``; a sensitivity file is checked for what
            Sobol' indices need before anything is written.
        file: The sweep file (None when resuming).
        options: The run options; replications and seed default to the sweep file's,
            else the base scenario's.
        max_points: Refuse a design with more points.

    Returns:
        The study, the sweep, its base scenario and the settings of every point.
    """
    if options.resume is None:
        if file is None:
            raise UserError(f"give a sweep file, or --resume DIR of an interrupted {kind}")
        sweep_file, base = load_sweep(file, sensitivity=kind == "sensitivity")
        size = design_size(sweep_file)
        if max_points is not None and size > max_points:
            raise UserError(
                f"{file}: the design has {size:,} points, more than the limit of "
                f"{max_points:,}; reduce it, or allow more with --max-points {size}"
            )
        settings = options.replace(
            replications=options.replications or sweep_file.replications,
            seed=sweep_file.seed if options.seed is None else options.seed,
        ).settings(base.replications, base.seed)
    else:
        sweep_file, base, settings = None, None, None

    def manifest() -> dict[str, Any]:
        return new_manifest(
            kind,
            settings,
            sweep_file=str(file),
            sweep=sweep_file.model_dump(mode="json"),
            scenario_sha256=scenario_hash(base),
            scenario=base.model_dump(mode="json"),
        )

    name = f"{kind}-{sweep_file.name}" if sweep_file else kind
    study = Study.open(kind, options, name, manifest, POINTS)
    if sweep_file is None:
        sweep_file = Sweep.model_validate(study.manifest["sweep"])
        base = scenario_from_dict(study.manifest["scenario"])
        settings = RunSettings.from_manifest(study.manifest)
    return study, sweep_file, base, settings


def evaluate_points(
    study: Study,
    sweep_file: Sweep,
    base: Scenario,
    settings: RunSettings,
    points: list[dict[str, PointValue]],
    options: RunOptions,
    description: str,
    total: int | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> dict[str, pd.DataFrame]:
    """P(alive) at the study's horizons for every point, reusing points the study saved.

    Args:
        study: The study, whose directory keeps a file per finished point.
        sweep_file: The sweep.
        base: Its base scenario.
        settings: Replications, seed and chunk size of every point.
        points: The points to evaluate.
        options: Where to run.
        description: The progress bar's label.
        total: The points of the whole study, if it evaluates them in several batches
            (for the message of an interruption).
        meanwhile: Called once, when the first point is in: work for this process while
            the workers are busy with the rest (loading the reports' libraries, say,
            which would otherwise hold back the first chunks or follow the last).

    Returns:
        Horizon estimates (see :func:`sim.stats.survival.horizon_estimates`) at
        :func:`study_horizons`, by point key.

    Raises:
        RunInterrupted: On Ctrl-C; finished points are saved.
    """
    paths = {name: parameter.path for name, parameter in sweep_file.parameters.items()}
    horizons = study_horizons(sweep_file, base)
    unique = {point_key(values): values for values in points}
    done: dict[str, pd.DataFrame] = {}
    folder = study.path / POINTS if study.path else None
    jobs = []
    try:
        # set_value copies the scenario through pydantic, which turns a Ctrl-C raised
        # inside its serializer into a warning: the study would go on as if none had come.
        with ctrl_c_deferred():
            for key, values in unique.items():
                saved = folder / f"{key}.json" if folder else None
                if saved is not None and saved.is_file():
                    done[key] = pd.DataFrame(json.loads(saved.read_text())["estimates"])
                    continue
                changes = {paths[name]: value for name, value in values.items()}
                jobs.append(Job(key, set_value(base, changes), settings))
        for key, summary in summarise_jobs(jobs, options, description):
            estimates = horizon_estimates(summary, horizons)
            done[key] = estimates
            if folder is not None:
                record = {"values": unique[key], "estimates": estimates.to_dict("list")}
                write_json(folder / f"{key}.json", record)
            if meanwhile is not None:
                meanwhile()
                meanwhile = None
    except KeyboardInterrupt:
        finished = len(list(folder.glob("*.json"))) if folder else len(done)
        raise RunInterrupted(
            study.path, finished, total or len(unique), unit="points",
            command=f"alliance-sim {study.kind_command}",
        ) from None  # fmt: skip
    return done


def sweep(
    file: str | Path | None = None,
    options: RunOptions | None = None,
    *,
    max_points: int = MAX_POINTS,
    **changes: Any,
) -> SweepResult:
    """Run a sweep: every point of its design, on common random numbers.

    Args:
        file: The sweep YAML file (omit when resuming).
        options: How to run (:class:`~sim.engine.options.RunOptions`): ``out`` is a sweep
            directory (``"default"``: results/sweep-<name>-<UTC time>), ``resume`` one to
            continue (finished points are not run again); replications and seed default
            to the sweep file's, else the base scenario's.
        max_points: Refuse a design with more points (a mistake in a grid multiplies).
        **changes: Fields of :class:`~sim.engine.options.RunOptions`.

    Returns:
        The :class:`SweepResult`.

    Raises:
        UserError: A bad sweep file, a design over ``max_points``, or a directory problem.
    """
    options = RunOptions.of(options, **changes)
    study, sweep_file, base, settings = open_sweep_study("sweep", file, options, max_points)
    with study:
        points = design_points(sweep_file)
        description = f"{sweep_file.name} ({len(points)} points)"
        estimates = evaluate_points(
            study, sweep_file, base, settings, points, options, description,
            meanwhile=_load_figure_libraries,
        )  # fmt: skip
        table = sweep_table(base, points, estimates)
        from sim.reports.sweep import write_sweep

        written = write_sweep(table, sweep_file, base, settings, study.path) if study.path else []
        study.finish(written)
        return SweepResult(table, sweep_file, base, settings, study.path, study.manifest)


def _load_figure_libraries() -> None:
    """Load the sweep's reports and with them matplotlib (most of a second), to use later."""
    import sim.reports.sweep  # noqa: F401


def sweep_table(
    base: Scenario, points: list[dict[str, PointValue]], estimates: dict[str, pd.DataFrame]
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
