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
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from sim.engine.provenance import git_state, machine, package_versions, utc_now
from sim.engine.runner import DEFAULT_CHUNK_SIZE, Job, summarise_jobs
from sim.errors import UserError
from sim.months import iso_month, parse_month
from sim.reports.sweep import write_sweep
from sim.results.rundir import RunDirectory, output_path
from sim.scenario import (
    Scenario,
    scenario_from_dict,
    scenario_hash,
    with_run_settings,
)
from sim.scenario.sweepfile import Sweep, Value, cast_value, load_sweep, set_value
from sim.stats.survival import horizon_estimates
from sim.storage import write_json

POINTS = "points"  # a study's subfolder: one saved file of estimates per finished point


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
