"""Generated worlds for the scaling benchmark: the flagship world copied side by side.

A world of ``channels`` channels and ``actors`` actors is made of copies of the flagship
scenario's 13 channels and 8 actors. Copy j of the channels has copy ``j mod a`` of the
actors as its parties (a being the number of actor copies), and every name a copied
definition mentions (an actor's variable, another channel, a desire) is renamed to the
copy it belongs to, so each copy is a working dyad-world of its own, with its own
desires, responses, spillover and noise. Events, treaties and shocks stay those of the
original (copy 0); shocks with a default reach strike the copies too. The worlds are for
timing only: they keep the model's cost per channel and per actor, not a meaning.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from sim.scenario import Scenario


def _renamer(actors: dict[str, str], channels: dict[str, str]):
    """A function renaming the names a definition mentions to those of one copy."""
    owners = actors | channels

    def rename(value: Any) -> Any:
        if isinstance(value, dict):
            return {rename(key): rename(item) for key, item in value.items()}
        if isinstance(value, list):
            return [rename(item) for item in value]
        if isinstance(value, str):
            owner, dot, rest = value.partition(".")
            if owner in owners:
                return owners[owner] + dot + rest
        return value

    return rename


def _suffixed(names: list[str], copy_index: int) -> dict[str, str]:
    return {name: name if copy_index == 0 else f"{name}_{copy_index}" for name in names}


def generated_world(scenario: Scenario, channels: int, actors: int) -> dict[str, Any]:
    """The scenario document of a world of ``channels`` channels and ``actors`` actors.

    Args:
        scenario: The flagship scenario (its channel and actor counts must divide these).
        channels: Channels in the world, a multiple of the scenario's.
        actors: Actors in the world, a multiple of the scenario's.
    """
    data = scenario.model_dump(mode="json", exclude_none=True)
    base_channels, base_actors = list(data["channels"]), list(data["actors"])
    if channels % len(base_channels) or actors % len(base_actors):
        raise ValueError(
            f"a generated world copies {len(base_channels)} channels and "
            f"{len(base_actors)} actors whole; {channels} and {actors} are not multiples"
        )
    channel_copies, actor_copies = channels // len(base_channels), actors // len(base_actors)
    world = copy.deepcopy(data)
    world["name"] = f"generated_{channels}x{actors}"
    world["description"] = f"{channels} channels, {actors} actors: copies of {data['name']}"

    def names(channel_copy: int, actor_copy: int):
        return _suffixed(base_actors, actor_copy), _suffixed(base_channels, channel_copy)

    for index in range(1, channel_copies):
        actor_names, channel_names = names(index, index % actor_copies)
        rename = _renamer(actor_names, channel_names)
        for name in base_channels:
            world["channels"][channel_names[name]] = rename(data["channels"][name])
            world["state"]["channels"][channel_names[name]] = data["state"]["channels"][name]
    for index in range(1, actor_copies):
        actor_names, channel_names = names(index % channel_copies, index)
        rename = _renamer(actor_names, channel_names)
        for name in base_actors:
            world["actors"][actor_names[name]] = rename(data["actors"][name])
            world["state"]["actors"][actor_names[name]] = data["state"]["actors"][name]
    return world


def write_world(scenario: Scenario, channels: int, actors: int, folder: Path) -> Path:
    """Write the generated world to a scenario file in ``folder``; its path."""
    path = folder / f"world_{channels}x{actors}.yaml"
    path.write_text(yaml.safe_dump(generated_world(scenario, channels, actors), sort_keys=False))
    return path
