"""The Monte Carlo engine: replications in seeded chunks, on any executor, saved as they finish.

Replications are split into fixed-size chunks; chunk k covers replications
``[k·chunk_size, (k+1)·chunk_size)`` and draws every random number from streams
derived from ``SeedSequence(seed)`` and k (see :mod:`sim.streams`), so results depend
on the scenario, the seed and the chunk size, never on how many workers run the chunks
or where. Each finished chunk is reduced to sufficient statistics (life tables, counts
of domains alive) and, for a run with a directory, saved at once; the outputs are
assembled from the saved chunks at the end, so memory does not grow with the number of
replications and an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits
from tqdm import tqdm

from sim.defaults import DEFAULT_CHUNK_SIZE
from sim.engine.executors import (
    ChunkTask,
    DaskCluster,
    InProcess,
    LocalPool,
    default_workers,
    make_executor,
)
from sim.engine.provenance import git_state, machine, package_versions, utc_now
from sim.errors import RunInterrupted, UserError
from sim.model.outcomes import Outcomes
from sim.model.streams import chunk_sizes
from sim.results.result import RunResult, manifest_scenario
from sim.results.rundir import OUTCOMES, SURVIVAL, RunDirectory, default_directory
from sim.scenario import (
    Scenario,
    scenario_files,
    scenario_hash,
    with_run_settings,
)
from sim.stats.survival import Summary
from sim.storage import write_text

RESULTS = Path("results")


def simulate_chunk(scenario: Scenario, seed: int, chunk_index: int, size: int) -> Outcomes:
    """Run one chunk of replications to the scenario's horizon.

    BLAS is held to one thread so a chunk's numbers cannot depend on how many threads
    a matrix product happens to use in the process that runs it.
    """
    # Imported here: the process that coordinates a pool never runs the model, and the
    # model's libraries (Mesa, scipy.stats) take over a second to import.
    from sim.model.model import AllianceModel

    with threadpool_limits(limits=1):
        model = AllianceModel(scenario, size, seed=seed, chunk_index=chunk_index, collect=False)
        return model.run()


class _Background:
    """A function running in a thread, whose error (if any) is raised where it is awaited."""

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        self._error: BaseException | None = None

        def target() -> None:
            try:
                function(*args)
            except BaseException as error:  # re-raised in wait(), in the caller's thread
                self._error = error

        self._thread = threading.Thread(target=target, daemon=True)
        self._thread.start()

    def wait(self) -> None:
        """Wait until the function is done; raise its error if it failed."""
        self._thread.join()
        if self._error is not None:
            raise self._error


def _manifest(scenario: Scenario, chunk_size: int) -> dict[str, Any]:
    return {
        "format": "alliance-sim run 1",
        "status": "running",
        "scenario_name": scenario.name,
        "scenario_sha256": scenario_hash(scenario),
        "scenario_files": list(scenario_files(scenario)),
        "scenario": scenario.model_dump(mode="json"),
        "seed": scenario.seed,
        "replications": scenario.replications,
        "horizon": scenario.horizon,
        "start": scenario.start,
        "chunk_size": chunk_size,
        "chunks": len(chunk_sizes(scenario.replications, chunk_size)),
        "channels": list(scenario.channels),
        "packages": package_versions(),
        "git": git_state(),
        "started_utc": utc_now(),
        "finished_utc": None,
        "sessions": [],
        "outputs": [],
    }


def _progress_bar(total: int, description: str, shown: bool, initial: int = 0) -> tqdm:
    """Replications done, on stderr; it appears only for work that lasts over a second."""
    return tqdm(
        total=total,
        initial=initial,
        unit="rep",
        unit_scale=True,
        desc=description,
        file=sys.stderr,
        disable=not shown,
        delay=1.0,
        smoothing=0.1,
    )


def _resumed(directory: RunDirectory, scenario: Scenario | None, settings: dict[str, Any]):
    manifest = directory.read_manifest()
    if manifest.get("status") == "complete":
        raise UserError(
            f"{directory.path} is a finished run: nothing to resume "
            f"(rebuild its reports with: alliance-sim report {directory.path})"
        )
    resolved = manifest_scenario(manifest)
    if scenario_hash(resolved) != manifest["scenario_sha256"]:
        raise UserError(f"{directory.path}: the manifest's scenario does not match its hash")
    if scenario is not None:
        asked = with_run_settings(scenario, **settings)
        if scenario_hash(asked) != manifest["scenario_sha256"]:
            raise UserError(
                f"{directory.path} holds a run of a different scenario or settings "
                f"(sha256 {manifest['scenario_sha256'][:12]}, asked {scenario_hash(asked)[:12]}); "
                "resume without changing the scenario, replications, seed or horizon"
            )
    return manifest, resolved


def run(
    scenario: Scenario | None = None,
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
    meanwhile: Callable[[RunResult], list[Path]] | None = None,
) -> RunResult:
    """Run a scenario's replications and collect their outcomes and survival.

    Args:
        scenario: A resolved scenario (see :func:`sim.load_scenario`); may be omitted when
            resuming.
        replications: Number of replications (default: the scenario's).
        seed: Run seed (default: the scenario's).
        horizon: Months to simulate (default: the scenario's).
        chunk_size: Replications per chunk; with the seed it fixes every random number.
        workers: Worker processes (default: all cores).
        executor: ``"local"`` (process pool) or ``"dask"``.
        scheduler: Address of a Dask scheduler (implies the dask executor); without it
            ``executor="dask"`` starts a local Dask cluster.
        out: Run directory to write; None keeps the run in memory. ``"default"`` picks
            ``results/<scenario>-<UTC time>``.
        resume: A run directory to continue; settings come from its manifest.
        force: Replace ``out`` if it is an existing run directory.
        progress: Show a progress bar on stderr.
        meanwhile: For a run with a directory, called with the result while the outcomes
            file is being written (to draw reports, say); the files it returns are listed
            in the manifest.

    Returns:
        The run's results.

    Raises:
        UserError: Bad settings, an existing ``out`` without ``force``, a resume that does
            not match, or an interrupted run (:class:`RunInterrupted`).
    """
    settings = {"replications": replications, "seed": seed, "horizon": horizon}
    if resume is not None:
        directory: RunDirectory | None = RunDirectory.resumable(Path(resume))
        manifest, scenario = _resumed(directory, scenario, settings)
        chunk_size = manifest["chunk_size"]
    elif scenario is None:
        raise UserError("give a scenario to run, or a run directory to resume")
    else:
        if chunk_size < 1:
            raise UserError(f"chunk size must be at least 1, got {chunk_size}")
        scenario = with_run_settings(scenario, **settings)
        manifest = _manifest(scenario, chunk_size)
        directory = None

    sizes = chunk_sizes(scenario.replications, chunk_size)
    saved = directory.saved_chunks() if directory else []
    done = set(saved)
    tasks = [
        ChunkTask(scenario.name, scenario, i, size) for i, size in enumerate(sizes) if i not in done
    ]
    # The executor starts before anything is written: a missing or unreachable cluster
    # leaves no run directory behind.
    pool = make_executor(executor, workers or default_workers(), scheduler, len(tasks))
    if resume is None and out is not None:
        try:
            if str(out) == "default":
                out = default_directory(RESULTS, scenario.name, manifest["started_utc"])
            directory = RunDirectory.create(Path(out), force)
            directory.write_manifest(manifest)
        except BaseException:
            pool.close()
            raise
    try:
        return _simulate(
            scenario, manifest, directory, sizes, saved, tasks, pool, progress, meanwhile
        )
    except RunInterrupted:
        raise
    except UserError as error:
        if directory is None:
            raise
        raise UserError(
            f"{error}\nthe run in {directory.path} is not complete; once that is fixed, "
            f"continue it with: alliance-sim run --resume {directory.path}"
        ) from None
    finally:
        pool.close()


def _simulate(
    scenario: Scenario,
    manifest: dict[str, Any],
    directory: RunDirectory | None,
    sizes: list[int],
    saved: list[int],
    tasks: list[ChunkTask],
    pool: InProcess | LocalPool | DaskCluster,
    progress: bool,
    meanwhile: Callable[[RunResult], list[Path]] | None,
) -> RunResult:
    """Run the chunks, then write the outputs: the body of :func:`run`."""
    channels = tuple(scenario.channels)
    summary: Summary | None = None
    for index in saved:
        part = Summary.from_outcomes(directory.load_chunk(index, channels, scenario.horizon))
        summary = part if summary is None else summary + part
    session = {"started_utc": utc_now(), "executor": pool.name, "workers": pool.workers}
    session.update(machine())
    parts: dict[int, Outcomes] = {}
    initial = sum(sizes[i] for i in saved)
    bar = _progress_bar(scenario.replications, scenario.name, progress, initial)
    done = len(saved)
    try:
        for task, outcomes in pool.map_unordered(simulate_chunk, tasks):
            if directory is not None:
                directory.save_chunk(task.index, outcomes)
            else:
                parts[task.index] = outcomes
            part = Summary.from_outcomes(outcomes)
            summary = part if summary is None else summary + part
            done += 1
            bar.update(task.size)
    except KeyboardInterrupt:
        raise RunInterrupted(directory.path if directory else None, done, len(sizes)) from None
    finally:
        bar.close()
        pool.close()
    session["finished_utc"] = utc_now()
    manifest["sessions"].append(session)
    manifest["finished_utc"] = session["finished_utc"]
    manifest["status"] = "complete"
    result = RunResult(scenario, manifest, summary)
    if directory is None:
        result._outcomes = Outcomes.concatenate([parts[i] for i in range(len(sizes))])
        return result
    result.directory = directory.path
    # outcomes.npz is assembled in the background (zlib and file reads release the GIL)
    # while survival.csv and whatever `meanwhile` writes (reports) are produced.
    writer = _Background(directory.write_outcomes, channels, len(sizes), scenario.replications)
    result._pending = writer.wait
    try:
        write_text(directory.path / SURVIVAL, result.survival.to_csv(index=False))
        extra = meanwhile(result) if meanwhile else []
    finally:
        # Never return, or raise, with the writer still at work on outcomes.npz.
        writer.wait()
    manifest["outputs"] = [OUTCOMES, SURVIVAL, *(Path(p).name for p in extra)]
    directory.write_manifest(manifest)
    directory.remove_chunks()
    return result


@dataclass(frozen=True)
class Job:
    """The replications of one scenario, to be reduced to a :class:`Summary`."""

    key: Hashable
    scenario: Scenario
    chunk_size: int = DEFAULT_CHUNK_SIZE


def summarise_jobs(
    jobs: list[Job],
    *,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    progress: bool = False,
    description: str = "",
) -> Iterator[tuple[Hashable, Summary]]:
    """Run the chunks of many scenarios on one executor; yield each job's summary when done.

    Chunks of all jobs share the workers, so many small jobs (the points of a sweep) keep
    every worker busy. Each job's numbers are those :func:`run` would give it.
    """
    tasks = [
        ChunkTask(job.key, job.scenario, index, size)
        for job in jobs
        for index, size in enumerate(chunk_sizes(job.scenario.replications, job.chunk_size))
    ]
    remaining = {job.key: 0 for job in jobs}
    for task in tasks:
        remaining[task.job] += 1
    partial: dict[Hashable, Summary] = {}
    pool = make_executor(executor, workers or default_workers(), scheduler, len(tasks))
    bar = _progress_bar(sum(task.size for task in tasks), description, progress)
    try:
        for task, outcomes in pool.map_unordered(simulate_chunk, tasks):
            part = Summary.from_outcomes(outcomes)
            partial[task.job] = part + partial[task.job] if task.job in partial else part
            remaining[task.job] -= 1
            bar.update(task.size)
            if remaining[task.job] == 0:
                yield task.job, partial.pop(task.job)
    finally:
        bar.close()
        pool.close()
