"""Reports: files a paper needs, their format, rebuilt from a saved run, and make paper."""

from __future__ import annotations

import io
import multiprocessing
import re
import shutil
import warnings
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from sim.engine.runner import run
from sim.errors import UserError
from sim.reports.report import methods_text, write_reports
from sim.reports.tables import (
    headline_table,
    interval_cell,
    latex_escape,
    latex_table,
    markdown_table,
    terminal_table,
)
from sim.results import load_run
from sim.scenario import load_scenario
from sim.stats.survival import (
    LifeTable,
    Summary,
    domains_alive,
    kaplan_meier,
    median_survival,
    restricted_mean,
)
from sim.studies.paper import PAPER_REPLICATIONS
from sim.studies.paper import paper as write_paper
from tests.helpers import ROOT, SCENARIOS, alliance_sim, compile_latex, needs_pdflatex, variant

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import lifelines
    from lifelines.utils import median_survival_times, restricted_mean_survival_time

RUN_FILES = {
    "manifest.json", "outcomes.npz", "survival.csv", "table.md", "table.tex", "table.csv",
    "relationship.csv", "survival.png", "survival.pdf", "alive.png", "alive.pdf", "methods.md",
    "intensity.csv", "intensity.png", "intensity.pdf", "spells.csv", "co_failure.csv",
    "events.csv", "replications.parquet", "termination.csv", "termination.png",
    "termination.pdf",
}  # fmt: skip
# Two decimals, or more where two would hide the interval (see interval_cell).
CELL = re.compile(r"^\d\.\d{2,5} \[\d\.\d{2,5}, \d\.\d{2,5}\]$")


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "run"
    done = alliance_sim(
        "run", str(SCENARIOS / "ceasefire_plus_deal.yaml"), "--replications", "6000",
        "--seed", "11", "--out", str(out), "--quiet", "--workers", "1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def fast_run(baseline):
    """A run whose curves fall below 0.5, so medians are reached: Russia cools at once."""
    cooling = {
        "timing": {"month": 0},
        "effects": [
            {"target": "russia.isolation", "set": 0.0},
            {"target": "russia.leader_commitment", "set": 0.3},
        ],
    }
    fast = variant(baseline, events={"cooling": cooling}, horizon=60, report_horizons=[12, 60])
    return run(fast, replications=4000, seed=2, workers=1)


def test_run_directory_holds_every_report(saved_run):
    assert {p.name for p in saved_run.iterdir()} == RUN_FILES


def test_markdown_table_has_dates_cells_and_provenance(saved_run):
    text = (saved_run / "table.md").read_text()
    header = next(line for line in text.splitlines() if line.startswith("| Domain"))
    assert header.split(" | ")[1:5] == ["Mar 2026", "Mar 2027", "Mar 2030", "Mar 2035"]
    rows = [line for line in text.splitlines() if line.startswith("| Military")]
    cells = rows[0].strip("| ").split(" | ")
    assert all(CELL.match(cell) for cell in cells[1:5])
    assert "seed 11, 6,000 replications, alliance-sim" in text
    assert "**Relationship-level measures**" in text


def test_latex_table_uses_booktabs_caption_label_and_nr(saved_run):
    text = (saved_run / "table.tex").read_text()
    for command in (
        r"\toprule",
        r"\midrule",
        r"\bottomrule",
        r"\caption{",
        r"\label{tab:ceasefire-plus-deal}",
    ):
        assert command in text
    assert text.count(r"\\") >= 14
    assert " NR \\\\" in text
    assert r"ceasefire\_plus\_deal" in text
    assert latex_escape("a_b & 5% #1 {x} ~ ^ \\") == (
        r"a\_b \& 5\% \#1 \{x\} \textasciitilde{} \textasciicircum{} \textbackslash{}"
    )


@needs_pdflatex
def test_latex_table_compiles_and_fits_a_text_column(saved_run, tmp_path):
    log = compile_latex(tmp_path, saved_run / "table.tex")
    assert "Overfull \\hbox" not in log


def test_report_rebuilds_identical_files_without_simulating(saved_run, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(saved_run, copy)
    originals = {name: (copy / name).read_bytes() for name in RUN_FILES - {"manifest.json"}}
    for name in (
        "table.md",
        "table.tex",
        "table.csv",
        "survival.png",
        "survival.pdf",
        "methods.md",
    ):
        (copy / name).unlink()
    done = alliance_sim("report", str(copy), "--format", "md,tex,csv,png,pdf")
    assert done.returncode == 0, done.stderr
    for name, content in originals.items():
        assert (copy / name).read_bytes() == content, name


def test_report_format_option_is_checked(saved_run):
    done = alliance_sim("report", str(saved_run), "--format", "md,docx")
    assert done.returncode == 2
    assert "unknown format 'docx'; choose from md,tex,csv,png,pdf" in done.stderr


def test_figures_are_sized_for_journal_columns(saved_run):
    from PIL import Image

    with Image.open(saved_run / "survival.png") as image:
        assert image.size[0] == 7 * 300
        assert image.mode == "RGB"  # opaque, written without an alpha channel
        assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
        image.load()  # the whole file decodes
    with Image.open(saved_run / "alive.png") as image:
        assert image.size[0] == round(3.5 * 300)
    assert b"/MediaBox [ 0 0 504" in (saved_run / "survival.pdf").read_bytes()


def test_methods_states_settings_and_monte_carlo_error(saved_run):
    text = (saved_run / "methods.md").read_text()
    for phrase in (
        "6,000 replications",
        "seed 11",
        "Kaplan–Meier",
        "log-log",
        "Wilson",
        "Monte Carlo standard error",
        "Brookmeyer",
    ):
        assert phrase in text.replace("\n", " "), phrase
    # The domains all but certain to survive, and only they, are said to be so by the
    # scenario's lights only.
    table = pd.read_csv(saved_run / "table.csv", comment="#").set_index("domain")
    sure = table.label[table.p_120 >= 0.99].tolist()
    assert sure == ["Labour"]
    assert (
        "Labour is alive at 120 months in at least 99% of replications: "
        "nothing in this scenario moves its drivers far enough to end it"
    ) in " ".join(text.split())


def test_headline_numbers_match_scipy_and_lifelines_on_model_outcomes(fast_run):
    outcomes = fast_run.outcomes
    table = headline_table(fast_run)
    for domain in ("defence_treaty", "resources", "science_technology", "tourism"):
        row = outcomes.channels.index(domain)
        months, events = outcomes.month[row], outcomes.event[row]
        ours = kaplan_meier(LifeTable.from_outcomes(months, events, outcomes.horizon))
        sf = stats.ecdf(stats.CensoredData(uncensored=months[events], right=months[~events])).sf
        band = sf.confidence_interval(0.95, method="log-log")
        grid = np.arange(outcomes.horizon + 1)
        np.testing.assert_allclose(ours.p_survive, sf.evaluate(grid), atol=1e-9)
        low, high = band.low.evaluate(grid), band.high.evaluate(grid)
        # Where every replication has ended (S = 0) scipy's log-log band is undefined (NaN);
        # the tables show [0, 0].
        finite = np.isfinite(low)
        assert np.all(ours.p_survive[~finite] == 0)
        np.testing.assert_allclose(ours.ci_low[finite], low[finite], atol=1e-9)
        np.testing.assert_allclose(ours.ci_high[finite], high[finite], atol=1e-9)
        assert np.all(ours.ci_low[~finite] == 0)
        assert np.all(ours.ci_high[~finite] == 0)
        fitter = lifelines.KaplanMeierFitter().fit(months, events)
        if np.isinf(fitter.median_survival_time_):  # not reached: NR in the tables
            assert np.isnan(table.loc[domain, "median"])
        else:
            assert table.loc[domain, "median"] == fitter.median_survival_time_
        interval = median_survival_times(fitter.confidence_interval_).iloc[0]
        median = median_survival(ours)
        expected = [None if np.isinf(v) else v for v in interval]
        assert [median.low, median.high] == expected
        rmst = restricted_mean_survival_time(fitter, t=outcomes.horizon)
        assert table.loc[domain, "rmst"] == pytest.approx(rmst, abs=1e-9)
        # Every replication is followed to the horizon, so the RMST's standard error is
        # that of a mean of min(T, horizon).
        spread = np.minimum(months, outcomes.horizon).std() / np.sqrt(months.size)
        assert table.loc[domain, "rmst_se"] == pytest.approx(spread, rel=0.01)


def test_medians_not_reached_are_floats_shown_as_nr(baseline):
    # Over six months of the baseline no domain's curve reaches 0.5: every median column
    # is NaN of dtype float, as it is where some domains reach one, and the table says NR.
    result = run(baseline, replications=200, horizon=6, seed=1, workers=1, progress=False)
    table = headline_table(result)
    for column in ("median", "median_low", "median_high"):
        assert table[column].dtype == np.float64, column
        assert table[column].isna().all(), column
    assert "NR" in markdown_table(result, table)


def test_wilson_intervals_follow_the_closed_form(fast_run):
    table = headline_table(fast_run)
    n, z = 4000, stats.norm.ppf(0.975)
    for h in (12, 60):
        p = table[f"p_{h}"].to_numpy()
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
        np.testing.assert_allclose(table[f"low_{h}"], centre - half, atol=1e-9)
        np.testing.assert_allclose(table[f"high_{h}"], centre + half, atol=1e-9)


def test_domains_alive_counts_each_replication(fast_run):
    outcomes = fast_run.outcomes
    measures = domains_alive(Summary.from_outcomes(outcomes), [12, 60]).set_index("horizon")
    channels = [i for i, d in enumerate(outcomes.channels) if d not in outcomes.treaties]
    for h in (12, 60):
        alive = ((~outcomes.event) | (outcomes.month > h))[channels].sum(axis=0)
        assert measures.loc[h, "mean"] == pytest.approx(alive.mean())
        assert measures.loc[h, "p_at_least_10"] == pytest.approx((alive >= 10).mean())
        assert measures.loc[h, "p_at_least_1"] == pytest.approx((alive >= 1).mean())


def test_restricted_mean_of_a_known_curve():
    # Half the replications end in month 2, none after: S = 1, 1, 0.5, 0.5, ...
    table = LifeTable.from_outcomes(np.array([2, 2, 10, 10]), np.array([1, 1, 0, 0], bool), 10)
    assert restricted_mean(table, 10)[0] == pytest.approx(2 + 0.5 * 8)


def test_small_paper_is_reproducible_byte_for_byte(tmp_path):
    files = [SCENARIOS / "baseline.yaml", SCENARIOS / "ukraine_ceasefire.yaml"]
    first = write_paper(files, tmp_path / "a", replications=2000, workers=1)
    second = write_paper(files, tmp_path / "b", replications=2000, workers=2)
    assert [p.name for p in first] == [p.name for p in second]
    assert len(first) == 7
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert "`ukraine_ceasefire`" in (tmp_path / "a" / "README.md").read_text()


@pytest.mark.slow
def test_committed_paper_tables_are_what_make_paper_writes(tmp_path):
    committed = ROOT / "results" / "paper"
    library = sorted(SCENARIOS.glob("*.yaml"))
    written = write_paper(library, tmp_path, replications=PAPER_REPLICATIONS)
    assert sorted(p.name for p in committed.iterdir()) == sorted(p.name for p in written)
    for path in written:
        assert path.read_bytes() == (committed / path.name).read_bytes(), (
            f"results/paper/{path.name} is stale: run `make paper` and commit"
        )


def test_markdown_table_renders_not_reached_medians(fast_run, baseline):
    slow = run(baseline, replications=500, seed=1, horizon=24, workers=1)
    domains = len(baseline.channels) + len(baseline.treaties)
    assert markdown_table(slow).count("| NR |") == domains
    resources = next(
        line for line in markdown_table(fast_run).splitlines() if line.startswith("| Resources")
    )
    assert re.search(r"\| \d+ \[\d+, \d+\] \|$", resources), resources
    assert methods_text(slow).startswith("# Methods")


@pytest.mark.parametrize("channels", [1, 2, 3])
def test_reports_of_a_world_with_few_domains(channels, tmp_path):
    example = (SCENARIOS / "examples" / "china_dprk.yaml").read_text()
    kept = ("trade", "tourism", "party_ties")[:channels]
    scenario = load_scenario(SCENARIOS / "examples" / "china_dprk.yaml")
    if channels < 3:
        # Cut the example down to its first channels, keeping its state consistent.
        document = yaml.safe_load(example)
        for section in (document["channels"], document["state"]["channels"]):
            for name in [n for n in section if n not in kept]:
                del section[name]
        (tmp_path / "few.yaml").write_text(yaml.safe_dump(document, allow_unicode=True))
        scenario = load_scenario(tmp_path / "few.yaml")
    result = run(scenario, replications=300, workers=1, out=tmp_path / "run")
    written = {p.name for p in write_reports(result)}
    assert {"table.md", "survival.png", "survival.pdf", "alive.png"} <= written
    assert len(result.survival.domain.unique()) == channels


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ((0.996, 0.9954, 0.9966), "0.996 [0.995, 0.997]"),
        ((0.996, 0.995, 0.997), "1.00 [0.99, 1.00]"),  # two decimals show the width
        ((0.83, 0.82, 0.84), "0.83 [0.82, 0.84]"),
        ((0.999, 0.9986, 0.9993), "0.9990 [0.9986, 0.9993]"),
        ((1.0, 0.99962, 1.0), "1.0000 [0.9996, 1.0000]"),
        ((0.004, 0.0031, 0.0047), "0.004 [0.003, 0.005]"),
        ((0.0, 0.0, 0.0), "0.00 [0.00, 0.00]"),  # no width to show
        ((0.5, 0.5 - 1e-12, 0.5 + 1e-12), "0.50000 [0.50000, 0.50000]"),  # at most 3 more
        ((24.0, 24.0, 24.0, 0), "24 [24, 24]"),
        ((30.0, 24.0, float("nan"), 0), "30 [24, NR]"),
        ((None, 24.0, None, 0), "NR"),
        ((0.0012, 0.0008, 0.0016, 2, True), "+0.001 [0.001, 0.002]"),
        ((-0.0, -0.04, 0.04, 1, True), "+0.00 [-0.04, 0.04]"),
    ],
)
def test_interval_cells_show_the_width_of_every_interval(cell, expected):
    assert interval_cell(*cell) == expected


def test_terminal_markdown_and_latex_tables_print_the_same_cells(saved_run, tmp_path):
    result = load_run(saved_run)
    table = headline_table(result)
    for h in result.scenario.report_horizons:  # every cell as a 50,000-replication run has it
        table[f"p_{h}"], table[f"low_{h}"], table[f"high_{h}"] = 0.996, 0.9954, 0.9966
    terminal, markdown = terminal_table(result, table), markdown_table(result, table)
    latex = latex_table(result, table)
    outcomes = len(result.scenario.channels) + len(result.scenario.treaties)
    cells = outcomes * len(result.scenario.report_horizons)
    assert terminal.count("0.996 [0.995, 0.997]") == cells
    assert markdown.count("| 0.996 [0.995, 0.997] ") == cells
    assert latex.count("0.996") == cells
    assert latex.count(r"{\scriptsize [0.995, 0.997]}") == cells  # one size below the table
    assert "1.00 [1.00, 1.00]" not in terminal + markdown + latex
    if shutil.which("pdflatex"):
        (tmp_path / "table.tex").write_text(latex)
        assert "Overfull \\hbox" not in compile_latex(tmp_path, tmp_path / "table.tex")


def test_reports_of_a_run_do_not_wait_for_its_outcomes_file(saved_run, tmp_path):
    # A run writes its reports while outcomes.npz is still being written (see
    # sim.engine.runner): they must work from the summary, or they wait for the file.
    result = load_run(saved_run)

    def still_writing() -> None:
        raise AssertionError("the reports waited for outcomes.npz")

    result._pending = still_writing
    written = {p.name for p in write_reports(result, tmp_path, record=False)}
    assert {"termination.csv", "termination.png", "survival.pdf", "methods.md"} <= written


class _RecordingPool(ProcessPoolExecutor):
    """A pool of one new interpreter that lists what it is given to run."""

    def __init__(self) -> None:
        super().__init__(1, mp_context=multiprocessing.get_context("spawn"))
        self.submitted: list[tuple] = []

    def submit(self, function, /, *args, **kwargs):
        self.submitted.append((function.__name__, *args[1:]))
        return super().submit(function, *args, **kwargs)


def test_figures_drawn_in_another_process_are_the_same_files(saved_run, tmp_path):
    # A run on local workers has a process forked like them draw its last format's
    # figures (sim.engine.executors.side_process): the files and their order in the
    # manifest must not depend on which process drew them. That process never reads the
    # outcomes, which a run may still be writing: here there are none to read.
    copy = tmp_path / "run"
    shutil.copytree(saved_run, copy)
    result = load_run(copy)
    (copy / "outcomes.npz").unlink()
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
    with _RecordingPool() as helper:
        written = write_reports(result, tmp_path / "two", record=False, elsewhere=helper)
    assert helper.submitted == [("write_summary_figures", tmp_path / "two", "pdf")]
    alone = write_reports(result, tmp_path / "one", record=False)
    assert [p.name for p in written] == [p.name for p in alone]
    figures = [p.name for p in written if p.suffix in (".png", ".pdf")]
    assert len(figures) == 8
    for name in figures:
        assert (tmp_path / "two" / name).read_bytes() == (saved_run / name).read_bytes(), name


def test_a_failure_in_the_other_process_is_raised_by_write_reports(saved_run, tmp_path):
    result = load_run(saved_run)
    (tmp_path / "survival.pdf").mkdir()  # where the other process must write a file
    with _RecordingPool() as helper, pytest.raises(UserError, match=r"survival\.pdf") as raised:
        write_reports(result, tmp_path, record=False, elsewhere=helper)
    assert helper.submitted == [("write_summary_figures", tmp_path, "pdf")]
    assert type(raised.value.__cause__).__name__ == "_RemoteTraceback"  # raised over there


class _BrokenPool(Executor):
    """A pool whose process is gone: on being sent work, or before finishing it."""

    def __init__(self, when: str) -> None:
        self.when = when

    def submit(self, function, /, *args, **kwargs):
        if self.when == "send":
            raise BrokenProcessPool("the process could not start")
        future = Future()
        future.set_exception(BrokenProcessPool("the process died"))
        return future


@pytest.mark.parametrize("when", ["send", "finish"])
def test_figures_of_a_process_that_is_gone_are_drawn_here(saved_run, tmp_path, when):
    written = write_reports(load_run(saved_run), tmp_path, record=False,
                            elsewhere=_BrokenPool(when))  # fmt: skip
    for name in ("survival.pdf", "termination.pdf", "survival.png"):
        assert (tmp_path / name).read_bytes() == (saved_run / name).read_bytes(), name
    outputs = {"manifest.json", "outcomes.npz", "survival.csv", "replications.parquet"}
    assert {p.name for p in written} == RUN_FILES - outputs  # the reports, every one


def _png_and_pdf(figure) -> tuple[np.ndarray, bytes]:
    from PIL import Image

    from sim.reports import figures

    with io.BytesIO() as png, io.BytesIO() as pdf:
        figures._write(figure, png, "png")
        figures._write(figure, pdf, "pdf")
        with Image.open(png) as image:
            return np.asarray(image), pdf.getvalue()


def test_panels_drawn_into_again_give_the_figure_new_panels_give(saved_run):
    from sim.reports import figures, forecasts

    result = load_run(saved_run)
    panels = figures.run_panels(result)
    _png_and_pdf(figures.survival_figure(result, panels))
    _png_and_pdf(forecasts.termination_figure(result, panels=panels))
    reused_png, reused_pdf = _png_and_pdf(figures.survival_figure(result, panels))
    fresh_png, fresh_pdf = _png_and_pdf(figures.survival_figure(result))
    assert np.array_equal(reused_png, fresh_png)  # nothing of the termination bars left
    assert reused_pdf == fresh_pdf


def test_fixed_layouts_keep_every_label_on_the_page(saved_run):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from sim.reports import figures

    result = load_run(saved_run)
    for figure in (figures.survival_figure(result), figures.alive_figure(result)):
        FigureCanvasAgg(figure).draw()
        inside = figure.get_tightbbox().padded(-0.01)
        assert figure.bbox_inches.contains(inside.x0, inside.y0)
        assert figure.bbox_inches.contains(inside.x1, inside.y1)
    # The panels' y label sits where matplotlib would put it by measuring the tick labels.
    for dpi in (72, 300):
        with figures.style():
            measured = Figure(dpi=dpi)
            ax = measured.subplots()
            ax.set_yticks([0, 0.5, 1], ["0.0", "0.5", "1.0"])
            ax.set_ylabel("P(alive)")
            FigureCanvasAgg(measured).draw()
        x = ax.yaxis.label.get_transform().transform(ax.yaxis.label.get_position())[0]
        assert (ax.bbox.x0 - x) * 72 / dpi == pytest.approx(figures.YLABEL_OFFSET, abs=0.5)


def test_survival_bands_are_drawn_to_be_seen_and_their_width_is_stated(saved_run):
    from sim.reports import figures

    result = load_run(saved_run)
    figure = figures.survival_figure(result)
    for ax in figure.axes[: len(result.scenario.channels)]:
        (band,) = ax.collections
        assert band.get_alpha() >= 0.4  # a tint of 0.25 was lost at the figure's size
        widths = sorted(line.get_linewidth() for line in ax.get_lines())
        assert widths == [figures.BOUND_WIDTH, figures.BOUND_WIDTH, figures.CURVE_WIDTH]
        assert figures.CURVE_WIDTH < 1.0  # thinner than before, so a narrow band shows
    survival = result.survival
    widest = ((survival.ci_high - survival.ci_low) / 2).max()
    text = " ".join(t.get_text() for t in figure.texts).replace("\n", " ")
    assert f"at most ±{widest:.3f} wide; where narrower than the curve they cannot be seen" in text


def test_difference_panels_share_one_scale_and_mark_no_difference(baseline, ceasefire):
    from sim.reports.comparison import NO_DIFFERENCE, comparison_figure, paired_differences

    results = {
        s.name: run(s, replications=2000, horizon=60, workers=1) for s in (baseline, ceasefire)
    }
    figure = comparison_figure(paired_differences(results, "baseline"), results)
    differences = figure.axes[1::2]  # each domain: P(alive) above, the difference below
    assert len(differences) == len(baseline.channels) + len(baseline.treaties)
    limits = {ax.get_ylim() for ax in differences}
    assert len(limits) == 1, "one scale for every domain"
    ((low, high),) = limits
    assert low == -high
    assert high >= 0.05 - 1e-12  # noise of ±0.001 no longer fills a panel
    for ax in differences:
        (span,) = [p for p in ax.patches if p.get_facecolor()[:3] == (0.9, 0.9, 0.9)]
        bottom, top = span.get_y(), span.get_y() + span.get_height()
        assert (bottom, top) == pytest.approx((-NO_DIFFERENCE, NO_DIFFERENCE))
    assert "grey band: |Δ| < 0.01" in figure.get_supxlabel().replace("\n", " ")


@pytest.mark.parametrize("outputs", [1, 2])
def test_sweep_figure_caption_fits_the_figure(tmp_path, outputs):
    from sim.reports.sweep import sweep_figure
    from sim.studies.sweep import sweep

    file = tmp_path / "sweep.yaml"
    lines = ["  - {domain: military, horizon: 60}", "  - {domain: labour, horizon: 60}"]
    file.write_text(
        f"name: a_sweep_with_a_long_name\ndescription: d\nbase: {SCENARIOS / 'baseline.yaml'}\n"
        "replications: 200\ndesign: {kind: grid}\nparameters:\n  growth: {path: "
        "channels.military.growth, values: [0.04, 0.08], label: military growth}\n"
        "outputs:\n" + "\n".join(lines[:outputs]) + "\n"
    )
    result = sweep(file, workers=1)
    figure = sweep_figure(result.table, result.sweep, result.base, result.settings)
    figure.canvas.draw()
    caption = figure._supxlabel
    assert "common random numbers; bands and bars: Wilson 95% intervals." in (
        caption.get_text().replace("\n", " ")
    )
    box, page = caption.get_window_extent(), figure.bbox
    assert page.x0 <= box.x0, (box, page)
    assert box.x1 <= page.x1, (box, page)


def test_pdf_figures_embed_truetype_fonts_not_type_3(saved_run):
    # Journals refuse Type 3 fonts; the house style asks for TrueType (pdf.fonttype 42).
    pdf = (saved_run / "survival.pdf").read_bytes()
    assert b"/TrueType" in pdf or b"/CIDFontType2" in pdf
    assert b"/Type3" not in pdf
