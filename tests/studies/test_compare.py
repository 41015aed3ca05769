"""Comparisons: common random numbers, paired statistics, outputs, resuming."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from sim.engine.runner import run
from sim.errors import UserError
from sim.reports.comparison import COLUMNS, paired_differences
from sim.stats.survival import newcombe_paired, restricted_mean
from sim.studies.compare import compare
from tests.helpers import SCENARIOS, alliance_sim, compile_latex, variant

SETTINGS = {"replications": 4000, "horizon": 120, "workers": 1}


@pytest.fixture(scope="module")
def runs(baseline, ceasefire):
    return {
        "baseline": run(baseline, seed=5, **SETTINGS),
        "ukraine_ceasefire": run(ceasefire, seed=5, **SETTINGS),
        "independent": run(variant(ceasefire, name="independent"), seed=6, **SETTINGS),
    }


def _width(table: pd.DataFrame, scenario: str, domain: str, horizon: int = 120) -> float:
    row = table[(table.scenario == scenario) & (table.domain == domain)
                & (table.measure == "p_alive") & (table.horizon == horizon)].iloc[0]  # fmt: skip
    return row.difference_high - row.difference_low


def test_common_random_numbers_narrow_the_interval_of_a_difference(runs):
    table = paired_differences(runs, "baseline")
    widths = {
        domain: (_width(table, "ukraine_ceasefire", domain), _width(table, "independent", domain))
        for domain in runs["baseline"].scenario.channels
    }
    # Never wider (up to the interval method's own slack) and much narrower in all: where
    # the ceasefire barely acts, identical random numbers give nearly identical outcomes.
    assert all(common <= 1.05 * independent for common, independent in widths.values()), widths
    common, independent = (sum(width) for width in zip(*widths.values(), strict=True))
    assert common < 0.7 * independent, widths


def test_paired_table_is_tidy_and_consistent(runs):
    table = paired_differences({k: runs[k] for k in ("baseline", "ukraine_ceasefire")}, "baseline")
    assert list(table.columns) == COLUMNS
    assert set(table.measure) == {"p_alive", "median", "rmst", "mean_intensity"}
    alive = table[table.measure == "p_alive"]
    np.testing.assert_allclose(alive.difference, alive.value - alive.baseline_value, atol=1e-12)
    assert (alive.difference_low <= alive.difference + 1e-12).all()
    assert (alive.difference <= alive.difference_high + 1e-12).all()
    rmst = table[(table.measure == "rmst") & (table.domain == "military")].iloc[0]
    expected = [restricted_mean(runs[k].summary.life_tables["military"], 120)[0]
                for k in ("ukraine_ceasefire", "baseline")]  # fmt: skip
    assert rmst.difference == pytest.approx(expected[0] - expected[1])
    assert rmst.difference_low < rmst.difference < rmst.difference_high


def test_newcombe_interval_covers_the_true_difference_95_percent_of_the_time():
    rng = np.random.default_rng(4)
    # Paired outcomes: P(both) 0.55, P(first only) 0.15, P(second only) 0.05, P(neither) 0.25.
    cells = rng.multinomial(150, [0.55, 0.15, 0.05, 0.25], size=4000).T
    difference, low, high = newcombe_paired(*cells)
    coverage = np.mean((low <= 0.10) & (high >= 0.10))
    # Nominal 0.95 over 4,000 trials: SE sqrt(0.95 × 0.05 / 4000) = 0.0034, so ±5.8 SE.
    assert 0.93 <= coverage <= 0.97, coverage
    assert np.all(low <= difference)
    assert np.all(difference <= high)


def test_newcombe_agrees_with_the_normal_approximation_for_large_samples():
    a, b, c, d = 50_000, 4_000, 1_500, 44_500
    n = a + b + c + d
    difference, low, high = newcombe_paired(a, b, c, d)
    se = np.sqrt(b + c - (b - c) ** 2 / n) / n
    assert difference == pytest.approx((b - c) / n)
    assert low == pytest.approx(difference - 1.96 * se, abs=2e-4)
    assert high == pytest.approx(difference + 1.96 * se, abs=2e-4)


@pytest.mark.slow
def test_compare_command_writes_tables_and_figure(tmp_path):
    out = tmp_path / "cmp"
    # As docs/scenarios.md writes it: a list that holds the --baseline file too (a glob).
    done = alliance_sim(
        "compare", str(SCENARIOS / "ukraine_ceasefire.yaml"), str(SCENARIOS / "baseline.yaml"),
        str(SCENARIOS / "us_russia_deal_sanctions_relief.yaml"),
        "--baseline", str(SCENARIOS / ".." / "scenarios" / "baseline.yaml"),
        "--replications", "2000", "--out", str(out), "--quiet", "--workers", "1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "**P(alive) in Mar 2035, compared with baseline**" in done.stdout
    names = {p.name for p in out.iterdir()}
    assert {"comparison.csv", "comparison.md", "comparison.tex", "comparison.png", "comparison.pdf",
            "manifest.json", "runs"} <= names  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert [s["name"] for s in manifest["scenarios"]] == [
        "baseline", "ukraine_ceasefire", "us_russia_deal_sanctions_relief",
    ]  # fmt: skip
    tex = (out / "comparison.tex").read_text()
    assert r"\toprule" in tex
    assert r"$\Delta$" in tex
    table = pd.read_csv(out / "comparison.csv")
    assert set(table.scenario) == {"ukraine_ceasefire", "us_russia_deal_sanctions_relief"}
    if shutil.which("pdflatex"):
        log = compile_latex(tmp_path, out / "comparison.tex")
        assert "Overfull \\hbox" not in log


@pytest.mark.slow
def test_interrupted_comparison_resumes_to_the_same_table(tmp_path, baseline, ceasefire):
    whole = tmp_path / "whole"
    compare([baseline, ceasefire], replications=1500, horizon=60, workers=1, out=whole)
    partial = tmp_path / "partial"
    shutil.copytree(whole, partial)
    shutil.rmtree(partial / "runs" / "ukraine_ceasefire")
    for name in ("comparison.csv", "comparison.md"):
        (partial / name).unlink()
    manifest = json.loads((partial / "manifest.json").read_text())
    (partial / "manifest.json").write_text(json.dumps(manifest | {"status": "running"}))
    compare([], resume=partial, workers=1)
    assert (partial / "comparison.csv").read_bytes() == (whole / "comparison.csv").read_bytes()


def test_compare_refuses_what_cannot_be_compared(baseline, ceasefire):
    with pytest.raises(UserError, match="at least two"):
        compare([baseline])
    with pytest.raises(UserError, match="different names"):
        compare([baseline, variant(ceasefire, name="baseline")])
    with pytest.raises(UserError, match="different names"):
        compare([ceasefire, variant(ceasefire, name="baseline")], baseline=baseline)


def test_study_directories_are_created_cleanly_or_not_at_all(tmp_path, monkeypatch):
    from sim.results import rundir
    from sim.results.rundir import RunDirectory

    run_manifest = {"format": "alliance-sim run 1"}
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(UserError, match="is not a run directory: refusing"):
        RunDirectory.create(blocker, force=True, manifest=run_manifest)
    with pytest.raises(UserError, match="cannot create the run directory"):
        RunDirectory.create(blocker / "run", force=True, manifest=run_manifest)
    assert blocker.read_text() == "not a directory"

    def disk_full(path, data):
        raise UserError(f"cannot write {path}: No space left on device")

    manifest = {"format": "alliance-sim comparison 1"}
    out = tmp_path / "new" / "cmp"
    monkeypatch.setattr(rundir, "write_json", disk_full)
    with pytest.raises(UserError, match="No space left"):
        RunDirectory.create(out, manifest=manifest, folder="runs")
    assert not (tmp_path / "new").exists()
    monkeypatch.undo()
    directory = RunDirectory.create(out, manifest=manifest, folder="runs")
    assert sorted(p.name for p in directory.path.iterdir()) == ["manifest.json", "runs"]
    with pytest.raises(UserError, match="is not a run directory: refusing"):
        RunDirectory.create(out, force=True, manifest=run_manifest)


def test_only_a_resume_removes_stale_temporaries(tmp_path):
    from sim.results.rundir import RunDirectory

    directory = RunDirectory.create(tmp_path / "run", manifest={"format": "alliance-sim run 1"})
    stale = [directory.path / ".outcomes.npz.tmp-1", directory.path / "chunks" / ".c.npz.tmp-1"]
    for file in stale:
        file.write_bytes(b"half")
    RunDirectory.existing(directory.path, "run")  # a reader, as report and compare are
    assert all(file.exists() for file in stale)
    RunDirectory.resumable(directory.path, "run")
    assert not any(file.exists() for file in stale)
    with pytest.raises(UserError, match="is a run directory, not a comparison directory"):
        compare([], resume=directory.path)


@pytest.mark.slow
def test_a_comparison_shows_its_differences_and_figure(runs):
    from sim.studies.compare import Comparison
    from tests.results.test_display import inline_image

    results = {name: runs[name] for name in ("baseline", "ukraine_ceasefire")}
    table = paired_differences(results, "baseline")
    page = Comparison(table, "baseline", results, None, {})._repr_html_()
    assert "Comparison with baseline: P(channel alive) in Mar 2035" in page
    assert "<th>Δ ukraine_ceasefire</th>" in page
    row = table[(table.domain == "military") & (table.measure == "p_alive")
                & (table.horizon == 120)].iloc[0]  # fmt: skip
    assert f"{row.value:.2f} [{row.value_low:.2f}, {row.value_high:.2f}]" in page
    inline_image(page)
