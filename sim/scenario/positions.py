"""Where a value sits in the scenario language: the types a document may hold at a key path.

The merge rules of ``extends`` and the error messages both need to know, for a key path
into a scenario (or sweep) document, which models of :mod:`sim.scenario.schema` may stand
there: a mapping there merges key by key only if the model may be given in part, and an
unknown key is reported with the keys that model allows.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from sim.errors import KeyPath


def unwrap(annotation: Any) -> Any:
    """The type inside ``Annotated[...]`` layers."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def variants(annotation: Any) -> list[Any]:
    """The members of a union (nested unions flattened), or the type itself."""
    annotation = unwrap(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        found = []
        for arg in typing.get_args(annotation):
            found.extend(variants(arg))
        return found
    return [annotation]


def step(candidates: list[Any], part: str | int) -> list[Any]:
    """The types a document may hold at key or index ``part`` of a value of these types."""
    found = []
    for candidate in candidates:
        for variant in variants(candidate):
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


def fields_at(root: type[BaseModel], data: Any, path: KeyPath) -> list[str] | None:
    """The keys allowed at ``path`` of a document of type ``root``, when they form a closed set."""
    candidates: list[Any] = [root]
    node = data
    for part in path:
        node = node[part] if isinstance(node, dict | list) else None
        candidates = step(candidates, part)
    models = [
        variant
        for candidate in candidates
        for variant in variants(candidate)
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
