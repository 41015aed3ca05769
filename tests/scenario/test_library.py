"""The scenario library: every file validates, runs, documents itself; the schema agrees."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pydantic
import pytest
import yaml

from sim.engine.runner import run
from sim.errors import ScenarioError
from sim.scenario import load_scenario, merge
from sim.scenario.schema import Scenario, file_schema, resolved_schema
from sim.scenario.yamlfile import load_yaml
from tests.helpers import ROOT, SCENARIOS, alliance_sim

LIBRARY = sorted(SCENARIOS.glob("*.yaml"))
REQUIRED = {
    "baseline",
    "ukraine_ceasefire",
    "us_russia_deal_sanctions_relief",
    "us_russia_deal_no_relief",
    "us_russia_talks_collapse",
    "us_aid_pause",
    "putin_exit",
    "sanctions_enforcement_tightened",
    "ceasefire_plus_deal",
}
ALL_FILES = sorted(f for f in SCENARIOS.rglob("*.yaml") if f.parent.name != "sweeps")
SWEEP_FILES = sorted((SCENARIOS / "sweeps").glob("*.yaml"))
MALFORMED = sorted((Path(__file__).parent / "malformed").glob("*.yaml"))


def test_library_holds_the_required_scenarios():
    assert {f.stem for f in LIBRARY} >= REQUIRED


@pytest.mark.parametrize("file", LIBRARY, ids=lambda f: f.stem)
def test_library_scenario_validates_runs_and_explains_itself(file: Path):
    scenario = load_scenario(file)
    assert scenario.name == file.stem
    assert len(scenario.description.split()) >= 25, "describe assumptions and sources"
    result = run(scenario, replications=300, seed=1, horizon=24)
    assert set(result.survival.domain) == {*scenario.channels, *scenario.treaties}


def test_combination_is_built_with_extends():
    data, _ = load_yaml(SCENARIOS / "ceasefire_plus_deal.yaml")
    assert data["extends"] == ["ukraine_ceasefire.yaml", "us_russia_deal_sanctions_relief.yaml"]
    scenario = load_scenario(SCENARIOS / "ceasefire_plus_deal.yaml")
    assert {"ceasefire", "us_russia_deal", "ceasefire_collapse"} <= set(scenario.events)
    assert scenario.events["us_russia_deal"].after.event == "ceasefire"


def test_validate_command_passes_on_the_library():
    done = alliance_sim("validate", *map(str, LIBRARY))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("ok: ") == len(LIBRARY)


def test_validate_command_fails_with_exit_2_and_keeps_checking():
    bad = MALFORMED[0]
    done = alliance_sim("validate", str(bad), str(LIBRARY[0]))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "1 of 2 files have errors" in done.stderr
    assert f"ok: {LIBRARY[0]}" in done.stdout


def test_schema_command_prints_the_file_schema():
    done = alliance_sim("schema")
    assert done.returncode == 0
    assert json.loads(done.stdout) == json.loads(json.dumps(file_schema()))


@pytest.mark.parametrize("file", ALL_FILES, ids=lambda f: str(f.relative_to(ROOT)))
def test_every_scenario_file_satisfies_the_editor_schema(file: Path):
    jsonschema.validate(yaml.safe_load(file.read_text()), file_schema())


@pytest.mark.parametrize("file", LIBRARY, ids=lambda f: f.stem)
def test_resolved_scenarios_satisfy_the_resolved_schema(file: Path):
    resolved = load_scenario(file).model_dump(mode="json", exclude_none=True)
    jsonschema.validate(resolved, resolved_schema())


STRUCTURAL_MISTAKES = [
    {"horizn": 60},
    {"horizon": "sixty"},
    {"horizon": True},
    {"channels": {"military": {"decya": 0.1}}},
    {"channels": {"military": {"growth": {"dist": "normall", "mean": 1.0, "sd": 1.0}}}},
    {"channels": {"military": {"growth": {"value": 0.1, "sorce": "x"}}}},
    {"channels": {"military": {"growth": [0.1]}}},
    {"events": {"deal": {"timing": {"month": "2025-06", "hazard": 0.1}}}},
    {"events": {"deal": {"timing": {"month": "2025-06"}, "effects": [{"target": "x.y"}]}}},
    {"events": {"deal": {"timing": {"hazard": 1.5}}}},
    {"events": {"deal": {"timing": {"month": "June"}}}},
    {"events": {"deal": {"probability": 0.5}}},
    {"actors": {"russia": {"variables": {"war_intensity": {"meaning": 3}}}}},
    {"state": {"channels": {"military": {"intensity": -0.1}}}},
]


@pytest.mark.parametrize("mistake", STRUCTURAL_MISTAKES, ids=lambda m: json.dumps(m)[:50])
def test_schema_and_loader_reject_the_same_structural_mistakes(baseline, mistake):
    document = merge(baseline.model_dump(mode="json", exclude_none=True), mistake)
    with pytest.raises(pydantic.ValidationError):
        Scenario.model_validate(document)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, resolved_schema())


# A file may leave out what another file of its chain supplies (an event's timing in the
# file it extends), so the editor schema accepts a missing key; every other structural
# mistake it rejects on its own, as the loader does once the chain is merged.
COMPLETED_BY_ANOTHER_FILE = [{"events": {"deal": {"probability": 0.5}}}]


@pytest.mark.parametrize(
    "mistake",
    [m for m in STRUCTURAL_MISTAKES if m not in COMPLETED_BY_ANOTHER_FILE],
    ids=lambda m: json.dumps(m)[:50],
)
def test_the_editor_schema_rejects_structural_mistakes_in_a_file(mistake):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(mistake, file_schema())


SWEEP_MISTAKES = [
    {"parameters": {"p": {"path": "events.x.probability", "rang": [0, 1]}}},
    {"parameters": {"p": {"path": "events.x.probability", "range": "wide"}}},
    {"design": {"kind": "sobolev", "points": 8}},
    {"replications": "many"},
    {"outputs": [{"domain": "military", "horizon": "soon"}]},
]


@pytest.mark.parametrize("mistake", SWEEP_MISTAKES, ids=lambda m: json.dumps(m)[:50])
def test_the_sweep_schema_rejects_structural_mistakes(mistake):
    from sim.scenario.sweepfile import Sweep

    document = yaml.safe_load((SCENARIOS / "sweeps" / "sanctions_enforcement.yaml").read_text())
    document.update(mistake)
    with pytest.raises(pydantic.ValidationError):
        Sweep.model_validate(document)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, Sweep.model_json_schema())


@pytest.mark.parametrize("file", SWEEP_FILES, ids=lambda f: f.stem)
def test_sweep_files_satisfy_the_sweep_schema(file: Path):
    done = alliance_sim("schema", "--sweep")
    assert done.returncode == 0
    jsonschema.validate(yaml.safe_load(file.read_text()), json.loads(done.stdout))


def test_a_sweep_file_given_as_a_scenario_names_the_command_as_typed(monkeypatch):
    monkeypatch.chdir(ROOT)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(Path("scenarios/sweeps/sanctions_enforcement.yaml"))
    assert "alliance-sim sweep scenarios/sweeps/sanctions_enforcement.yaml" in str(caught.value)
