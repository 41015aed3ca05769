"""Policy what-ifs side by side: scenarios on common random numbers, with paired differences.

Every scenario runs with the same seed and chunk size, so replication i of one scenario
and replication i of another share every random number drawn for what they have in
common (parameters, event timings, noise, ruptures; see :mod:`sim.streams`). A
difference between them then comes from the scenario, not from chance, and paired
statistics are much tighter than those of independent runs:

- P(alive) at each horizon, each scenario with its Wilson interval, and the paired
  difference from the baseline with Newcombe's hybrid score interval for paired
  proportions (method 10);
- the difference of restricted mean survival times (months alive within the horizon),
  a mean of paired differences with a normal interval;
- the difference of median survival, with a paired bootstrap percentile interval.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from sim.defaults import DEFAULT_CHUNK_SIZE
from sim.engine.provenance import git_state, machine, package_versions, utc_now
from sim.engine.runner import run
from sim.errors import UserError
from sim.reports.comparison import paired_differences, write_comparison
from sim.results import RunResult, load_run
from sim.results.rundir import MANIFEST, RunDirectory, output_path, safe_name
from sim.scenario import Scenario, scenario_from_dict, scenario_hash, with_run_settings

RUNS = "runs"  # a comparison's subfolder: one run directory per scenario


def _check_comparable(scenarios: list[Scenario]) -> None:
    names = [safe_name(s.name) for s in scenarios]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UserError(f"scenarios must have different names; repeated: {', '.join(duplicates)}")
    first = scenarios[0]
    for scenario in scenarios[1:]:
        if scenario.start != first.start:
            raise UserError(
                f"{scenario.name} starts {scenario.start} but {first.name} starts {first.start}: "
                "compared scenarios must start in the same month"
            )
        if set(scenario.channels) != set(first.channels):
            raise UserError(f"{scenario.name} and {first.name} have different channels")


def compare(
    scenarios: list[Scenario],
    baseline: Scenario | None = None,
    *,
    replications: int | None = None,
    seed: int | None = None,
    horizon: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    out: str | Path | None = None,
    resume: str | Path | None = None,
    force: bool = False,
    progress: bool = False,
) -> pd.DataFrame:
    """Run scenarios on common random numbers and compare each with a baseline.

    Args:
        scenarios: The scenarios (the first is the baseline unless ``baseline`` is given).
        baseline: The scenario the others are compared with (added if not among them).
        replications: Replications per scenario (default: the baseline's).
        seed: Seed of every scenario (default: the baseline's): the same seed is what
            makes the random numbers common.
        horizon: Months to simulate (default: the baseline's).
        chunk_size: Replications per chunk, the same for every scenario.
        workers: Worker processes (default: all cores).
        executor: ``"local"`` or ``"dask"``.
        scheduler: Address of a Dask scheduler.
        force: Replace ``out`` if it is an existing comparison.
        progress: Show progress bars on stderr.
        out: A comparison directory to write (``"default"``: results/compare-<UTC time>);
            it holds each scenario's run under ``runs/`` and the comparison files.
        resume: A comparison directory to continue: finished runs are reused,
            interrupted ones resumed.

    Returns:
        The tidy comparison table (see :func:`paired_differences`); ``attrs["directory"]``
        names the comparison directory (each run is under its ``runs/``).
    """
    if resume is not None:
        return _resume(Path(resume), workers, executor, scheduler, progress)
    if not scenarios:
        raise UserError("give at least two scenarios to compare")
    _check_comparable(scenarios)
    chosen = baseline or scenarios[0]
    ordered = [chosen] + [s for s in scenarios if s.name != chosen.name]
    if len(ordered) < 2:
        raise UserError("give at least two different scenarios to compare")
    _check_comparable(ordered)
    settings = {
        "replications": replications or chosen.replications,
        "seed": chosen.seed if seed is None else seed,
        "horizon": horizon or chosen.horizon,
    }
    ordered = [with_run_settings(s, **settings) for s in ordered]
    directory, manifest = None, None
    if out is not None:
        manifest = _manifest(ordered, chunk_size)
        path = output_path(out, "compare", manifest["started_utc"])
        directory = RunDirectory.create(path, force, manifest=manifest, folder=RUNS)
    results = {}
    for scenario in ordered:
        run_out = directory.path / RUNS / safe_name(scenario.name) if directory else None
        results[scenario.name] = run(
            scenario,
            chunk_size=chunk_size,
            workers=workers,
            executor=executor,
            scheduler=scheduler,
            out=run_out,
            progress=progress,
        )
    return _finish(results, ordered[0].name, directory, manifest)


def _manifest(scenarios: list[Scenario], chunk_size: int) -> dict[str, Any]:
    first = scenarios[0]
    return {
        "format": "alliance-sim comparison 1",
        "status": "running",
        "baseline": first.name,
        "scenarios": [
            {"name": s.name, "sha256": scenario_hash(s), "scenario": s.model_dump(mode="json")}
            for s in scenarios
        ],
        "seed": first.seed,
        "replications": first.replications,
        "horizon": first.horizon,
        "chunk_size": chunk_size,
        "packages": package_versions(),
        "git": git_state(),
        "started_utc": utc_now(),
        "finished_utc": None,
        **machine(),
    }


def _resume(path: Path, workers, executor, scheduler, progress) -> pd.DataFrame:
    directory = RunDirectory.resumable(path, "comparison")
    manifest = directory.read_manifest()
    results = {}
    for entry in manifest["scenarios"]:
        run_dir = path / RUNS / safe_name(entry["name"])
        run_manifest = (run_dir / MANIFEST).is_file() and RunDirectory(run_dir).read_manifest()
        if run_manifest and run_manifest.get("status") == "complete":
            results[entry["name"]] = load_run(run_dir)
        elif run_manifest:
            results[entry["name"]] = run(
                resume=run_dir, workers=workers, executor=executor, scheduler=scheduler,
                progress=progress,
            )  # fmt: skip
        else:
            scenario = scenario_from_dict(entry["scenario"])
            results[entry["name"]] = run(
                scenario, chunk_size=manifest["chunk_size"], workers=workers, executor=executor,
                scheduler=scheduler, out=run_dir, progress=progress,
            )  # fmt: skip
    return _finish(results, manifest["baseline"], directory, manifest)


def _finish(
    results: dict[str, RunResult],
    baseline: str,
    directory: RunDirectory | None,
    manifest: dict[str, Any] | None,
) -> pd.DataFrame:
    table = paired_differences(results, baseline)
    if directory is not None:
        directory.finish(manifest, write_comparison(table, results, directory.path))
    # Light metadata only: pandas copies attrs with every derived frame.
    path = str(directory.path) if directory else None
    table.attrs.update(directory=path, baseline=baseline)
    return table
