"""Shared fixtures: the library scenarios, and variants of them built in code."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.scenario import Scenario, load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
ATOP = ROOT.parent / "shared" / "data" / "atop"


def deep_update(data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Merge ``changes`` into ``data`` key by key (in place) and return it."""
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            deep_update(data[key], value)
        else:
            data[key] = value
    return data


def variant(scenario: Scenario, **changes: Any) -> Scenario:
    """A copy of ``scenario`` with ``changes`` merged in, validated like a file."""
    data = deep_update(copy.deepcopy(scenario.model_dump()), changes)
    return scenario_from_dict(data)


def proportion_se(p: float, n: int) -> float:
    """Monte Carlo standard error of a proportion, floored so it is never zero."""
    return max(np.sqrt(p * (1 - p) / n), 0.5 / n)


@pytest.fixture(scope="session")
def baseline() -> Scenario:
    return load_scenario(SCENARIOS / "baseline.yaml")


@pytest.fixture(scope="session")
def ceasefire() -> Scenario:
    return load_scenario(SCENARIOS / "ukraine_ceasefire.yaml")
