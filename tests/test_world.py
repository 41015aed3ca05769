"""The world files: every number documented, every domain of the source present."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sim.yamlfile import load_yaml
from tests.conftest import SCENARIOS

WORLD_FILES = sorted((SCENARIOS / "world").glob("*.yaml"))
RUN_SETTINGS = {"horizon", "replications", "seed", "report_horizons"}
TIMING_NUMBERS = {"ramp", "duration", "lag", "month", "window", "triangular"}
DOCUMENTED_BY = {"source", "reason"}


def undocumented_numbers(node: Any, path: tuple, covered: bool) -> list[str]:
    """Key paths of numbers with no source or reason on them, their mapping or their event."""
    found = []
    if isinstance(node, dict):
        here_covered = covered or bool(DOCUMENTED_BY & node.keys())
        for key, value in node.items():
            if (key in RUN_SETTINGS and not path) or key in TIMING_NUMBERS:
                continue
            found += undocumented_numbers(value, (*path, key), here_covered)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += undocumented_numbers(item, (*path, index), covered)
    elif isinstance(node, int | float) and not isinstance(node, bool) and not covered:
        found.append(".".join(map(str, path)))
    return found


@pytest.mark.parametrize("file", WORLD_FILES, ids=lambda f: f.name)
def test_every_number_in_the_world_has_a_source_or_reason(file: Path):
    data, _ = load_yaml(file)
    events = data.pop("events", {})
    assert undocumented_numbers(data, (), False) == []
    for name, event in events.items():
        assert DOCUMENTED_BY & event.keys(), f"event {name} has no source or reason"


def test_every_variable_and_channel_parameter_has_a_meaning():
    data, _ = load_yaml(SCENARIOS / "world" / "russia_dprk.yaml")
    for actor in data["actors"].values():
        for name, variable in actor["variables"].items():
            assert variable.get("meaning"), name
    for name, value in data["channel_defaults"].items():
        assert value.get("meaning"), name
    structure = {"meaning", "label", "parties", "source", "desire", "cost", "spillover"}
    for channel in data["channels"].values():
        for name, value in channel.items():
            if name not in structure:
                assert value.get("meaning"), name
