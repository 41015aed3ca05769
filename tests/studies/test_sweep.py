"""Sweeps and sensitivity: designs, validation, reproducibility, resuming."""

from __future__ import annotations

import json
import shutil
import signal
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.engine.runner import run
from sim.errors import Advisory, RunInterrupted, ScenarioError, UserError
from sim.scenario.sweepfile import load_sweep, set_value
from sim.studies.sensitivity import sensitivity
from sim.studies.sweep import design_points, sweep
from tests.helpers import SCENARIOS, alliance_sim

SWEEPS = SCENARIOS / "sweeps"


def write(tmp_path: Path, text: str) -> Path:
    file = tmp_path / "sweep.yaml"
    file.write_text(f"base: {SCENARIOS / 'ukraine_ceasefire.yaml'}\n" + text)
    return file


SMALL = """name: small
description: a small grid
replications: 1500
design: {kind: grid}
parameters:
  ceasefire_month: {path: events.ceasefire.timing.month, values: [3, 24], integer: true}
  collapse_hazard: {path: events.ceasefire_collapse.timing.hazard, values: [0.0, 0.05]}
outputs:
  - {domain: military, horizon: 120}
"""


@pytest.mark.parametrize("file", sorted(SWEEPS.glob("*.yaml")), ids=lambda f: f.stem)
def test_example_sweeps_validate(file):
    spec, base = load_sweep(file)
    assert len(design_points(spec)) >= 25
    assert base.name in {"ceasefire_plus_deal", "sanctions_enforcement_tightened"}


def test_designs_have_their_points():
    spec, _ = load_sweep(SWEEPS / "ceasefire_timing_vs_deal.yaml")
    points = design_points(spec)
    assert len(points) == 25
    assert sorted({p["ceasefire_month"] for p in points}) == [3, 9, 15, 21, 27]
    assert sorted({p["deal_probability"] for p in points}) == [0.0, 0.25, 0.5, 0.75, 1.0]
    spec, _ = load_sweep(SWEEPS / "sanctions_enforcement.yaml")
    points = design_points(spec)
    assert len(points) == 32
    enforcement = np.array([p["enforcement"] for p in points])
    # A Latin hypercube puts exactly one point in each of the 32 strata of each range.
    strata = np.floor(enforcement / 0.7 * 32).astype(int)
    assert sorted(strata) == list(range(32))
    sobol = spec.model_copy(update={"design": spec.design.model_copy(update={"kind": "sobol"})})
    assert len(design_points(sobol)) == 32


def test_set_value_replaces_a_timing_and_reaches_list_items(ceasefire):
    changed = set_value(ceasefire, {"events.ceasefire.timing.month": 7,
                                    "events.ceasefire.effects[0].set": 0.3})  # fmt: skip
    assert changed.events["ceasefire"].timing.month == 7
    assert changed.events["ceasefire"].effects[0].set == 0.3
    with pytest.raises(UserError, match="did you mean 'ceasefire'"):
        set_value(ceasefire, {"events.cesefire.probability": 0.5})
    with pytest.raises(UserError, match=r"no item \[9\]"):
        set_value(ceasefire, {"events.ceasefire.effects[9].set": 0.5})


def test_sweep_file_errors_have_lines_and_suggestions(tmp_path):
    file = write(
        tmp_path,
        SMALL.replace("military", "militray").replace("kind: grid", "kind: sobol, points: 12"),
    )
    with pytest.raises(ScenarioError) as caught:
        load_sweep(file)
    text = str(caught.value)
    assert "sweep.yaml:5:23: design.points: a Sobol' design needs a power of 2 points" in text
    assert (
        "sweep.yaml:10:6: outputs[0].domain: unknown domain 'militray' (did you mean 'military'?)"
        in text
    )
    bad_path = write(
        tmp_path,
        SMALL.replace("ceasefire_collapse.timing.hazard", "ceasefire_colapse.timing.hazard"),
    )
    with pytest.raises(ScenarioError, match="did you mean 'ceasefire_collapse'"):
        load_sweep(bad_path)


def test_sweep_is_reproducible_resumable_and_equals_direct_runs(tmp_path, ceasefire):
    file = write(tmp_path, SMALL)
    first = sweep(file, out=tmp_path / "a", workers=2)
    assert first.points == 4
    domains = len(ceasefire.channels) + len(ceasefire.treaties)
    assert len(first.table) == 4 * domains * len(ceasefire.report_horizons)
    again = tmp_path / "b"
    shutil.copytree(tmp_path / "a", again)
    for point in sorted((again / "points").glob("*.json"))[:2]:
        point.unlink()
    (again / "sweep.csv").unlink()
    manifest = json.loads((again / "manifest.json").read_text())
    (again / "manifest.json").write_text(json.dumps(manifest | {"status": "running"}))
    sweep(resume=again, workers=1)
    for name in ("sweep.csv", "sweep.parquet"):
        assert (again / name).read_bytes() == (tmp_path / "a" / name).read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(again / "sweep.parquet"), first.table)
    assert {p.name for p in again.iterdir()} >= {
        "sweep.csv",
        "sweep.png",
        "sweep.pdf",
        "manifest.json",
    }
    # A point is exactly the run of the base scenario with the point's values.
    table = first.table
    point = table[(table.point == 3) & (table.domain == "military") & (table.horizon == 120)]
    point = point.iloc[0]
    direct = run(set_value(ceasefire, {"events.ceasefire.timing.month": 24,
                                       "events.ceasefire_collapse.timing.hazard": 0.05}),
                 replications=1500, workers=1)  # fmt: skip
    expected = direct.survival
    expected = expected[(expected.domain == "military") & (expected.month == 120)].p_survive.iloc[0]
    assert point.p_survive == pytest.approx(expected, abs=1e-12)


@pytest.mark.slow
def test_sweep_command_runs_an_example(tmp_path):
    done = alliance_sim(
        "sweep", str(SWEEPS / "ceasefire_timing_vs_deal.yaml"), "--replications", "300",
        "--out", str(tmp_path / "sweep"), "--quiet", "--workers", "2",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "military at 120 months:" in done.stdout
    table = pd.read_csv(tmp_path / "sweep" / "sweep.csv")
    assert table.point.nunique() == 25
    assert {"ceasefire_month", "deal_probability", "p_survive", "ci_low", "ci_high"} <= set(
        table.columns
    )


@pytest.mark.slow
def test_sensitivity_finds_the_parameter_that_matters(tmp_path):
    file = write(
        tmp_path,
        """name: sens
description: sanctions and an irrelevant knob
replications: 800
design: {kind: lhs, points: 4}
parameters:
  deal_probability: {path: events.ceasefire.probability, range: [0.0, 1.0]}
  treaty_noise: {path: channels.defence_treaty.noise, range: [0.02, 0.03]}
outputs:
  - {domain: military, horizon: 120}
sensitivity:
  output: {domain: military, horizon: 120}
  samples: 16
  resamples: 200
""",
    )
    table = sensitivity(file, out=tmp_path / "sens", workers=2).table.set_index("parameter")
    assert table.loc["deal_probability", "total_order"] > 0.5
    assert table.loc["treaty_noise", "total_order"] < 0.15
    assert {p.name for p in (tmp_path / "sens").iterdir()} >= {
        "sensitivity.csv", "sensitivity.md", "sensitivity.png", "sensitivity.pdf"}  # fmt: skip


def test_a_ctrl_c_while_the_points_are_built_interrupts_the_study(tmp_path, monkeypatch):
    # A Ctrl-C that comes while a point's scenario is copied (set_value, through pydantic,
    # which would turn it into a warning) is held to the end of the copying, then stops
    # the study as an interruption, with the points saved so far.
    import sim.studies.sweep

    copying = sim.studies.sweep.set_value

    def interrupted(*args, **kwargs):
        signal.raise_signal(signal.SIGINT)
        return copying(*args, **kwargs)

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    monkeypatch.setattr(sim.studies.sweep, "set_value", interrupted)
    try:
        with pytest.raises(RunInterrupted, match="0 of 4 points"):
            sweep(write(tmp_path, SMALL), out=tmp_path / "sweep", workers=1)
    finally:
        signal.signal(signal.SIGINT, previous)


def test_an_output_horizon_outside_the_report_horizons_is_estimated(tmp_path, ceasefire):
    assert 100 not in ceasefire.report_horizons
    file = write(tmp_path, SMALL.replace("replications: 1500", "replications: 300")
                 .replace("horizon: 120", "horizon: 100"))  # fmt: skip
    table = sweep(file, out=tmp_path / "sweep", workers=1).table
    here = table[(table.domain == "military") & (table.horizon == 100)]
    assert len(here) == 4
    assert here.p_survive.between(0, 1).all()
    assert set(table.horizon) == {*ceasefire.report_horizons, 100}
    manifest = json.loads((tmp_path / "sweep" / "manifest.json").read_text())
    assert manifest["outputs"] == ["sweep.csv", "sweep.parquet", "sweep.png", "sweep.pdf"]


# So few samples can give degenerate bootstrap intervals; what is tested is the horizon.
@pytest.mark.filterwarnings("ignore::scipy.stats.DegenerateDataWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_sensitivity_of_an_output_outside_the_report_horizons(tmp_path):
    file = write(
        tmp_path,
        """name: sens
description: two parameters (scipy needs at least two)
replications: 200
design: {kind: lhs, points: 2}
parameters:
  deal_probability: {path: events.ceasefire.probability, range: [0.0, 1.0]}
  treaty_noise: {path: channels.defence_treaty.noise, range: [0.02, 0.03]}
outputs:
  - {domain: military, horizon: 120}
sensitivity:
  output: {domain: military, horizon: 100}
  samples: 4
  resamples: 20
""",
    )
    table = sensitivity(file, workers=1).table
    assert list(table.parameter) == ["deal_probability", "treaty_noise"]
    assert np.isfinite(table.total_order).all()


def test_sensitivity_checks_the_file_before_creating_anything(tmp_path):
    file = write(tmp_path, SMALL)
    out = tmp_path / "sens"
    with pytest.raises(ScenarioError) as caught:
        sensitivity(file, out=out)
    text = str(caught.value)
    assert "sweep.yaml:7:3: parameters.ceasefire_month: Sobol' indices need a range" in text
    assert "sweep.yaml:8:3: parameters.collapse_hazard: Sobol' indices need a range" in text
    assert "sweep.yaml:1:1: (document): Sobol' indices need a 'sensitivity' section" in text
    assert not out.exists()
    # A sweep directory is not a sensitivity analysis to resume.
    (out / "points").mkdir(parents=True)
    (out / "manifest.json").write_text(json.dumps({"format": "alliance-sim sweep 1"}))
    with pytest.raises(UserError, match="is a sweep directory, not a sensitivity directory"):
        sensitivity(resume=out)


def test_empty_grid_values_are_a_located_error(tmp_path):
    file = write(tmp_path, SMALL.replace("values: [0.0, 0.05]", "values: []"))
    with pytest.raises(
        ScenarioError, match=r"sweep\.yaml:8:\d+: parameters\.collapse_hazard\.values"
    ):
        load_sweep(file)


def test_values_the_scenario_refuses_are_located_and_nothing_is_created(tmp_path):
    lines = [
        "  deal: {path: events.ceasefire.probability, values: [0.5, 1.5]}",
        "  month: {path: events.ceasefire.timing.month, values: [3, 5000], integer: true}",
        "  hazard: {path: events.ceasefire_collapse.timing.hazard, range: [-0.1, 0.05], steps: 2}",
    ]
    text = SMALL.split("parameters:\n")[0] + "parameters:\n" + "\n".join(lines) + "\n"
    file = write(tmp_path, text + "outputs:\n  - {domain: military, horizon: 120}\n")
    out = tmp_path / "out"
    with pytest.raises(ScenarioError) as caught:
        sweep(file, out=out)
    problems = [str(p) for p in caught.value.problems]
    first = 2 + text.splitlines().index(lines[0])  # below the line write() puts first
    assert problems == [
        f"{file}:{first}:{lines[0].index('1.5') + 1}: parameters.deal.values[1]: setting "
        "events.ceasefire.probability to 1.5: expected a value less than or equal to 1, got 1.5",
        f"{file}:{first + 1}:{lines[1].index('5000') + 1}: parameters.month.values[1]: setting "
        "events.ceasefire.timing.month to 5000: 5000 is after the run ends (2035-03)",
        f"{file}:{first + 2}:{lines[2].index('-0.1') + 1}: parameters.hazard.range[0]: setting "
        "events.ceasefire_collapse.timing.hazard to -0.1: expected a value greater than or "
        "equal to 0, got -0.1",
    ]
    assert not out.exists()


def test_a_missing_base_is_located_at_its_key_with_a_suggestion(tmp_path):
    file = tmp_path / "sweep.yaml"
    file.write_text(SMALL + "base: .x./ceasefire_plus_deal.yaml\n")
    line = len(SMALL.splitlines()) + 1
    with pytest.raises(ScenarioError) as caught:
        load_sweep(file)
    (problem,) = caught.value.problems
    assert str(problem).startswith(
        f"{file}:{line}:1: base: no such scenario file: .x./ceasefire_plus_deal.yaml"
    )
    misspelt = str(SCENARIOS / "ceasefire_plus_dael.yaml")
    file.write_text(SMALL + f"base: {misspelt}\n")
    with pytest.raises(ScenarioError) as caught:
        load_sweep(file)
    (problem,) = caught.value.problems
    assert problem.location.line == line
    assert problem.suggestion == str(SCENARIOS / "ceasefire_plus_deal.yaml")


def test_a_design_over_the_point_limit_is_refused_before_it_is_built(tmp_path, monkeypatch):
    from sim.studies import sweep as sweep_module

    huge = SMALL.replace("values: [3, 24], integer: true", "range: [3, 27], steps: 10000").replace(
        "values: [0.0, 0.05]", "range: [0.0, 0.05], steps: 1000"
    )
    file = write(tmp_path, huge)

    def never(spec):
        raise AssertionError("the design was built")

    monkeypatch.setattr(sweep_module, "design_points", never)
    with pytest.raises(UserError, match=r"10,000,000 points, more than the limit of 10,000; .*"
                       r"--max-points 10000000"):  # fmt: skip
        sweep(file, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(UserError, match="4 points, more than the limit of 3"):
        sweep(write(tmp_path, SMALL), out=tmp_path / "out", max_points=3)
    assert not (tmp_path / "out").exists()


def test_noisy_sobol_indices_are_named_in_a_warning():
    from sim.studies.sensitivity import _warn_if_noisy

    def table(first, low, high):
        return pd.DataFrame({
            "parameter": ["deal_probability"], "first_order": [first],
            "first_order_low": [low], "first_order_high": [high], "total_order": [0.5],
            "total_order_low": [0.45], "total_order_high": [0.55],
        })  # fmt: skip

    with pytest.warns(Advisory, match=r"deal_probability first-order 1\.27\b.*\(now 8\)"):
        _warn_if_noisy(table(1.27, 0.28, 2.40), 8)  # outside [0, 1], and wide
    with pytest.warns(Advisory, match=r"deal_probability first-order 0\.50"):
        _warn_if_noisy(table(0.5, 0.1, 0.9), 8)  # inside, but an interval wider than 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error", Advisory)
        _warn_if_noisy(table(0.5, 0.4, 0.6), 64)


@pytest.mark.filterwarnings("ignore::scipy.stats.DegenerateDataWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_a_sensitivity_analysis_with_few_samples_warns(tmp_path):
    file = write(
        tmp_path,
        """name: noisy
description: eight samples are too few
replications: 200
design: {kind: lhs, points: 2}
parameters:
  deal_probability: {path: events.ceasefire.probability, range: [0.0, 1.0]}
  treaty_noise: {path: channels.defence_treaty.noise, range: [0.02, 0.03]}
outputs:
  - {domain: military, horizon: 120}
sensitivity:
  output: {domain: military, horizon: 120}
  samples: 8
  resamples: 100
""",
    )
    with pytest.warns(Advisory, match="Sobol' indices dominated by noise") as caught:
        result = sensitivity(file, workers=1)
    (note,) = [str(w.message) for w in caught if issubclass(w.category, Advisory)]
    assert "raise sensitivity.samples (now 8) or the replications" in note
    assert len(result.table) == 2


@pytest.mark.slow
def test_a_sweep_shows_each_outputs_range_and_figure(tmp_path):
    from tests.results.test_display import inline_image

    result = sweep(write(tmp_path, SMALL.replace("replications: 1500", "replications: 100")),
                   workers=1, progress=False)  # fmt: skip
    page = result._repr_html_()
    here = result.table[(result.table.domain == "military") & (result.table.horizon == 120)]
    assert f'<td style="text-align:right">{here.p_survive.min():.2f}</td>' in page
    assert "Sweep small: 4 points (grid)" in page
    inline_image(page)


def test_a_grid_sweep_submits_its_chunks_before_loading_figures_and_scipy_stats():
    """What a sweep needs before its first chunk: neither matplotlib nor scipy.stats.

    Both take most of a second to import; a sweep loads the figures' libraries while its
    workers are busy, and scipy.stats only for a Latin hypercube or Sobol' design.
    """
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "import sim.studies.sweep\n"
        "print(sorted(m for m in ('matplotlib', 'scipy.stats') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)  # fmt: skip
    assert done.stdout.strip() == "[]"


def test_the_sweeps_meanwhile_runs_once_when_the_first_point_is_in(tmp_path):
    from sim.engine.options import RunOptions
    from sim.studies.sweep import evaluate_points, open_sweep_study

    file = write(tmp_path, SMALL)
    options = RunOptions.of(out=tmp_path / "sweep", workers=1, replications=200)
    study, spec, base, settings = open_sweep_study("sweep", file, options)
    saved_when_called = []

    def meanwhile() -> None:
        saved_when_called.append(len(list((study.path / "points").glob("*.json"))))

    with study:
        points = design_points(spec)
        estimates = evaluate_points(
            study, spec, base, settings, points, options, "test", meanwhile=meanwhile
        )
    assert saved_when_called == [1]
    assert len(estimates) == len(points) > 1
