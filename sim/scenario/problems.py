"""Problems with a document, as users read them: file, line, key path, what was expected.

pydantic reports a validation error by its own location (with union tags) and message;
this module maps it back onto the document and its lines, words it for someone editing a
YAML file, and suggests the key or name probably meant.
"""

from __future__ import annotations

import json
from typing import Any

import pydantic
from pydantic import BaseModel

from sim.errors import KeyPath, Problem, ScenarioError, did_you_mean
from sim.months import MONTH_PATTERN
from sim.scenario.positions import fields_at
from sim.scenario.schema import NAME_PATTERN
from sim.scenario.yamlfile import Locations


def locate(locations: Locations, path: KeyPath):
    """The location of ``path``, or of its nearest ancestor that has one."""
    for end in range(len(path), -1, -1):
        if path[:end] in locations:
            return locations[path[:end]]
    return None


def _has(node: Any, part: Any) -> bool:
    """Whether ``part`` is a key of a mapping ``node`` or an index of a list ``node``."""
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _data_path(data: Any, loc: tuple[Any, ...]) -> KeyPath:
    """Map a pydantic error location onto the document, dropping union tags.

    A tag may also be a key of the mapping it tags (the effect ``{add: 0.1, ramp: -3}`` is
    tagged ``add``, so pydantic locates its ``ramp`` at ``add.ramp``): a part is a tag, not
    a step down, when the part after it is a sibling key that the value under it lacks.
    """
    path: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        if not _has(node, part):
            continue
        after = loc[index + 1] if index + 1 < len(loc) else None
        if after is not None and _has(node, after) and not _has(node[part], after):
            continue
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
            allowed = fields_at(root, data, path[:-1]) or []
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
        problems.append(Problem(locate(locations, path), path, message, suggestion))
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
        "Input should be a ": "expected a ",
        "Input should be an ": "expected an ",
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


def in_file_order(problems: list[Problem]) -> list[Problem]:
    """The problems sorted by file, line and column (those without a place first)."""

    def key(problem: Problem) -> tuple[str, int, int]:
        where = problem.location
        return (str(where.file), where.line, where.column) if where else ("", 0, 0)

    return sorted(problems, key=key)


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
        raise ScenarioError(in_file_order(problems)) from None
