"""Run outputs of the v2 outcomes: intensity, spells, co-failure, events, the intensity option.

Every table is checked against a direct computation on the arrays of ``outcomes.npz``
(numpy and pandas), not against the code that wrote it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.engine.runner import run
from sim.months import iso_month, parse_month
from sim.reports.comparison import paired_differences, write_comparison
from sim.reports.report import write_reports
from sim.reports.tables import headline_table, terminal_table
from sim.results import load_run
from tests.helpers import SCENARIOS, alliance_sim, compile_latex, needs_pdflatex, variant

NEW_FILES = {
    "intensity.csv", "intensity.png", "intensity.pdf", "spells.csv", "co_failure.csv",
    "events.csv",
}  # fmt: skip
HORIZONS = (12, 24, 60, 120)


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    """The flagship, 4,000 replications in two chunks, with the intensity option."""
    out = tmp_path_factory.mktemp("measures") / "run"
    done = alliance_sim(
        "run", str(SCENARIOS / "ukraine_ceasefire.yaml"), "--replications", "4000",
        "--chunk-size", "2000", "--seed", "7", "--out", str(out), "--quiet", "--workers", "1",
        "--intensity",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def arrays(saved) -> dict[str, np.ndarray]:
    with np.load(saved / "outcomes.npz") as archive:
        return {key: archive[key] for key in archive.files}


@pytest.fixture(scope="module")
def manifest(saved) -> dict:
    return json.loads((saved / "manifest.json").read_text())


def _ended(arrays, domain: str, horizon: int) -> np.ndarray:
    return arrays[f"{domain}__event"] & (arrays[f"{domain}__month"] <= horizon)


def test_run_writes_the_new_outputs_and_lists_them(saved, manifest):
    names = {p.name for p in saved.iterdir()}
    assert names >= NEW_FILES
    assert set(manifest["outputs"]) >= NEW_FILES


def test_intensity_csv_means_and_quantiles(saved, arrays, manifest):
    table = pd.read_csv(saved / "intensity.csv")
    assert list(table.columns) == [
        "domain", "month", "date", "mean", "q05", "q25", "q50", "q75", "q95",
    ]  # fmt: skip
    domains = manifest["domains"]
    assert list(dict.fromkeys(table.domain)) == domains
    assert len(table) == len(domains) * (manifest["horizon"] + 1)
    start = parse_month(manifest["start"])
    for domain in domains:
        here = table[table.domain == domain].set_index("month")
        for h in HORIZONS:
            values = arrays[f"{domain}__intensity_{h}"].astype(np.float64)
            assert here.loc[h, "date"] == iso_month(start + h)
            assert here.loc[h, "mean"] == pytest.approx(values.mean(), abs=1e-6)
            for column, q in (("q05", 0.05), ("q25", 0.25), ("q50", 0.5), ("q75", 0.75),
                              ("q95", 0.95)):  # fmt: skip
                assert abs(here.loc[h, column] - np.quantile(values, q)) <= 0.01 + 1e-6
        ordered = here[["q05", "q25", "q50", "q75", "q95"]].to_numpy()
        assert (np.diff(ordered, axis=1) >= 0).all()


def test_spells_csv_matches_the_arrays(saved, arrays, manifest):
    table = pd.read_csv(saved / "spells.csv").set_index("domain")
    n = manifest["replications"]
    for domain in manifest["domains"]:
        row = table.loc[domain]
        established = arrays[f"{domain}__emerged"] >= 0
        ending = pd.Series(arrays[f"{domain}__ending"][established])
        shares = ending.value_counts(normalize=True)
        assert row.replications == n
        assert row.mean_spells == pytest.approx(arrays[f"{domain}__spells"].mean())
        assert row.mean_alive_months == pytest.approx(arrays[f"{domain}__alive_months"].mean())
        assert row.mean_interruptions == pytest.approx(arrays[f"{domain}__interruptions"].mean())
        assert row.p_lapsed == pytest.approx(shares.get(1, 0.0))
        assert row.p_broken_off == pytest.approx(shares.get(2, 0.0))
        assert row.p_formally_ended == pytest.approx(shares.get(3, 0.0))
        assert row.p_not_ended == pytest.approx(shares.get(0, 0.0))
    markdown = (saved / "table.md").read_text()
    assert "**Spells and endings to Mar 2035**" in markdown
    assert "| Treaty in force |" in markdown.split("Spells and endings")[1]


def test_co_failure_csv_matches_the_arrays(saved, arrays, manifest):
    table = pd.read_csv(saved / "co_failure.csv")
    domains = manifest["domains"]
    assert len(table) == len(domains) * (len(domains) - 1) // 2 * len(HORIZONS)
    for h in (24, 120):
        ended = pd.DataFrame({d: _ended(arrays, d, h) for d in domains})
        here = table[table.horizon == h]
        for row in here.itertuples():
            a, b = ended[row.domain_a], ended[row.domain_b]
            both = (a & b).mean()
            assert row.p_both == pytest.approx(both, abs=1e-12)
            assert row.p_independent == pytest.approx(a.mean() * b.mean(), abs=1e-12)
            assert row.difference == pytest.approx(both - a.mean() * b.mean(), abs=1e-12)
            assert row.difference_low <= row.difference <= row.difference_high
            if a.mean() * b.mean() > 0:
                assert row.lift == pytest.approx(both / (a.mean() * b.mean()))
            else:
                assert np.isnan(row.lift)


def test_events_csv_matches_the_arrays(saved, arrays, manifest):
    table = pd.read_csv(saved / "events.csv", keep_default_na=False)
    assert list(table.event) == manifest["events"]
    start = parse_month(manifest["start"])
    for row in table.itertuples():
        months = arrays[f"event__{row.event}"]
        happened = months[months >= 0]
        assert row.p_happened == pytest.approx(happened.size / months.size)
        assert row.ci_low <= row.p_happened <= row.ci_high
        if happened.size:
            median = int(np.quantile(happened, 0.5, method="inverted_cdf"))
            assert (int(row.median_month), row.median_date) == (median, iso_month(start + median))
        assert row.description == manifest["scenario"]["events"][row.event]["description"]


def test_methods_names_the_co_failing_pairs_and_every_event(saved, manifest):
    text = " ".join((saved / "methods.md").read_text().split())
    assert "co_failure.csv" in text
    assert "pairs that co-fail most" in text
    for event in manifest["events"]:
        assert f"The event *{event}*" in text, event
    assert "intensity.csv" in text
    table = pd.read_csv(saved / "co_failure.csv")
    last = table[(table.horizon == 120) & (table.p_both >= 0.01) & (table.difference_low > 0)]
    top = last.sort_values("lift", ascending=False).iloc[0]
    assert f"{top.lift:.1f} times" in text


def test_headline_intensity_in_every_format(saved, arrays, manifest):
    csv = pd.read_csv(saved / "table.csv", comment="#").set_index("domain")
    for domain in manifest["domains"]:
        for h in HORIZONS:
            values = arrays[f"{domain}__intensity_{h}"].astype(np.float64)
            assert csv.loc[domain, f"intensity_{h}"] == pytest.approx(values.mean(), abs=1e-6)
            se = values.std() / np.sqrt(values.size)
            assert csv.loc[domain, f"intensity_se_{h}"] == pytest.approx(se, abs=2e-4)
    markdown = (saved / "table.md").read_text()
    header = next(line for line in markdown.splitlines() if line.startswith("| Domain"))
    assert header.split(" | ")[1:5] == ["Mar 2026", "intensity", "Mar 2027", "intensity"]
    military = next(line for line in markdown.splitlines() if line.startswith("| Military"))
    expected = arrays["military__intensity_24"].astype(np.float64).mean()
    assert military.split(" | ")[4] == f"{expected:.2f}"
    tex = (saved / "table.tex").read_text()
    assert r"{\footnotesize\itshape " + f"{expected:.2f}" + "}" in tex
    assert "in italics, the mean intensity" in tex


def test_report_without_the_option_leaves_intensity_out(saved, tmp_path):
    result = load_run(saved)
    plain = terminal_table(result)
    assert "intensity" not in plain
    assert "intensity" in terminal_table(result, headline_table(result, intensity=True))
    written = write_reports(result, tmp_path, formats=("csv",), record=False)
    assert {p.name for p in written} >= {"intensity.csv", "co_failure.csv", "table.csv"}
    assert "intensity_12" not in (tmp_path / "table.csv").read_text()


@needs_pdflatex
def test_latex_with_intensity_compiles_and_fits_a_text_column(saved, tmp_path):
    log = compile_latex(tmp_path, saved / "table.tex")
    assert "Overfull \\hbox" not in log


@pytest.mark.slow
def test_report_rebuilds_every_output_byte_for_byte(saved, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(saved, copy)
    names = [p.name for p in saved.iterdir() if p.is_file() and p.name != "manifest.json"]
    originals = {name: (copy / name).read_bytes() for name in names}
    for name in names:
        if name not in ("outcomes.npz", "replications.parquet", "survival.csv"):
            (copy / name).unlink()
    done = alliance_sim("report", str(copy), "--intensity")
    assert done.returncode == 0, done.stderr
    for name, content in originals.items():
        assert (copy / name).read_bytes() == content, name


def test_intensity_figure_is_full_width(saved):
    from PIL import Image

    with Image.open(saved / "intensity.png") as image:
        assert image.size[0] == 7 * 300
    assert b"/MediaBox [ 0 0 504" in (saved / "intensity.pdf").read_bytes()


@pytest.fixture(scope="module")
def pair(baseline, ceasefire):
    settings = {"replications": 2000, "seed": 5, "workers": 1, "horizon": 60}
    return {"baseline": run(baseline, **settings), "ukraine_ceasefire": run(ceasefire, **settings)}


def test_paired_mean_intensity_matches_the_arrays(pair):
    table = paired_differences(pair, "baseline")
    rows = table[table.measure == "mean_intensity"]
    base, other = pair["baseline"].outcomes, pair["ukraine_ceasefire"].outcomes
    assert len(rows) == len(base.channels) * len(base.report_horizons)
    for row in rows.itertuples():
        d, k = base.channels.index(row.domain), base.report_horizons.index(row.horizon)
        mine = other.intensity_at[d, k].astype(np.float64)
        theirs = base.intensity_at[d, k].astype(np.float64)
        differences = mine - theirs
        half = 1.959964 * differences.std(ddof=1) / np.sqrt(differences.size)
        assert row.value == pytest.approx(mine.mean(), abs=1e-9)
        assert row.baseline_value == pytest.approx(theirs.mean(), abs=1e-9)
        assert row.difference == pytest.approx(differences.mean(), abs=1e-9)
        assert row.difference_low == pytest.approx(differences.mean() - half, abs=1e-6)
        assert row.difference_high == pytest.approx(differences.mean() + half, abs=1e-6)
    military = rows[(rows.domain == "military") & (rows.horizon == 24)].iloc[0]
    assert military.difference_high < 0  # a ceasefire winds military cooperation down


@pytest.mark.slow
def test_comparison_files_show_mean_intensity(pair, tmp_path):
    table = paired_differences(pair, "baseline")
    written = {p.name for p in write_comparison(table, pair, tmp_path)}
    assert {"comparison-intensity.png", "comparison-intensity.pdf"} <= written
    markdown = (tmp_path / "comparison.md").read_text()
    assert "**Mean intensity, ukraine_ceasefire − baseline**" in markdown
    section = markdown.split("**Mean intensity, ukraine_ceasefire − baseline**")[1]
    assert "| Treaty in force |" not in section  # a treaty's "intensity" is P(in force)
    assert "tab:compare-intensity-ukraine-ceasefire" in (tmp_path / "comparison.tex").read_text()
    csv = pd.read_csv(tmp_path / "comparison.csv")
    assert set(csv.measure) == {"p_alive", "median", "rmst", "mean_intensity"}
    if shutil.which("pdflatex"):
        log = compile_latex(tmp_path, tmp_path / "comparison.tex")
        assert "Overfull \\hbox" not in log


@pytest.mark.slow
def test_outputs_do_not_depend_on_the_number_of_workers(ceasefire, tmp_path):
    short = variant(ceasefire, horizon=36, report_horizons=[12, 36])
    outs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        result = run(short, replications=3000, chunk_size=500, seed=3, workers=workers, out=out)
        write_reports(result, formats=("csv", "md"), intensity=True)
        outs.append(out)
    for name in ("intensity.csv", "co_failure.csv", "spells.csv", "events.csv", "table.csv"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
