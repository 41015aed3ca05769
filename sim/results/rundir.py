"""The run directory: one run's manifest, its saved chunks, and its outputs.

Layout (documented for users in docs/outputs.md):

    manifest.json    settings, resolved scenario and its hash, provenance, status
    chunks/          finished chunks while the run is under way (removed when complete)
    outcomes.npz     per replication <domain>__<field> (month, event, ending, emerged, revived,
                     spells, alive_months, interruptions), <domain>__intensity_<h>,
                     event__<name>; the summed tally __intensity_counts, __intensity_sums
    survival.csv     tidy Kaplan–Meier survival per domain and month
    replications.parquet  one row per replication: outcomes, events and drawn parameters
                     (see :mod:`sim.results.store`)

A run directory is created only when the run can start; an existing one is never
replaced unless asked (``force``), and only if it is a run directory. Comparisons,
sweeps and sensitivity analyses keep their directories the same way: a manifest whose
``format`` names the kind, and one subfolder for their work (``runs``, ``points``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import UserError
from sim.model.outcomes import (
    FIELDS,
    INTENSITY_BINS,
    OUTCOME_DTYPE,
    OUTCOME_DTYPES,
    IntensityTally,
    Outcomes,
)
from sim.results.store import PARAMETER, REPLICATIONS, ReplicationWriter
from sim.storage import (
    NpzWriter,
    atomic_file,
    read_stored,
    stored_arrays,
    write_json,
    write_npz,
)

RESULTS = Path("results")
"""Where ``--out default`` puts new directories."""
MANIFEST = "manifest.json"
CHUNKS = "chunks"
OUTCOMES = "outcomes.npz"
TALLY_COUNTS = "__intensity_counts"  # summed over chunks: a run's monthly intensity histograms
TALLY_SUMS = "__intensity_sums"
SURVIVAL = "survival.csv"
_CHUNK_FILE = re.compile(r"^chunk-(\d{6})\.npz$")


def safe_name(name: str) -> str:
    """A name fit for a file or directory: letters, digits, ``_``, ``-`` and ``.`` only.

    A scenario's name is free text; used as it is in a path, ``../x`` would leave the
    results folder.
    """
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).lstrip(".")
    return cleaned[:80] or "run"


def default_directory(root: Path, name: str, timestamp: str) -> Path:
    """``root/<name>-<timestamp>``, with a numeric suffix if that exists already."""
    stamp = timestamp.replace("-", "").replace(":", "")
    candidate = root / f"{safe_name(name)}-{stamp}"
    suffix = 2
    while candidate.exists():
        candidate = root / f"{safe_name(name)}-{stamp}-{suffix}"
        suffix += 1
    return candidate


def output_path(out: str | Path, name: str, timestamp: str) -> Path:
    """Where ``--out`` writes: ``out``, or for ``"default"`` ``results/<name>-<timestamp>``."""
    if str(out) == "default":
        return default_directory(RESULTS, name, timestamp)
    return Path(out)


# What to do with a directory of each kind, for a command given one of another kind.
_USES = {
    "run": "rebuild its reports with `alliance-sim report {path}`, or continue an interrupted "
    "one with `alliance-sim run --resume {path}`",
    "comparison": "its tables are comparison.md/.csv/.tex in it; continue an interrupted one "
    "with `alliance-sim compare --resume {path}`",
    "sweep": "its table is sweep.csv in it; continue an interrupted one with "
    "`alliance-sim sweep --resume {path}`",
    "sensitivity": "its table is sensitivity.md/.csv in it; continue an interrupted one with "
    "`alliance-sim sensitivity --resume {path}`",
}


def _kind(manifest: dict[str, Any]) -> str | None:
    """What a manifest's directory holds, from its ``format`` ("alliance-sim <kind> <version>")."""
    words = str(manifest.get("format", "")).split()
    return words[1] if len(words) == 3 and words[0] == "alliance-sim" else None


def kind_at(path: Path) -> str | None:
    """The kind of the directory at ``path``, or None if it has no readable manifest."""
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return _kind(manifest) if isinstance(manifest, dict) else None


def _exited(pid: str) -> bool:
    """Whether the process with this pid (as a lock file records it) no longer exists."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists, under another user
    return False


class DirectoryLock:
    """An exclusive claim on a run or study directory, held by one process while it works.

    The lock is an advisory ``flock`` on ``.<name>.lock`` beside the directory (not inside
    it, so that replacing the directory with ``--force`` cannot take the lock away). A
    second process that asks for it gets a clear error at once instead of writing into
    the same directory. The file is removed when the lock is released; one left by a
    killed process holds no lock and is reused.

    A ``flock`` belongs to the open file, which a child forked to run a command (``git``,
    ``uname``) shares until it starts that command: a process killed at that moment leaves
    the lock to the child for the few milliseconds it takes to die too. So when the process
    the file names has exited, the lock is asked for again for up to :data:`EXITING`
    seconds before it is called in use.
    """

    EXITING = 2.0

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.file = self.path.parent / f".{self.path.name}.lock"
        self._fd: int | None = None
        self._made: list[Path] = []  # folders made to hold the lock file, outermost last

    def acquire(self) -> None:
        """Take the lock, making the folder that holds the directory if need be.

        Raises:
            UserError: Another process holds it, or it cannot be created.
        """
        folder = self.file.parent
        while not folder.exists() and folder.parent != folder:
            self._made.append(folder)
            folder = folder.parent
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            self._made = []
            blocked = next((p for p in self.file.parents if p.is_file()), None)
            reason = f"{blocked} is a file" if blocked else error.strerror
            raise UserError(f"cannot create the directory {self.path}: {reason}") from None
        try:
            self._lock()
        except BaseException:
            self._remove_made()
            raise

    def _lock(self) -> None:
        deadline = time.monotonic() + self.EXITING
        while True:
            try:
                fd = os.open(self.file, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as error:
                raise UserError(
                    f"cannot write in {self.file.parent}: {error.strerror}; give --out a place "
                    "you can write to"
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                if _exited(holder) and time.monotonic() < deadline:
                    time.sleep(0.02)  # its last children are still exiting
                    continue
                raise UserError(
                    f"{self.path} is in use by another alliance-sim process (pid {holder}); "
                    "wait for it to finish, or choose another directory"
                ) from None
            # The holder before us may have removed the file as it released it: then our
            # lock is on a file nobody else sees, and we must lock the new one.
            try:
                same = os.fstat(fd).st_ino == os.stat(self.file).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.pwrite(fd, str(os.getpid()).encode(), 0)
                self._fd = fd
                return
            os.close(fd)

    def release(self) -> None:
        """Give the lock up and remove its file (and folders made for it, if left empty)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self.file.unlink()
        os.close(self._fd)
        self._fd = None
        self._remove_made()

    def _remove_made(self) -> None:
        for folder in self._made:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty: a run that wrote its outputs keeps them
        self._made = []


class RunDirectory:
    """Files of one run, or of a study (comparison, sweep, sensitivity) kept the same way."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def create(
        cls,
        path: Path,
        force: bool = False,
        *,
        manifest: dict[str, Any],
        folder: str = CHUNKS,
    ) -> RunDirectory:
        """Make a new directory with an empty ``folder`` in it and write its manifest.

        Args:
            path: The directory to make.
            force: Replace ``path`` if it holds a directory of the same kind.
            manifest: The first manifest; its ``format`` names the kind (run, comparison,
                sweep, sensitivity). If it cannot be written, nothing made here is left.
            folder: The subfolder the directory's work goes into (``chunks``, ``runs``,
                ``points``).

        Raises:
            UserError: ``path`` exists and ``force`` is false, ``path`` exists but is not a
                directory of this kind, or it cannot be created or written.
        """
        path = Path(path)
        kind = _kind(manifest)
        if path.exists():
            found = kind_at(path) if path.is_dir() else None
            if not force:
                hint = f"--resume {path} to continue it, or " if found == kind else ""
                raise UserError(
                    f"{path} already exists; use {hint}--force to replace it, or another --out"
                )
            if not path.is_dir() or (found != kind and any(path.iterdir())):
                raise UserError(
                    f"{path} exists and is not a {kind} directory: refusing to replace it"
                )
            try:
                shutil.rmtree(path)
            except OSError as error:
                raise UserError(f"cannot replace {path}: {error.strerror}") from None
        # The outermost directory this call makes: on failure it goes, with all inside it.
        made = path
        while not made.parent.exists() and made.parent != made:
            made = made.parent
        try:
            (path / folder).mkdir(parents=True)
            directory = cls(path)
            directory.write_manifest(manifest)
        except BaseException as error:
            shutil.rmtree(made, ignore_errors=True)
            if isinstance(error, OSError):
                raise UserError(
                    f"cannot create the {kind} directory {path}: {error.strerror}"
                ) from None
            raise
        return directory

    @classmethod
    def existing(cls, path: Path, kind: str) -> RunDirectory:
        """Open a directory of ``kind`` made earlier, to read it.

        Raises:
            UserError: There is no manifest at ``path``, or it is of another kind.
        """
        path = Path(path)
        if not (path / MANIFEST).is_file():
            raise UserError(f"{path} is not a {kind} directory (no {MANIFEST})")
        directory = cls(path)
        found = _kind(directory.read_manifest())
        if found != kind:
            use = _USES.get(found or "", "").format(path=path)
            raise UserError(
                f"{path} is a {found or 'different'} directory, not a {kind} directory"
                + (f": {use}" if use else "")
            )
        return directory

    @classmethod
    def resumable(cls, path: Path, kind: str) -> RunDirectory:
        """Open a directory of ``kind`` to continue its work, without what a killed process left.

        Only a resume may delete temporaries: a reader (``report``) could otherwise delete
        the half-written file of a process that is still writing.

        Raises:
            UserError: As :meth:`existing`.
        """
        directory = cls.existing(path, kind)
        directory.remove_stale_temporaries()
        return directory

    def remove_stale_temporaries(self) -> None:
        """Delete files a killed process left half-written (they never replaced a real one)."""
        for folder in (self.path, *(p for p in self.path.iterdir() if p.is_dir())):
            for stale in folder.glob(".*.tmp-*"):
                stale.unlink(missing_ok=True)

    def read_manifest(self) -> dict[str, Any]:
        """The run's manifest."""
        try:
            return json.loads((self.path / MANIFEST).read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise UserError(f"cannot read {self.path / MANIFEST}: {error}") from None

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Replace the manifest atomically."""
        write_json(self.path / MANIFEST, manifest)

    def _chunk_path(self, index: int) -> Path:
        return self.path / CHUNKS / f"chunk-{index:06d}.npz"

    def saved_chunks(self) -> list[int]:
        """Indices of the chunks saved so far."""
        folder = self.path / CHUNKS
        if not folder.is_dir():
            return []
        return sorted(
            int(match.group(1))
            for match in map(_CHUNK_FILE.match, (p.name for p in folder.iterdir()))
            if match
        )

    def save_chunk(self, index: int, outcomes: Outcomes) -> None:
        """Save one chunk's outcomes atomically, in the layout of ``outcomes.npz``.

        The parameters it drew are saved with them: a resumed run rebuilds
        ``replications.parquet`` from its saved chunks.
        """
        self._chunk_path(index).parent.mkdir(exist_ok=True)
        arrays = dict(_per_replication(outcomes))
        arrays |= {PARAMETER + key: values for key, values in outcomes.parameters.items()}
        if outcomes.tally is not None:
            arrays[TALLY_COUNTS] = outcomes.tally.counts.ravel()
            arrays[TALLY_SUMS] = outcomes.tally.sums.ravel()
        write_npz(self._chunk_path(index), arrays)

    def load_chunk(self, index: int, layout: OutcomeLayout) -> Outcomes:
        """Read one saved chunk, with the parameters it drew."""
        return _read_outcomes(self._chunk_path(index), layout, parameters=True)

    def replication_writer(self) -> ReplicationWriter:
        """A writer of ``replications.parquet``, to be given every chunk in chunk order."""
        return ReplicationWriter(self.path / REPLICATIONS)

    def write_outcomes(self, layout: OutcomeLayout, chunks: int, replications: int) -> None:
        """Join the saved chunks into ``outcomes.npz``, one array and one chunk at a time.

        Opening a chunk as an archive reads its directory (some 475 members with the drawn
        parameters: 9 ms, and a third of a MiB and a file held while it is open). So each
        chunk is opened once, to find where its arrays lie (27 KB a chunk kept), and the
        arrays are read from there: no file stays open, and the join of 100 chunks takes
        1.7-1.9 s against 2.6-3.3 s with every chunk held open. Opening each chunk once
        per array, as joins past 256 chunks did, took 9 of the 22 minutes of a
        10,000,000-replication run (1,000 chunks, 177 arrays). The chunks' intensity
        tallies are summed.
        """
        keys = [key for group in layout.groups() for key, _ in group]
        keys += [TALLY_COUNTS, TALLY_SUMS]
        column = {key: k for k, key in enumerate(keys)}
        paths = [self._chunk_path(i) for i in range(chunks)]
        where = [stored_arrays(path, keys) for path in paths]

        def pieces(key: str) -> Iterator[np.ndarray | None]:
            k = column[key]
            return (read_stored(path, found[k]) for path, found in zip(paths, where, strict=True))

        with atomic_file(self.path / OUTCOMES) as handle, NpzWriter(handle) as writer:
            for group in layout.groups():
                for key, dtype in group:
                    writer.write(key, dtype, replications, map(_required(key), pieces(key)))
            for key, dtype in ((TALLY_COUNTS, np.int64), (TALLY_SUMS, np.float64)):
                parts = list(pieces(key))  # a month of counts per domain: small
                if parts and all(part is not None for part in parts):  # else a chunk has none
                    total = sum((part.astype(dtype) for part in parts[1:]), parts[0].astype(dtype))
                    writer.write(key, dtype, total.size, [total])

    def read_outcomes(self, layout: OutcomeLayout) -> Outcomes:
        """Read ``outcomes.npz``."""
        return _read_outcomes(self.path / OUTCOMES, layout)

    def remove_chunks(self) -> None:
        """Delete the saved chunks once the outputs are written."""
        shutil.rmtree(self.path / CHUNKS, ignore_errors=True)


def _required(key: str) -> Callable[[np.ndarray | None], np.ndarray]:
    """A check that a chunk has the array ``key`` (every chunk of a run saves it)."""

    def check(part: np.ndarray | None) -> np.ndarray:
        if part is None:
            raise UserError(f"a saved chunk has no {key!r}: run the scenario again")
        return part

    return check


def _per_replication(outcomes: Outcomes):
    """The per-replication arrays of outcomes, by their key in ``outcomes.npz``."""
    for row, domain in enumerate(outcomes.channels):
        for field in FIELDS:
            yield f"{domain}__{field}", getattr(outcomes, field)[row]
        for column, horizon in enumerate(outcomes.report_horizons):
            yield f"{domain}__intensity_{horizon}", outcomes.intensity_at[row, column]
    for row, event in enumerate(outcomes.events):
        yield f"event__{event}", outcomes.event_months[row]


@dataclass(frozen=True)
class OutcomeLayout:
    """What a run's outcomes hold: its domains, treaties, events and horizons.

    Built from a run's manifest (or its scenario), it names every array of a chunk file
    and of ``outcomes.npz``.
    """

    domains: tuple[str, ...]
    treaties: tuple[str, ...]
    events: tuple[str, ...]
    horizon: int
    report_horizons: tuple[int, ...]

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> OutcomeLayout:
        """The layout a run's manifest records."""
        return cls(
            tuple(manifest["domains"]),
            tuple(manifest.get("treaties", ())),
            tuple(manifest.get("events", ())),
            manifest["horizon"],
            tuple(manifest["report_horizons"]),
        )

    def groups(self):
        """The per-replication keys and dtypes, one group per domain, then the events."""
        for domain in self.domains:
            group = [(f"{domain}__{field}", OUTCOME_DTYPES[field]) for field in FIELDS]
            group += [(f"{domain}__intensity_{h}", np.dtype(np.float32))
                      for h in self.report_horizons]  # fmt: skip
            yield group
        if self.events:
            yield [(f"event__{event}", np.dtype(OUTCOME_DTYPE)) for event in self.events]


def _read_outcomes(path: Path, layout: OutcomeLayout, parameters: bool = False) -> Outcomes:
    domains = layout.domains
    with np.load(path, allow_pickle=False) as archive:
        fields = [
            np.stack([archive[f"{domain}__{field}"] for domain in domains]) for field in FIELDS
        ]
        intensity = np.stack(
            [
                np.stack([archive[f"{domain}__intensity_{h}"] for h in layout.report_horizons])
                for domain in domains
            ]
        )
        replications = fields[0].shape[1]
        events = (
            np.stack([archive[f"event__{event}"] for event in layout.events])
            if layout.events
            else np.zeros((0, replications), dtype=OUTCOME_DTYPE)
        )
        tally = None
        if TALLY_COUNTS in archive:
            months = layout.horizon + 1
            counts = archive[TALLY_COUNTS].reshape(len(domains), months, INTENSITY_BINS)
            sums = archive[TALLY_SUMS].reshape(len(domains), months)
            tally = IntensityTally(counts, sums)
        drawn = {
            name.removeprefix(PARAMETER): archive[name]
            for name in (archive.files if parameters else ())
            if name.startswith(PARAMETER)
        }
    return Outcomes(
        domains, layout.horizon, *fields, intensity, layout.report_horizons, events,
        layout.events, tally, layout.treaties, drawn,
    )  # fmt: skip
