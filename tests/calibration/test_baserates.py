"""Base rates of alliance survival from ATOP v4.01, recomputed from the data when it is here."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.calibration.baserates import (
    ATOP_FILE,
    GROUPS,
    base_rates,
    load_alliances,
    write_base_rates,
)
from sim.errors import UserError
from sim.stats.survival import LifeTable, kaplan_meier, median_survival
from tests.helpers import ATOP, ROOT, needs_atop

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import lifelines
    from lifelines.utils import median_survival_times

CALIBRATION = ROOT / "calibration"

# The orientation figures of the data's README. It quotes survival to 2 decimals, so a
# recomputation by the same conventions is within 0.005 of each; it quotes the medians of
# all alliances and of defence pacts to the year ("about 21", "about 11": within 0.5) and
# the others to a tenth of a year (within 0.05). Rounding is the only slack allowed.
README = {
    "all": {"median_years": (21, 0.5), "s_1y": 0.94, "s_5y": 0.79, "s_10y": 0.67},
    "defence": {"median_years": (11, 0.5)},
    "wartime": {"median_years": (4.0, 0.05), "s_1y": 0.87, "s_5y": 0.39, "s_10y": 0.28},
    "bilateral_defence_postwar": {
        "median_years": (19.6, 0.05),
        "s_1y": 0.95,
        "s_5y": 0.81,
        "s_10y": 0.67,
    },
}


@pytest.fixture(scope="module")
def alliances() -> pd.DataFrame:
    return load_alliances(ATOP)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return base_rates(ATOP)


def _curve(months: np.ndarray, ended: np.ndarray) -> pd.DataFrame:
    return kaplan_meier(LifeTable.from_outcomes(months, ended, max(int(months.max()), 120)))


@needs_atop
def test_recomputation_equals_the_committed_table(table):
    committed = pd.read_csv(CALIBRATION / "base_rates.csv")
    assert list(committed.columns) == list(table.columns)
    assert committed["group"].tolist() == [group.name for group in GROUPS]
    pd.testing.assert_frame_equal(committed, table, check_exact=False, atol=1e-4, rtol=0)


@needs_atop
def test_written_files_are_the_committed_ones(table, tmp_path):
    paths = write_base_rates(table, tmp_path)
    assert [path.name for path in paths] == ["base_rates.csv", "base_rates.md"]
    for path in paths:
        assert path.read_bytes() == (CALIBRATION / path.name).read_bytes(), path.name


@needs_atop
@pytest.mark.parametrize("group", list(README))
def test_readme_orientation_figures(table, group):
    row = table.set_index("group").loc[group]
    for column, quoted in README[group].items():
        expected, tolerance = quoted if isinstance(quoted, tuple) else (quoted, 0.005)
        assert abs(row[column] - expected) <= tolerance + 1e-12, (group, column, row[column])


@needs_atop
def test_counts_and_codes(alliances, table):
    assert len(alliances) == 745
    assert alliances["atopid"].is_unique
    rows = table.set_index("group")
    assert rows.loc["all", "n"] == 745
    assert rows.loc["all", "events"] == 411
    ongoing = alliances["ineffect"] == 1
    # 0 in the end columns codes "still in effect", and only that.
    for column in ("endyr", "endmo", "endday"):
        assert ((alliances[column] == 0) == ongoing).all(), column
    assert alliances[["begyr", "begmo", "endyr", "endmo"]].notna().all(axis=None)
    assert alliances.loc[~ongoing, "endmo"].between(1, 12).all()
    assert (alliances["ended"] == ~ongoing).all()
    latest_begin = alliances.loc[alliances["begyr"].idxmax()]
    assert (latest_begin["begyr"], latest_begin["begmo"], latest_begin["months"]) == (2016, 6, 6)


@needs_atop
def test_zero_month_alliances_are_events_at_month_zero(alliances):
    zero = alliances[alliances["months"] == 0]
    assert zero["atopid"].tolist() == [1230, 2520]
    assert zero["ended"].all()
    assert zero["in_russia"].all()
    curve = _curve(alliances["months"].to_numpy(), alliances["ended"].to_numpy())
    assert curve.loc[0, "p_survive"] == pytest.approx(743 / 745)
    # Counting them at month 1 instead would change nothing reported.
    moved = _curve(np.maximum(alliances["months"].to_numpy(), 1), alliances["ended"].to_numpy())
    columns = ["p_survive", "ci_low", "ci_high"]
    np.testing.assert_allclose(moved.loc[1:, columns], curve.loc[1:, columns], atol=1e-12)


@needs_atop
def test_counting_both_end_months_would_miss_the_wartime_median(alliances):
    wartime = alliances[alliances["in_wartime"]]
    months, ended = wartime["months"].to_numpy(), wartime["ended"].to_numpy()
    assert median_survival(_curve(months, ended)).estimate == 48
    assert median_survival(_curve(months + 1, ended)).estimate == 49


@needs_atop
def test_censoring_in_january_2017_changes_no_rate_by_1e4(alliances, table):
    months = alliances["months"].to_numpy() + ~alliances["ended"].to_numpy()
    for group in GROUPS:
        selected = alliances[f"in_{group.name}"].to_numpy()
        curve = _curve(months[selected], alliances["ended"].to_numpy()[selected])
        row = table.set_index("group").loc[group.name]
        assert curve.loc[[12, 60, 120], "p_survive"].tolist() == pytest.approx(
            [row["s_1y"], row["s_5y"], row["s_10y"]], abs=1e-4
        )
        assert median_survival(curve).estimate == round(row["median_years"] * 12)


@needs_atop
def test_formed_after_1945_means_from_1945(alliances, table):
    pacts = alliances[(alliances["bilat"] == 1) & (alliances["defense"] == 1)]
    strict = pacts[pacts["begyr"] > 1945]
    curve = _curve(strict["months"].to_numpy(), strict["ended"].to_numpy())
    # Both readings give the README's 19.6-year median; only >= 1945 gives its 0.81 at 5 years.
    assert median_survival(curve).estimate == 235
    assert round(curve.loc[60, "p_survive"], 2) == 0.83
    row = table.set_index("group").loc["bilateral_defence_postwar"]
    assert round(row["median_years"] * 12) == 235
    assert round(row["s_5y"], 2) == 0.81
    extra = pacts[pacts["begyr"] == 1945]
    assert extra["atopid"].tolist() == [3020, 3025, 3030]
    assert extra["in_russia"].all()


@needs_atop
def test_russia_group_agrees_with_the_member_level_file(alliances):
    members = pd.read_csv(ATOP / "atop-4.01-member-level.csv", usecols=["atopid", "member"])
    expected = set(members.loc[members["member"] == 365, "atopid"])
    assert set(alliances.loc[alliances["in_russia"], "atopid"]) == expected


@needs_atop
@pytest.mark.filterwarnings("ignore:The confidence interval is undefined:RuntimeWarning")
def test_russia_group_matches_lifelines_and_scipy(alliances, table):
    # The Russia group has both zero-month events and many censored alliances.
    group = alliances[alliances["in_russia"]]
    months = group["months"].to_numpy()
    ended = group["ended"].to_numpy()
    ours = _curve(months, ended)
    grid = np.arange(len(ours))

    sf = stats.ecdf(stats.CensoredData(uncensored=months[ended], right=months[~ended])).sf
    band = sf.confidence_interval(0.95, method="log-log")
    low, high = band.low.evaluate(grid), band.high.evaluate(grid)
    np.testing.assert_allclose(ours["p_survive"], sf.evaluate(grid), atol=1e-9)
    # The longest alliance with Russia ended (month 640), so S falls to 0 there: scipy leaves
    # the log-log band undefined, sim.survival reports [0, 0].
    defined = ~np.isnan(low)
    assert (ours.loc[~defined, ["p_survive", "ci_low", "ci_high"]] == 0).all(axis=None)
    assert grid[~defined].tolist() == [640]
    np.testing.assert_allclose(ours["ci_low"][defined], low[defined], atol=1e-9)
    np.testing.assert_allclose(ours["ci_high"][defined], high[defined], atol=1e-9)

    fitter = lifelines.KaplanMeierFitter().fit(months, ended)
    interval = fitter.confidence_interval_survival_function_.reindex(grid, method="ffill")
    np.testing.assert_allclose(
        ours["p_survive"], fitter.survival_function_at_times(grid), atol=1e-9
    )
    np.testing.assert_allclose(ours["ci_low"], interval.iloc[:, 0], atol=1e-9)
    np.testing.assert_allclose(ours["ci_high"], interval.iloc[:, 1], atol=1e-9)

    row = table.set_index("group").loc["russia"]
    assert row["s_5y"] == pytest.approx(fitter.survival_function_at_times(60).iloc[0], abs=1e-9)
    median = median_survival_times(fitter.confidence_interval_).iloc[0]
    assert row["median_years"] * 12 == pytest.approx(fitter.median_survival_time_)
    assert row["median_low_years"] * 12 == pytest.approx(median.iloc[0])
    assert row["median_high_years"] * 12 == pytest.approx(median.iloc[1])


def test_missing_directory_names_the_file(tmp_path):
    with pytest.raises(UserError, match=ATOP_FILE) as error:
        base_rates(tmp_path / "nowhere")
    assert "nowhere" in str(error.value)


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(UserError, match=f"{ATOP_FILE} not found in"):
        load_alliances(tmp_path)


def _write_atop(directory, text):
    (directory / ATOP_FILE).write_text(text)
    return directory


def test_missing_column_is_named(tmp_path):
    _write_atop(tmp_path, "atopid,begyr,begmo,endyr,endmo,ineffect,bilat,wartime,mem1\n")
    with pytest.raises(UserError, match=r"missing column.*defense"):
        load_alliances(tmp_path)


def test_ended_alliance_without_end_month_is_refused(tmp_path):
    header = "atopid,begyr,begmo,endyr,endmo,ineffect,bilat,wartime,defense,mem1,mem2\n"
    _write_atop(tmp_path, header + "1,1900,3,1910,0,0,1,0,1,2,200\n")
    with pytest.raises(UserError, match=r"no end year, or no end month.*atopid 1"):
        load_alliances(tmp_path)


def test_small_file_gives_durations_censoring_and_groups(tmp_path):
    header = "atopid,begyr,begmo,endyr,endmo,ineffect,bilat,wartime,defense,mem1,mem2\n"
    rows = "1,1950,1,1951,1,0,1,0,1,2,365\n2,2000,6,0,0,1,0,1,0,2,200\n3,1944,5,,,1,1,0,1,2,20\n"
    alliances = load_alliances(_write_atop(tmp_path, header + rows))
    assert alliances["months"].tolist() == [12, 198, 871]
    assert alliances["ended"].tolist() == [True, False, False]
    assert alliances["in_russia"].tolist() == [True, False, False]
    assert alliances["in_bilateral_defence_postwar"].tolist() == [True, False, False]
    assert alliances["in_wartime"].tolist() == [False, True, False]
