"""How to run: one typed set of options for every command that simulates.

:class:`RunOptions` holds what a user chooses about a run besides the scenario: how many
replications, the seed, the chunk size (the three fix every random number, with the
scenario: :class:`RunSettings`), where chunks run, and where results go. ``run``,
``compare``, ``sweep``, ``sensitivity``, ``paper`` and ``calibrate`` all take it (or its
fields as keyword arguments), check it the same way, and record the settings beside the
scenario in their manifests: the scenario's hash describes the scenario alone.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.defaults import DEFAULT_CHUNK_SIZE
from sim.errors import Advisory, UserError, did_you_mean
from sim.results.settings import RunSettings

WORKERS_VARIABLE = "ALLIANCE_SIM_WORKERS"
"""Environment variable with the default number of workers (all cores if unset)."""

MAX_WORKERS_PER_CORE = 4
"""Workers beyond this many per core only add memory and start-up time: they are capped."""

EXECUTORS = ("local", "dask")


def available_cores() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


@dataclass(frozen=True)
class RunOptions:
    """Everything a user chooses about running, besides the scenario.

    Attributes:
        replications: Replications (None: the scenario's, or the study file's).
        seed: Seed (None: the scenario's, or the study file's). Studies run every
            scenario or point with one seed: common random numbers.
        chunk_size: Replications per chunk (None: :data:`DEFAULT_CHUNK_SIZE`); with the
            seed it fixes every random number.
        workers: Worker processes (None: the environment variable
            ``ALLIANCE_SIM_WORKERS`` if set, else all cores; capped at
            :data:`MAX_WORKERS_PER_CORE` per core).
        executor: ``"local"`` (process pool) or ``"dask"``.
        scheduler: Address of a Dask scheduler (implies the dask executor); without it
            ``executor="dask"`` starts a local Dask cluster.
        out: Directory to write; None keeps results in memory; ``"default"`` picks
            ``results/<name>-<UTC time>``.
        resume: A directory of an interrupted run or study to continue.
        force: Replace ``out`` if it holds a finished or interrupted one of the same kind.
        progress: Show a progress bar on stderr.
        fixed_parameters: Run the point model: judged numbers at their values.
        joint_draws: Draw judged numbers as a joint sample of this many rows per chunk,
            so that reports can tell parameter uncertainty from chance.
    """

    replications: int | None = None
    seed: int | None = None
    chunk_size: int | None = None
    workers: int | None = None
    executor: str = "local"
    scheduler: str | None = None
    out: str | Path | None = None
    resume: str | Path | None = None
    force: bool = False
    progress: bool = False
    fixed_parameters: bool = False
    joint_draws: int | None = None

    @classmethod
    def of(cls, options: RunOptions | None = None, **changes: Any) -> RunOptions:
        """Options from an options object and keyword changes, checked.

        Raises:
            TypeError: A keyword that is not an option (with the one probably meant).
            UserError: A value out of range.
        """
        names = [field.name for field in dataclasses.fields(cls)]
        for name in changes:
            if name not in names:
                guess = did_you_mean(name, names)
                hint = f"; did you mean {guess!r}?" if guess else ""
                raise TypeError(f"unknown run option {name!r}{hint}")
        chosen = dataclasses.replace(options or cls(), **changes)
        chosen.check()
        return chosen

    def replace(self, **changes: Any) -> RunOptions:
        """A copy with some options changed."""
        return dataclasses.replace(self, **changes)

    def check(self) -> None:
        """Refuse values no run can use.

        Raises:
            UserError: Naming the option and what it accepts.
        """
        for name in ("replications", "chunk_size", "workers"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise UserError(f"{name} must be a whole number of at least 1, got {value!r}")
        if self.seed is not None and not (isinstance(self.seed, int) and 0 <= self.seed < 2**63):
            raise UserError(f"seed must be a whole number in [0, 2**63), got {self.seed!r}")
        if self.executor not in EXECUTORS:
            raise UserError(
                f"unknown executor {self.executor!r}; expected one of: {', '.join(EXECUTORS)}"
            )
        if self.joint_draws is not None and (
            not isinstance(self.joint_draws, int) or self.joint_draws < 2
        ):
            raise UserError(
                f"joint_draws must be a whole number of at least 2, got {self.joint_draws!r}"
            )
        if self.fixed_parameters and self.joint_draws is not None:
            raise UserError("fixed parameters draw nothing: give fixed_parameters or joint_draws")
        if self.resume is not None and self.out is not None:
            raise UserError("resume continues in its own directory: give no output directory")

    def settings(self, replications: int, seed: int) -> RunSettings:
        """The run settings: these options' values, else the defaults given."""
        return RunSettings(
            self.replications or replications,
            seed if self.seed is None else self.seed,
            self.chunk_size or DEFAULT_CHUNK_SIZE,
            self.fixed_parameters,
            self.joint_draws,
        )

    def worker_count(self) -> int:
        """Workers to start: as asked, or all cores; never more than a few per core."""
        cores = available_cores()
        limit = MAX_WORKERS_PER_CORE * cores
        if self.workers is None:
            default = os.environ.get(WORKERS_VARIABLE, "")
            return int(default) if default.isdigit() and int(default) >= 1 else cores
        if self.workers > limit and self.scheduler is None:
            warnings.warn(
                f"{self.workers} workers asked on {cores} cores: starting {limit} "
                f"({MAX_WORKERS_PER_CORE} per core); more would only use memory",
                Advisory,
                stacklevel=3,
            )
            return limit
        return self.workers

    def check_resume(self, manifest: dict[str, Any], horizon: int | None = None) -> None:
        """Refuse settings given beside a resume that differ from the run's own.

        Raises:
            UserError: Naming each setting that differs.
        """
        asked = {
            "replications": self.replications,
            "seed": self.seed,
            "chunk size": self.chunk_size,
            "horizon": horizon,
        }
        asked["fixed parameters"] = self.fixed_parameters or None
        asked["joint draws"] = self.joint_draws
        recorded = {
            "fixed parameters": manifest.get("fixed_parameters") or None,
            "joint draws": manifest.get("joint_draws"),
            "replications": manifest.get("replications"),
            "seed": manifest.get("seed"),
            "chunk size": manifest.get("chunk_size"),
            "horizon": manifest.get("horizon"),
        }
        differ = [
            f"{name} {value} (the run has {recorded[name]})"
            for name, value in asked.items()
            if value is not None and recorded[name] is not None and value != recorded[name]
        ]
        if differ:
            raise UserError(
                "a resumed run keeps its own settings; these differ: "
                + "; ".join(differ)
                + ". Resume without them, or start a new run"
            )
