"""Safe YAML loading that remembers the file, line and column of every key.

Scenario and sweep files are read into plain Python data (dicts, lists, strings,
numbers, booleans, None) and a map from each key path to its location, so that a
problem found later, after ``extends`` has merged several files, can still be reported
at the line that caused it. Only YAML's plain data tags are accepted: a tag that would
build an object (``!!python/object`` and the like) is refused, nothing is evaluated.

The text is parsed by libyaml where PyYAML has it (ten times faster than PyYAML's own
parser: a scenario loads in tens of milliseconds), and composed into nodes by PyYAML's
composer either way, so that the caps below hold. A file libyaml refuses is parsed again
by PyYAML, whose messages (and characters checked first) are the ones reported: the
errors are the same with or without libyaml.

Hostile input meets caps before it meets a recursion: a file of more than
:data:`MAX_BYTES`, a character YAML does not allow (a NUL, a bell), or nesting deeper
than :data:`MAX_DEPTH` (checked as the parser composes each node, so that ten thousand
``[`` never reach Python's recursion limit) is a located error.
"""

from __future__ import annotations

import unicodedata
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
MAX_DEPTH = 64
"""Nesting deeper than any scenario needs, and far from Python's recursion limit."""
MAX_BYTES = 16 * 2**20
"""A file larger than this is refused unread; the posterior samples are a few kilobytes."""


class _Caps(yaml.composer.Composer):
    """PyYAML's (recursive) composer, refusing nesting and sizes past the caps.

    The composer calls itself once per level of nesting; counting the levels there stops a
    flood of ``[`` or of indented keys at :data:`MAX_DEPTH` with the place it went too deep,
    before the interpreter's recursion limit is near. It also counts the nodes it makes,
    so that a file of a million empty lists is refused before they fill the memory.
    """

    def _start(self, file: Path) -> None:
        self._file = file
        self._depth = 0
        self._nodes = 0

    def _refuse(self, message: str) -> ScenarioError:
        mark = self.peek_event().start_mark
        where = Location(self._file, mark.line + 1, mark.column + 1)
        return ScenarioError([Problem(where, (), message)])

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        self._depth += 1
        self._nodes += 1
        try:
            # The document is level 1; a value at key path p is at level len(p) + 1.
            if self._depth > MAX_DEPTH + 1:
                raise self._refuse(f"nested more than {MAX_DEPTH} levels deep")
            if self._nodes > _MAX_VALUES:  # before a million empty lists fill the memory
                raise self._refuse(f"document too large (over {_MAX_VALUES} values)")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _PythonLoader(_Caps, yaml.SafeLoader):
    """The safe loader with the caps, parsing in Python (where PyYAML lacks libyaml)."""

    def __init__(self, stream: str, file: Path) -> None:
        yaml.SafeLoader.__init__(self, stream)
        self._start(file)


if yaml.__with_libyaml__:
    from yaml.cyaml import CParser

    class _LibyamlLoader(_Caps, CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        """The safe loader with the caps, parsing with libyaml; PyYAML's composer composes.

        The composer comes before the parser in the method order, so that libyaml's own
        composer (which has no caps) is never used.
        """

        def __init__(self, stream: str, file: Path) -> None:
            yaml.reader.Reader(stream)  # characters refused by PyYAML, as without libyaml
            CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self._start(file)

    _Loader: type[_Caps] = _LibyamlLoader
else:  # pragma: no cover - PyYAML's wheels include libyaml
    _Loader = _PythonLoader


def _reader_problem(file: Path, text: str, error: yaml.reader.ReaderError) -> Problem:
    """A character YAML does not accept, at its line and column."""
    position = error.position
    line = text.count("\n", 0, position) + 1
    column = position - text.rfind("\n", 0, position)
    code = error.character if isinstance(error.character, int) else 0
    kind = "control character" if unicodedata.category(chr(code)) == "Cc" else "character"
    escape = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    message = (
        f"invalid YAML: the {kind} U+{code:04X} is not allowed in a YAML file; remove it, "
        f"or write it as the escape {escape} inside double quotes"
    )
    return Problem(Location(file, line, column), (), message)


class _Builder:
    """Turns a composed YAML node tree into plain data plus key locations."""

    def __init__(self, file: Path, loader: yaml.constructor.SafeConstructor) -> None:
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
        if len(path) > MAX_DEPTH:
            raise self.fail(node, path, f"nested more than {MAX_DEPTH} levels deep")
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


def shown_path(file: Path) -> str:
    """A file as the user would name it from here: relative if below the current folder."""
    try:
        return str(file.relative_to(Path.cwd()))
    except ValueError:
        return str(file)


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
        size = file.stat().st_size
        if size > MAX_BYTES:
            message = f"{file} is too large: {size:,} bytes, over the limit of {MAX_BYTES:,}"
            raise ScenarioError([Problem(None, (), message)])
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        guess = similar_file(file)
        raise ScenarioError([Problem(None, (), f"file not found: {file}", guess)]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError([Problem(None, (), f"cannot read {file}: {error}")]) from None
    loader: _Caps | None = None
    try:
        # The reader checks every character as the loader is made: inside the try.
        loader = _Loader(text, file)
        try:
            node = loader.get_single_node()
        except yaml.YAMLError:
            if isinstance(loader, _PythonLoader):
                raise
            # libyaml words its errors its own way (and has limits of its own): PyYAML's
            # parser finds the mistake again and reports it as the documentation shows.
            loader.dispose()
            loader = _PythonLoader(text, file)
            node = loader.get_single_node()
        if node is None:
            raise ScenarioError([Problem(Location(file, 1, 1), (), "the file is empty")])
        builder = _Builder(file, loader)
        data = builder.build(node, ())
    except yaml.reader.ReaderError as error:
        raise ScenarioError([_reader_problem(file, text, error)]) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        location = Location(file, mark.line + 1, mark.column + 1) if mark else None
        message = " ".join(filter(None, [error.context, error.problem])) or "invalid YAML"
        raise ScenarioError([Problem(location, (), f"invalid YAML: {message}")]) from None
    except yaml.YAMLError as error:
        raise ScenarioError([Problem(None, (), f"invalid YAML in {file}: {error}")]) from None
    finally:
        if loader is not None:
            loader.dispose()
    builder.locations[()] = builder.where(node)
    return data, builder.locations
