"""The Monte Carlo engine: replications in seeded chunks, on any executor, saved as they finish.

Replications are split into fixed-size chunks; chunk k covers replications
``[k·chunk_size, (k+1)·chunk_size)`` and draws every random number from streams
derived from ``SeedSequence(seed)`` and k (see :mod:`sim.model.streams`), so results
depend on the scenario, the seed and the chunk size, never on how many workers run the
chunks or where. Each finished chunk is reduced to sufficient statistics (life tables,
counts of domains alive) and, for a run with a directory, saved at once; the outputs are
assembled from the saved chunks at the end, so memory does not grow with the number of
replications and an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import warnings
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from sim.engine.chunks import simulate_chunk, summarise_chunk
from sim.engine.executors import (
    ChunkTask,
    Executor,
    ctrl_c_count,
    ctrl_c_deferred,
    make_executor,
)
from sim.engine.options import RunOptions, RunSettings
from sim.engine.provenance import new_manifest, start_session, utc_now
from sim.errors import Advisory, RunInterrupted, UserError
from sim.model.outcomes import Outcomes
from sim.model.streams import chunk_sizes
from sim.results.result import RunResult, manifest_scenario
from sim.results.rundir import (
    OUTCOMES,
    SURVIVAL,
    DirectoryLock,
    OutcomeLayout,
    RunDirectory,
    output_path,
)
from sim.results.store import REPLICATIONS
from sim.scenario import Scenario, scenario_files, scenario_hash, with_horizon
from sim.stats.survival import Summary
from sim.storage import write_text

RUN = "run"  # the kind of a run directory, in its manifest's format


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


class _InOrder[T]:
    """Puts chunks' results back in chunk order, whatever order the chunks finish in.

    Summaries hold floating-point sums (of intensities), whose last bits depend on the
    order of addition, and ``replications.parquet`` holds its rows in replication order:
    taking chunks in chunk order keeps a run's outputs the same bit for bit on any number
    of workers. A result that finishes early waits for those before it.
    """

    def __init__(self) -> None:
        self._next = 0
        self._waiting: dict[int, T] = {}

    def ready(self, index: int, item: T) -> list[T]:
        """Take chunk ``index``'s result; return those now next in chunk order (maybe none)."""
        self._waiting[index] = item
        ready = []
        while self._next in self._waiting:
            ready.append(self._waiting.pop(self._next))
            self._next += 1
        return ready


class _Total:
    """The sum of chunks' summaries, added up in chunk order."""

    def __init__(self) -> None:
        self.total: Summary | None = None
        self._order: _InOrder[Summary] = _InOrder()

    def add(self, index: int, part: Summary) -> None:
        """Take chunk ``index``'s summary; add every summary now in order."""
        for ready in self._order.ready(index, part):
            self.total = ready if self.total is None else self.total + ready


def progress_bar(total: int, description: str, shown: bool, initial: int = 0) -> tqdm:
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


def _run_manifest(scenario: Scenario, settings: RunSettings) -> dict[str, Any]:
    return new_manifest(
        RUN,
        settings,
        scenario_name=scenario.name,
        scenario_sha256=scenario_hash(scenario),
        scenario_files=list(scenario_files(scenario)),
        scenario=scenario.model_dump(mode="json"),
        horizon=scenario.horizon,
        start=scenario.start,
        chunks=len(chunk_sizes(settings.replications, settings.chunk_size)),
        channels=list(scenario.channels),
        domains=[*scenario.channels, *scenario.treaties],
        treaties=list(scenario.treaties),
        events=list(scenario.events),
        report_horizons=[h for h in scenario.report_horizons if h <= scenario.horizon],
    )


def _resumed(
    directory: RunDirectory, scenario: Scenario | None, options: RunOptions, horizon: int | None
) -> tuple[dict[str, Any], Scenario]:
    """The manifest and scenario of a run to resume, refusing settings that differ."""
    manifest = directory.read_manifest()
    if manifest.get("status") == "complete":
        raise UserError(
            f"{directory.path} is a finished run: nothing to resume "
            f"(rebuild its reports with: alliance-sim report {directory.path})"
        )
    options.check_resume(manifest, horizon)
    resolved = manifest_scenario(manifest)
    if scenario_hash(resolved) != manifest["scenario_sha256"]:
        raise UserError(f"{directory.path}: the manifest's scenario does not match its hash")
    if scenario is not None:
        asked = with_horizon(scenario, horizon) if horizon else scenario
        if scenario_hash(asked) != manifest["scenario_sha256"]:
            warnings.warn(
                f"the scenario differs from the one {directory.path} was started with "
                f"(edited since?): resuming with the stored scenario "
                f"(sha256 {manifest['scenario_sha256'][:12]})",
                Advisory,
                stacklevel=3,
            )
    return manifest, resolved


def run(
    scenario: Scenario | None = None,
    options: RunOptions | None = None,
    *,
    horizon: int | None = None,
    meanwhile: Callable[[RunResult], list[Path]] | None = None,
    **changes: Any,
) -> RunResult:
    """Run a scenario's replications and collect their outcomes and survival.

    Args:
        scenario: A resolved scenario (see :func:`sim.load_scenario`); may be omitted when
            resuming.
        options: How to run (:class:`~sim.engine.options.RunOptions`); its fields may also
            be given as keywords (``replications=20_000, seed=7, workers=2, out=...``).
        horizon: Months to simulate (default: the scenario's).
        meanwhile: For a run with a directory, called with the result while the outcomes
            file is being written (to draw reports, say); the files it returns are listed
            in the manifest.
        **changes: Fields of :class:`~sim.engine.options.RunOptions`.

    Returns:
        The run's results.

    Raises:
        UserError: Bad options, an existing ``out`` without ``force``, a directory another
            process is using, a resume whose settings differ, or an interrupted run
            (:class:`RunInterrupted`).
    """
    options = RunOptions.of(options, **changes)
    lock: DirectoryLock | None = None
    directory: RunDirectory | None = None
    if options.resume is not None:
        path = Path(options.resume)
        lock = DirectoryLock(path)
        lock.acquire()
        try:
            directory = RunDirectory.resumable(path, RUN)
            with ctrl_c_deferred():  # pydantic at work: see below
                manifest, scenario = _resumed(directory, scenario, options, horizon)
        except BaseException:
            lock.release()
            raise
        settings = RunSettings.from_manifest(manifest)
    elif scenario is None:
        raise UserError("give a scenario to run, or a run directory to resume")
    else:
        # pydantic turns a Ctrl-C raised inside its serializer into a warning, and the run
        # would go on as if none had come: it is held while the scenario is copied and
        # dumped into the manifest, then raised.
        with ctrl_c_deferred():
            scenario = with_horizon(scenario, horizon) if horizon else scenario
            settings = options.settings(scenario.replications, scenario.seed)
            manifest = _run_manifest(scenario, settings)
    sizes: list[int] = []
    try:
        sizes = chunk_sizes(settings.replications, settings.chunk_size)
        saved = directory.saved_chunks() if directory else []
        done = set(saved)
        tasks = [
            ChunkTask(scenario.name, scenario, settings, i, size)
            for i, size in enumerate(sizes)
            if i not in done
        ]
        # The executor starts before anything is written: a missing or unreachable cluster
        # leaves no run directory behind.
        pool = make_executor(options, len(tasks))
        try:
            if directory is None and options.out is not None:
                path = output_path(options.out, scenario.name, manifest["started_utc"])
                lock = DirectoryLock(path)
                lock.acquire()
                directory = RunDirectory.create(path, options.force, manifest=manifest)
            return _simulate(
                scenario, settings, manifest, directory, sizes, saved, tasks, pool, options,
                meanwhile,
            )  # fmt: skip
        finally:
            pool.close()
    except RunInterrupted:
        raise
    except KeyboardInterrupt:
        # Outside the chunks' loop (which says so itself): most often after the last chunk,
        # while the outputs are written, when a resume has only the outputs to write.
        if directory is None or not sizes:
            raise
        saved_now = len(directory.saved_chunks())
        raise RunInterrupted(directory.path, saved_now, len(sizes)) from None
    except UserError as error:
        if directory is None:
            raise
        raise UserError(
            f"{error}\nthe run in {directory.path} is not complete; once that is fixed, "
            f"continue it with: alliance-sim run --resume {directory.path}"
        ) from None
    finally:
        if lock is not None:
            lock.release()


def _simulate(
    scenario: Scenario,
    settings: RunSettings,
    manifest: dict[str, Any],
    directory: RunDirectory | None,
    sizes: list[int],
    saved: list[int],
    tasks: list[ChunkTask],
    pool: Executor,
    options: RunOptions,
    meanwhile: Callable[[RunResult], list[Path]] | None,
) -> RunResult:
    """Run the chunks, then write the outputs: the body of :func:`run`."""
    interrupts = ctrl_c_count()
    layout = OutcomeLayout.from_manifest(manifest)
    summary = _Total()
    # replications.parquet is written as chunks come in (chunk order); a resumed run
    # first writes again the chunks it had saved.
    writing = directory.replication_writer() if directory else contextlib.nullcontext()
    order: _InOrder[Outcomes] = _InOrder()
    with writing as rows:

        def take(index: int, outcomes: Outcomes) -> None:
            summary.add(index, Summary.from_outcomes(outcomes))
            if rows is not None:
                for ready in order.ready(index, outcomes):
                    rows.append(ready)

        for index in saved:
            take(index, directory.load_chunk(index, layout))
        # The session is recorded as it starts: one that is killed stays in the manifest,
        # unfinished, beside the session that resumes it.
        start_session(manifest, pool)
        if directory is not None:
            directory.write_manifest(manifest)
        parts: dict[int, Outcomes] = {}
        initial = sum(sizes[i] for i in saved)
        bar = progress_bar(settings.replications, scenario.name, options.progress, initial)
        done = len(saved)
        try:
            for task, outcomes in pool.map_unordered(simulate_chunk, tasks):
                if directory is not None:
                    directory.save_chunk(task.index, outcomes)
                else:
                    parts[task.index] = outcomes
                take(task.index, outcomes)
                done += 1
                bar.update(task.size)
                _stop_on_a_lost_ctrl_c(interrupts)
        except KeyboardInterrupt:
            raise RunInterrupted(directory.path if directory else None, done, len(sizes)) from None
        finally:
            bar.close()
            pool.close()
    finished = utc_now()
    manifest["sessions"][-1]["finished_utc"] = finished
    manifest["finished_utc"] = finished
    manifest["status"] = "complete"
    result = RunResult(scenario, settings, manifest, summary.total)
    if directory is None:
        result._outcomes = Outcomes.concatenate([parts[i] for i in range(len(sizes))])
        return result
    result.directory = directory.path
    # outcomes.npz is assembled in the background (file reads and writes release the GIL)
    # while survival.csv and whatever `meanwhile` writes (reports) are produced.
    writer = _Background(directory.write_outcomes, layout, len(sizes), settings.replications)
    result._pending = writer.wait
    try:
        write_text(directory.path / SURVIVAL, result.survival.to_csv(index=False))
        extra = meanwhile(result) if meanwhile else []
    finally:
        # Never return, or raise, with the writer still at work on outcomes.npz.
        writer.wait()
    _stop_on_a_lost_ctrl_c(interrupts)  # before the run is recorded complete
    manifest["outputs"] = [OUTCOMES, REPLICATIONS, SURVIVAL, *(Path(p).name for p in extra)]
    directory.write_manifest(manifest)
    directory.remove_chunks()
    return result


def _stop_on_a_lost_ctrl_c(interrupts: int) -> None:
    """Raise the Ctrl-C that came since ``interrupts`` was counted and was lost on the way.

    One that Python printed as ignored (raised inside a weakref callback) would otherwise
    let the run finish (:func:`~sim.engine.executors.ctrl_c_counted`).
    """
    if ctrl_c_count() != interrupts:
        raise KeyboardInterrupt


@dataclass(frozen=True)
class Job:
    """The replications of one scenario, to be reduced to a :class:`Summary`."""

    key: Hashable
    scenario: Scenario
    settings: RunSettings


def summarise_jobs(
    jobs: list[Job], options: RunOptions, description: str = ""
) -> Iterator[tuple[Hashable, Summary]]:
    """Run the chunks of many scenarios on one executor; yield each job's summary when done.

    Chunks of all jobs share the workers, so many small jobs (the points of a sweep) keep
    every worker busy. Each job's numbers are those :func:`run` would give it, without
    the intensity tally (:func:`~sim.engine.chunks.summarise_chunk`).
    """
    tasks = [
        ChunkTask(job.key, job.scenario, job.settings, index, size)
        for job in jobs
        for index, size in enumerate(
            chunk_sizes(job.settings.replications, job.settings.chunk_size)
        )
    ]
    remaining = {job.key: 0 for job in jobs}
    for task in tasks:
        remaining[task.job] += 1
    partial: dict[Hashable, _Total] = {job.key: _Total() for job in jobs}
    pool = make_executor(options, len(tasks))
    bar = progress_bar(sum(task.size for task in tasks), description, options.progress)
    interrupts = ctrl_c_count()
    try:
        for task, chunk_summary in pool.map_unordered(summarise_chunk, tasks):
            partial[task.job].add(task.index, chunk_summary)
            remaining[task.job] -= 1
            bar.update(task.size)
            _stop_on_a_lost_ctrl_c(interrupts)
            if remaining[task.job] == 0:
                yield task.job, partial.pop(task.job).total
    finally:
        bar.close()
        pool.close()
