"""The run directory: one run's manifest, its saved chunks, and its outputs.

Layout (documented for users in docs/outputs.md):

    manifest.json    settings, resolved scenario and its hash, provenance, status
    chunks/          finished chunks while the run is under way (removed when complete)
    outcomes.npz     <domain>__month, <domain>__event (and __emerged, __revived) per replication
    survival.csv     tidy Kaplan–Meier survival per domain and month

A run directory is created only when the run can start; an existing one is never
replaced unless asked (``force``), and only if it is a run directory.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import UserError
from sim.outcomes import FIELDS, OUTCOME_DTYPES, Outcomes
from sim.storage import NpzWriter, atomic_file, write_json, write_npz

MANIFEST = "manifest.json"
CHUNKS = "chunks"
OUTCOMES = "outcomes.npz"
SURVIVAL = "survival.csv"
_CHUNK_FILE = re.compile(r"^chunk-(\d{6})\.npz$")
_OPEN_CHUNKS = 256  # chunk files held open at once while outputs are assembled


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


class RunDirectory:
    """Files of one run."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def create(cls, path: Path, force: bool = False) -> RunDirectory:
        """Make a new run directory.

        Raises:
            UserError: ``path`` exists and ``force`` is false, ``path`` exists but is not a
                run directory, or it cannot be created.
        """
        path = Path(path)
        if path.exists():
            is_run = (path / MANIFEST).is_file()
            if not force:
                hint = f"--resume {path} to continue it, or " if is_run else ""
                raise UserError(
                    f"{path} already exists; use {hint}--force to replace it, or another --out"
                )
            if not is_run and any(path.iterdir()):
                raise UserError(f"{path} exists and is not a run directory: refusing to replace it")
            shutil.rmtree(path)
        try:
            (path / CHUNKS).mkdir(parents=True)
        except OSError as error:
            raise UserError(f"cannot create the run directory {path}: {error.strerror}") from None
        return cls(path)

    @classmethod
    def existing(cls, path: Path) -> RunDirectory:
        """Open a run directory made earlier.

        Raises:
            UserError: There is no run (manifest) at ``path``.
        """
        path = Path(path)
        if not (path / MANIFEST).is_file():
            raise UserError(f"{path} is not a run directory (no {MANIFEST})")
        directory = cls(path)
        directory.remove_stale_temporaries()
        return directory

    def remove_stale_temporaries(self) -> None:
        """Delete files a killed process left half-written (they never replaced a real one)."""
        for folder in (self.path, self.path / CHUNKS):
            if folder.is_dir():
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
        """Save one chunk's outcomes atomically, in the layout of ``outcomes.npz``."""
        write_npz(
            self._chunk_path(index),
            {
                f"{channel}__{field}": getattr(outcomes, field)[row]
                for row, channel in enumerate(outcomes.channels)
                for field in FIELDS
            },
        )

    def load_chunk(self, index: int, channels: tuple[str, ...], horizon: int) -> Outcomes:
        """Read one saved chunk."""
        return _read_outcomes(self._chunk_path(index), channels, horizon)

    def write_outcomes(self, channels: tuple[str, ...], chunks: int, replications: int) -> None:
        """Join the saved chunks into ``outcomes.npz``, one array and one chunk at a time.

        The chunk files stay open while a domain's four arrays are written (up to
        ``_OPEN_CHUNKS`` at once), so each is opened once per domain, not once per array.
        """
        with atomic_file(self.path / OUTCOMES) as handle:
            writer = NpzWriter(handle)
            for channel in channels:
                keep_open = chunks <= _OPEN_CHUNKS
                opened = [self._open_chunk(i) for i in range(chunks)] if keep_open else []
                try:
                    for field in FIELDS:
                        key = f"{channel}__{field}"
                        pieces = (
                            (chunk[key] for chunk in opened)
                            if keep_open
                            else (self._read_chunk(i, key) for i in range(chunks))
                        )
                        writer.write(key, OUTCOME_DTYPES[field], replications, pieces)
                finally:
                    for chunk in opened:
                        chunk.close()
            writer.close()

    def _open_chunk(self, index: int):
        return np.load(self._chunk_path(index), allow_pickle=False)

    def _read_chunk(self, index: int, key: str) -> np.ndarray:
        with self._open_chunk(index) as chunk:
            return chunk[key]

    def read_outcomes(self, channels: tuple[str, ...], horizon: int) -> Outcomes:
        """Read ``outcomes.npz``."""
        return _read_outcomes(self.path / OUTCOMES, channels, horizon)

    def remove_chunks(self) -> None:
        """Delete the saved chunks once the outputs are written."""
        shutil.rmtree(self.path / CHUNKS, ignore_errors=True)


def _read_outcomes(path: Path, channels: tuple[str, ...], horizon: int) -> Outcomes:
    with np.load(path, allow_pickle=False) as archive:
        fields = [
            np.stack([archive[f"{channel}__{field}"] for channel in channels]) for field in FIELDS
        ]
    return Outcomes(channels, horizon, *fields)
