"""Forecasts at a glance: termination dates by year, fan charts over draws, history."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from sim.engine.runner import run
from sim.errors import UserError
from sim.reports.forecasts import draw_survival, termination_table
from sim.reports.history import forecast_history, write_history
from sim.reports.uncertainty import drawn_rows
from tests.helpers import variant


@pytest.fixture(scope="module")
def drawn(baseline):
    """A run whose judged numbers are a joint sample of 10 rows per chunk."""
    cooling = {
        "probability": 0.5,
        "timing": {"month": 0},
        "effects": [{"target": "russia.isolation", "set": 0.0},
                    {"target": "russia.leader_commitment", "set": 0.3}],
    }  # fmt: skip
    scenario = variant(baseline, events={"cooling": cooling}, horizon=30, report_horizons=[30])
    return run(scenario, replications=1200, chunk_size=400, seed=4, workers=1, joint_draws=10,
               progress=False)  # fmt: skip


def test_termination_by_year_counts_the_replications_that_end_in_it(drawn):
    table = termination_table(drawn)
    outcomes = drawn.outcomes
    assert list(table.year.unique()) == [2025, 2026, 2027]  # Mar 2025 + 30 months
    for index, domain in enumerate(outcomes.channels):
        here = table[table.domain == domain]
        ended, month = outcomes.event[index], outcomes.month[index]
        for row in here.itertuples():
            inside = ended & (month >= row.first_month) & (month <= row.last_month)
            assert row.p_end_in_year == pytest.approx(inside.mean(), abs=1e-12)
        assert here.p_end_in_year.sum() == pytest.approx(ended.mean(), abs=1e-12)
        assert here.p_ended_by_end.iloc[-1] == pytest.approx(1 - here.p_alive_at_horizon.iloc[0])


def test_fan_pools_to_the_survival_curve_and_removes_sampling_noise(drawn):
    curves, pooled = draw_survival(drawn, "judgement")
    survival = drawn.survival
    for index, domain in enumerate(drawn.outcomes.channels):
        expected = survival[survival.domain == domain].p_survive.to_numpy()
        np.testing.assert_allclose(pooled[index], expected, atol=1e-12)
    # 3 chunks of 10 rows: 30 draws, about 40 replications each.
    assert curves.shape == (len(drawn.outcomes.channels), 30, 31)
    # Each draw's raw estimate, recomputed here independently of the function.
    ids, _rows = drawn_rows(drawn, "judgement")
    index = list(drawn.outcomes.channels).index("resources")
    ended = drawn.outcomes.event[index] & (drawn.outcomes.month[index] <= 30)
    raw = pd.Series(~ended).groupby(ids).mean()
    assert raw.var(ddof=0) >= curves[index, :, 30].var() - 1e-12
    # The pulled draws' spread is the raw spread less the binomial noise of each draw's
    # estimate, p(1 - p) / (n - 1) averaged over the draws (docs/outputs.md, fan charts).
    sizes = pd.Series(ids).value_counts().sort_index().to_numpy()
    noise = np.mean(raw.to_numpy() * (1 - raw.to_numpy()) / (sizes - 1))
    assert noise > 0.1 * raw.var(ddof=0)  # a case where removing the noise matters
    expected = max(raw.var(ddof=0) - noise, 0.0)
    assert curves[index, :, 30].var() == pytest.approx(expected, rel=1e-9, abs=1e-12)
    # Shrinking keeps the draws' mean and their order.
    assert curves[index, :, 30].mean() == pytest.approx(raw.mean(), abs=1e-12)
    assert (np.argsort(raw.to_numpy(), kind="stable")
            == np.argsort(curves[index, :, 30], kind="stable")).all()  # fmt: skip


def test_report_writes_the_fan_and_termination_figures(drawn, tmp_path):
    from sim.reports.report import write_reports

    written = {p.name for p in write_reports(drawn, tmp_path, formats=("csv", "png"))}
    assert {"termination.csv", "termination.png", "fan-judgement.png"} <= written
    with Image.open(tmp_path / "fan-judgement.png") as image:
        assert image.size[0] == 2100  # the full text width at 300 dpi


@pytest.mark.slow
def test_fan_figures_stay_with_the_process_that_holds_the_outcomes(drawn, tmp_path):
    # With another process drawing the PDFs (write_reports(elsewhere=...)), the fans,
    # which read the outcomes, are still drawn here, in both formats, to the same bytes.
    from sim.reports.report import write_reports

    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
    formats = ("png", "pdf")
    alone = write_reports(drawn, tmp_path / "one", formats=formats)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as helper:
        shared = write_reports(drawn, tmp_path / "two", formats=formats, elsewhere=helper)
    assert [p.name for p in shared] == [p.name for p in alone]
    assert {"fan-judgement.png", "fan-judgement.pdf", "survival.pdf"} <= {p.name for p in alone}
    for path in alone:
        assert (tmp_path / "two" / path.name).read_bytes() == path.read_bytes(), path.name


@pytest.fixture(scope="module")
def dated_runs(tmp_path_factory, baseline):
    folder = tmp_path_factory.mktemp("history")
    paths = []
    for seed in (1, 2):
        out = folder / f"run-{seed}"
        run(baseline, replications=300, horizon=24, seed=seed, workers=1, out=out,
            progress=False)  # fmt: skip
        paths.append(out)
    return paths


def test_history_draws_each_run_at_its_date(dated_runs, tmp_path):
    later, earlier = dated_runs[1], dated_runs[0]
    table = forecast_history([later, earlier], "resources", 24)
    assert table.run.tolist() == [str(earlier), str(later)], "in the order the runs started"
    for row in table.itertuples():
        survival = pd.read_csv(f"{row.run}/survival.csv")
        point = survival[(survival.domain == "resources") & (survival.month == 24)].iloc[0]
        assert row.p_survive == point.p_survive
        assert row.target == "2027-03"  # Mar 2025 + 24 months
    written = write_history(dated_runs, "resources", 24, tmp_path / "out" / "resources-24")
    assert [p.name for p in written] == ["resources-24.csv", "resources-24.png",
                                         "resources-24.pdf"]  # fmt: skip
    with Image.open(written[1]) as image:
        assert image.size[0] == 1050  # a single column at 300 dpi


def test_history_refuses_what_a_run_cannot_answer(dated_runs):
    with pytest.raises(UserError, match="did you mean resources"):
        forecast_history(dated_runs, "resorces", 24)
    with pytest.raises(UserError, match=r"beyond the run .* which simulated 24 months"):
        forecast_history(dated_runs, "resources", 36)
