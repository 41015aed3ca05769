"""Provenance of a run: package versions, the code's git commit, the machine, the time."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import platform
import socket
import subprocess
import sys
from pathlib import Path

PACKAGES = ("alliance-sim", "mesa", "numpy", "scipy", "pandas", "pydantic", "pyyaml")


def package_versions() -> dict[str, str | None]:
    """Versions of Python and the packages that shape results."""
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
