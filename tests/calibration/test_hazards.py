"""Alliance-termination hazards: the panel, the Brier score, the fits and committed outputs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibration import hazards
from sim.calibration.hazards import (
    ModelSpec,
    brier_scores,
    fit_hazards,
    integrated_brier,
    load_panel,
    reference_class,
    time_varying_concordance,
)
from tests.helpers import ROOT

DATA = ROOT.parent / "shared" / "data"
CALIBRATION = ROOT / "calibration"
OUTPUTS = (
    "hazards.csv",
    "hazard_models.csv",
    "hazard_checks.csv",
    "hazard_skill.csv",
    "hazard_covariance.csv",
    "baseline_hazard.csv",
    "hazard_reference.csv",
    "reference_classes.csv",
    "reference_curves.csv",
    "hazards.md",
)


# --- A tiny synthetic data set ---------------------------------------------------------------
#
# Alliance 1: states 2 (a major power) and 20, July 1900 to January 1903 (30 months), a
#   bilateral defence pact with a common defence policy (milcon 3), ended by violation.
# Alliance 2: states 2 and 20 from January 1990, state 200 joins in March 1995; in effect.
# Alliance 3: formed 1815 (before the panel's first formation year).
# Alliance 4: states 20 and 200, May 1950, ended the same month.


def _csv(path: Path, rows: list[dict]) -> None:
    pd.DataFrame(rows).to_csv(path, index=False)


def _synthetic(tmp_path: Path) -> tuple[Path, Path]:
    atop, peace = tmp_path / "atop", tmp_path / "peace"
    atop.mkdir()
    peace.mkdir()
    base = {"bilat": 1, "wartime": 0, "defense": 1, "asymm": 0, "intcom": 0, "milcon": 0}
    _csv(
        atop / hazards.ATOP_ALLIANCES,
        [
            {
                "atopid": 1,
                "begyr": 1900,
                "begmo": 7,
                "endyr": 1903,
                "endmo": 1,
                "ineffect": 0,
                **base,
                "milcon": 3,
                "base": 0,
            },
            {
                "atopid": 2,
                "begyr": 1990,
                "begmo": 1,
                "endyr": 0,
                "endmo": 0,
                "ineffect": 1,
                **base,
                "bilat": 0,
                "base": 0,
            },
            {
                "atopid": 3,
                "begyr": 1815,
                "begmo": 3,
                "endyr": 1820,
                "endmo": 1,
                "ineffect": 0,
                **base,
                "base": 0,
            },
            {
                "atopid": 4,
                "begyr": 1950,
                "begmo": 5,
                "endyr": 1950,
                "endmo": 5,
                "ineffect": 0,
                **base,
                "wartime": 1,
                "base": 1,
            },
        ],
    )
    _csv(
        atop / hazards.ATOP_MEMBERS,
        [
            {
                "atopid": 1,
                "member": 2,
                "yrent": 1900,
                "moent": 7,
                "yrexit": 1903,
                "moexit": 1,
                "termmode": 3,
            },
            {
                "atopid": 1,
                "member": 20,
                "yrent": 1900,
                "moent": 7,
                "yrexit": 1903,
                "moexit": 1,
                "termmode": 3,
            },
            {
                "atopid": 2,
                "member": 2,
                "yrent": 1990,
                "moent": 1,
                "yrexit": 0,
                "moexit": 0,
                "termmode": 0,
            },
            {
                "atopid": 2,
                "member": 20,
                "yrent": 1990,
                "moent": 1,
                "yrexit": 0,
                "moexit": 0,
                "termmode": 0,
            },
            {
                "atopid": 2,
                "member": 200,
                "yrent": 1995,
                "moent": 3,
                "yrexit": 0,
                "moexit": 0,
                "termmode": 0,
            },
            {
                "atopid": 3,
                "member": 2,
                "yrent": 1815,
                "moent": 3,
                "yrexit": 1820,
                "moexit": 1,
                "termmode": 1,
            },
            {
                "atopid": 3,
                "member": 20,
                "yrent": 1815,
                "moent": 3,
                "yrexit": 1820,
                "moexit": 1,
                "termmode": 1,
            },
            {
                "atopid": 4,
                "member": 20,
                "yrent": 1950,
                "moent": 5,
                "yrexit": 1950,
                "moexit": 5,
                "termmode": 6,
            },
            {
                "atopid": 4,
                "member": 200,
                "yrent": 1950,
                "moent": 5,
                "yrexit": 1950,
                "moexit": 5,
                "termmode": 6,
            },
        ],
    )
    # Threat: state 2 at 0.2 throughout, state 20 at 0.4 to 1900 and 0.6 after, state 200
    # at 0.1; 1902 is a placeholder year (every state 0), to be interpolated.
    threat = []
    for year in range(1816, 2009):
        for ccode, value in ((2, 0.2), (20, 0.4 if year <= 1900 else 0.6), (200, 0.1)):
            placeholder = year in (1902, 2008)
            threat.append({"ccode": ccode, "year": year, "lsthreat": 0.0 if placeholder else value})
    _csv(atop / hazards.THREAT_FILE, threat)
    _csv(
        peace / hazards.ARCHIGOS_FILE,
        [
            # Before alliance 1's formation: never counts.
            {"gwcode": 20, "enddate": "1900-03-01", "exit": "Irregular"},
            {"gwcode": 2, "enddate": "1901-03-15", "exit": "Regular"},
            {"gwcode": 20, "enddate": "1902-06-10", "exit": "Natural Death"},
            {"gwcode": 2, "enddate": "2015-12-31", "exit": "Still in Office"},
            # Alliance 2: an irregular exit of the state that joins later, after it joined.
            {"gwcode": 200, "enddate": "1996-07-01", "exit": "Foreign"},
        ],
    )
    _csv(
        peace / hazards.MAJORS_FILE,
        [
            {
                "ccode": 2,
                "styear": 1816,
                "stmonth": 1,
                "stday": 1,
                "endyear": 2016,
                "endmonth": 12,
                "endday": 31,
            }
        ],
    )
    # State 20 fights a war against state 999 in 1901 only.
    _csv(
        peace / hazards.WARS_FILE,
        [
            {"warnum": 1, "ccode1": 20, "ccode2": 999, "year": 1901},
            {"warnum": 1, "ccode1": 999, "ccode2": 20, "year": 1901},
        ],
    )
    cinc = []
    for year in range(1816, 2017):
        first = year <= 1900
        cinc += [
            {"ccode": 2, "year": year, "cinc": 0.3 if first else 0.2},
            {"ccode": 20, "year": year, "cinc": 0.1 if first else 0.2},
            {"ccode": 200, "year": year, "cinc": 0.05},
        ]
    _csv(peace / hazards.NMC_FILE, cinc)
    # States 2 and 20 share rival 365 in 1895-1901; 20 and 200 are rivals of each other.
    _csv(
        peace / hazards.RIVALRIES_FILE,
        [
            {"ccode1": 2, "ccode2": 365, "styear": 1890, "endyear": 1901},
            {"ccode1": 20, "ccode2": 365, "styear": 1895, "endyear": 1910},
            {"ccode1": 20, "ccode2": 200, "styear": 1940, "endyear": 2010},
        ],
    )
    return atop, peace


def _decimal(date: str) -> float:
    stamp = pd.Timestamp(date)
    days = 366 if stamp.is_leap_year else 365
    return stamp.year + (stamp.dayofyear - 0.5) / days


@pytest.fixture
def panel(tmp_path: Path) -> pd.DataFrame:
    atop, peace = _synthetic(tmp_path)
    return load_panel(atop, peace, last_year=2007)


def test_panel_intervals_events_and_censoring(panel: pd.DataFrame) -> None:
    assert set(panel["id"]) == {1, 2, 4}  # formed in 1815: not in the panel
    one = panel[panel["id"] == 1]
    t0 = 1900 + 6.5 / 12
    regular, death = _decimal("1901-03-15"), _decimal("1902-06-10")
    cuts = [t0, 1901, regular, 1902, regular + 1, death, 1903, t0 + 30 / 12]
    np.testing.assert_allclose(one["start"], np.array(cuts[:-1]) - t0)
    np.testing.assert_allclose(one["stop"], np.array(cuts[1:]) - t0)
    assert one["stop"].iloc[-1] == pytest.approx(2.5)  # 30 months
    assert one["event"].tolist() == [0] * 6 + [1]
    assert one["event_broken"].tolist() == [0] * 6 + [1]  # termmode 3
    assert one["event_not_replaced"].tolist() == [0] * 6 + [1]
    assert one["year"].tolist() == [1900, 1901, 1901, 1902, 1902, 1902, 1903]

    two = panel[panel["id"] == 2]
    assert two["event"].sum() == 0
    assert two["year"].min() == 1990
    assert two["year"].max() == 2007
    assert two["stop"].iloc[-1] == pytest.approx(2008 - (1990 + 0.5 / 12))
    assert two["atop_ended"].iloc[0] == 0
    assert two["atop_years"].iloc[0] == pytest.approx(26 + 11 / 12)  # to December 2016

    four = panel[panel["id"] == 4]  # ended in the month it began: half a month
    assert len(four) == 1
    assert four["start"].iloc[0] == 0
    assert four["stop"].iloc[0] == pytest.approx(1 / 24)
    assert four["event"].iloc[0] == 1
    assert four["event_broken"].iloc[0] == 0
    assert four["event_not_replaced"].iloc[0] == 1  # termmode 6: defeated in war
    assert four["wartime"].iloc[0] == 1


def test_panel_covariates(panel: pd.DataFrame) -> None:
    one = panel[panel["id"] == 1].reset_index(drop=True)
    # Regular exit of state 2's leader on 15 March 1901 counts for 12 months; the
    # irregular exit of March 1900 preceded formation and never counts; the death in
    # June 1902 counts from then on.
    assert one["leader_regular"].tolist() == [0, 0, 1, 1, 0, 0, 0]
    assert one["leader_irregular"].tolist() == [0] * 7
    assert one["leader_death"].tolist() == [0, 0, 0, 0, 0, 1, 1]
    assert one["war_ongoing"].tolist() == [0, 1, 1, 0, 0, 0, 0]
    assert one["war_ended"].tolist() == [0, 0, 0, 1, 1, 1, 1]
    # Threat: mean of 0.2 and 0.4 in 1900, of 0.2 and 0.6 after (1902 interpolated), per 0.1.
    np.testing.assert_allclose(one["threat"], [3, 4, 4, 4, 4, 4, 4])
    np.testing.assert_allclose(one["threat_change"], [0, 1, 1, 1, 1, 1, 1])
    # CINC shares 0.75/0.25 in 1900, 0.5/0.5 from 1901: shift 0.25, per 0.1.
    np.testing.assert_allclose(one["capability_shift"], [0, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5])
    assert one["shared_rival"].tolist() == [1, 1, 1, 0, 0, 0, 0]
    assert (one["major_minor"] == 1).all()
    assert (one["institutional"] == 1).all()
    assert (one["bilateral"] == 1).all()

    two = panel[panel["id"] == 2]
    by_year = two.groupby("year")
    # State 200 joined in 1995: its leader's exit in July 1996 counts, its threat enters
    # the mean from 1995 (0.2, 0.6, 0.1).
    exposed = two[two["leader_irregular"] == 1]
    assert exposed["start"].min() + two["formed"].iloc[0] == pytest.approx(_decimal("1996-07-01"))
    assert by_year["threat"].first()[1994] == pytest.approx(4.0)
    assert by_year["threat"].first()[1995] == pytest.approx(3.0)
    # No war data after 2003.
    assert two.loc[two["year"] > 2003, "war_ongoing"].isna().all()
    assert two.loc[two["year"] <= 2003, "war_ongoing"].eq(0).all()
    # Founders 2 and 20 keep their CINC shares (0.5/0.5): no shift, whoever joins.
    assert (two["capability_shift"] == 0).all()
    # 20 and 200 are rivals of each other, which is not a shared outside rival.
    assert (two["shared_rival"] == 0).all()
    assert two["bilateral"].eq(0).all()


def test_a_replacement_is_censored_where_the_simulation_counts_ends(tmp_path: Path) -> None:
    atop, peace = _synthetic(tmp_path)
    members = pd.read_csv(atop / hazards.ATOP_MEMBERS)
    members.loc[members["atopid"] == 1, "termmode"] = hazards.REPLACED_MODE
    members.to_csv(atop / hazards.ATOP_MEMBERS, index=False)
    one = load_panel(atop, peace, last_year=2007).query("id == 1")
    assert one["event"].tolist() == [0] * 6 + [1]  # an end for the headline model
    assert one["event_not_replaced"].sum() == 0  # censored for the simulation's
    assert hazards.MODELS["simulation"].event == "event_not_replaced"

    classes = reference_class(atop, peace).set_index("class")
    counted = hazards.ReferenceClass("all_counted", "", ())
    censored = hazards.ReferenceClass("all_censored", "", (), replacements_censored=True)
    table = hazards._class_table(hazards._read_sources(atop, peace))
    assert hazards._lives(table, counted)[1].sum() == classes.loc["all", "events"] == 3
    assert hazards._lives(table, censored)[1].sum() == 2


def test_reference_class_on_synthetic(tmp_path: Path) -> None:
    atop, peace = _synthetic(tmp_path)
    classes = reference_class(atop, peace).set_index("class")
    assert classes.loc["all", "n"] == 4
    assert classes.loc["all", "events"] == 3
    # Lives: 0 (ended in its month), 2.5, 4.83 and ongoing: S(1 y) = 3/4, S(5 y) = 1/4
    # (the alliance of 1815 lasted 58 months).
    assert classes.loc["all", "s_1y"] == pytest.approx(0.75)
    assert classes.loc["all", "s_5y"] == pytest.approx(0.25)
    assert classes.loc["wartime", "n"] == 1
    assert classes.loc["major_minor_defence", "n"] == 3  # alliances 1, 2 and 3 have state 2
    assert classes.loc["shared_rival", "n"] == 1  # alliance 1: rival 365 in 1900


# --- Brier score -----------------------------------------------------------------------------


def test_brier_score_matches_hand_computation() -> None:
    durations = np.array([1.0, 2.0, 3.0, 4.0])
    events = np.array([1, 0, 1, 0])
    survival = np.array([[0.6, 0.3], [0.8, 0.5], [0.9, 0.4], [0.7, 0.2]])
    times = np.array([1.5, 3.5])
    # Censoring Kaplan-Meier: G = 1 before 2, 2/3 from 2 (3 at risk, 1 censored), 0 from 4.
    # t = 1.5: subject 1 ended (0.6^2 / G(1-) = 0.36); the others alive, weight 1/G(1.5) = 1:
    #   (0.2^2 + 0.1^2 + 0.3^2) = 0.14; BS = 0.5 / 4 = 0.125.
    # t = 3.5: subject 1 ended (0.3^2 / 1 = 0.09); subject 2 censored (0); subject 3 ended at
    #   3 (0.4^2 / G(3-) = 0.16 / (2/3) = 0.24); subject 4 alive (0.8^2 / G(3.5) = 0.96);
    #   BS = 1.29 / 4 = 0.3225.
    scores = brier_scores(times, survival, durations, events)
    np.testing.assert_allclose(scores, [0.125, 0.3225])
    assert integrated_brier(times, scores) == pytest.approx((0.125 + 0.3225) / 2)


def test_brier_score_without_censoring_is_the_mean_squared_error() -> None:
    rng = np.random.default_rng(np.random.SeedSequence(7))
    durations = rng.exponential(5.0, 50)
    survival = rng.uniform(size=(50, 3))
    times = np.array([1.0, 4.0, 9.0])
    expected = ((durations[:, None] > times[None, :]) - survival) ** 2
    scores = brier_scores(times, survival, durations, np.ones(50, dtype=int))
    np.testing.assert_allclose(scores, expected.mean(axis=0))


# --- Fits ------------------------------------------------------------------------------------


def _simulate(seed: int, n: int = 1500) -> pd.DataFrame:
    """Counting-process data with a known hazard.

    Baseline hazard 0.1 per year; ``w`` (fixed, Bernoulli 0.5) has log hazard ratio -0.5;
    ``z`` switches from 0 to 1 at an exponential time (mean 4 years) and has log hazard
    ratio log 2. Censored at 15 years.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    rows = []
    for i in range(n):
        w = float(rng.uniform() < 0.5)
        switch = rng.exponential(4.0)
        base = 0.1 * math.exp(-0.5 * w)
        first = rng.exponential(1 / base)
        if first < min(switch, 15.0):
            rows.append((i, 0.0, first, 1, w, 0.0))
            continue
        if switch >= 15.0:
            rows.append((i, 0.0, 15.0, 0, w, 0.0))
            continue
        rows.append((i, 0.0, switch, 0, w, 0.0))
        end = switch + rng.exponential(1 / (base * 2.0))
        rows.append((i, switch, min(end, 15.0), int(end < 15.0), w, 1.0))
    panel = pd.DataFrame(rows, columns=["id", "start", "stop", "event", "w", "z"])
    return panel.assign(year=2000)


SIMULATED = ModelSpec("simulated", "simulated data", 1900, 2100, ("w", "z"))


def test_fit_recovers_planted_hazard_ratios() -> None:
    fit = fit_hazards(_simulate(seed=11), SIMULATED, ph_checks=False)
    summary = fit.summary.set_index("covariate")
    for name, truth in (("w", -0.5), ("z", math.log(2.0))):
        # Within two standard errors (a 95% statement; the seed is fixed).
        assert abs(summary.loc[name, "coef"] - truth) < 2 * summary.loc[name, "se"], name
        assert summary.loc[name, "hazard_ratio"] == pytest.approx(
            math.exp(summary.loc[name, "coef"])
        )
        assert summary.loc[name, "hr_low"] < math.exp(truth) < summary.loc[name, "hr_high"]
    np.testing.assert_allclose(np.sqrt(np.diag(fit.covariance)), summary["se"].to_numpy())
    # Baseline at w = z = 0: cumulative hazard 0.1 t.
    baseline = fit.baseline.set_index("age_years")["cum_hazard"]
    at_five = baseline[baseline.index <= 5].iloc[-1]
    assert at_five == pytest.approx(0.5, rel=0.15)
    assert 0.5 < fit.concordance < 0.7


def test_ph_check_flags_an_effect_that_fades() -> None:
    # x multiplies the hazard by e^2 before age 2 and leaves it alone after.
    # Times are rounded up to whole months (as ATOP's are), which keeps the split small.
    rng = np.random.default_rng(np.random.SeedSequence(5))
    n = 400
    x = (rng.uniform(size=n) < 0.5).astype(float)
    early = rng.exponential(1 / (0.1 * np.exp(2 * x)))
    late = 2 + rng.exponential(1 / 0.1, n)
    time = np.ceil(np.minimum(np.where(early < 2, early, late), 10.0) * 12) / 12
    data = pd.DataFrame(
        {
            "id": np.arange(n),
            "start": 0.0,
            "stop": time,
            "event": (time < 10).astype(int),
            "x": x,
            "year": 2000,
        }
    )
    fit = fit_hazards(data, ModelSpec("fading", "simulated", 1900, 2100, ("x",)))
    checks = fit.ph_checks.set_index("covariate")
    assert checks.loc["x", "p_holm"] < 0.001
    assert checks.loc["x", "coef_log_t"] < 0
    assert checks.loc["x", "hr_age1"] > checks.loc["x", "hr_age10"]


def test_time_varying_concordance_equals_harrell_for_one_row_each() -> None:
    lifelines_utils = pytest.importorskip("lifelines.utils")
    rng = np.random.default_rng(np.random.SeedSequence(3))
    n = 200
    risk = rng.normal(size=n)
    time = rng.exponential(np.exp(-risk))
    event = (rng.uniform(size=n) < 0.7).astype(int)
    ours = time_varying_concordance(np.zeros(n), time, event, np.arange(n), risk)
    assert ours == pytest.approx(lifelines_utils.concordance_index(time, -risk, event))


def test_round_to_four_significant_digits() -> None:
    frame = pd.DataFrame({"a": [123456.0, 0.000123456, math.nan, 0.0], "b": [1, 2, 3, 4]})
    rounded = hazards._rounded(frame)
    assert rounded["a"].iloc[0] == 123500.0
    assert rounded["a"].iloc[1] == 0.0001235
    assert math.isnan(rounded["a"].iloc[2])
    assert rounded["b"].tolist() == [1, 2, 3, 4]


# --- The committed outputs -------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(
    not (DATA / "atop" / hazards.ATOP_ALLIANCES).is_file()
    or not (DATA / "peace-science" / hazards.ARCHIGOS_FILE).is_file(),
    reason="data not found at ../shared/data (ATOP and peace-science files are not committed)",
)
def test_committed_outputs_are_what_write_hazards_produces(tmp_path: Path) -> None:
    written = hazards.run(DATA / "atop", DATA / "peace-science", tmp_path)
    assert [path.name for path in written] == list(OUTPUTS)
    for name in OUTPUTS:
        assert (tmp_path / name).read_text() == (CALIBRATION / name).read_text(), name
