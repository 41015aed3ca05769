"""Safe YAML loading that remembers the file, line and column of every key.

Scenario and sweep files are read into plain Python data (dicts, lists, strings,
numbers, booleans, None) and a map from each key path to its location, so that a
problem found later, after ``extends`` has merged several files, can still be reported
at the line that caused it. Only YAML's plain data tags are accepted: a tag that would
build an object (``!!python/object`` and the like) is refused, nothing is evaluated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sim.errors import KeyPath, Location, Problem, ScenarioError, did_you_mean

Locations = dict[KeyPath, Location]

_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"
# Aliases can make a small file expand exponentially ("billion laughs"); no real
# scenario comes near this many values.
_MAX_VALUES = 200_000
_MAX_DEPTH = 64  # deeper nesting than any scenario needs, and far from Python's recursion limit


class _Builder:
    """Turns a composed YAML node tree into plain data plus key locations."""

    def __init__(self, file: Path, loader: yaml.SafeLoader) -> None:
        self.file = file
        self.loader = loader
        self.locations: Locations = {}
        self.count = 0
        self.active: set[int] = set()

    def where(self, node: yaml.Node) -> Location:
        return Location(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def fail(self, node: yaml.Node, path: KeyPath, message: str) -> ScenarioError:
        return ScenarioError([Problem(self.where(node), path, message)])

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self.count += 1
        if self.count > _MAX_VALUES:
            raise self.fail(node, path, f"document too large (over {_MAX_VALUES} values)")
        if len(path) > _MAX_DEPTH:
            raise self.fail(node, path, f"nested more than {_MAX_DEPTH} levels deep")
        if id(node) in self.active:
            raise self.fail(node, path, "recursive YAML alias; a scenario must be a tree")
        tag = node.tag
        if tag == _TIMESTAMP_TAG and isinstance(node, yaml.ScalarNode):
            # Months are written YYYY-MM; a full date is reported as a wrong month later.
            return node.value
        if tag not in _PLAIN_TAGS:
            raise self.fail(node, path, f"YAML tag {tag!r} is not allowed: use plain data")
        if isinstance(node, yaml.ScalarNode):
            return self.loader.construct_object(node)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                items = []
                for index, item in enumerate(node.value):
                    self.locations[(*path, index)] = self.where(item)
                    items.append(self.build(item, (*path, index)))
                return items
            mapping: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    raise self.fail(key_node, path, "YAML merge keys (<<) are not supported")
                if not isinstance(key_node, yaml.ScalarNode):
                    raise self.fail(key_node, path, "a key must be a plain word")
                key = str(self.build(key_node, path))
                if key in mapping:
                    raise self.fail(key_node, (*path, key), "duplicate key")
                self.locations[(*path, key)] = self.where(key_node)
                mapping[key] = self.build(value_node, (*path, key))
            return mapping
        finally:
            self.active.discard(id(node))


def similar_file(file: Path) -> str | None:
    """The name of the YAML file beside a missing ``file`` whose name is closest to its name."""
    folder = file.parent
    siblings = [p.name for p in folder.glob("*.y*ml")] if folder.is_dir() else []
    return did_you_mean(file.name, siblings)


def load_yaml(file: Path) -> tuple[Any, Locations]:
    """Read one YAML document as plain data, with the location of every key and item.

    Args:
        file: The YAML file.

    Returns:
        The data and a map from key path to location; the empty path is the document.

    Raises:
        ScenarioError: The file cannot be read, is not valid YAML, or uses a tag
            other than plain data.
    """
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        guess = similar_file(file)
        raise ScenarioError([Problem(None, (), f"file not found: {file}", guess)]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError([Problem(None, (), f"cannot read {file}: {error}")]) from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError([Problem(Location(file, 1, 1), (), "the file is empty")])
        builder = _Builder(file, loader)
        data = builder.build(node, ())
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        location = Location(file, mark.line + 1, mark.column + 1) if mark else None
        message = " ".join(filter(None, [error.context, error.problem])) or "invalid YAML"
        raise ScenarioError([Problem(location, (), f"invalid YAML: {message}")]) from None
    except yaml.YAMLError as error:
        raise ScenarioError([Problem(None, (), f"invalid YAML in {file}: {error}")]) from None
    finally:
        loader.dispose()
    builder.locations[()] = builder.where(node)
    return data, builder.locations
