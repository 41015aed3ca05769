"""``extends``: every file a scenario is made of, merged into one document.

A scenario file may extend one or more parents (paths relative to the file). Every file
it is made of is merged once, ancestors first and parents in the order given (a base
shared by two parents comes once, before both), the file itself last: mappings merge
key by key, while lists, numbers, documented numbers and distributions, an event's
``timing`` and ``after``, and a channel's ``parties`` are replaced whole; ``null``
removes what a parent said. The location of every key is kept through the merge, so a
problem found in the merged document is reported at the line of the file that set it.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

from sim.errors import KeyPath, Problem, ScenarioError, did_you_mean
from sim.scenario.positions import step, variants
from sim.scenario.schema import MERGEABLE_MODELS, Scenario
from sim.scenario.yamlfile import Locations, load_yaml, shown_path, similar_file


def _merges(candidates: list[Any]) -> bool:
    """Whether a mapping at a position of these types merges key by key with its parent's.

    Objects that a file may give in part (:data:`MERGEABLE_MODELS`) and mappings of names
    merge; anything else (a number, a distribution, a timing, an ``after``) is replaced
    whole. The position decides, not the key's name: an event may be called ``timing``.
    """
    return any(
        typing.get_origin(variant) is dict or variant in MERGEABLE_MODELS
        for candidate in candidates
        for variant in variants(candidate)
    )


def _merge(
    parent: dict[str, Any],
    child: dict[str, Any],
    path: KeyPath,
    replaced: set[KeyPath],
    candidates: list[Any],
) -> dict[str, Any]:
    merged = dict(parent)
    for key, value in child.items():
        here = (*path, key)
        old = merged.get(key)
        inner = step(candidates, key)
        if value is None:
            merged.pop(key, None)
            replaced.add(here)
        elif isinstance(value, dict) and isinstance(old, dict) and _merges(inner):
            merged[key] = _merge(old, value, here, replaced, inner)
        else:
            merged[key] = value
            replaced.add(here)
    return merged


def merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """Merge a child document onto its parent by the rules of ``extends`` (module docstring)."""
    return _merge(parent, child, (), set(), [Scenario])


def _merge_documents(
    parent: tuple[dict[str, Any], Locations], child: tuple[dict[str, Any], Locations]
) -> tuple[dict[str, Any], Locations]:
    replaced: set[KeyPath] = set()
    data = _merge(parent[0], child[0], (), replaced, [Scenario])
    locations = {
        path: where
        for path, where in parent[1].items()
        if not any(path[: len(prefix)] == prefix for prefix in replaced)
    }
    locations.update(child[1])
    return data, locations


def resolved(path: Path) -> Path | None:
    """``path`` made absolute with every symbolic link followed, or None if the links loop."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # Python 3.12 raises RuntimeError for a symlink loop
        return None


def _refuse_misspelt_extends(data: dict[str, Any], locations: Locations) -> None:
    """A misspelt ``extends`` (``extend:``) is reported alone, as what it is.

    Left to the schema, the file would be read on its own: a key it does not know, and
    every key its parents would have given reported missing, which buries the cause.
    """
    for key in data:
        if key not in Scenario.model_fields and did_you_mean(str(key), ["extends"]):
            message = (
                f"unknown key '{key}': a scenario builds on other files with extends "
                "(a file path or a list of them)"
            )
            raise ScenarioError([Problem(locations.get((key,)), (key,), message, "extends")])


def _layers(file: Path, stack: tuple[Path, ...]) -> list[tuple[Path, dict[str, Any], Locations]]:
    """Every file ``file`` is made of, each once, ancestors before descendants.

    Each layer is a file's own data (without ``extends``) and locations. A file reached
    through two parents (a shared base) comes once, at its first place, so what the
    first parent changed in it is not undone by the second parent's copy of the base.
    """
    data, locations = load_yaml(file)
    if not isinstance(data, dict):
        raise ScenarioError(
            [Problem(locations[()], (), "a scenario must be a mapping of keys to values")]
        )
    if "base" in data and "design" in data and "extends" not in data:
        shown = shown_path(file)
        message = (
            "this is a sweep file (it names a base and a design), not a scenario: run it with "
            f"alliance-sim sweep {shown}, or alliance-sim sensitivity {shown}"
        )
        raise ScenarioError([Problem(locations[()], (), message)])
    if "extends" not in data:
        _refuse_misspelt_extends(data, locations)
    parents = data.pop("extends", [])
    if isinstance(parents, str):
        parents = [parents]
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise ScenarioError(
            [
                Problem(
                    locations.get(("extends",)),
                    ("extends",),
                    "expected a file path or a list of file paths",
                )
            ]
        )
    layers: list[tuple[Path, dict[str, Any], Locations]] = []
    for index, parent in enumerate(parents):
        where = locations.get(("extends", index), locations.get(("extends",)))
        parent_file = resolved(file.parent / parent)
        if parent_file is None:
            message = f"cannot follow {parent}: its symbolic links form a loop"
            raise ScenarioError([Problem(where, ("extends",), message)])
        if parent_file in stack:
            chain = " -> ".join(p.name for p in (*stack, parent_file))
            raise ScenarioError([Problem(where, ("extends",), f"extends cycle: {chain}")])
        if not parent_file.is_file():
            guess = similar_file(parent_file)
            if guess:
                guess = str(Path(parent).with_name(guess))
            message = f"no such file to extend: {parent} (paths are relative to this file)"
            raise ScenarioError([Problem(where, ("extends",), message, guess)])
        known = {layer[0] for layer in layers}
        layers += [
            layer for layer in _layers(parent_file, (*stack, parent_file)) if layer[0] not in known
        ]
    own_locations = {path: where for path, where in locations.items() if path[:1] != ("extends",)}
    return [*layers, (file, data, own_locations)]


def resolve(file: Path) -> tuple[dict[str, Any], Locations, list[Path]]:
    """The merged document of ``file`` and everything it extends, and the files read."""
    layers = _layers(file, (file,))
    merged: tuple[dict[str, Any], Locations] = ({}, {})
    for _, data, locations in layers:
        merged = _merge_documents(merged, (data, locations))
    return *merged, [layer[0] for layer in layers]
