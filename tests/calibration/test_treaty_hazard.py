"""The treaty's hazard as mapped from the survival regression, and the census of numbers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.calibration.census import census, numbers, scenario_files
from sim.calibration.documents import hazard_evidence_section
from sim.calibration.setup import load_setup
from sim.calibration.treaty_hazard import (
    conditional_curve,
    implied_survival,
    map_treaty_hazard,
    posterior_fragment,
    reference_comparison,
    treaty_hazard_document,
)
from sim.errors import ScenarioError, UserError
from sim.paths import CALIBRATION
from sim.scenario import load_scenario
from tests.helpers import SCENARIOS


@pytest.fixture(scope="module")
def hazard():
    return map_treaty_hazard(load_setup(CALIBRATION / "setup.yaml"))


@pytest.fixture(scope="module")
def coefficients() -> pd.Series:
    table = pd.read_csv(CALIBRATION / "hazards.csv")
    return table[table.model == "simulation"].set_index("covariate")["coef"]


def test_fixed_ratio_is_the_formation_covariates_times_their_coefficients(hazard, coefficients):
    reference = pd.read_csv(CALIBRATION / "hazard_reference.csv")
    threat_reference = reference.query("model == 'simulation' and covariate == 'threat'").value
    # The 2024 treaty: wartime, bilateral, defence, a major with a minor power; threat 2.85.
    expected = (
        coefficients["wartime"]
        + coefficients["bilateral"]
        + coefficients["defence"]
        + coefficients["major_minor"]
        + coefficients["threat"] * (2.85 - float(threat_reference.iloc[0]))
    )
    assert hazard.estimate["fixed_ratio"] == pytest.approx(math.exp(expected), rel=1e-12)


def test_covariates_map_terms_sums_and_mixtures(hazard, coefficients):
    estimate = hazard.estimate
    assert estimate["war.log_hazard_ratio"] == pytest.approx(coefficients["war_ongoing"])
    assert estimate["war.age_slope"] == pytest.approx(coefficients["war_ongoing_x_log_age"])
    threat = coefficients["threat"] + coefficients["threat_change"]
    assert estimate["threat_change.log_hazard_ratio"] == pytest.approx(threat)
    mixture = (
        0.67 * math.exp(coefficients["leader_death"])
        + 0.165 * math.exp(coefficients["leader_irregular"])
        + 0.165 * math.exp(coefficients["leader_regular"])
    )
    assert estimate["russia_leader_exit.log_hazard_ratio"] == pytest.approx(math.log(mixture))


def test_baseline_steps_integrate_to_the_breslow_cumulative_hazard(hazard):
    table = pd.read_csv(CALIBRATION / "baseline_hazard.csv").query("model == 'simulation'")
    steps = hazard.baseline

    def cumulative(years: float) -> float:
        before = table.cum_hazard[table.age_years <= years]
        return float(before.max()) if len(before) else 0.0

    for start, end, rate in zip(steps.from_month[:-1], steps.from_month[1:], steps.hazard[:-1],
                                strict=True):  # fmt: skip
        assert rate * (end - start) == pytest.approx(cumulative(end / 12) - cumulative(start / 12))


def test_draws_follow_the_coefficients_sampling_distribution(hazard, coefficients):
    covariance = pd.read_csv(CALIBRATION / "hazard_covariance.csv")
    covariance = covariance.query("model == 'simulation'").set_index("covariate")
    draws = hazard.draws["war.log_hazard_ratio"]
    sd = math.sqrt(covariance.loc["war_ongoing", "war_ongoing"])
    n = len(draws)
    # The sample mean within 4 standard errors; the sample sd within 4 of its (normal) SEs.
    assert abs(draws.mean() - coefficients["war_ongoing"]) < 4 * sd / math.sqrt(n)
    assert abs(draws.std() - sd) < 4 * sd / math.sqrt(2 * (n - 1))
    slope = hazard.draws["war.age_slope"]
    correlation = covariance.loc["war_ongoing", "war_ongoing_x_log_age"] / (
        sd * math.sqrt(covariance.loc["war_ongoing_x_log_age", "war_ongoing_x_log_age"])
    )
    # Fisher's z: SE 1/sqrt(n - 3).
    observed = np.corrcoef(draws, slope)[0, 1]
    assert abs(np.arctanh(observed) - np.arctanh(correlation)) < 4 / math.sqrt(n - 3)


def test_committed_fragment_is_the_mapping_and_the_scenarios_use_it(hazard):
    assert (CALIBRATION / "treaty_hazard.yaml").read_text() == treaty_hazard_document(hazard), (
        "calibration/treaty_hazard.yaml is stale: run `alliance-sim calibrate` and commit"
    )
    treaty = load_scenario(SCENARIOS / "baseline.yaml").treaties["mutual_defence_treaty"]
    assert treaty.fixed_ratio.value == pytest.approx(hazard.estimate["fixed_ratio"], rel=1e-3)
    assert treaty.covariates["war"].age_slope.value == pytest.approx(
        hazard.estimate["war.age_slope"], rel=1e-3
    )
    posterior = yaml.safe_load((CALIBRATION / "posterior.yaml").read_text())
    drawn = posterior["treaties"]["mutual_defence_treaty"]
    assert drawn == posterior_fragment(hazard)["treaties"]["mutual_defence_treaty"]
    assert drawn["fixed_ratio"]["group"] == "treaty_hazard"
    assert len(drawn["covariates"]["war"]["log_hazard_ratio"]["values"]) == hazard.setup.draws


def test_implied_survival_is_the_product_of_monthly_survivals(hazard):
    survival = implied_survival(hazard, age0=9, months=24, war=False)
    rates = [hazard.baseline.hazard[0] * hazard.estimate["fixed_ratio"]] * 3
    rates += [hazard.baseline.hazard[1] * hazard.estimate["fixed_ratio"]] * 12
    assert survival[14] == pytest.approx(np.prod(1 - np.array(rates)))
    at_war = implied_survival(hazard, age0=9, months=24, war=True)
    assert (at_war < survival).all()


def test_conditional_curve_and_reference_comparison():
    curves = pd.DataFrame(
        {
            "class": "c",
            "years": np.arange(0, 241) / 12,
            "survival": np.exp(-np.arange(0, 241) / 120),
            "low": np.exp(-np.arange(0, 241) / 100),
            "high": np.exp(-np.arange(0, 241) / 150),
        }
    )
    curve = conditional_curve(curves, "c", age0=9)
    # An exponential curve has no memory: from any age it is the same curve.
    assert curve.survival.to_numpy() == pytest.approx(np.exp(-np.arange(121) / 120))
    model = pd.DataFrame(
        {
            "month": np.arange(1, 121),
            "p_survive": np.exp(-np.arange(1, 121) / 60),
            "ci_low": 0.0,
            "ci_high": 1.0,
        }
    )
    table = reference_comparison(model, curve)
    assert list(table.years) == [1, 2, 5, 10]
    months = np.array([12, 24, 60, 120])
    low = np.exp(-(9 + months) / 100 + 9 / 120)  # the band from age 9 months
    high = np.minimum(np.exp(-(9 + months) / 150 + 9 / 120), 1)
    assert table.class_low.to_numpy() == pytest.approx(low)
    assert table.class_high.to_numpy() == pytest.approx(high)
    # The model's curve (mean life 60 months) leaves the band (mean lives 100 to 150).
    assert table.inside.tolist() == [False, False, False, False]
    model["p_survive"] = np.exp(-np.arange(1, 121) / 120)
    assert reference_comparison(model, curve).inside.all()
    with pytest.raises(UserError, match="no class 'd'"):
        conditional_curve(curves, "d", age0=9)


def test_a_mixture_that_does_not_sum_to_one_is_refused(tmp_path):
    text = (CALIBRATION / "setup.yaml").read_text().replace("leader_regular: 0.165}", "x: 0.1}")
    for name in ("evidence.yaml", "from_2023_09.yaml"):
        (tmp_path / name).write_text((CALIBRATION / name).read_text())
    bad = tmp_path / "setup.yaml"
    bad.write_text(text.replace("../scenarios/baseline.yaml", str(SCENARIOS / "baseline.yaml")))
    with pytest.raises(ScenarioError, match="sum to 1"):
        load_setup(bad)


def test_census_counts_every_number_once_by_what_backs_it(tmp_path):
    world = tmp_path / "world.yaml"
    world.write_text(
        "channel_defaults:\n"
        "  growth: {value: 0.2, judgement: [0.1, 0.3], reason: r}\n"
        "  threshold: {value: 0.15, reason: a definition}\n"
        "channels:\n"
        "  labour:\n"
        "    source: a channel's source documents no number below it\n"
        "    desire:\n"
        "      russia: {base: 0.1, russia.isolation: {value: 0.2, source: 'NIS, Feb 2025'}}\n"
    )
    fitted = tmp_path / "fitted.yaml"
    fitted.write_text("channel_defaults:\n  growth: {value: 0.25, source: the fit}\n")
    found = numbers({world: False, fitted: True}).set_index("path")
    assert found.loc["channel_defaults.growth", "kind"] == "fitted"  # the later file wins
    assert found.loc["channel_defaults.threshold", "kind"] == "reasoned"
    assert found.loc["channels.labour.desire.russia.russia.isolation", "kind"] == "sourced"
    assert found.loc["channels.labour.desire.russia.base", "kind"] == "reasoned"
    table = census({world: False, fitted: True})
    assert table.loc["total", "all"] == 4
    assert table.loc["desire weights", "sourced"] == 1


def test_census_of_the_baseline_counts_the_world(tmp_path):
    files = scenario_files(SCENARIOS / "baseline.yaml", CALIBRATION)
    assert [path.name for path, fitted in files.items() if fitted] == [
        "fitted.yaml",
        "treaty_hazard.yaml",
    ]
    table = census(files)
    assert table.loc["total", "fitted"] >= 10
    # Every weight is judged or sourced (no weight is merely reasoned).
    for mechanism in ("costs", "spillover", "actors' responses"):
        assert table.loc[mechanism, "reasoned"] == 0, mechanism
    assert Path(CALIBRATION / "report.md").read_text().count("| **total** |") == 1


def test_report_shows_the_hazard_evidence_from_its_tables():
    folder = CALIBRATION
    lines = hazard_evidence_section(folder)
    text = "\n".join(lines)
    hazards = pd.read_csv(folder / "hazards.csv")
    for row in hazards[hazards["model"] == "main"].itertuples():
        assert f"| `{row.covariate}` | {row.hazard_ratio:.2f} [{row.hr_low:.2f}, " in text
    skill = pd.read_csv(folder / "hazard_skill.csv").iloc[0]
    assert f"{skill.skill:+.2f} [{skill.skill_low:+.2f}, {skill.skill_high:+.2f}]" in text
    assert "`war_ongoing` non-proportional" in text
    report = (folder / "report.md").read_text()
    assert text in report
