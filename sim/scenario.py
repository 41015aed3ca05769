"""Reading scenarios: resolve ``extends``, merge, validate, and fingerprint.

A scenario file may extend one or more parents (paths relative to the file). Every file
it is made of is merged once, ancestors first and parents in the order given (a base
shared by two parents comes once, before both), the file itself last: mappings merge
key by key, while lists, numbers, documented numbers and distributions, an event's
``timing`` and ``after``, and a channel's ``parties`` are replaced whole; ``null``
removes what a parent said. The merged document is validated against
:mod:`sim.schema` and then as a whole (names exist, months fall inside the run), and
every problem is reported with its file, line and key path.
"""

from __future__ import annotations

import hashlib
import json
import types
import typing
from dataclasses import replace
from pathlib import Path
from typing import Any

import pydantic
from pydantic import BaseModel

from sim.errors import KeyPath, Location, Problem, ScenarioError, did_you_mean
from sim.months import MONTH_PATTERN, iso_month, month_offset, parse_month
from sim.schema import (
    CHANNEL_DEFAULTABLE,
    CHANNEL_PARAMETERS,
    MERGEABLE_MODELS,
    NAME_PATTERN,
    Scenario,
    SetEffect,
    format_bounds,
    sample_group_sizes,
    support,
)
from sim.yamlfile import Locations, load_yaml, similar_file

DOCUMENTATION_KEYS = frozenset({"description", "meaning", "source", "reason", "label"})


def _merges(candidates: list[Any]) -> bool:
    """Whether a mapping at a position of these types merges key by key with its parent's.

    Objects that a file may give in part (:data:`MERGEABLE_MODELS`) and mappings of names
    merge; anything else (a number, a distribution, a timing, an ``after``) is replaced
    whole. The position decides, not the key's name: an event may be called ``timing``.
    """
    return any(
        typing.get_origin(variant) is dict or variant in MERGEABLE_MODELS
        for candidate in candidates
        for variant in _variants(candidate)
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
        inner = _step(candidates, key)
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
        parent_file = (file.parent / parent).resolve()
        where = locations.get(("extends", index), locations.get(("extends",)))
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


def _resolve(file: Path) -> tuple[dict[str, Any], Locations, list[Path]]:
    """The merged document of ``file`` and everything it extends, and the files read."""
    layers = _layers(file, (file,))
    merged: tuple[dict[str, Any], Locations] = ({}, {})
    for _, data, locations in layers:
        merged = _merge_documents(merged, (data, locations))
    return *merged, [layer[0] for layer in layers]


def _locate(locations: Locations, path: KeyPath):
    for end in range(len(path), -1, -1):
        if path[:end] in locations:
            return locations[path[:end]]
    return None


def _unwrap(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _variants(annotation: Any) -> list[Any]:
    annotation = _unwrap(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        found = []
        for arg in typing.get_args(annotation):
            found.extend(_variants(arg))
        return found
    return [annotation]


def _step(candidates: list[Any], part: str | int) -> list[Any]:
    """The types a document may hold at key or index ``part`` of a value of these types."""
    found = []
    for candidate in candidates:
        for variant in _variants(candidate):
            origin = typing.get_origin(variant)
            if isinstance(variant, type) and issubclass(variant, BaseModel):
                if isinstance(part, str) and part in variant.model_fields:
                    found.append(variant.model_fields[part].annotation)
            elif origin is dict:
                found.append(typing.get_args(variant)[1])
            elif origin in (list, tuple):
                args = typing.get_args(variant)
                if origin is tuple and isinstance(part, int) and part < len(args):
                    found.append(args[part])
                elif args:
                    found.append(args[0])
    return found


def _fields_at(root: type[BaseModel], data: Any, path: KeyPath) -> list[str] | None:
    """The keys allowed at ``path`` of a document of type ``root``, when they form a closed set."""
    candidates: list[Any] = [root]
    node = data
    for part in path:
        node = node[part] if isinstance(node, dict | list) else None
        candidates = _step(candidates, part)
    models = [
        variant
        for candidate in candidates
        for variant in _variants(candidate)
        if isinstance(variant, type) and issubclass(variant, BaseModel)
    ]
    if isinstance(node, dict) and "dist" in node:
        models = [m for m in models if "dist" in m.model_fields] or models
    elif isinstance(node, dict):
        # A documented number, or the timing/effect variant whose key is present.
        keyed = [m for m in models if any(k in node for k in m.model_fields if k != "target")]
        models = [m for m in keyed if "dist" not in m.model_fields] or models
    if not models:
        return None
    return sorted({name for model in models for name in model.model_fields})


def _data_path(data: Any, loc: tuple[Any, ...]) -> KeyPath:
    """Map a pydantic error location onto the document, dropping union tags."""
    path: list[str | int] = []
    node = data
    for part in loc:
        in_mapping = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_mapping or in_list:
            node = node[part]
            path.append(part)
    return tuple(path)


def _describe(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _structure_problems(
    root: type[BaseModel],
    data: dict[str, Any],
    error: pydantic.ValidationError,
    locations: Locations,
) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[KeyPath, str]] = set()
    for item in error.errors(include_url=False):
        kind = item["type"]
        loc = tuple(item["loc"])
        suggestion = None
        if kind == "missing":
            path = _data_path(data, loc[:-1])
            message = f"missing required key '{loc[-1]}'"
        elif kind == "extra_forbidden":
            path = _data_path(data, loc)
            allowed = _fields_at(root, data, path[:-1]) or []
            message = f"unknown key '{path[-1]}'"
            if allowed:
                message += f"; expected one of: {', '.join(allowed)}"
            suggestion = did_you_mean(str(path[-1]), allowed)
        elif kind == "union_tag_invalid":
            path = _data_path(data, loc)
            tag = item["ctx"]["tag"]
            expected = [t.strip(" '") for t in item["ctx"]["expected_tags"].split(",")]
            message = f"unknown distribution {tag!r}; expected one of: {', '.join(expected)}"
            path = (*path, "dist")
            suggestion = did_you_mean(str(tag), expected)
        else:
            path = _data_path(data, loc)
            value = item.get("input")
            got = "" if isinstance(value, dict | list) else f", got {_describe(value)}"
            message = f"{_friendly(item['msg'])}{got}"
        if (path, message) in seen:
            continue
        seen.add((path, message))
        problems.append(Problem(_locate(locations, path), path, message, suggestion))
    return problems


def _friendly(message: str) -> str:
    message = message.removeprefix("Value error, ")
    replacements = {
        "Input should be a valid number": "expected a number",
        "Input should be a valid integer": "expected a whole number",
        "Input should be a valid string": "expected text",
        "Input should be a valid dictionary or instance of": "expected a mapping for",
        "Input should be a valid dictionary": "expected a mapping",
        "Input should be a valid list": "expected a list",
        "Input should be a valid tuple": "expected a list",
        "Input should be": "expected a value",
        f"String should match pattern '{MONTH_PATTERN}'": "expected a month as YYYY-MM",
        f"String should match pattern '{NAME_PATTERN}'": (
            "expected a name of lower-case letters, digits and _"
        ),
    }
    for old, new in replacements.items():
        if message.startswith(old):
            return new + message[len(old) :]
    return message


class _Checker:
    """Whole-scenario checks: names that must exist, months inside the run, ranges."""

    def __init__(self, scenario: Scenario, locations: Locations, check_months: bool) -> None:
        self.s = scenario
        self.locations = locations
        self.check_months = check_months
        self.problems: list[Problem] = []
        self.start = parse_month(scenario.start)
        self.variables = {
            f"{actor}.{name}": variable
            for actor, spec in scenario.actors.items()
            for name, variable in spec.variables.items()
        }

    def problem(self, path: KeyPath, message: str, suggestion: str | None = None) -> None:
        self.problems.append(Problem(_locate(self.locations, path), path, message, suggestion))

    def unknown(self, path: KeyPath, what: str, name: str, known: list[str]) -> None:
        """Report a name that does not exist, e.g. ``what='unknown actor'``."""
        self.problem(path, f"{what} '{name}'", did_you_mean(name, known))

    def run(self) -> list[Problem]:
        self.names()
        self.sample_groups()
        self.channels()
        self.state()
        self.events()
        horizons = self.s.report_horizons
        if horizons != sorted(set(horizons)):
            self.problem(("report_horizons",), "report horizons must increase")
        if horizons and horizons[-1] > self.s.horizon:
            self.problem(
                ("report_horizons",),
                f"report horizon {horizons[-1]} is beyond the run's horizon of "
                f"{self.s.horizon} months",
            )
        return self.problems

    def sample_groups(self) -> None:
        """Parameters drawn jointly from samples (a posterior) need samples of one size."""
        for group, found in sample_group_sizes(self.s).items():
            if len(found) > 1:
                self.problem(
                    (),
                    f"empirical group '{group}' has samples of different sizes {sorted(found)}: "
                    "every parameter of a group needs one value per draw",
                )

    def names(self) -> None:
        for name in set(self.s.actors) & set(self.s.channels):
            self.problem(("channels", name), f"'{name}' names both an actor and a channel")
        core = self.s.alliance_channel
        if core is not None and core not in self.s.channels:
            self.unknown(("alliance_channel",), "unknown channel", core, list(self.s.channels))

    def variable_reference(self, path: KeyPath, reference: str) -> None:
        if reference in self.variables:
            return
        actor, _, variable = reference.partition(".")
        if actor not in self.s.actors:
            self.unknown(path, "unknown actor", actor, list(self.s.actors))
        elif not variable:
            self.problem(path, f"expected 'actor.variable', got '{reference}'")
        else:
            known = list(self.s.actors[actor].variables)
            self.unknown(path, f"{actor} has no variable", variable, known)

    def channels(self) -> None:
        defaults = self.s.channel_defaults
        for name, channel in self.s.channels.items():
            here = ("channels", name)
            for party in channel.parties:
                if party not in self.s.actors:
                    self.unknown((*here, "parties"), "unknown actor", party, list(self.s.actors))
            if channel.parties[0] == channel.parties[1]:
                self.problem((*here, "parties"), "a channel needs two different parties")
            for field in CHANNEL_DEFAULTABLE:
                if getattr(channel, field) is None and getattr(defaults, field) is None:
                    self.problem(
                        here, f"no value for '{field}' here or in channel_defaults.{field}"
                    )
            for party in channel.desire:
                if party not in channel.parties:
                    self.problem(
                        (*here, "desire", party),
                        f"'{party}' is not a party of this channel; parties are "
                        f"{', '.join(channel.parties)}",
                        did_you_mean(party, channel.parties),
                    )
            for party in channel.parties:
                if party not in channel.desire:
                    self.problem((*here, "desire"), f"no desire given for party '{party}'")
            for party, terms in channel.desire.items():
                for term in terms:
                    if term != "base":
                        self.variable_reference((*here, "desire", party, term), term)
            for term in channel.cost:
                self.variable_reference((*here, "cost", term), term)
            for source in channel.spillover:
                if source not in self.s.channels:
                    self.unknown(
                        (*here, "spillover", source),
                        "unknown channel",
                        source,
                        list(self.s.channels),
                    )
                elif source == name:
                    self.problem((*here, "spillover", source), "a channel cannot feed itself")
        for actor, spec in self.s.actors.items():
            for variable, definition in spec.variables.items():
                for channel in definition.responds_to:
                    if channel not in self.s.channels:
                        self.unknown(
                            ("actors", actor, "variables", variable, "responds_to", channel),
                            "unknown channel",
                            channel,
                            list(self.s.channels),
                        )

    def state(self) -> None:
        state = self.s.state
        if state.month != self.s.start:
            self.problem(
                ("start",),
                f"the run starts {self.s.start} but the state describes {state.month}; "
                "extend a file that holds the state of the start month",
            )
        for actor, values in state.actors.items():
            if actor not in self.s.actors:
                self.unknown(
                    ("state", "actors", actor), "unknown actor", actor, list(self.s.actors)
                )
                continue
            known = self.s.actors[actor].variables
            for variable, value in values.items():
                path = ("state", "actors", actor, variable)
                if variable not in known:
                    self.unknown(path, f"{actor} has no variable", variable, list(known))
                    continue
                self.within(path, value, *known[variable].range, "the variable's range")
        for actor, spec in self.s.actors.items():
            for variable in spec.variables:
                if variable not in state.actors.get(actor, {}):
                    self.problem(
                        ("actors", actor, "variables", variable),
                        f"no value at the start for {actor}.{variable}: "
                        f"add it under state.actors.{actor}",
                    )
        for channel in state.channels:
            if channel not in self.s.channels:
                self.unknown(
                    ("state", "channels", channel),
                    "unknown channel",
                    channel,
                    list(self.s.channels),
                )
        for channel in self.s.channels:
            if channel not in state.channels:
                self.problem(
                    ("channels", channel),
                    f"no state at the start for {channel}: add it under state.channels",
                )

    def month(self, path: KeyPath, value: str | int, relative: bool) -> None:
        if isinstance(value, int):
            offset = value
        elif relative:
            self.problem(
                path,
                "timing after another event counts months from it: give a number of "
                f"months, not the date {value}",
            )
            return
        else:
            offset = month_offset(value, self.start)
        if offset < 0:
            self.problem(path, f"{value} is before the run starts ({self.s.start})")
        elif self.check_months and offset > self.s.horizon:
            end = iso_month(self.start + self.s.horizon)
            self.problem(path, f"{value} is after the run ends ({end})")

    def events(self) -> None:
        events = self.s.events
        for name, event in events.items():
            here = ("events", name)
            relative = event.after is not None
            timing = event.timing
            for key in ("month", "window", "triangular"):
                value = getattr(timing, key, None)
                if value is None:
                    continue
                values = value if isinstance(value, tuple) else (value,)
                for index, item in enumerate(values):
                    path = (*here, "timing", key) + ((index,) if isinstance(value, tuple) else ())
                    self.month(path, item, relative)
                offsets = [month_offset(item, self.start) for item in values]
                if offsets != sorted(offsets):
                    self.problem((*here, "timing", key), "months must not decrease")
            if event.after is not None and event.after.event not in events:
                self.unknown(
                    (*here, "after", "event"), "unknown event", event.after.event, list(events)
                )
            if event.after is not None and event.after.event == name:
                self.problem((*here, "after", "event"), "an event cannot follow itself")
            for index, other in enumerate(event.unless):
                if other not in events:
                    self.unknown((*here, "unless", index), "unknown event", other, list(events))
                elif other == name:
                    self.problem((*here, "unless", index), "an event cannot block itself")
            for index, effect in enumerate(event.effects):
                self.effect((*here, "effects", index), effect)
        self.event_cycles()

    def effect(self, path: KeyPath, effect) -> None:
        target = effect.target
        owner, _, attribute = target.partition(".")
        if owner in self.s.channels:
            if attribute not in CHANNEL_PARAMETERS:
                self.unknown(
                    (*path, "target"), f"channel {owner} has no parameter", attribute,
                    list(CHANNEL_PARAMETERS),
                )  # fmt: skip
            elif isinstance(effect, SetEffect):
                low, high = CHANNEL_PARAMETERS[attribute]
                self.within((*path, "set"), effect.set, low, high, f"{target}'s range")
            return
        if owner not in self.s.actors:
            known = list(self.s.actors) + list(self.s.channels)
            self.unknown((*path, "target"), "unknown actor or channel", owner, known)
            return
        self.variable_reference((*path, "target"), target)
        if isinstance(effect, SetEffect) and target in self.variables:
            self.within(
                (*path, "set"), effect.set, *self.variables[target].range, f"{target}'s range"
            )

    def within(
        self, path: KeyPath, value, low: float | None, high: float | None, what: str
    ) -> None:
        """Report ``value`` if it can fall outside [low, high] (None: unbounded)."""
        lo, hi = support(value)
        if (low is not None and lo < low) or (high is not None and hi > high):
            self.problem(path, f"must lie in {what} {format_bounds(low, high)}")

    def event_cycles(self) -> None:
        events = self.s.events
        graph = {name: event.depends_on for name, event in events.items()}
        state: dict[str, int] = {}

        def visit(name: str, trail: list[str]) -> None:
            state[name] = 1
            for other in graph.get(name, []):
                if other not in graph:
                    continue
                if state.get(other) == 1:
                    cycle = " -> ".join([*trail[trail.index(other) :], other])
                    self.problem(
                        ("events", name), f"events depend on each other in a cycle: {cycle}"
                    )
                elif other not in state:
                    visit(other, [*trail, other])
            state[name] = 2

        for name in graph:
            if name not in state:
                visit(name, [name])


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    def key(problem: Problem) -> tuple[str, int, int]:
        where = problem.location
        return (str(where.file), where.line, where.column) if where else ("", 0, 0)

    return sorted(problems, key=key)


def _check(scenario: Scenario, locations: Locations, check_months: bool = True) -> None:
    problems = _Checker(scenario, locations, check_months).run()
    if problems:
        raise ScenarioError(_in_file_order(problems))


def validate_structure[M: BaseModel](model: type[M], data: Any, locations: Locations) -> M:
    """Validate a document against a model of the scenario language, or raise located problems.

    Raises:
        ScenarioError: Every structural problem, in file order, with line and key path.
    """
    if not isinstance(data, dict):
        where = locations.get(())
        raise ScenarioError([Problem(where, (), "expected a mapping of keys to values")])
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as error:
        problems = _structure_problems(model, data, error, locations)
        raise ScenarioError(_in_file_order(problems)) from None


def _validate(data: dict[str, Any], locations: Locations) -> Scenario:
    scenario = validate_structure(Scenario, data, locations)
    _check(scenario, locations)
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file, resolve what it extends, and validate the result.

    Args:
        path: The scenario's YAML file.

    Returns:
        The fully resolved scenario. ``scenario_files(scenario)`` lists the files read.

    Raises:
        ScenarioError: With every problem found, each with file, line and key path.
    """
    file = Path(path).resolve()
    try:
        data, locations, files = _resolve(file)
    except ScenarioError as error:
        raise ScenarioError([_relative_problem(p) for p in error.problems]) from None
    scenario = _validate(data, {path: _relative_location(w) for path, w in locations.items()})
    scenario._files = tuple(_display(f) for f in files)
    return scenario


def _display(file: Path) -> str:
    try:
        return str(file.relative_to(Path.cwd()))
    except ValueError:
        return str(file)


def _relative_location(where: Location) -> Location:
    return Location(Path(_display(where.file)), where.line, where.column)


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
    ``override(s, {"channels": {"military": {"decay": 0.2}}})`` is what a file with
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


def with_run_settings(
    scenario: Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    horizon: int | None = None,
) -> Scenario:
    """Return the scenario with run settings overridden (from the command line, say).

    A shorter horizon drops the report horizons beyond it (keeping the horizon itself),
    and events timed after it simply do not happen within the run.

    Raises:
        ScenarioError: A setting is out of range.
    """
    data = scenario.model_dump()
    for key, value in (("replications", replications), ("seed", seed), ("horizon", horizon)):
        if value is not None:
            data[key] = value
    if horizon is not None:
        kept = [h for h in data["report_horizons"] if h <= horizon]
        data["report_horizons"] = kept if horizon in kept else [*kept, horizon]
    updated = validate_structure(Scenario, data, {})
    _check(updated, {}, check_months=False)
    updated._files = scenario_files(scenario)
    return updated


def _strip_documentation(value: Any) -> Any:
    if isinstance(value, dict):
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

    Documentation text (description, meaning, source, reason, label) is left out, so editing a
    comment or a source note keeps the hash; any number, name or event changes it, and
    so does the order of actors, channels and events (it decides how effects compose).
    """
    content = _strip_documentation(scenario.model_dump(mode="json"))
    text = json.dumps(content, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
