"""Calibration: the evidence ledger, the fit's reproducibility, parameter uncertainty."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.calibration.backtest import brier
from sim.calibration.documents import write_calibration
from sim.calibration.fit import calibrate
from sim.calibration.ledger import held_out, load_evidence
from sim.calibration.moments import Settings
from sim.errors import ScenarioError
from sim.paths import CALIBRATION
from sim.scenario import load_scenario
from tests.helpers import (
    ATOP,
    ROOT,
    SCENARIOS,
    alliance_sim,
    needs_atop,
    proportion_se,
)

TINY = Settings(
    replications=200,
    treaty_replications=400,
    search_points=4,
    posterior_points=8,
    posterior_draws=20,
    search_iterations=15,
    analogue_replications=100,
)
DOMAINS = list(load_scenario(SCENARIOS / "baseline.yaml").channels)


def test_every_domain_has_a_sourced_dated_observation():
    evidence = load_evidence(CALIBRATION / "evidence.yaml", DOMAINS)
    first, last = evidence.fit_window
    for domain in DOMAINS:
        found = [
            o for o in evidence.observations if o.domain == domain and first <= o.month <= last
        ]
        assert found, domain
        assert all(o.sources and all(s.date for s in o.sources) for o in found)
    assert held_out(evidence), "the backtest needs observations after the fit window"


def test_ledger_errors_have_lines_and_suggestions(tmp_path):
    ledger = yaml.safe_load((CALIBRATION / "evidence.yaml").read_text())
    ledger["observations"][0]["domain"] = "militray"
    bad = tmp_path / "evidence.yaml"
    bad.write_text(yaml.safe_dump(ledger, sort_keys=False))
    with pytest.raises(ScenarioError) as caught:
        load_evidence(bad, DOMAINS)
    assert "observations[0].domain: unknown domain 'militray' (did you mean 'military'?)" in str(
        caught.value
    )


def test_fitted_world_uses_the_calibration():
    scenario = load_scenario(SCENARIOS / "baseline.yaml")
    fitted = yaml.safe_load((CALIBRATION / "fitted.yaml").read_text())
    assert scenario.channel_defaults.growth.value == fitted["channel_defaults"]["growth"]["value"]
    treaty = fitted["channels"]["defence_treaty"]
    assert scenario.channels["defence_treaty"].growth.value == treaty["growth"]["value"]


@pytest.mark.slow
def test_calibration_is_reproducible(tmp_path):
    first = calibrate(settings=TINY)
    second = calibrate(settings=TINY)
    assert first.estimates == second.estimates
    for out, result in ((tmp_path / "a", first), (tmp_path / "b", second)):
        out.mkdir()
        write_calibration(result, out)
    for name in ("fitted.yaml", "treaty_hazard.yaml", "posterior.yaml", "targets.csv",
                 "report.md", "calibration.png", "backtest.csv", "analogue_forecasts.csv",
                 "analogue_scores.csv", "reliability.png"):  # fmt: skip
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    targets = pd.read_csv(tmp_path / "a" / "targets.csv")
    assert set(targets.block) == {"emergence"}  # the treaty's hazard comes from hazards.md
    assert targets.target.str.startswith("emergence.").sum() >= 8
    for name, parameter in first.setup.free_parameters.items():
        assert parameter.low <= first.estimates[name] <= parameter.high
    assert len(first.posterior) == TINY.posterior_draws
    # The model's backtest forecasts are Monte Carlo estimates (from the backtest's 10 x
    # TINY.replications runs); the reference's base rates are exact. The Brier score's SE
    # by the delta method, bounded as if the forecasts' errors were perfectly correlated:
    # mean over observations of 2 |forecast - observed| x SE(forecast).
    backtest, runs = first.backtest, 10 * TINY.replications
    errors = (backtest.forecast - backtest.observed).abs()
    se = np.mean(
        [2 * e * proportion_se(p, runs) for e, p in zip(errors, backtest.forecast, strict=True)]
    )
    assert brier(backtest, "forecast") <= brier(backtest, "reference") + 4 * se
    # Each active observation of the treaty's practice also scores the treaty in force.
    practice = backtest[backtest.domain == "defence_treaty"]
    in_force = backtest[backtest.id.str.endswith(":in_force")]
    assert list(in_force.id) == [f"{key}:in_force" for key in practice.id[practice.observed == 1]]
    assert set(in_force.domain) == {"mutual_defence_treaty"}
    assert (in_force.observed == 1).all()
    assert list(in_force.month) == list(practice.month[practice.observed == 1])


@pytest.mark.slow
def test_committed_calibration_is_what_calibrate_writes(tmp_path):
    out = tmp_path / "new" / "calibration"  # --out creates what does not exist yet
    done = alliance_sim("calibrate", "--out", str(out))
    assert done.returncode == 0, done.stderr
    for name in ("fitted.yaml", "treaty_hazard.yaml", "posterior.yaml", "targets.csv", "report.md",
                 "backtest.csv", "analogue_forecasts.csv", "analogue_scores.csv"):  # fmt: skip
        assert (out / name).read_bytes() == (CALIBRATION / name).read_bytes(), (
            f"calibration/{name} is stale: run `alliance-sim calibrate` and commit"
        )


@needs_atop
def test_base_rates_command_recomputes_the_committed_figures(tmp_path):
    done = alliance_sim("calibrate", "base-rates", "--atop", str(ATOP), "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "base_rates.csv").read_bytes() == (
        CALIBRATION / "base_rates.csv"
    ).read_bytes()


def test_calibrate_refuses_an_output_it_cannot_create_before_fitting(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    done = alliance_sim("calibrate", "--out", str(blocker / "out"), "--replications", "1")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"cannot create {blocker / 'out'}" in done.stderr
    assert done.stdout == "", "nothing was fitted"


def test_base_rates_command_needs_the_data_directory(tmp_path):
    done = alliance_sim("calibrate", "base-rates", "--atop", str(tmp_path / "missing"))
    assert done.returncode == 2
    assert "not found" in done.stderr
    assert "Traceback" not in done.stderr


def test_calibration_files_exist_with_their_report():
    for name in (
        "fitted.yaml",
        "treaty_hazard.yaml",
        "posterior.yaml",
        "report.md",
        "targets.csv",
        "calibration.png",
        "base_rates.csv",
        "base_rates.md",
        "evidence.yaml",
        "from_2023_09.yaml",
    ):
        assert (ROOT / "calibration" / name).is_file(), name
    assert "## Backtest" in (CALIBRATION / "report.md").read_text()
