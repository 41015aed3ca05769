"""Controls generated from a scenario, edits through the scenario language, saved files."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from sim.errors import ScenarioError
from sim.explore.controls import (
    apply,
    document,
    event_controls,
    judged_controls,
    problem_for,
    save_scenario,
    scenario_controls,
)
from sim.scenario import load_scenario, scenario_hash
from sim.scenario.schema import Documented, Triangular

PROBABILITY = ("events", "ceasefire", "probability")


def _at(data, path):
    for part in path:
        data = data[part]
    return data


def _uncertain_numbers(node, path=()):
    """Judged numbers and triangular distributions, found on the typed models (not the dump)."""
    if isinstance(node, Documented) and node.judgement is not None:
        yield path, node.judgement
    elif isinstance(node, Triangular):
        yield path, (node.low, node.high)
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _uncertain_numbers(getattr(node, name), (*path, name))
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _uncertain_numbers(value, (*path, key))
    elif isinstance(node, list | tuple):
        for index, value in enumerate(node):
            yield from _uncertain_numbers(value, (*path, index))


def test_every_event_has_its_probability_timing_and_effects(ceasefire):
    controls = {c.path: c for c in event_controls(ceasefire)}
    data = document(ceasefire)
    for name, event in ceasefire.events.items():
        assert ("events", name, "probability") in controls or (
            "events", name, "probability", "value") in controls  # fmt: skip
        timing = data["events"][name]["timing"]
        kind = next(iter(timing))
        assert any(path[:4] == ("events", name, "timing", kind) for path in controls), name
        if event.after is not None:
            assert controls[("events", name, "after", "lag")].value == event.after.lag
    window = controls[("events", "ceasefire", "timing", "window", 0)]
    assert (window.kind, window.value, window.low) == ("month", "2025-06", ceasefire.start)
    hazard = controls[("events", "peace_settlement", "timing", "hazard")]
    assert hazard.value == 0.01
    assert hazard.low == 0
    assert hazard.high > hazard.value
    effects = [p for p in controls if p[:3] == ("events", "ceasefire", "effects")]
    assert len(effects) == len(ceasefire.events["ceasefire"].effects)
    for path, control in controls.items():
        assert _at(data, path) == control.value, path  # each control sits at its own value
        assert control.meaning, path


def test_every_judged_number_is_a_control_over_its_documented_range(ceasefire):
    expected = dict(_uncertain_numbers(ceasefire))
    controls = {c.path: c for c in scenario_controls(ceasefire)}
    found = {path[:-1]: (c.low, c.high) for path, c in controls.items()
             if path[-1] in ("value", "mode")}  # fmt: skip
    assert found == {path: tuple(bounds) for path, bounds in expected.items()}
    assert len(judged_controls(ceasefire)) > 100
    noise = controls[("channel_defaults", "noise", "value")]
    assert "standard deviation of monthly" in noise.meaning
    assert "[0.015, 0.04]" in noise.meaning
    assert (noise.low, noise.value, noise.high) == (0.015, 0.025, 0.04)
    # A fitted number (growth: no judged range, an estimate with its interval) is not one.
    assert ("channel_defaults", "growth", "value") not in controls


def test_an_edit_changes_that_value_only(ceasefire):
    edited = apply(ceasefire, {PROBABILITY: 0.5})
    assert edited.events["ceasefire"].probability == 0.5
    assert scenario_hash(edited) != scenario_hash(ceasefire)
    assert scenario_hash(apply(edited, {PROBABILITY: 1.0})) == scenario_hash(ceasefire)
    judged = ("channel_defaults", "noise", "value")
    changed = apply(ceasefire, {judged: 0.03}).channel_defaults.noise
    assert changed.value == 0.03
    assert changed.judgement == (0.015, 0.04)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (PROBABILITY, 1.5, "expected a value less than or equal to 1"),
        (("events", "ceasefire", "timing", "window", 0), "2027-01", "months must not decrease"),
        (("channel_defaults", "noise", "value"), 0.09, "judgement [0.015, 0.04] must contain"),
    ],
)
def test_a_bad_value_is_refused_with_the_languages_message(ceasefire, path, value, message):
    with pytest.raises(ScenarioError) as refused:
        apply(ceasefire, {path: value})
    shown = problem_for(refused.value, path)
    assert shown is not None
    assert message in shown


def test_a_saved_scenario_is_valid_and_is_the_edited_one(ceasefire, tmp_path):
    edited = apply(ceasefire, {PROBABILITY: 0.5})
    path = save_scenario(tmp_path / "edited.yaml", edited, 1234, 99, {PROBABILITY: 0.5})
    again = load_scenario(path)  # what `validate` runs (the browser test runs the command)
    assert scenario_hash(again) == scenario_hash(edited)
    assert (again.replications, again.seed) == (1234, 99)
    assert "events.ceasefire.probability = 0.5" in again.description
