"""The world files: every number documented, every domain of the source present."""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

from sim.scenario.yamlfile import load_yaml
from tests.helpers import SCENARIOS

WORLD_FILES = sorted((SCENARIOS / "world").glob("*.yaml"))
RUN_SETTINGS = {"horizon", "replications", "seed", "report_horizons"}
TIMING_NUMBERS = {"ramp", "duration", "lag", "month", "window", "triangular"}
DOCUMENTED_BY = {"source", "reason"}
# A documented number `{value: x, source|reason: ...}` or a distribution `{dist: ..., reason:
# ...}` documents the numbers it holds (docs/scenarios.md, "Numbers: plain, documented, or
# uncertain").
PARAMETER_KEYS = {"value", "dist"}
# Rows whose plain numbers the language documents as a whole, by the row's own source or
# reason: a channel's start state `{intensity, lock_in, reason}` (docs/scenarios.md, "State
# at the start month"), the termination rule, whose count cannot be a documented number, and
# a variable with its `range` (sim/schema.py: ChannelState, Termination, Variable).
ROWS = (
    ("state", "channels", "*"),
    ("termination",),
    ("actors", "*", "variables", "*"),
    ("treaties", "*"),
    ("treaties", "*", "covariates", "*"),
    ("treaties", "*", "baseline", "*"),
    ("shocks", "*"),
)


def _is_row(path: tuple) -> bool:
    return any(
        len(path) == len(row)
        and all(fnmatchcase(str(p), r) for p, r in zip(path, row, strict=True))
        for row in ROWS
    )


def undocumented_numbers(node: Any, path: tuple = (), covered: bool = False) -> list[str]:
    """Key paths of numbers that neither they nor their immediate row document.

    A number is documented by its own ``{value, source|reason}`` mapping (or distribution),
    or, where it is a plain number (or a list of plain numbers) in one of the :data:`ROWS`,
    by that row's own source or reason. A source or reason further up (a channel's source
    on its desire weights, ``state.source`` on every start value) documents nothing below.
    """
    found = []
    if isinstance(node, dict):
        documents = bool(DOCUMENTED_BY & node.keys()) and (
            bool(PARAMETER_KEYS & node.keys()) or _is_row(path)
        )
        for key, value in node.items():
            if (key in RUN_SETTINGS and not path) or key in TIMING_NUMBERS:
                continue
            found += undocumented_numbers(value, (*path, key), documents)
    elif isinstance(node, list):
        # A list of numbers (a variable's range, an empirical sample) is documented by the
        # mapping that holds it; a mapping in a list documents itself.
        for index, item in enumerate(node):
            found += undocumented_numbers(item, (*path, index), covered)
    elif isinstance(node, int | float) and not isinstance(node, bool) and not covered:
        found.append(".".join(map(str, path)))
    return found


def test_the_world_files_are_found():
    # An empty glob would leave the parametrised checks below with nothing to check.
    assert WORLD_FILES, f"no world files in {SCENARIOS / 'world'}"
    assert {"russia_dprk.yaml", "state_2025_03.yaml"} <= {f.name for f in WORLD_FILES}


@pytest.mark.parametrize("file", WORLD_FILES, ids=lambda f: f.name)
def test_every_number_in_the_world_has_a_source_or_reason(file: Path):
    data, _ = load_yaml(file)
    events = data.pop("events", {})
    assert undocumented_numbers(data) == []
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


def test_a_source_further_up_documents_no_number_below_it():
    channel = {"meaning": "m", "source": "a channel's source", "wind_down": 12}
    channel["desire"] = {"russia": {"base": 0.1, "russia.isolation": {"value": 0.2, "reason": "r"}}}
    state = {"source": "the state's source", "actors": {"russia": {"isolation": 0.85}}}
    state["channels"] = {
        "labour": {"intensity": 0.6, "lock_in": 0.2, "reason": "the row's reason"},
        "tourism": {"intensity": 0.35, "lock_in": 0.15},
    }
    world = {
        "channel_defaults": {"growth": {"value": 0.15, "meaning": "a meaning is no source"}},
        "channels": {"labour": channel},
        "state": state,
        "termination": {"dormancy_months": 6, "reason": "the rule's reason"},
    }
    assert undocumented_numbers(world) == [
        "channel_defaults.growth.value",
        "channels.labour.wind_down",
        "channels.labour.desire.russia.base",
        "state.actors.russia.isolation",
        "state.channels.tourism.intensity",
        "state.channels.tourism.lock_in",
    ]


# Numbers that are definitions of the outcome, not uncertain quantities: they carry a
# reason but no range (docs/model.md, 6.10). So do the desire bases solved from the start
# state, whose reasons say so (the flagship's "set so ...", the analogue worlds' "solved:"
# by the rule of calibration/analogues/worlds/common.md); any other base is judged.
UNJUDGED = {"threshold", "emergence", "dormancy_months", "duration", "from_month"}
SOLVED = ("set so", "solved")


def unjudged_numbers(node: Any, path: tuple = ()) -> list[str]:
    """Key paths of documented numbers with neither a judged range nor a source.

    Every weight, response, speed, channel parameter, hazard ratio and shock parameter of
    the world is drawn from its range (or stated by its source): issue "Model v2", item 8.
    """
    found = []
    if isinstance(node, dict):
        number = isinstance(node.get("value"), int | float) and not isinstance(node["value"], bool)
        judged = {"judgement", "source"} & node.keys()
        solved = path[-1:] == ("base",) and str(node.get("reason", "")).startswith(SOLVED)
        if number and not judged and not solved and path[-1] not in UNJUDGED:
            found.append(".".join(map(str, path)))
        for key, value in node.items():
            if key not in ("state", "value"):
                found += unjudged_numbers(value, (*path, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += unjudged_numbers(item, (*path, index))
    return found


def test_every_weight_of_the_world_has_a_source_or_a_judged_range():
    data, _ = load_yaml(SCENARIOS / "world" / "russia_dprk.yaml")
    assert unjudged_numbers(data) == []


PEOPLE_FLOWS_2024 = 0.6  # the level people flows regrow to (scenarios/world/state_2025_03.yaml)


def _start_gaps(people_flows: float) -> dict[str, float]:
    """Desire less start intensity, at the point values, for every base said to be solved."""
    from sim.model.model import AllianceModel
    from sim.scenario import load_scenario

    scenario = load_scenario(SCENARIOS / "baseline.yaml")
    channels = dict(scenario.state.channels)
    channels["people_flows"] = channels["people_flows"].model_copy(
        update={"intensity": people_flows}
    )
    state = scenario.state.model_copy(update={"channels": channels})
    scenario = scenario.model_copy(update={"state": state})
    model = AllianceModel(scenario, replications=1, fixed_parameters=True)
    model.actors.do("decide")
    model.channels.do("decide")
    return {
        name: float(model.channel(name).desire(party)[0]) - state.channels[name].intensity
        for name, channel in scenario.channels.items()
        for party, terms in channel.desire.items()
        if "base" in terms and str(getattr(terms["base"], "reason", "")).startswith(SOLVED)
    }


def test_bases_said_to_be_solved_for_the_start_solve_it_with_people_flows_regrown():
    # A base whose reason says it makes the party's desire equal the channel's start
    # intensity must still do so when other start values change (docs/model.md, 6.2). People
    # flows are the one start that is not a steady state: the bases are solved at the level
    # they regrow to, and the channels they spill into start wanted a little less.
    regrown = _start_gaps(PEOPLE_FLOWS_2024)
    assert len(regrown) >= 10
    assert all(abs(gap) < 0.005 for gap in regrown.values()), regrown
    dipped = _start_gaps(0.28)
    moved = {name for name, gap in dipped.items() if abs(gap) >= 0.005}
    assert moved == {"tourism", "education", "labour", "people_flows"}, dipped
    assert all(-0.04 < dipped[name] < -0.02 for name in moved - {"people_flows"}), dipped
