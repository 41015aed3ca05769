"""Shared fixtures: the library scenarios, and variants of them built in code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.scenario import Scenario, load_scenario, override

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
ATOP = ROOT.parent / "shared" / "data" / "atop"


def variant(scenario: Scenario, **changes: Any) -> Scenario:
    """``scenario`` with ``changes`` merged in by the loader's rules, validated like a file."""
    return override(scenario, changes)


def proportion_se(p: float, n: int) -> float:
    """Monte Carlo standard error of a proportion, floored so it is never zero."""
    return max(np.sqrt(p * (1 - p) / n), 0.5 / n)


@pytest.fixture(scope="session")
def baseline() -> Scenario:
    return load_scenario(SCENARIOS / "baseline.yaml")


@pytest.fixture(scope="session")
def ceasefire() -> Scenario:
    return load_scenario(SCENARIOS / "ukraine_ceasefire.yaml")
