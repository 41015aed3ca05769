"""Sweeps and sensitivity: designs, validation, reproducibility, resuming."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.engine import run
from sim.errors import ScenarioError, UserError
from sim.sensitivity import sensitivity
from sim.sweep import design_points, load_sweep, set_value, sweep
from tests.conftest import SCENARIOS
from tests.test_cli import alliance_sim

SWEEPS = SCENARIOS / "sweeps"


def write(tmp_path: Path, text: str) -> Path:
    file = tmp_path / "sweep.yaml"
    file.write_text(f"base: {SCENARIOS / 'ukraine_ceasefire.yaml'}\n" + text)
    return file


SMALL = """name: small
description: a small grid
replications: 1500
design: {kind: grid}
parameters:
  ceasefire_month: {path: events.ceasefire.timing.month, values: [3, 24], integer: true}
  collapse_hazard: {path: events.ceasefire_collapse.timing.hazard, values: [0.0, 0.05]}
outputs:
  - {domain: military, horizon: 120}
"""


@pytest.mark.parametrize("file", sorted(SWEEPS.glob("*.yaml")), ids=lambda f: f.stem)
def test_example_sweeps_validate(file):
    spec, base = load_sweep(file)
    assert len(design_points(spec)) >= 25
    assert base.name in {"ceasefire_plus_deal", "sanctions_enforcement_tightened"}


def test_designs_have_their_points():
    spec, _ = load_sweep(SWEEPS / "ceasefire_timing_vs_deal.yaml")
    points = design_points(spec)
    assert len(points) == 25
    assert sorted({p["ceasefire_month"] for p in points}) == [3, 9, 15, 21, 27]
    assert sorted({p["deal_probability"] for p in points}) == [0.0, 0.25, 0.5, 0.75, 1.0]
    spec, _ = load_sweep(SWEEPS / "sanctions_enforcement.yaml")
    points = design_points(spec)
    assert len(points) == 32
    enforcement = np.array([p["enforcement"] for p in points])
    # A Latin hypercube puts exactly one point in each of the 32 strata of each range.
    strata = np.floor((enforcement - 0.3) / 0.7 * 32).astype(int)
    assert sorted(strata) == list(range(32))
    sobol = spec.model_copy(update={"design": spec.design.model_copy(update={"kind": "sobol"})})
    assert len(design_points(sobol)) == 32


def test_set_value_replaces_a_timing_and_reaches_list_items(ceasefire):
    changed = set_value(ceasefire, {"events.ceasefire.timing.month": 7,
                                    "events.ceasefire.effects[0].set": 0.3})  # fmt: skip
    assert changed.events["ceasefire"].timing.month == 7
    assert changed.events["ceasefire"].effects[0].set == 0.3
    with pytest.raises(UserError, match="did you mean 'ceasefire'"):
        set_value(ceasefire, {"events.cesefire.probability": 0.5})
    with pytest.raises(UserError, match=r"no item \[9\]"):
        set_value(ceasefire, {"events.ceasefire.effects[9].set": 0.5})


def test_sweep_file_errors_have_lines_and_suggestions(tmp_path):
    file = write(
        tmp_path,
        SMALL.replace("military", "militray").replace("kind: grid", "kind: sobol, points: 12"),
    )
    with pytest.raises(ScenarioError) as caught:
        load_sweep(file)
    text = str(caught.value)
    assert "sweep.yaml:5:23: design.points: a Sobol' design needs a power of 2 points" in text
    assert (
        "sweep.yaml:10:6: outputs[0].domain: unknown domain 'militray' (did you mean 'military'?)"
        in text
    )
    bad_path = write(
        tmp_path,
        SMALL.replace("ceasefire_collapse.timing.hazard", "ceasefire_colapse.timing.hazard"),
    )
    with pytest.raises(ScenarioError, match="did you mean 'ceasefire_collapse'"):
        load_sweep(bad_path)


def test_sweep_is_reproducible_resumable_and_equals_direct_runs(tmp_path, ceasefire):
    file = write(tmp_path, SMALL)
    first = sweep(file, out=tmp_path / "a", workers=2)
    assert len(first) == 4 * len(ceasefire.channels) * len(ceasefire.report_horizons)
    again = tmp_path / "b"
    shutil.copytree(tmp_path / "a", again)
    for point in sorted((again / "points").glob("*.json"))[:2]:
        point.unlink()
    (again / "sweep.csv").unlink()
    sweep(resume=again, workers=1)
    assert (again / "sweep.csv").read_bytes() == (tmp_path / "a" / "sweep.csv").read_bytes()
    assert {p.name for p in again.iterdir()} >= {
        "sweep.csv",
        "sweep.png",
        "sweep.pdf",
        "manifest.json",
    }
    # A point is exactly the run of the base scenario with the point's values.
    point = first[(first.point == 3) & (first.domain == "military") & (first.horizon == 120)].iloc[
        0
    ]
    direct = run(set_value(ceasefire, {"events.ceasefire.timing.month": 24,
                                       "events.ceasefire_collapse.timing.hazard": 0.05}),
                 replications=1500, workers=1)  # fmt: skip
    expected = direct.survival
    expected = expected[(expected.domain == "military") & (expected.month == 120)].p_survive.iloc[0]
    assert point.p_survive == pytest.approx(expected, abs=1e-12)


def test_sweep_command_runs_an_example(tmp_path):
    done = alliance_sim(
        "sweep", str(SWEEPS / "ceasefire_timing_vs_deal.yaml"), "--replications", "300",
        "--out", str(tmp_path / "sweep"), "--quiet", "--workers", "2",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "military at 120 months:" in done.stdout
    table = pd.read_csv(tmp_path / "sweep" / "sweep.csv")
    assert table.point.nunique() == 25
    assert {"ceasefire_month", "deal_probability", "p_survive", "ci_low", "ci_high"} <= set(
        table.columns
    )


def test_sensitivity_finds_the_parameter_that_matters(tmp_path):
    file = write(
        tmp_path,
        """name: sens
description: sanctions and an irrelevant knob
replications: 800
design: {kind: lhs, points: 4}
parameters:
  deal_probability: {path: events.ceasefire.probability, range: [0.0, 1.0]}
  treaty_noise: {path: channels.defence_treaty.noise, range: [0.02, 0.03]}
outputs:
  - {domain: military, horizon: 120}
sensitivity:
  output: {domain: military, horizon: 120}
  samples: 16
  resamples: 200
""",
    )
    table = sensitivity(file, out=tmp_path / "sens", workers=2).set_index("parameter")
    assert table.loc["deal_probability", "total_order"] > 0.5
    assert table.loc["treaty_noise", "total_order"] < 0.15
    assert {p.name for p in (tmp_path / "sens").iterdir()} >= {
        "sensitivity.csv", "sensitivity.md", "sensitivity.png", "sensitivity.pdf"}  # fmt: skip
