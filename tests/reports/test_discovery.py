"""Scenario discovery: PRIM finds a planted box; CART's leaves; tables and bad questions."""

from __future__ import annotations

import json
import re
import sys

import numpy as np
import pandas as pd
import pytest
from scipy.stats import qmc

from sim.engine.runner import run
from sim.errors import UserError
from sim.reports.discovery import (
    MISSING_EXTRA,
    Cases,
    discover,
    discovery_markdown,
    open_cases,
    write_discovery,
)
from tests.helpers import variant

pytest.importorskip("ema_workbench")
pytest.importorskip("sklearn")

# The planted truth: the channel ends (P(ended by 60 months) 0.8) only where a is in
# [0.2, 0.5] and b in [0.6, 0.9]; elsewhere it ends with P 0.1. c is irrelevant.
BOX = {"a": (0.2, 0.5), "b": (0.6, 0.9)}
POINTS = 512
TOLERANCE = 0.05  # PRIM peels 5% of the points at a step: its edges land within a step


@pytest.fixture(scope="module")
def planted_sweep(tmp_path_factory, baseline) -> object:
    """A finished sweep directory whose points follow the planted rule (no simulation)."""
    path = tmp_path_factory.mktemp("discover") / "sweep"
    (path / "points").mkdir(parents=True)
    design = qmc.LatinHypercube(d=3, rng=5).random(POINTS)
    inside = np.ones(POINTS, dtype=bool)
    for column, (low, high) in zip(design.T, BOX.values(), strict=False):
        inside &= (column >= low) & (column <= high)
    noise = np.random.default_rng(3).uniform(-0.05, 0.05, POINTS)
    ended = np.where(inside, 0.8, 0.1) + noise
    rows = []
    for point in range(POINTS):
        values = dict(zip("abc", design[point], strict=True))
        for domain in ("military", "resources"):
            rows.append({"point": point, **values, "domain": domain, "horizon": 60,
                         "date": "2028-09", "p_survive": 1 - ended[point]})  # fmt: skip
    pd.DataFrame(rows).to_parquet(path / "sweep.parquet", index=False)
    manifest = {
        "format": "alliance-sim sweep 1", "status": "complete", "seed": 1,
        "replications": 1000,
        "sweep": {"name": "planted", "parameters": {n: {"path": n} for n in "abc"}},
        "scenario": baseline.model_dump(mode="json"),
    }  # fmt: skip
    (path / "manifest.json").write_text(json.dumps(manifest))
    return path


def test_prim_recovers_the_planted_box(planted_sweep, tmp_path):
    cases = open_cases(planted_sweep, "military", 60)
    assert cases.y.sum() == pytest.approx(POINTS * 0.09, rel=0.35)
    found = discover(cases)
    box = found.box.set_index("dimension")
    assert set(box.index) == set(BOX), "only the two planted dimensions are restricted"
    for name, (low, high) in BOX.items():
        assert box.loc[name, "low"] == pytest.approx(low, abs=TOLERANCE)
        assert box.loc[name, "high"] == pytest.approx(high, abs=TOLERANCE)
        assert box.loc[name, ["qp_low", "qp_high"]].max() < 0.01
    assert found.stats.coverage >= 0.8
    assert found.stats.density >= 0.9
    # The tree's densest leaf holds the planted box, cut on a and b alone (three levels
    # cannot cut all four of its sides: it is denser than the base rate, not pure).
    best = found.leaves.iloc[0]
    assert best.coverage >= 0.9
    assert best.density > 5 * found.base_rate
    assert set(re.findall(r"\b[abc]\b", best.rule)) == {"a", "b"}
    written = {p.name for p in write_discovery(found, tmp_path)}
    with pytest.raises(UserError, match="already exist; use --force to replace them"):
        write_discovery(found, tmp_path)
    assert {p.name for p in write_discovery(found, tmp_path, force=True)} == written
    stem = "discover-military-60-ended"
    names = [".md", ".tex", "-box.csv", "-trajectory.csv", "-cart.csv", "-peeling.png"]
    assert {stem + name for name in names} <= written
    markdown = (tmp_path / f"{stem}.md").read_text()
    assert "| Input | Kind | Box | Range in the cases | Quasi-p |" in markdown
    assert "Military ended at 60 months" in markdown
    assert r"\toprule" in (tmp_path / f"{stem}.tex").read_text()
    trajectory = pd.read_csv(tmp_path / f"{stem}-trajectory.csv")
    assert trajectory.coverage.iloc[0] == 1.0
    assert trajectory.density.iloc[0] == pytest.approx(found.base_rate)


def test_the_alive_outcome_is_the_complement(planted_sweep):
    ended = open_cases(planted_sweep, "military", 60, "ended")
    alive = open_cases(planted_sweep, "military", 60, "alive")
    assert (ended.y == ~alive.y).all()


def test_prim_on_a_run_finds_the_event_that_ends_the_channel(tmp_path, baseline):
    """A planted run: half the replications cool at once, which ends resources.

    In the baseline resources end in about 1 replication in 50 without cooling, in all
    with it.
    """
    cooling = {
        "probability": 0.5,
        "timing": {"month": 0},
        "effects": [
            {"target": "russia.isolation", "set": 0.0},
            {"target": "russia.leader_commitment", "set": 0.3},
        ],
    }
    scenario = variant(baseline, events={"cooling": cooling}, horizon=60, report_horizons=[60])
    run(scenario, replications=1000, seed=2, workers=1, out=tmp_path / "run", progress=False)
    cases = open_cases(tmp_path / "run", "resources", 60)
    assert cases.kinds["cooling happened"] == "event"
    assert len(cases.x) == 1000
    assert cases.x.shape[1] > 100
    found = discover(cases)
    # The box is the event: that it happened, or (the same cases) that its month came
    # before the horizon's end ("never" is month 61).
    (restriction,) = found.box.itertuples()
    if restriction.dimension == "cooling happened":
        assert restriction.values == "True"
    else:
        assert restriction.dimension == "cooling month"
        assert restriction.high < 61
    assert np.nanmax([restriction.qp_low, restriction.qp_high]) < 1e-6
    assert found.stats.density > 0.95
    assert found.stats.coverage > 0.95
    happened = cases.x["cooling happened"].to_numpy()
    assert cases.y[happened].mean() > cases.y[~happened].mean() + 0.2
    # CART's first leaf splits on the event too, in either of its two equivalent forms.
    rule = found.leaves.rule.iloc[0]
    month = re.search(r"cooling month ≤ ([0-9.]+)", rule)
    assert "cooling happened: yes" in rule or (month and float(month.group(1)) < 61), rule


def test_questions_nothing_can_answer_are_refused(planted_sweep):
    with pytest.raises(UserError, match="did you mean military"):
        open_cases(planted_sweep, "militray", 60)
    with pytest.raises(UserError, match="estimated P\\(alive\\) at 60 months, not at 61"):
        open_cases(planted_sweep, "military", 61)
    never = open_cases(planted_sweep, "military", 60, threshold=0.95)
    with pytest.raises(UserError, match="nothing to discover: no sweep point"):
        discover(never)


def test_a_missing_extra_says_what_to_install(monkeypatch, planted_sweep):
    monkeypatch.setitem(sys.modules, "ema_workbench.analysis", None)
    with pytest.raises(UserError) as caught:
        discover(open_cases(planted_sweep, "military", 60))
    assert str(caught.value) == MISSING_EXTRA
    assert "pip install 'alliance-sim[discover]'" in MISSING_EXTRA


def test_screening_keeps_the_inputs_that_matter():
    """With more inputs than PRIM peels, the forest keeps the planted two among them."""
    rng = np.random.default_rng(8)
    x = pd.DataFrame(rng.random((3000, 60)), columns=[f"p{i}" for i in range(60)])
    y = ((x.p7 > 0.6) & (x.p42 < 0.3)).to_numpy()
    cases = Cases(x, y, "military", 60, "ended", "Military", "replication", "synthetic",
                  dict.fromkeys(x.columns, "parameter"))  # fmt: skip
    found = discover(cases, screen=10)
    assert found.screened == 10
    box = found.box.set_index("dimension")
    assert set(box.index) == {"p7", "p42"}
    assert box.loc["p7", "low"] == pytest.approx(0.6, abs=TOLERANCE)
    assert box.loc["p42", "high"] == pytest.approx(0.3, abs=TOLERANCE)
    assert "PRIM peeled the 10 of 60 inputs" in discovery_markdown(found)
