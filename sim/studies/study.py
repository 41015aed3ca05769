"""The one study runner: a study's directory and manifest, created or reopened to resume.

Every study (comparison, sweep, sensitivity analysis) keeps its work like a run does:
a directory claimed by one process at a time, created only once everything the study
needs has been checked (or refused if it exists, unless forced), a manifest whose
``format`` names the kind and which records the run settings beside the scenarios, one
subfolder for the work (``runs``, ``points``), and the sessions that worked on it. A
study kept in memory has no directory and the same manifest.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sim.engine.executors import ctrl_c_deferred
from sim.engine.options import RunOptions
from sim.engine.provenance import machine, utc_now
from sim.errors import UserError
from sim.results.rundir import DirectoryLock, RunDirectory, output_path


class Study:
    """A study's directory (None when kept in memory) and manifest.

    Use :meth:`open` as a context manager: the directory stays claimed (locked) until the
    block ends.

    Attributes:
        kind: ``comparison``, ``sweep`` or ``sensitivity``.
        manifest: The manifest (as written to ``manifest.json``).
        directory: The study's directory, or None.
        resumed: Whether the study continues an interrupted one.
    """

    def __init__(
        self,
        kind: str,
        manifest: dict[str, Any],
        directory: RunDirectory | None,
        lock: DirectoryLock | None,
        resumed: bool,
    ) -> None:
        self.kind = kind
        self.manifest = manifest
        self.directory = directory
        self.resumed = resumed
        self._lock = lock

    @classmethod
    def open(
        cls,
        kind: str,
        options: RunOptions,
        name: str,
        new_manifest: Callable[[], dict[str, Any]],
        folder: str,
    ) -> Study:
        """Create a study's directory (or none), or reopen one to resume.

        Args:
            kind: What the study is.
            options: Its run options (``out``, ``resume``, ``force``; settings to check
                against a resumed study's own).
            name: The name of a default directory, ``results/<name>-<UTC time>``.
            new_manifest: Builds the manifest of a new study; called only after the
                caller has checked everything it needs, so a refused study writes nothing.
            folder: The subfolder of the study's work.

        Raises:
            UserError: A directory that exists (without force), is of another kind, is in
                use by another process, or whose settings differ from those given.
        """
        if options.resume is not None:
            path = Path(options.resume)
            lock = DirectoryLock(path)
            lock.acquire()
            try:
                directory = RunDirectory.resumable(path, kind)
                manifest = directory.read_manifest()
                if manifest.get("status") == "complete":
                    raise UserError(f"{path} is a finished {kind}: nothing to resume")
                options.check_resume(manifest)
            except BaseException:
                lock.release()
                raise
            study = cls(kind, manifest, directory, lock, resumed=True)
        else:
            # A Ctrl-C raised inside pydantic's serializer (scenarios dumped into the
            # manifest) would become a warning and be lost: it is held, then raised.
            with ctrl_c_deferred():
                manifest = new_manifest()
            directory, lock = None, None
            if options.out is not None:
                path = output_path(options.out, name, manifest["started_utc"])
                lock = DirectoryLock(path)
                lock.acquire()
                try:
                    directory = RunDirectory.create(
                        path, options.force, manifest=manifest, folder=folder
                    )
                except BaseException:
                    lock.release()
                    raise
            study = cls(kind, manifest, directory, lock, resumed=False)
        study._start_session()
        return study

    @property
    def path(self) -> Path | None:
        """The study's directory, or None."""
        return self.directory.path if self.directory else None

    @property
    def resume_command(self) -> str:
        """The command that continues this study after an interruption."""
        return f"alliance-sim {self.kind_command} --resume {self.path}"

    @property
    def kind_command(self) -> str:
        """The command that runs a study of this kind."""
        return {"comparison": "compare"}.get(self.kind, self.kind)

    def _start_session(self) -> None:
        self.manifest.setdefault("sessions", []).append(
            {"started_utc": utc_now(), "finished_utc": None, **machine()}
        )
        if self.directory is not None:
            self.directory.write_manifest(self.manifest)

    def finish(self, written: list[Path]) -> None:
        """Record the study as complete, with the files it wrote."""
        finished = utc_now()
        self.manifest["sessions"][-1]["finished_utc"] = finished
        self.manifest.update(status="complete", finished_utc=finished)
        self.manifest["outputs"] = [Path(p).name for p in written]
        if self.directory is not None:
            self.directory.write_manifest(self.manifest)

    def close(self) -> None:
        """Release the directory."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
