"""The knobs of docs/validation.md: each mechanism switched off or pushed hard.

Each knob builds its variant of the baseline (``relief_alone``: of two library scenarios),
runs it on the baseline's seed (common random numbers), asserts the page's expectation and
returns what it measured, which ``python -m tests.validation.measure`` prints for the
page's "measured" column. Margins:
at 4,000 replications a paired difference of P(alive) has a standard error under 0.002
near 0.99 and under 0.01 near 0.6 (the treaty), one of mean intensity under 0.003 (the
intensities' spread is below 0.2), so every least effect below is at least four standard
errors of its own difference. They are judgements of the least a working mechanism
should produce, from four fifths to a fifth of what the model gives, except the counts of
domains lower ("all", "at least 8 of 13"), which take any difference as lower.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import sim
from tests.helpers import SCENARIOS, variant
from tests.validation.expectations import alive, at_once, mean_intensity, switched_off

KNOB_REPLICATIONS = 4000
THIRD_PARTIES = ("united_states", "china", "south_korea", "japan", "un_sanctions")


def run(scenario: sim.Scenario, workers: int = 1) -> sim.RunResult:
    """A knob's run: the baseline's seed and size, so that runs share random numbers."""
    return sim.run(scenario, replications=KNOB_REPLICATIONS, seed=7, workers=workers,
                   progress=False)  # fmt: skip


def knob_switch_off(baseline, _reference) -> str:
    result = run(switched_off(baseline))
    late = {d: alive(result, d, 36) for d in baseline.channels}
    assert all(p <= 0.10 for p in late.values()), late
    return f"highest P(alive at 36) {max(late.values()):.3f}"


def knob_no_lock_in_slowdown(baseline, _reference) -> str:
    off = switched_off(baseline)
    slow = alive(run(off), "defence_treaty", 12)
    fast = alive(run(sim.override(off, {"channel_defaults": {"lock_in_slowdown": 0.0}})),
                 "defence_treaty", 12)  # fmt: skip
    assert slow - fast >= 0.10, (slow, fast)
    return f"−{slow - fast:.3f}"


def knob_labour_eased(baseline, reference) -> str:
    eased = run(at_once(baseline, "eased", [{"target": "russia.labour_shortage", "set": 0.1}]))
    drop = mean_intensity(reference, "labour", 60) - mean_intensity(eased, "labour", 60)
    assert drop >= 0.25, drop
    return f"−{drop:.3f}"


def knob_isolation_ended(baseline, reference) -> str:
    ended = run(at_once(baseline, "ended", [{"target": "russia.isolation", "set": 0.0}]))
    drops = {}
    for domain, least in (("resources", 0.2), ("culture_sports", 0.02)):
        drops[domain] = alive(reference, domain, 60) - alive(ended, domain, 60)
        assert drops[domain] >= least, (domain, drops[domain])
    return f"−{drops['resources']:.3f}, −{drops['culture_sports']:.3f}"


def knob_leaders_cool(baseline, reference) -> str:
    cool = run(at_once(baseline, "cool", [
        {"target": "russia.leader_commitment", "set": 0.2},
        {"target": "dprk.leader_commitment", "set": 0.2},
    ]))  # fmt: skip
    lower = [d for d in baseline.channels if alive(cool, d, 60) < alive(reference, d, 60)]
    assert len(lower) >= 8, lower
    treaty = alive(reference, "mutual_defence_treaty", 60) - alive(
        cool, "mutual_defence_treaty", 60
    )
    assert treaty >= 0.1, treaty
    return f"{len(lower)} of 13 lower; treaty −{treaty:.3f}"


def without_spillover(baseline: sim.Scenario) -> sim.Scenario:
    """Every channel's spillover weights set to 0."""
    changes = {
        name: {"spillover": dict.fromkeys(channel.spillover, 0.0)}
        for name, channel in baseline.channels.items()
        if channel.spillover
    }
    return variant(baseline, channels=changes)


def knob_no_spillover(baseline, reference) -> str:
    result = run(without_spillover(baseline))
    drops = {
        d: mean_intensity(reference, d, 60) - mean_intensity(result, d, 60)
        for d in baseline.channels
    }
    assert all(drop > 0 for drop in drops.values()), drops
    assert drops["science_technology"] >= 0.08, drops
    tourism = alive(reference, "tourism", 60) - alive(result, "tourism", 60)
    assert tourism >= 0.015, tourism
    return (
        f"all 13 lower, science −{drops['science_technology']:.3f}, least "
        f"−{min(drops.values()):.3f}; tourism alive −{tourism:.3f}"
    )


def without_responses(baseline: sim.Scenario) -> sim.Scenario:
    """The third parties' responses to the channels they see set to 0."""
    changes: dict = {}
    for actor in THIRD_PARTIES:
        for name, variable in baseline.actors[actor].variables.items():
            seen = [key for key in variable.responds_to or {} if key in baseline.channels]
            if seen:
                variables = changes.setdefault(actor, {"variables": {}})["variables"]
                variables[name] = {"responds_to": dict.fromkeys(seen, 0.0)}
    assert changes, "the world's third parties respond to no channel"
    return variant(baseline, actors=changes)


def knob_no_responses(baseline, reference) -> str:
    result = run(without_responses(baseline))
    rises = {
        d: mean_intensity(result, d, 60) - mean_intensity(reference, d, 60)
        for d in ("military", "science_technology")
    }
    assert all(rise >= 0.02 for rise in rises.values()), rises
    return f"military +{rises['military']:.3f}, science +{rises['science_technology']:.3f}"


def ended_together(result: sim.RunResult, horizon: int) -> float:
    """Share of replications in which two or more channels end in the same month."""
    outcomes = result.outcomes
    channels = [outcomes.channels.index(d) for d in result.scenario.channels]
    ended = outcomes.event[channels] & (outcomes.month[channels] <= horizon)
    months = np.where(ended, outcomes.month[channels].astype(np.int64), -1)
    together = 0
    for column in months.T:
        column = column[column >= 0]
        together += column.size > np.unique(column).size
    return together / months.shape[1]


def knob_frequent_shocks(baseline, reference) -> str:
    frequent = {
        name: {"hazard": 10 * float(getattr(shock.hazard, "value", shock.hazard))}
        for name, shock in baseline.shocks.items()
    }
    result = run(variant(baseline, shocks=frequent))
    lower = [d for d in baseline.channels if alive(result, d, 60) < alive(reference, d, 60)]
    assert len(lower) >= 8, lower
    resources = alive(reference, "resources", 60) - alive(result, "resources", 60)
    assert resources >= 0.05, resources
    before, after = ended_together(reference, 60), ended_together(result, 60)
    assert after >= 3 * before, (before, after)
    assert after - before >= 0.01, (before, after)
    return (
        f"{len(lower)} of 13 lower, resources −{resources:.3f}; two or more ending in one "
        f"month {before:.3f} → {after:.3f}"
    )


def knob_no_border_closure(baseline, reference) -> str:
    result = run(variant(baseline, shocks={"border_closure": {"hazard": 0.0}}))
    rises = {d: alive(result, d, 60) - alive(reference, d, 60) for d in ("people_flows", "tourism")}
    assert all(rise >= 0.05 for rise in rises.values()), rises
    assert alive(result, "people_flows", 60) == 1.0, alive(result, "people_flows", 60)
    before, after = ended_together(reference, 60), ended_together(result, 60)
    assert before - after >= 0.05, (before, after)
    return (
        f"people flows +{rises['people_flows']:.3f} (to 1), tourism +{rises['tourism']:.3f}; "
        f"two or more ending in one month {before:.3f} → {after:.3f}"
    )


def with_conditions_of(deal: sim.Scenario, other: sim.Scenario) -> sim.Scenario:
    """``deal`` with the US conditions of ``other``'s deal (the rest of its deal kept)."""
    effects = [e.model_dump(exclude_none=True) for e in deal.events["us_russia_deal"].effects]
    (theirs,) = [e for e in other.events["us_russia_deal"].effects
                 if e.target == "united_states.deal_conditions"]  # fmt: skip
    for effect in effects:
        if effect["target"] == theirs.target:
            effect.update(theirs.model_dump(exclude_none=True))
    return variant(deal, name=f"{deal.name}_with_{other.name}_conditions",
                   events={"us_russia_deal": {"effects": effects}})  # fmt: skip


def knob_relief_alone(_baseline, _reference) -> str:
    relief = sim.load_scenario(SCENARIOS / "ceasefire_plus_deal.yaml")
    no_relief = sim.load_scenario(SCENARIOS / "ceasefire_plus_deal_no_relief.yaml")
    without = alive(run(no_relief), "military", 60)
    whole = without - alive(run(relief), "military", 60)
    alone = without - alive(run(with_conditions_of(relief, no_relief)), "military", 60)
    assert alone >= 0.04, alone
    assert whole - alone >= 0.05, (whole, alone)
    return f"−{alone:.3f} of −{whole:.3f}"


KNOBS: dict[str, Callable[[sim.Scenario, sim.RunResult], str]] = {
    "switch_off": knob_switch_off,
    "no_lock_in_slowdown": knob_no_lock_in_slowdown,
    "labour_eased": knob_labour_eased,
    "isolation_ended": knob_isolation_ended,
    "leaders_cool": knob_leaders_cool,
    "no_spillover": knob_no_spillover,
    "no_responses": knob_no_responses,
    "frequent_shocks": knob_frequent_shocks,
    "no_border_closure": knob_no_border_closure,
    "relief_alone": knob_relief_alone,
}
