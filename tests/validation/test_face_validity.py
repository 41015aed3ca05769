"""The face-validity suite: every row of docs/validation.md, checked on common random numbers."""

from __future__ import annotations

import pytest

import sim
from tests.helpers import SCENARIOS
from tests.validation.expectations import (
    alive,
    at_once,
    check,
    knob_names,
    mean_intensity,
    measure_scenarios,
    scenario_rows,
    switched_off,
)

pytestmark = pytest.mark.slow
KNOB_REPLICATIONS = 4000


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
    return sim.run(baseline, replications=KNOB_REPLICATIONS, seed=7, workers=1)


def _run(scenario):
    return sim.run(scenario, replications=KNOB_REPLICATIONS, seed=7, workers=1)


def knob_switch_off(baseline, _):
    result = _run(switched_off(baseline))
    late = {d: alive(result, d, 36) for d in baseline.channels}
    assert all(p <= 0.10 for p in late.values()), late


def knob_no_lock_in_slowdown(baseline, _):
    off = switched_off(baseline)
    slow = alive(_run(off), "defence_treaty", 12)
    fast = alive(_run(sim.override(off, {"channel_defaults": {"lock_in_slowdown": 0.0}})),
                 "defence_treaty", 12)  # fmt: skip
    assert slow - fast >= 0.10, (slow, fast)


def knob_labour_eased(baseline, reference):
    eased = _run(at_once(baseline, "eased", [{"target": "russia.labour_shortage", "set": 0.1}]))
    drop = mean_intensity(reference, "labour", 60) - mean_intensity(eased, "labour", 60)
    assert drop >= 0.25, drop


def knob_isolation_ended(baseline, reference):
    ended = _run(at_once(baseline, "ended", [{"target": "russia.isolation", "set": 0.0}]))
    for domain, least in (("resources", 0.2), ("culture_sports", 0.02)):
        drop = alive(reference, domain, 60) - alive(ended, domain, 60)
        assert drop >= least, (domain, drop)


def knob_leaders_cool(baseline, reference):
    cool = _run(at_once(baseline, "cool", [
        {"target": "russia.leader_commitment", "set": 0.2},
        {"target": "dprk.leader_commitment", "set": 0.2},
    ]))  # fmt: skip
    lower = [d for d in baseline.channels if alive(cool, d, 60) < alive(reference, d, 60)]
    assert len(lower) >= 8, lower
    treaty = alive(reference, "mutual_defence_treaty", 60) - alive(
        cool, "mutual_defence_treaty", 60
    )
    assert treaty >= 0.1, treaty


KNOBS = {
    "switch_off": knob_switch_off,
    "no_lock_in_slowdown": knob_no_lock_in_slowdown,
    "labour_eased": knob_labour_eased,
    "isolation_ended": knob_isolation_ended,
    "leaders_cool": knob_leaders_cool,
}


@pytest.mark.parametrize("name", KNOBS)
def test_every_knob_row_holds(name, baseline, baseline_run):
    KNOBS[name](baseline, baseline_run)


def test_library_scenarios_are_all_compared():
    compared = {row.scenario for row in scenario_rows()}
    library = {p.stem for p in SCENARIOS.glob("*.yaml")} - {"baseline"}
    assert library <= compared, library - compared
