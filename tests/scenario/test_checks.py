"""Whole-scenario checks: where a problem is reported, and what is only worth a warning."""

from __future__ import annotations

import warnings

import pytest

from sim.errors import Advisory, ScenarioError
from sim.scenario import load_scenario
from tests.helpers import SCENARIOS, alliance_sim

BASELINE = SCENARIOS / "baseline.yaml"


def test_effect_settings_are_located_at_their_own_key_and_column(tmp_path):
    file = tmp_path / "effect.yaml"
    line = "      - {target: military.growth, add: 0.01, ramp: -3, duration: 0}"
    file.write_text(
        f"extends: {BASELINE}\nevents:\n  deal:\n    timing: {{month: 2025-06}}\n"
        f"    effects:\n{line}\n"
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(file)
    text = str(caught.value)
    ramp, duration = line.index("ramp") + 1, line.index("duration") + 1
    assert (
        f"effect.yaml:6:{ramp}: events.deal.effects[0].ramp: "
        "expected a value greater than or equal to 0, got -3"
    ) in text
    assert (
        f"effect.yaml:6:{duration}: events.deal.effects[0].duration: "
        "expected a value greater than or equal to 1, got 0"
    ) in text
    assert ".add:" not in text


def test_a_value_that_is_not_finite_is_worded_plainly(tmp_path):
    file = tmp_path / "nan.yaml"
    file.write_text(f"extends: {BASELINE}\nchannel_defaults: {{growth: .inf}}\n")
    with pytest.raises(ScenarioError, match=r"channel_defaults\.growth: expected a finite number"):
        load_scenario(file)


MISTAKES = f"""extends: {BASELINE}
horizon: 24
report_horizons: [12, 24]
termination: {{dormancy_months: 30}}
channel_defaults:
  threshold: 0.3
  emergence: 0.2
channels:
  military:
    emergence: 0.05
    growth: {{dist: truncnorm, mean: 6, sd: 0.02, low: 0.0, high: 1.0}}
events:
  deal:
    timing: {{month: 2025-06}}
    effects:
      - {{target: military.growth, add: 0.01, ramp: 36}}
"""


def test_likely_mistakes_are_located_warnings(tmp_path):
    file = tmp_path / "mistakes.yaml"
    file.write_text(MISTAKES)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scenario = load_scenario(file)
    assert scenario.horizon == 24  # valid: warned about, not refused
    notes = [str(w.message) for w in caught if issubclass(w.category, Advisory)]
    expected = [
        "mistakes.yaml:4:15: termination.dormancy_months: 30 months below the threshold",
        "mistakes.yaml:6:3: channel_defaults.threshold: the threshold (0.3) is above the "
        "emergence level (0.2)",
        "mistakes.yaml:10:5: channels.military.emergence: the threshold (0.3) is above the "
        "emergence level (0.05)",
        "mistakes.yaml:11:31: channels.military.growth.mean: the truncated normal's mean 6 lies "
        "250 standard deviations above its bound 1",
        "mistakes.yaml:16:46: events.deal.effects[0].ramp: a ramp of 36 months is longer than "
        "the run's horizon of 24 months",
    ]
    assert len(notes) == len(expected), notes
    for note, start in zip(notes, expected, strict=True):
        assert start in note, (note, start)


def test_a_set_on_a_responding_variable_is_warned_about_with_the_add_that_would_do(tmp_path):
    # US pressure starts at 0.19 of its own plus 0.15 x military 0.9 + 0.05 x science 0.5.
    file = tmp_path / "pressure.yaml"
    file.write_text(
        f"extends: {BASELINE}\nevents:\n  deal:\n    timing: {{month: 2025-06}}\n"
        "    effects:\n"
        "      - {target: united_states.pressure, set: 0.25}\n"
        "      - {target: united_states.pressure, add: -0.10}\n"
        "      - {target: united_states.deal_conditions, set: 0.5}\n"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_scenario(file)
    notes = [str(w.message) for w in caught if issubclass(w.category, Advisory)]
    assert [note.removeprefix(f"{tmp_path}/") for note in notes] == [
        "pressure.yaml:6:42: events.deal.effects[0].set: united_states.pressure also responds "
        "to military and science_technology (about +0.16 at the start): a set moves only the "
        "part that is not a response (0.19 at the start), and the responses are added on top, "
        "so set: 0.25 leaves it near 0.41, not 0.25. To take the whole variable from 0.35 to "
        "0.25, write add: -0.1"
    ]


def test_the_library_warns_about_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error", Advisory)
        for file in [*SCENARIOS.glob("*.yaml"), *SCENARIOS.glob("examples/*.yaml")]:
            load_scenario(file)


def test_the_command_prints_warnings_as_notes_and_exits_0(tmp_path):
    file = tmp_path / "mistakes.yaml"
    file.write_text(MISTAKES)
    done = alliance_sim("validate", str(file), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"ok: {file}")
    notes = [line for line in done.stderr.splitlines() if line]
    assert len(notes) == 5, done.stderr
    assert all(line.startswith("alliance-sim: note: mistakes.yaml:") for line in notes)
