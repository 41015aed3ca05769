"""The face-validity suite: every row of docs/validation.md, checked on common random numbers."""

from __future__ import annotations

import pytest

from tests.helpers import SCENARIOS
from tests.validation.expectations import (
    check,
    knob_names,
    measure_scenarios,
    scenario_rows,
)
from tests.validation.knobs import KNOBS, run

pytestmark = pytest.mark.slow


def test_the_page_has_its_tables():
    rows = scenario_rows()
    assert len(rows) >= 25
    assert {row.scenario for row in rows} >= {
        "ukraine_ceasefire", "us_russia_deal_sanctions_relief", "putin_exit",
        "sanctions_enforcement_tightened", "us_russia_talks_collapse",
    }  # fmt: skip
    assert set(knob_names()) == set(KNOBS)


def test_every_scenario_row_holds():
    rows = scenario_rows()
    table = measure_scenarios(rows, workers=1)
    problems = [problem for row in rows for problem in check(row, table)]
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def baseline_run(baseline):
    return run(baseline)


@pytest.mark.parametrize("name", KNOBS)
def test_every_knob_row_holds(name, baseline, baseline_run):
    KNOBS[name](baseline, baseline_run)


def test_library_scenarios_are_all_compared():
    compared = {row.scenario for row in scenario_rows()}
    library = {p.stem for p in SCENARIOS.glob("*.yaml")} - {"baseline"}
    assert library <= compared, library - compared
