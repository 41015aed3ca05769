"""Calibration: the evidence ledger, the fit's reproducibility, parameter uncertainty."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from sim.calibration.backtest import brier
from sim.calibration.documents import write_calibration
from sim.calibration.fit import calibrate
from sim.calibration.ledger import held_out, load_evidence
from sim.calibration.moments import Settings
from sim.engine.runner import run
from sim.errors import ScenarioError
from sim.model.parameters import ParameterSampler
from sim.model.streams import Streams, sample_rows
from sim.paths import CALIBRATION
from sim.reports.uncertainty import uncertainty_table
from sim.scenario import load_scenario
from sim.scenario.schema import Empirical
from tests.helpers import (
    ATOP,
    ROOT,
    SCENARIOS,
    alive_at,
    alliance_sim,
    needs_atop,
    proportion_se,
    variant,
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


def test_empirical_groups_draw_jointly():
    a = Empirical(dist="empirical", values=[1.0, 2.0, 3.0], group="g")
    b = Empirical(dist="empirical", values=[10.0, 20.0, 30.0], group="g")
    sampler = ParameterSampler(Streams(3, 0), 500)
    first, second = sampler(a, "x"), sampler(b, "y")
    assert np.array_equal(second, first * 10)
    rows = sample_rows(Streams(3, 0), 500, "group:g", 3)
    assert np.array_equal(first, np.array([1.0, 2.0, 3.0], np.float32)[rows])


def test_groups_need_samples_of_one_size(baseline):
    with pytest.raises(ScenarioError, match="samples of different sizes"):
        variant(
            baseline,
            channels={
                "military": {"growth": {"dist": "empirical", "values": [0.05, 0.06], "group": "g"}},
                "labour": {
                    "growth": {"dist": "empirical", "values": [0.05, 0.06, 0.07], "group": "g"}
                },
            },
        )


def test_parameter_uncertainty_separates_parameters_from_chance(baseline):
    # Two equally likely worlds: a treaty that time cannot end, or one with a high hazard.
    treaty_name = "mutual_defence_treaty"
    split = variant(
        baseline,
        treaties={
            treaty_name: {
                "fixed_ratio": {"dist": "empirical", "values": [0.0, 20.0], "group": "posterior"}
            }
        },
    )
    n, m = 6000, 3000  # replications of the split run, and of each world run on its own
    result = run(split, replications=n, seed=3, horizon=60, workers=1, chunk_size=2000)
    table = uncertainty_table(result, "posterior").set_index(["domain", "horizon"])
    per_world = [
        run(
            variant(baseline, treaties={treaty_name: {"fixed_ratio": h}}),
            replications=m,
            seed=4,
            horizon=60,
            workers=1,
        )
        for h in (0.0, 20.0)
    ]
    treaty = table.loc[(treaty_name, 60)]
    per_draw = treaty.replications_per_draw
    alive = [alive_at(r, treaty_name, 60) for r in per_world]
    se_alive = [proportion_se(p, m) for p in alive]
    # With two draws, parameter_sd estimates |P0 - P1| / 2 from about n/2 replications per
    # draw; the world runs estimate the same from m each, independently (another seed).
    se_split = [proportion_se(p, per_draw) for p in alive]
    se_sd = np.sqrt(np.sum(np.square(se_split)) + np.sum(np.square(se_alive))) / 2
    assert treaty.parameter_sd == pytest.approx(abs(alive[0] - alive[1]) / 2, abs=4 * se_sd)
    # The pooled P(alive) is a mean over all n replications of the mixture.
    se_mean = np.hypot(proportion_se(treaty.p_survive, n), np.hypot(*se_alive) / 2)
    assert treaty.p_survive == pytest.approx(np.mean(alive), abs=4 * se_mean)
    # Chance is the Wilson interval of the n replications pooled, whatever their draw
    # (scipy's, on the count alive), and the parameters' spread dwarfs it.
    alive_count = treaty.p_survive * n
    assert alive_count == pytest.approx(round(alive_count), abs=1e-6)
    wilson = stats.binomtest(round(alive_count), n).proportion_ci(method="wilson")
    assert (treaty.chance_low, treaty.chance_high) == pytest.approx(
        (wilson.low, wilson.high), abs=1e-9
    )
    assert treaty.parameter_sd > 4 * proportion_se(treaty.p_survive, n)
    # Health does not depend on the treaty's hazard: its two draws' estimates differ
    # by chance alone, less than 4 SE of their difference, so parameter_sd <= |diff| / 2 is
    # below 2 SE of that difference.
    health = table.loc[("health", 60)]
    se_difference = np.sqrt(2) * proportion_se(health.p_survive, per_draw)
    assert health.parameter_sd < 4 * se_difference / 2


def test_run_with_parameter_uncertainty_writes_the_decomposition(tmp_path):
    done = alliance_sim(
        "run",
        str(SCENARIOS / "baseline.yaml"),
        "--parameter-uncertainty",
        "--replications",
        "2000",
        "--horizon",
        "24",
        "--out",
        str(tmp_path / "run"),
        "--quiet",
        "--workers",
        "1",
    )
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(tmp_path / "run" / "uncertainty-posterior.csv")
    assert set(table.domain) == {*DOMAINS, "mutual_defence_treaty"}
    assert list(table.date.unique()) == ["2026-03", "2027-03"]
    # The Markdown table reads like the other tables: domain labels and dates.
    markdown = (tmp_path / "run" / "uncertainty-posterior.md").read_text()
    header, *rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert header == "| Domain | Date | P(alive) [chance] | Parameters | Parameter sd |"
    assert rows[0].startswith("| Military | Mar 2026 | ")
    assert "defence_treaty" not in markdown
    assert "Defence treaty" in markdown
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["scenario"]["channel_defaults"]["growth"]["dist"] == "empirical"
    # The judged numbers were drawn as a joint sample, reported against chance as well.
    assert manifest["joint_draws"] == 200
    judged = pd.read_csv(tmp_path / "run" / "uncertainty-judgement.csv")
    assert (judged.parameter_sd > 0).any()


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
