"""Loading scenarios: a file, its parents merged (:mod:`.merge`), validated and fingerprinted.

The merged document is validated against :mod:`sim.scenario.schema` and then as a whole
(:mod:`sim.scenario.checks`), and every problem is reported with its file, line and key
path. A loaded scenario can be changed in code as a file extending it would change it
(:func:`override`, :func:`set_values`) and is identified by :func:`scenario_hash`.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

from sim.errors import Advisory, Location, Problem, ScenarioError, UserError, did_you_mean
from sim.scenario.checks import check_scenario, likely_mistakes
from sim.scenario.merge import merge, resolve, resolved
from sim.scenario.problems import validate_structure
from sim.scenario.schema import TIMING_KINDS, Scenario
from sim.scenario.yamlfile import Locations, shown_path

DOCUMENTATION_KEYS = frozenset({"description", "meaning", "source", "reason", "label"})
RUN_DEFAULTS = {"replications", "seed"}  # a scenario's suggested run settings, not its content


def _validate(data: dict[str, Any], locations: Locations) -> Scenario:
    scenario = validate_structure(Scenario, data, locations)
    check_scenario(scenario, locations)
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file, resolve what it extends, and validate the result.

    Args:
        path: The scenario's YAML file.

    Returns:
        The fully resolved scenario. ``scenario_files(scenario)`` lists the files read.
        What is valid but almost surely a mistake (see
        :func:`sim.scenario.checks.likely_mistakes`) comes as an
        :class:`~sim.errors.Advisory` warning, located like an error.

    Raises:
        ScenarioError: With every problem found, each with file, line and key path.
    """
    file = resolved(Path(path))
    if file is None:
        message = f"cannot read {path}: its symbolic links form a loop"
        raise ScenarioError([Problem(None, (), message)])
    try:
        data, locations, files = resolve(file)
    except ScenarioError as error:
        raise ScenarioError([_relative_problem(p) for p in error.problems]) from None
    displayed = {file: shown_path(file) for file in {where.file for where in locations.values()}}
    shown = {
        path: Location(Path(displayed[where.file]), where.line, where.column)
        for path, where in locations.items()
    }
    scenario = _validate(data, shown)
    scenario._files = tuple(shown_path(f) for f in files)
    for problem in likely_mistakes(scenario, shown):
        warnings.warn(str(problem), Advisory, stacklevel=2)
    return scenario


def _relative_location(where: Location) -> Location:
    return Location(Path(shown_path(where.file)), where.line, where.column)


def _relative_problem(problem: Problem) -> Problem:
    if problem.location is None:
        return problem
    return replace(problem, location=_relative_location(problem.location))


def scenario_from_dict(data: dict[str, Any]) -> Scenario:
    """Validate a scenario given as Python data (already resolved, no ``extends``)."""
    return _validate(dict(data), {})


def override(scenario: Scenario, changes: dict[str, Any]) -> Scenario:
    """Apply a partial scenario document to a scenario, as if a file extended it.

    ``changes`` follows the file format and its merge rules (``null`` removes; numbers,
    distributions, timings and lists replace whole), so
    ``override(s, {"channels": {"military": {"growth": 0.2}}})`` is what a file with
    ``extends: s`` and that key would give.

    Raises:
        ScenarioError: The result is not a valid scenario.
    """
    data = merge(scenario.model_dump(exclude_none=True), changes)
    updated = _validate(data, {})
    updated._files = scenario_files(scenario)
    return updated


def scenario_files(scenario: Scenario) -> tuple[str, ...]:
    """The files a loaded scenario was resolved from, parents first."""
    return scenario._files


def with_horizon(scenario: Scenario, horizon: int) -> Scenario:
    """The scenario run for ``horizon`` months instead of its own horizon.

    A shorter horizon drops the report horizons beyond it (keeping the horizon itself),
    and events timed after it simply do not happen within the run.

    Raises:
        ScenarioError: The horizon is out of range.
    """
    data = scenario.model_dump()
    data["horizon"] = horizon
    kept = [h for h in data["report_horizons"] if h <= horizon]
    data["report_horizons"] = kept if horizon in kept else [*kept, horizon]
    updated = validate_structure(Scenario, data, {})
    check_scenario(updated, {}, check_months=False)
    updated._files = scenario_files(scenario)
    return updated


def _strip_documentation(value: Any) -> Any:
    if isinstance(value, dict):
        given = {key for key, item in value.items() if item is not None}
        if "value" in given and given <= {"value", *DOCUMENTATION_KEYS}:
            return value["value"]  # a documented number without a judged range is its value
        return {
            key: _strip_documentation(item)
            for key, item in value.items()
            # Only text is documentation: a variable or event may be named `source`.
            if not (key in DOCUMENTATION_KEYS and isinstance(item, str | None))
        }
    if isinstance(value, list | tuple):
        return [_strip_documentation(item) for item in value]
    return value


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of everything in the resolved scenario that can change a result.

    Documentation text (description, meaning, source, reason, label) is left out, and a
    documented number counts as its value, so editing a comment or a source note keeps
    the hash, as does writing ``{value: 0.15, reason: ...}`` as ``0.15``. The default
    run settings (``replications``, ``seed``) are left out too: they are settings of a
    run, recorded beside the hash in its manifest. Any other number, name or event
    changes the hash, and so does the order of actors, channels and events (it decides
    how effects compose).
    """
    content = _strip_documentation(scenario.model_dump(mode="json", exclude=RUN_DEFAULTS))
    text = json.dumps(content, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _parse_path(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for piece in path.split("."):
        name, *indices = piece.replace("]", "").split("[")
        if name:
            parts.append(name)
        parts += [int(i) for i in indices]
    return parts


def set_value(scenario: Scenario, values: dict[str, float | int | str]) -> Scenario:
    """The scenario with values set at key paths, validated like a file.

    Setting a timing kind (``events.x.timing.month``) replaces the event's timing, since
    an event has one timing; setting a documented number or a distribution replaces it
    with the plain value.

    Raises:
        UserError: A path that does not exist.
        ScenarioError: A value the scenario does not accept.
    """
    # None values stay, so a channel parameter inherited from channel_defaults can be set.
    data = scenario.model_dump(mode="json")
    for path, value in values.items():
        parts = _parse_path(path)
        node: Any = data
        for depth, part in enumerate(parts):
            after = parts[depth + 1] if depth + 1 < len(parts) else None
            if part == "timing" and after in TIMING_KINDS and isinstance(node, dict):
                node[part] = {}  # an event has one timing: a new kind replaces the old
            elif isinstance(node, dict) and part not in node:
                parent_is_new_timing = depth > 0 and parts[depth - 1] == "timing" and not node
                if not parent_is_new_timing:
                    suggestion = did_you_mean(str(part), list(node))
                    hint = f" (did you mean '{suggestion}'?)" if suggestion else ""
                    raise UserError(f"{path}: no '{part}' in the scenario{hint}")
            elif isinstance(node, list) and not (isinstance(part, int) and part < len(node)):
                raise UserError(f"{path}: no item [{part}] in the scenario")
            if after is None:
                node[part] = value
            else:
                node = node[part]
    updated = scenario_from_dict(data)
    updated._files = scenario._files
    return updated
