"""A run's results: its scenario, manifest, statistics and outcomes, in memory or on disk.

Everything that analyses a run (statistics, tables, figures, comparisons) reads a
:class:`RunResult`; nothing downstream needs the engine that produced it. A finished run
directory is reopened with :func:`load_run`.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import UserError
from sim.model.outcomes import Outcomes
from sim.months import parse_month
from sim.results.rundir import OutcomeLayout, RunDirectory
from sim.results.settings import RunSettings
from sim.results.store import REPLICATIONS, read_replications, replication_table
from sim.scenario import Scenario, scenario_from_dict
from sim.stats.survival import Summary, survival_frame


@dataclass
class RunResult:
    """A finished run: the scenario as run, its manifest, its statistics and outcomes.

    Attributes:
        scenario: The resolved scenario as run (with the run's horizon).
        settings: Replications, seed and chunk size of the run.
        manifest: Settings and provenance (as written to ``manifest.json``).
        summary: Life tables and counts of domains alive, from which survival is computed.
        directory: The run directory, or None for a run kept in memory.
    """

    scenario: Scenario
    settings: RunSettings
    manifest: dict[str, Any]
    summary: Summary
    directory: Path | None = None
    _outcomes: Outcomes | None = field(default=None, repr=False)
    _pending: Callable[[], None] | None = field(default=None, repr=False)

    @property
    def seed(self) -> int:
        """The run's seed."""
        return self.settings.seed

    @property
    def replications(self) -> int:
        """The number of replications run."""
        return self.settings.replications

    @property
    def domains(self) -> tuple[str, ...]:
        """The run's domains, as its outcomes order them: channels, then treaties' status."""
        return tuple(self.manifest["domains"])

    @property
    def outcomes(self) -> Outcomes:
        """Termination month and event flag per domain and replication (read from disk if saved)."""
        if self._pending is not None:
            self._pending()  # the run is still writing outcomes.npz: wait for it
        if self._outcomes is None:
            layout = OutcomeLayout.from_manifest(self.manifest)
            self._outcomes = RunDirectory(self.directory).read_outcomes(layout)
        return self._outcomes

    def replication_frame(self, columns: list[str] | None = None) -> pd.DataFrame:
        """One row per replication: outcomes, events and drawn parameters.

        Read from the run's ``replications.parquet`` (see :mod:`sim.results.store`), or
        built from the outcomes of a run kept in memory.

        Args:
            columns: The columns to read (default: all).

        Raises:
            UserError: The run directory has no ``replications.parquet`` (it was made by
                an older version: run it again to have one).
        """
        if self.directory is None:
            frame = replication_table(self.outcomes).to_pandas()
            return frame if columns is None else frame[columns]
        if self._pending is not None:
            self._pending()
        path = Path(self.directory) / REPLICATIONS
        if not path.is_file():
            raise UserError(
                f"{self.directory} has no {REPLICATIONS} (made by an older alliance-sim?): "
                "run the scenario again to have one"
            )
        return read_replications(path, columns)

    def _repr_html_(self) -> str:
        """A compact summary for Jupyter: P(alive) at the report horizons, and the curves."""
        from sim.results.display import run_html

        return run_html(self)

    @cached_property
    def survival(self) -> pd.DataFrame:
        """Tidy Kaplan–Meier survival per domain and month, with 95% log-log intervals.

        Columns: ``domain, month, date, p_survive, ci_low, ci_high, at_risk, events``.
        """
        return survival_frame(self.summary.life_tables, parse_month(self.scenario.start))


def manifest_scenario(manifest: dict[str, Any]) -> Scenario:
    """The resolved scenario a run directory's manifest records, with the files it came from."""
    scenario = scenario_from_dict(manifest["scenario"])
    scenario._files = tuple(manifest.get("scenario_files", ()))
    return scenario


def load_run(path: str | Path) -> RunResult:
    """Open a finished run directory (to report on it again, or analyse it in a notebook).

    Raises:
        UserError: ``path`` is not a finished run directory.
    """
    directory = RunDirectory.existing(Path(path), "run")
    manifest = directory.read_manifest()
    if manifest.get("status") != "complete":
        raise UserError(
            f"{path} holds an unfinished run; continue it with: alliance-sim run --resume {path}"
        )
    try:
        scenario = manifest_scenario(manifest)
        outcomes = directory.read_outcomes(OutcomeLayout.from_manifest(manifest))
        settings = RunSettings.from_manifest(manifest)
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise UserError(
            f"cannot read the run in {path}: {_damage(error)}; the directory is damaged "
            "(run the scenario again: its manifest.json holds it, under 'scenario')"
        ) from None
    summary = Summary.from_outcomes(outcomes)
    return RunResult(scenario, settings, manifest, summary, directory.path, outcomes)


def _damage(error: Exception) -> str:
    """What a damaged run directory lacks, in words."""
    if isinstance(error, FileNotFoundError):
        return f"{Path(error.filename).name} is missing"
    if isinstance(error, KeyError):
        return f"its manifest.json has no {error.args[0]!r}"
    if isinstance(error, zipfile.BadZipFile | EOFError):
        return f"an archive is cut short or corrupt ({error})"
    return str(error)
