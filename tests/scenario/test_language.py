"""Each feature of the scenario language, shown by its effect on a run."""

from __future__ import annotations

import copy
import re
import textwrap
from typing import Any

import numpy as np
from scipy import stats

from sim.model.channels import wind_down_rate
from sim.model.model import AllianceModel
from sim.scenario import (
    Scenario,
    load_scenario,
    scenario_files,
    scenario_from_dict,
    scenario_hash,
)
from sim.scenario.schema import point_value
from tests.helpers import ROOT, SCENARIOS, chunk_outcomes, proportion_se, variant

NEVER_SEEN = 2**30


def with_events(base: Scenario, events: dict[str, Any], **changes: Any) -> Scenario:
    """``base`` with its events replaced by ``events`` (leader hazards removed)."""
    data = copy.deepcopy(base.model_dump())
    data["events"] = events
    data.update(changes)
    return scenario_from_dict(data)


def war_path(scenario: Scenario, months: int = 14) -> np.ndarray:
    model = AllianceModel(scenario, 1, seed=1)
    for _ in range(months):
        model.step()
    return model.datacollector.get_model_vars_dataframe()["russia.war_intensity"].to_numpy()


def event_months(scenario: Scenario, replications: int = 20_000, seed: int = 3):
    return AllianceModel(scenario, replications, seed=seed, collect=False).schedule.months


def test_event_with_probability_zero_changes_nothing(baseline, ceasefire):
    never = variant(ceasefire, events={"ceasefire": {"probability": 0.0}})
    a = chunk_outcomes(baseline, 8, 0, 2000)
    b = chunk_outcomes(never, 8, 0, 2000)
    assert np.array_equal(a.month, b.month)
    assert np.array_equal(a.event, b.event)


def test_ramp_arrives_when_it_says(baseline):
    scenario = with_events(
        baseline,
        {
            "cut": {
                "timing": {"month": 6},
                "effects": [{"target": "russia.war_intensity", "set": 0.2, "ramp": 4}],
            }
        },
    )
    path = war_path(scenario)
    np.testing.assert_allclose(path[:7], 0.9, atol=1e-6)
    np.testing.assert_allclose(path[6:11], [0.9, 0.725, 0.55, 0.375, 0.2], atol=1e-6)
    np.testing.assert_allclose(path[10:], 0.2, atol=1e-6)


def test_effect_for_a_duration_ends(baseline):
    scenario = with_events(
        baseline,
        {
            "lull": {
                "timing": {"month": 3},
                "effects": [{"target": "russia.war_intensity", "add": -0.3, "duration": 5}],
            }
        },
    )
    path = war_path(scenario)
    np.testing.assert_allclose(path[3:8], 0.6, atol=1e-6)
    np.testing.assert_allclose([path[2], path[8]], 0.9, atol=1e-6)


def test_scale_multiplies_and_later_events_compose_after_earlier(baseline):
    scenario = with_events(
        baseline,
        {
            "second": {
                "after": {"event": "first", "lag": 2},
                "timing": {"month": 0},
                "effects": [{"target": "russia.war_intensity", "add": 0.1}],
            },
            "first": {
                "timing": {"month": 2},
                "effects": [{"target": "russia.war_intensity", "scale": 0.5}],
            },
        },
    )
    path = war_path(scenario, 6)
    np.testing.assert_allclose(path[[1, 2, 4]], [0.9, 0.45, 0.55], atol=1e-6)


def test_unless_blocks_an_event_only_if_the_other_came_first(baseline):
    def blocked_share(first_month: int) -> float:
        scenario = with_events(
            baseline,
            {
                "talks_collapse": {"timing": {"month": first_month}},
                "deal": {"timing": {"month": 10}, "unless": ["talks_collapse"]},
            },
        )
        return float(np.mean(event_months(scenario, 100)["deal"] >= NEVER_SEEN))

    assert blocked_share(5) == 1.0
    assert blocked_share(10) == 1.0
    assert blocked_share(15) == 0.0


def test_after_times_from_the_other_event_plus_lag(baseline):
    scenario = with_events(
        baseline,
        {
            "ceasefire": {"timing": {"window": [3, 8]}, "probability": 0.5},
            "deal": {"after": {"event": "ceasefire", "lag": 2}, "timing": {"month": 1}},
        },
    )
    months = event_months(scenario)
    happened = months["ceasefire"] < NEVER_SEEN
    assert np.array_equal(months["deal"][happened], months["ceasefire"][happened] + 3)
    assert np.all(months["deal"][~happened] >= NEVER_SEEN)
    share = happened.mean()
    assert abs(share - 0.5) < 4 * proportion_se(0.5, happened.size)


def test_hazard_timing_has_the_geometric_mean_wait(baseline):
    hazard = 0.05
    months = event_months(with_events(baseline, {"exit": {"timing": {"hazard": hazard}}}))["exit"]
    dist = stats.geom(hazard)
    assert months.min() >= 1
    assert abs(months.mean() - dist.mean()) < 4 * dist.std() / np.sqrt(months.size)


def test_window_is_uniform_over_its_months(baseline):
    scenario = with_events(baseline, {"deal": {"timing": {"window": ["2025-06", "2025-11"]}}})
    months = event_months(scenario)["deal"]
    assert set(np.unique(months)) == set(range(3, 9))
    counts = np.bincount(months - 3)
    assert stats.chisquare(counts).pvalue > 1e-4


def test_triangular_timing_has_its_mean(baseline):
    scenario = with_events(baseline, {"deal": {"timing": {"triangular": [0, 6, 30]}}})
    months = event_months(scenario)["deal"]
    dist = stats.triang(6 / 30, loc=0, scale=30)
    assert months.min() >= 0
    assert months.max() <= 30
    # Rounding to whole months moves the mean by far less than a month.
    assert abs(months.mean() - dist.mean()) < 4 * dist.std() / np.sqrt(months.size) + 0.05


def test_probability_is_the_share_of_replications_with_the_event(baseline):
    scenario = with_events(baseline, {"deal": {"timing": {"month": 4}, "probability": 0.3}})
    happened = (event_months(scenario)["deal"] < NEVER_SEEN).mean()
    assert abs(happened - 0.3) < 4 * proportion_se(0.3, 20_000)


def test_uncertain_start_value_is_drawn_per_replication(baseline):
    scenario = variant(
        baseline, state={"actors": {"russia": {"isolation": {"dist": "beta", "a": 2.0, "b": 2.0}}}}
    )
    model = AllianceModel(scenario, 20_000, seed=2, collect=False)
    values = model.actor("russia").value("isolation")
    assert abs(values.mean() - 0.5) < 4 * stats.beta(2, 2).std() / np.sqrt(values.size)
    assert values.std() > 0.1


def test_effect_on_a_channel_parameter_ends_the_channel(baseline):
    scenario = variant(
        baseline,
        events={
            "embargo": {
                "timing": {"month": 0},
                "effects": [
                    {"target": "military.ceiling", "set": 0.0},
                    {"target": "military.lock_in", "set": 0.0},
                ],
            }
        },
        horizon=60,
        report_horizons=[60],
    )
    outcomes = chunk_outcomes(scenario, 4, 0, 500, fixed_parameters=True)
    military = outcomes.channels.index("military")
    # With nothing wanted and no lock-in, intensity winds down geometrically from its start
    # at the rate its wind-down time implies, and the spell is dated to the month it fell
    # below the threshold; decided breaks (the party wants none of it) can come sooner.
    channel, defaults = scenario.channels["military"], scenario.channel_defaults
    start = point_value(scenario.state.channels["military"].intensity)
    threshold = point_value(defaults.threshold if channel.threshold is None else channel.threshold)
    rate = float(wind_down_rate(point_value(channel.wind_down or defaults.wind_down)))
    expected = np.ceil(np.log(threshold / start) / np.log(1 - rate))
    assert expected - 4 <= np.median(outcomes.month[military]) <= expected + 1
    assert outcomes.event[military].mean() > 0.99
    # Common random numbers: what the embargo does not touch (the other events) is drawn
    # exactly as before.
    untouched = chunk_outcomes(variant(baseline, horizon=60, report_horizons=[60]), 4, 0, 500)
    shared = set(untouched.events) & set(outcomes.events)
    assert shared
    for name in shared:
        row, other = outcomes.events.index(name), untouched.events.index(name)
        assert np.array_equal(outcomes.event_months[row], untouched.event_months[other]), name


def test_extends_overrides_and_null_removes(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text(
        f"extends: {SCENARIOS / 'ukraine_ceasefire.yaml'}\n"
        "name: child\n"
        "events:\n  putin_exit: null\n  ceasefire:\n    timing: {month: 2025-09}\n"
        "channels:\n  military:\n    wind_down: 20\n"
    )
    scenario = load_scenario(child)
    assert "putin_exit" not in scenario.events
    assert scenario.events["ceasefire"].timing.month == "2025-09"
    assert len(scenario.events["ceasefire"].effects) == 4
    assert scenario.channels["military"].wind_down == 20
    assert scenario.channels["military"].growth is None
    assert (
        scenario.channels["labour"].desire
        == load_scenario(SCENARIOS / "baseline.yaml").channels["labour"].desire
    )


def test_later_parents_override_earlier_ones(tmp_path):
    for name, wind_down in (("a", 10), ("b", 30)):
        (tmp_path / f"{name}.yaml").write_text(
            f"extends: {SCENARIOS / 'baseline.yaml'}\n"
            f"channels: {{military: {{wind_down: {wind_down}}}}}\n"
        )
    (tmp_path / "child.yaml").write_text("extends: [a.yaml, b.yaml]\nname: child\n")
    assert load_scenario(tmp_path / "child.yaml").channels["military"].wind_down == 30


def test_merging_follows_the_position_not_the_name(baseline):
    # An event called `timing` is a mapping of names to merge, not a timing to replace.
    event = {
        "timing": {"month": "2025-06"},
        "probability": 0.5,
        "effects": [{"target": "russia.isolation", "add": 0.1}],
    }
    named = variant(baseline, events={"timing": event})
    changed = variant(named, events={"timing": {"probability": 0.25}})
    assert changed.events["timing"].probability == 0.25
    assert changed.events["timing"].timing.month == "2025-06"
    assert len(changed.events["timing"].effects) == 1
    # A timing itself is replaced whole: a window does not keep the parent's month.
    windowed = variant(named, events={"timing": {"timing": {"window": ["2025-06", "2025-12"]}}})
    assert windowed.events["timing"].timing.window == ("2025-06", "2025-12")


def test_a_base_shared_by_two_parents_does_not_undo_the_first_parent(tmp_path):
    base = SCENARIOS / "baseline.yaml"
    (tmp_path / "a.yaml").write_text(f"extends: {base}\nchannels: {{military: {{growth: 0.1}}}}\n")
    (tmp_path / "b.yaml").write_text(f"extends: {base}\nchannels: {{labour: {{growth: 0.2}}}}\n")
    (tmp_path / "child.yaml").write_text("extends: [a.yaml, b.yaml]\nname: child\n")
    child = load_scenario(tmp_path / "child.yaml")
    assert child.channels["military"].growth == 0.1
    assert child.channels["labour"].growth == 0.2
    files = scenario_files(child)
    assert len([f for f in files if f.endswith("baseline.yaml")]) == 1
    assert files[-1].endswith("child.yaml")


def test_hash_ignores_documentation_and_follows_every_number(baseline):
    reworded = variant(baseline, description="reworded", channels={"military": {"meaning": "x"}})
    assert scenario_hash(reworded) == scenario_hash(baseline)
    changed = variant(baseline, channels={"military": {"growth": 0.061}})
    assert scenario_hash(changed) != scenario_hash(baseline)
    # A name that happens to be a documentation key is content, not documentation.
    named = variant(baseline, actors={"russia": {"variables": {"source": {"meaning": "m"}}}},
                    state={"actors": {"russia": {"source": 0.2}}})  # fmt: skip
    moved = variant(named, state={"actors": {"russia": {"source": 0.3}}})
    assert scenario_hash(moved) != scenario_hash(named)


def test_another_dyad_is_data_alone():
    scenario = load_scenario(SCENARIOS / "examples" / "china_dprk.yaml")
    outcomes = chunk_outcomes(scenario, 1, 0, 1000)
    assert outcomes.channels == ("trade", "tourism", "party_ties")
    assert outcomes.horizon == 60


def test_worked_example_of_the_docs_builds_the_example_file(tmp_path):
    guide = (ROOT / "docs" / "scenarios.md").read_text()
    section = guide.split("## Worked example")[1].split("\n## ")[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.S)
    (tmp_path / "dyad.yaml").write_text("\n".join(textwrap.dedent(b) for b in blocks))
    scenario = load_scenario(tmp_path / "dyad.yaml")
    example = load_scenario(SCENARIOS / "examples" / "china_dprk.yaml")
    assert list(scenario.channels) == ["trade", "tourism", "party_ties"]
    assert scenario_hash(scenario) == scenario_hash(example), "the guide and the file differ"
