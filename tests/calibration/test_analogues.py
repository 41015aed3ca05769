"""Analogue backtest: the cases' files, how endings are read, and the verification scores."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from sim.calibration.analogues import (
    FOLDER,
    HORIZONS,
    AnalogueSettings,
    analogue_backtest,
    base_rate,
    cases,
    climatology,
    outcomes,
)
from sim.calibration.backtest_documents import BEGIN, END, refresh_analogue_backtest
from sim.calibration.verification import (
    LOG_CLIP,
    bin_index,
    bootstrap_skill,
    brier_score,
    log_score,
    murphy,
    reliability_table,
    skill,
)
from sim.paths import CALIBRATION
from sim.scenario import load_scenario, load_yaml
from tests.helpers import alliance_sim, proportion_se
from tests.model.test_world import DOCUMENTED_BY, undocumented_numbers, unjudged_numbers

CASES = cases()
WORLDS = sorted((FOLDER / "worlds").glob("*.yaml"))


def _ledger(case: str) -> dict:
    return load_yaml(FOLDER / f"{case}.yaml")[0]


def _scenario_data(case: str) -> dict:
    return load_yaml(FOLDER / "scenarios" / f"{case}.yaml")[0]


# --- the cases' files ---------------------------------------------------------------------


def test_the_five_cases_are_found():
    assert CASES == [
        "china_albania",
        "ussr_egypt",
        "ussr_russia_dprk",
        "ussr_russia_vietnam",
        "ussr_somalia",
    ]
    assert len(WORLDS) == 2 * len(CASES)  # a world and a start state per case


@pytest.mark.parametrize("case", CASES)
def test_every_analogue_scenario_validates_and_matches_its_ledger(case: str):
    scenario = load_scenario(FOLDER / "scenarios" / f"{case}.yaml")
    ledger = _ledger(case)
    assert scenario.start == ledger["start_month"]
    assert set(scenario.channels) == set(ledger["endings"]) == set(ledger["domains"])
    assert scenario.horizon >= max(HORIZONS)


@pytest.mark.slow
def test_the_analogue_scenarios_pass_validate():
    files = [str(FOLDER / "scenarios" / f"{case}.yaml") for case in CASES]
    done = alliance_sim("validate", *files)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("ok: ") == len(CASES)


@pytest.mark.parametrize("world", WORLDS, ids=lambda f: f.name)
def test_every_number_in_the_analogue_worlds_has_a_source_or_judgement(world):
    data, _ = load_yaml(world)
    events = data.pop("events", {})
    # The project's rules for world files (tests/model/test_world.py): every number
    # documented by its own mapping or row, and every weight, rate and hazard ratio with a
    # source or a judged range; an event is documented as a whole.
    assert undocumented_numbers(data) == []
    assert unjudged_numbers(data) == []
    for name, event in events.items():
        assert DOCUMENTED_BY & event.keys(), f"event {name} has no source or reason"


@pytest.mark.parametrize("case", CASES)
def test_scripted_events_are_the_ledgers_and_end_no_channel(case: str):
    data, ledger = _scenario_data(case), _ledger(case)
    scenario = load_scenario(FOLDER / "scenarios" / f"{case}.yaml")
    ledger_events = {e["id"]: e for e in ledger["events"]}
    for name, event in data["events"].items():
        assert event.get("source"), f"{case}: event {name} has no source"
        for effect in event["effects"]:
            owner = effect["target"].split(".")[0]
            # Endings are what is forecast: no event may act on a channel or a treaty.
            assert owner in scenario.actors, f"{case}: {name} targets {effect['target']}"
        cited = event["source"].split("ledger events.", 1)
        if len(cited) == 1:
            continue
        key = cited[1].split(",")[0].split(" ")[0]
        assert key in ledger_events, f"{case}: {name} cites unknown ledger event {key}"
        assert event["timing"]["month"] == ledger_events[key]["month"], f"{case}: {name}"
        shifts = {s["variable"]: s.get("to") for s in ledger_events[key].get("shifts", [])}
        for effect in event["effects"]:
            if shifts.get(effect["target"]) is not None:
                assert effect["set"] == pytest.approx(shifts[effect["target"]]), (case, name)


@pytest.mark.parametrize("case", CASES)
def test_analogue_worlds_copy_the_current_fitted_growth(case: str):
    fitted = yaml.safe_load((CALIBRATION / "fitted.yaml").read_text())
    scenario = load_scenario(FOLDER / "scenarios" / f"{case}.yaml")
    assert scenario.channel_defaults.growth.value == fitted["channel_defaults"]["growth"]["value"]
    if "defence_treaty" in scenario.channels:
        treaty = fitted["channels"]["defence_treaty"]["growth"]["value"]
        assert scenario.channels["defence_treaty"].growth.value == treaty


# --- how endings are read -----------------------------------------------------------------

LEDGER = {
    "start_month": "1980-01",
    "endings": {
        "trade": {"ended": False, "last_observed": "1995-01"},
        "arms": {"ended": True, "month": "1981-01", "how": "ruptured", "confidence": "high"},
        "treaty": {
            "ended": True,
            "month": "1986-01",
            "how": "formal",
            "confidence": "medium",
            "practical_end": {"month": "1982-03"},
        },
        "culture": {"ended": True, "month": "1990-02", "how": "abandoned", "confidence": "low"},
    },
}


def test_outcomes_read_the_practical_end_and_date_endings_like_the_model():
    table = outcomes(LEDGER).set_index(["domain", "horizon"])
    # Month 12 after 1980-01 is 1981-01: an ending dated then is not alive at 12.
    assert table.observed[("arms", 12)] == 0
    assert table.observed[("trade", 120)] == 1
    # The treaty's practice ended in 1982-03 (month 26), its legal force in 1986-01 (72).
    assert [table.observed[("treaty", h)] for h in HORIZONS] == [1, 1, 0, 0]
    assert [table.observed_legal[("treaty", h)] for h in HORIZONS] == [1, 1, 1, 0]
    # 1990-02 is month 121: alive at 120.
    assert table.observed[("culture", 120)] == 1
    assert table.low_confidence[("culture", 12)]
    assert not table.low_confidence[("arms", 12)]
    assert not table.low_confidence[("trade", 12)]


def test_base_rate_is_the_curve_at_the_horizon():
    curves = pd.DataFrame(
        {
            "class": ["all"] * 4 + ["other"],
            "years": [0.0, 0.5, 1.0, 5.0, 1.0],
            "survival": [1.0, 0.95, 0.9, 0.7, 0.1],
        }
    )
    assert base_rate(curves, (6, 12, 24, 60)) == {6: 0.95, 12: 0.9, 24: 0.9, 60: 0.7}


def test_climatology_leaves_the_case_out():
    frame = pd.DataFrame(
        {
            "case": ["a", "a", "b", "c", "c"],
            "horizon": [12, 12, 12, 12, 60],
            "observed": [1, 0, 1, 0, 1],
        }
    )
    # a: b and c at 12 -> (1 + 0) / 2; b: a and c -> (1 + 0 + 0) / 3; c: a and b -> 2 / 3.
    expected = [0.5, 0.5, 1 / 3, 2 / 3, math.nan]
    np.testing.assert_allclose(climatology(frame), expected)


# --- the scores against hand computation and independent implementations -----------------

P = np.array([0.9, 0.2, 0.65, 1.0, 0.05, 0.55])
Y = np.array([1, 0, 0, 1, 1, 1])


def test_brier_score_by_hand_and_by_formula():
    assert brier_score([0.9, 0.2], [1, 0]) == pytest.approx((0.1**2 + 0.2**2) / 2)
    direct = np.sum((P - Y) ** 2) / len(P)
    assert brier_score(P, Y) == pytest.approx(direct, abs=1e-15)


def test_log_score_against_scipy_with_the_clip():
    clipped = np.clip(P, LOG_CLIP, 1 - LOG_CLIP)
    expected = -np.mean(stats.bernoulli.logpmf(Y, clipped))
    assert log_score(P, Y) == pytest.approx(expected, rel=1e-12)
    # A confident miss costs -ln(clip), not infinity.
    assert log_score([1.0], [0]) == pytest.approx(-math.log(LOG_CLIP))
    assert log_score([0.5, 0.5], [1, 0]) == pytest.approx(math.log(2))


def test_reliability_table_bins_and_wilson_intervals_match_scipy():
    table = reliability_table(P, Y)
    # Bins: 0.05 -> [0, 0.1); 0.2 -> [0.2, 0.3); 0.55 -> [0.5, 0.6); 0.65 -> [0.6, 0.7);
    # 0.9 and 1.0 -> [0.9, 1.0] (the last bin is closed).
    assert list(table["count"]) == [1, 1, 1, 1, 2]
    assert list(bin_index([0.0, 0.1, 0.999, 1.0])) == [0, 1, 9, 9]
    last = table.iloc[-1]
    assert last.mean_forecast == pytest.approx(0.95)
    assert last.observed == 1.0
    for row in table.itertuples():
        hits = round(row.observed * row.count)
        ci = stats.binomtest(hits, row.count).proportion_ci(0.95, method="wilson")
        assert (row.observed_low, row.observed_high) == pytest.approx((ci.low, ci.high))


def test_murphy_decomposition_by_hand_and_its_identity():
    # Forecasts taking one value per bin: binned and raw Brier coincide.
    p = np.array([0.8, 0.8, 0.8, 0.8, 0.3, 0.3])
    y = np.array([1, 1, 1, 0, 0, 1])
    d = murphy(p, y)
    base = 4 / 6
    assert d.uncertainty == pytest.approx(base * (1 - base))
    assert d.reliability == pytest.approx((4 * (0.8 - 0.75) ** 2 + 2 * (0.3 - 0.5) ** 2) / 6)
    assert d.resolution == pytest.approx((4 * (0.75 - base) ** 2 + 2 * (0.5 - base) ** 2) / 6)
    assert d.brier == pytest.approx(d.binned_brier)
    assert d.reliability - d.resolution + d.uncertainty == pytest.approx(d.brier, abs=1e-15)
    # Forecasts spread within bins: the identity holds for the binned score only.
    rng = np.random.default_rng(5)
    p, y = rng.uniform(size=500), rng.integers(0, 2, size=500)
    d = murphy(p, y)
    assert d.reliability - d.resolution + d.uncertainty == pytest.approx(d.binned_brier, abs=1e-12)
    assert abs(d.brier - d.binned_brier) > 1e-4


def test_skill_and_its_case_bootstrap():
    assert skill(0.1, 0.2) == pytest.approx(0.5)
    assert math.isnan(skill(0.1, 0.0))
    # Identical cases: every resample is the whole sample again, so the interval is the point.
    one = pd.DataFrame({"observed": [1, 0, 1], "model": [0.9, 0.3, 0.6], "ref": [0.7] * 3})
    table = pd.concat([one.assign(case=c) for c in "abcd"], ignore_index=True)
    point = skill(brier_score(table.model, table.observed), brier_score(table.ref, table.observed))
    low, high = bootstrap_skill(table, "model", "ref", draws=200)
    assert low == pytest.approx(point)
    assert high == pytest.approx(point)
    # Cases that differ: the interval contains the point, and rows of a case stay together
    # (a resample of rows would break the perfect case `a` apart from the poor case `b`).
    mixed = pd.DataFrame(
        {
            "case": ["a"] * 3 + ["b"] * 3 + ["c"] * 3,
            "observed": [1, 0, 1, 1, 0, 1, 0, 1, 1],
            "model": [1.0, 0.0, 1.0, 0.1, 0.9, 0.2, 0.4, 0.6, 0.7],
            "ref": [0.7] * 9,
        }
    )
    point = skill(brier_score(mixed.model, mixed.observed), brier_score(mixed.ref, mixed.observed))
    low, high = bootstrap_skill(mixed, "model", "ref", draws=2000)
    assert low < point < high
    # The best resample is three copies of `a` (skill 1), the worst three of `b`.
    worst = 1 - brier_score([0.1, 0.9, 0.2], [1, 0, 1]) / brier_score([0.7] * 3, [1, 0, 1])
    assert low >= worst - 1e-12
    assert high <= 1.0
    assert bootstrap_skill(mixed, "model", "ref", seed=1) == bootstrap_skill(
        mixed, "model", "ref", seed=1
    )


# --- end to end ---------------------------------------------------------------------------


@pytest.mark.slow
def test_analogue_backtest_end_to_end(tmp_path):
    settings = AnalogueSettings(replications=200, bootstrap=200)
    backtest = analogue_backtest(settings)
    forecasts, scores = backtest.forecasts, backtest.scores
    channels = sum(len(_ledger(c)["endings"]) for c in CASES)
    assert len(forecasts) == channels * len(HORIZONS)
    for column in ("model", "model_legal", "base_rate", "climatology"):
        assert forecasts[column].between(0, 1).all(), column
    assert set(forecasts.observed) <= {0, 1}
    bounds = ["brier_skill_low", "brier_skill_high"]
    assert np.isfinite(scores.drop(columns=["subset", "forecaster", *bounds])).all().all()
    # The base rate is the reference: it has no interval of skill against itself.
    assert np.isfinite(scores.loc[scores.forecaster != "base_rate", bounds]).all().all()
    for row in scores.itertuples():
        assert row.reliability - row.resolution + row.uncertainty == pytest.approx(
            row.binned_brier, abs=1e-12
        )
    # The same forecasts at 200 replications agree with the committed ones at 2,000 within
    # Monte Carlo error (the scenario's seed is the same; the SE is the larger run's plus
    # this one's, per forecast).
    committed = pd.read_csv(CALIBRATION / "analogue_forecasts.csv", keep_default_na=False)
    merged = forecasts.merge(committed, on=["case", "domain", "horizon"], suffixes=("", "_c"))
    assert len(merged) == len(forecasts)
    assert (merged.observed == merged.observed_c).all()
    se = np.array(
        [
            math.hypot(proportion_se(max(p, 0.01), 200), proportion_se(max(p, 0.01), 2000))
            for p in np.minimum(merged.model_c, 1 - 0.01)
        ]
    )
    assert (np.abs(merged.model - merged.model_c) <= 5 * se + 1e-9).all()
    # The files: a report with the section's markers is refreshed in place.
    report = tmp_path / "report.md"
    report.write_text(f"# Report\n\n{BEGIN}\nold\n{END}\n\n## Next\n")
    written = refresh_analogue_backtest(backtest, tmp_path)
    names = {p.name for p in written}
    assert names == {"analogue_forecasts.csv", "analogue_scores.csv", "reliability.png",
                     "report.md"}  # fmt: skip
    text = report.read_text()
    assert "old" not in text
    assert text.startswith("# Report")
    assert text.endswith(f"{END}\n\n## Next\n")  # as the whole report writes it
    assert "on the analogue backtest.**" in text
    assert pd.read_csv(tmp_path / "analogue_scores.csv").shape == scores.shape
    assert (tmp_path / "reliability.png").stat().st_size > 10_000


def test_calibrate_analogues_needs_a_report_to_refresh(tmp_path):
    done = alliance_sim("calibrate", "analogues", "--out", str(tmp_path))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "no analogue backtest section to refresh" in done.stderr
    assert not list(tmp_path.iterdir()), "nothing is written"
