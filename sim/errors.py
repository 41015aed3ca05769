"""Errors caused by user input, reported with where they are and what to do about them.

Every error a user can cause (a malformed scenario, a bad command-line value, a run
directory that already exists) is a :class:`UserError`. The CLI prints it and exits with
status 2 without a traceback; the Python API raises it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

KeyPath = tuple[str | int, ...]


def format_key_path(path: KeyPath) -> str:
    """Render a key path as users write it: ``events.ceasefire.effects[0].target``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(document)"


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """Return the closest of ``choices`` to a misspelt ``word``, or None."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


@dataclass(frozen=True)
class Location:
    """A place in a file: 1-based line and column."""

    file: Path
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where, which key, what was expected, what to try."""

    location: Location | None
    key_path: KeyPath
    message: str
    suggestion: str | None = None

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        # A problem with the file itself (it is missing, unreadable) has no place within it.
        key = f"{format_key_path(self.key_path)}: " if self.location or self.key_path else ""
        text = f"{where}{key}{self.message}"
        if self.suggestion:
            text += f" (did you mean '{self.suggestion}'?)"
        return text


class Advisory(UserWarning):
    """Something in what the user asked for that is allowed but almost surely a mistake.

    The CLI prints it on stderr as a note and carries on (exit status 0); Python callers
    see an ordinary warning.
    """


class UserError(Exception):
    """An error in what the user asked for; the CLI prints it and exits with status 2."""


class ScenarioError(UserError):
    """A scenario or sweep file that cannot be used, with every problem found in it."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


class RunInterrupted(UserError):
    """A run or study stopped by Ctrl-C; what it finished is saved and it can be resumed.

    The CLI exits with status 130.
    """

    def __init__(
        self,
        directory: Path | None,
        done: int,
        total: int,
        *,
        unit: str = "chunks",
        command: str = "alliance-sim run",
    ) -> None:
        self.directory = directory
        if directory is None:
            message = f"interrupted after {done} of {total} {unit} (nothing was saved)"
        else:
            message = (
                f"interrupted: {done} of {total} {unit} are saved in {directory}; "
                f"continue with: {command} --resume {directory}"
            )
        super().__init__(message)
