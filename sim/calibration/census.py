"""What backs each number of a world: a source, a judged range, the fit, or a definition.

A reviewer's first question about a simulation is how much of it is evidence and how much
is the modeller's judgement. This module walks the files a scenario is built from (the
world file, its start state, the fitted fragments) and counts their numbers by mechanism
and by what documents them:

- **fitted**: set by ``alliance-sim calibrate`` (the fit to the evidence ledger, or the
  survival regression of alliances);
- **sourced**: carries a ``source`` (its own or that of the mapping that holds it);
- **judged**: carries a ``judgement: [low, high]`` range (or is a distribution) and a
  reason, and no source;
- **reasoned**: documented by a reason alone: definitions of the outcome, values solved
  from the start state (a threshold, a desire base), the coded start state (whose reasons
  cite the evidence ledger), durations of scripted effects.

A number with both a source and a judged range counts as sourced (the range is the
spread its sources give). A source documents the numbers of its own mapping only, not
those nested below it (as the world files' tests read them).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from sim.scenario import load_yaml

KINDS = ("fitted", "sourced", "judged", "reasoned")

MECHANISMS = {
    "channel_defaults": "channel dynamics",
    "termination": "channel dynamics",
    "actors": "actors' responses",
    "events": "events and their timing",
    "treaties": "treaty hazard",
    "shocks": "common shocks",
    "state": "start state",
}
"""Mechanism of a number by its top-level key (channels are split by their sub-keys)."""

CHANNEL_PARTS = {"desire": "desire weights", "cost": "costs", "spillover": "spillover"}


def _mechanism(path: tuple) -> str | None:
    top = path[0]
    if top == "channels":
        return CHANNEL_PARTS.get(path[2], "channel dynamics") if len(path) > 2 else None
    return MECHANISMS.get(top)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _kind(node: dict, fitted: bool) -> str:
    """What backs the numbers of one mapping (sources do not reach nested mappings)."""
    if fitted:
        return "fitted"
    if "source" in node:
        return "sourced"
    if "judgement" in node or "dist" in node:
        return "judged"  # a distribution's spread is its author's judgement
    return "reasoned"


def _walk(node: Any, path: tuple, fitted: bool, found: list) -> None:
    if isinstance(node, dict):
        if _is_number(node.get("value")) or "dist" in node:
            found.append((path, _kind(node, fitted)))
            return
        for key, value in node.items():
            if key in ("judgement", "range", "reason", "meaning", "source"):
                continue
            if _is_number(value) and key not in ("seed", "replications", "horizon"):
                # A step's age is where the modeller cut the steps, not a fitted number.
                kind = "reasoned" if key == "from_month" else _kind(node, fitted)
                found.append(((*path, key), kind))
            else:
                _walk(value, (*path, key), fitted, found)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            _walk(item, (*path, index), fitted, found)


def numbers(files: dict[Path, bool]) -> pd.DataFrame:
    """Every number of the files with its mechanism and what backs it.

    Args:
        files: Each file, and whether its numbers are fitted (written by the calibration).
            A number set in a later file replaces the same key path of an earlier one.

    Returns:
        One row per number: ``path, mechanism, kind, file``.
    """
    rows: dict[tuple, tuple[str, str, str]] = {}
    for file, fitted in files.items():
        data, _ = load_yaml(Path(file))
        found: list = []
        for key, value in data.items():
            if key in ("name", "description", "extends", "report_horizons", "start"):
                continue
            _walk(value, (key,), fitted, found)
        for path, kind in found:
            mechanism = _mechanism(path)
            if mechanism is not None:
                rows[path] = (mechanism, kind, Path(file).name)
    return pd.DataFrame(
        [(".".join(map(str, p)), *v) for p, v in rows.items()],
        columns=["path", "mechanism", "kind", "file"],
    )


def scenario_files(scenario: Path, fitted_folder: Path) -> dict[Path, bool]:
    """The files a scenario is built from, in the order they apply, and itself.

    Each is marked fitted if it lives in ``fitted_folder`` (the calibration's outputs).
    """
    data, _ = load_yaml(Path(scenario))
    parents = data.get("extends", [])
    parents = [parents] if isinstance(parents, str) else parents
    files: dict[Path, bool] = {}
    for parent in parents:
        path = (Path(scenario).parent / parent).resolve()
        files |= scenario_files(path, fitted_folder)
    path = Path(scenario).resolve()
    files[path] = path.parent == Path(fitted_folder).resolve()
    return files


def census(files: dict[Path, bool]) -> pd.DataFrame:
    """Counts of numbers by mechanism and kind (``fitted, sourced, judged, defined``).

    Returns:
        One row per mechanism (and a ``total`` row) with a column per kind of
        :data:`KINDS` and ``all``.
    """
    found = numbers(files)
    counts = Counter(zip(found["mechanism"], found["kind"], strict=True))
    mechanisms = list(dict.fromkeys(found["mechanism"]))
    table = pd.DataFrame(
        [[counts.get((m, k), 0) for k in KINDS] for m in mechanisms],
        index=pd.Index(mechanisms, name="mechanism"),
        columns=list(KINDS),
    )
    table.loc["total"] = table.sum()
    table["all"] = table.sum(axis=1)
    return table
