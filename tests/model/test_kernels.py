"""The compiled kernels (numba, optional) give the numpy reference's outcomes bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.accelerate import VARIABLE, load_kernels
from sim.model.outcomes import FIELDS
from sim.scenario import load_scenario, with_horizon
from tests.helpers import SCENARIOS, chunk_outcomes

pytest.importorskip("numba", reason="the kernels need numba (the 'fast' extra)")


def test_the_environment_switches_the_kernels_off(monkeypatch):
    monkeypatch.delenv(VARIABLE, raising=False)  # the suite may run with it set
    assert load_kernels() is not None
    monkeypatch.setenv(VARIABLE, "numpy")
    assert load_kernels() is None


def assert_same_outcomes(scenario, size: int, monkeypatch) -> None:
    compiled = chunk_outcomes(scenario, 77, 2, size)
    monkeypatch.setenv(VARIABLE, "numpy")
    reference = chunk_outcomes(scenario, 77, 2, size)
    for field in [*FIELDS, "intensity_at", "event_months"]:
        np.testing.assert_array_equal(getattr(compiled, field), getattr(reference, field), field)
    np.testing.assert_array_equal(compiled.tally.counts, reference.tally.counts)
    np.testing.assert_array_equal(compiled.tally.sums, reference.tally.sums)


def test_kernels_agree_with_the_reference_on_a_short_flagship_run(monkeypatch):
    scenario = with_horizon(load_scenario(SCENARIOS / "ukraine_ceasefire.yaml"), 36)
    assert_same_outcomes(scenario, 2000, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize(
    "path",
    ["ukraine_ceasefire.yaml", "putin_exit.yaml", "us_russia_talks_collapse.yaml",
     "examples/china_dprk.yaml"],
)  # fmt: skip
def test_kernels_and_numpy_reference_agree_bit_for_bit(path, monkeypatch):
    assert_same_outcomes(load_scenario(SCENARIOS / path), 1500, monkeypatch)
