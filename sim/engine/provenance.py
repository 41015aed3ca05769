"""Provenance: what produced a result (packages, git commit, machine, time) and its manifest.

Every run and study directory holds a ``manifest.json`` built by :func:`new_manifest`:
its kind and format version, its status, the settings beside the scenario, the
provenance, and the sessions that worked on it.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.metadata
import platform
import socket
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.engine.executors import Executor
    from sim.engine.options import RunSettings

FORMAT_VERSION = 1

PACKAGES = ("alliance-sim", "mesa", "numpy", "scipy", "pandas", "pydantic", "pyyaml")


def package_versions() -> dict[str, str | None]:
    """Versions of Python and the packages that shape results."""
    return dict(_installed_versions())


@functools.cache
def _installed_versions() -> dict[str, str | None]:
    # Looked up once per process (each look-up reads the installed packages' metadata:
    # 40 ms a run, seconds for a calibration's hundred runs); the code a process runs is
    # the code it imported, whatever is installed later.
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def git_state() -> dict[str, str | bool | None]:
    """The git commit of the code running now, and whether it has uncommitted changes."""
    source = Path(__file__).resolve().parent

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(source), *args], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def machine() -> dict[str, str]:
    """Host name, platform and the command that started this process."""
    return {
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "command": " ".join(sys.argv),
    }


def utc_now() -> str:
    """The current time in UTC, ISO 8601 to the second."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_manifest(kind: str, settings: RunSettings, **content: Any) -> dict[str, Any]:
    """The first manifest of a run or study of ``kind`` (``run``, ``comparison``, ...).

    Args:
        kind: What the directory holds; recorded in ``format`` so that each command can
            recognise the others' directories.
        settings: Replications, seed and chunk size, recorded beside the scenario.
        **content: What the kind records besides (its scenario or scenarios, ...).
    """
    return {
        "format": f"alliance-sim {kind} {FORMAT_VERSION}",
        "status": "running",
        **content,
        "seed": settings.seed,
        "replications": settings.replications,
        "chunk_size": settings.chunk_size,
        "fixed_parameters": settings.fixed_parameters,
        "joint_draws": settings.joint_draws,
        "packages": package_versions(),
        "git": git_state(),
        "started_utc": utc_now(),
        "finished_utc": None,
        "sessions": [],
        "outputs": [],
    }


def start_session(manifest: dict[str, Any], executor: Executor) -> None:
    """Record in the manifest a session starting now, on ``executor``, on this machine."""
    session = {"started_utc": utc_now(), "finished_utc": None}
    session.update(executor=executor.name, workers=executor.workers, **machine())
    manifest["sessions"].append(session)
