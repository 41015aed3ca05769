"""The command line end to end: real processes, real files, exit statuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sim.engine.runner import run
from sim.scenario import load_scenario
from sim.studies.compare import compare
from sim.studies.sweep import sweep
from tests.helpers import LIBRARY_OUTCOMES, SCENARIOS, alliance_sim


def test_run_prints_every_domain_with_intervals_and_median(tmp_path):
    done = alliance_sim(
        "run", str(SCENARIOS / "ukraine_ceasefire.yaml"), "--replications", "2000", "--seed", "3",
        "--out", str(tmp_path / "run"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("P(channel alive) from Mar 2025 under scenario ukraine_ceasefire")
    header = next(line for line in lines if line.startswith("Domain"))
    assert header.split()[1:] == [
        "Mar", "2026", "Mar", "2027", "Mar", "2030", "Mar", "2035", "Median", "(months)",
    ]  # fmt: skip
    baseline = load_scenario(SCENARIOS / "baseline.yaml")
    labels = {item.label for item in [*baseline.channels.values(), *baseline.treaties.values()]}
    rows = [line for line in lines if any(line.startswith(f"{label} ") for label in labels)]
    assert len(rows) == len(LIBRARY_OUTCOMES)
    # four horizon intervals, and a fifth around the median where it is reached
    assert all(row.count("[") == (4 if row.rstrip().endswith("NR") else 5) for row in rows)
    assert any("seed 3, 2,000 replications" in line for line in lines)
    assert lines[-1] == f"wrote {tmp_path / 'run'}"


def test_run_horizon_option_limits_columns(tmp_path):
    done = alliance_sim(
        "run", str(SCENARIOS / "baseline.yaml"), "--replications", "300", "--horizon", "30",
        "--out", str(tmp_path / "run"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    header = next(line for line in done.stdout.splitlines() if line.startswith("Domain"))
    assert "Mar 2027" in header
    assert "Sep 2027" in header
    assert "Mar 2030" not in header


def test_misspelt_key_exits_2_with_line_and_suggestion(tmp_path):
    bad = tmp_path / "bad.yaml"
    parent = SCENARIOS / "baseline.yaml"
    bad.write_text(f"extends: {parent}\nname: bad\nchannels:\n  military:\n    groth: 0.1\n")
    done = alliance_sim("run", str(bad), cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "bad.yaml:5:5: channels.military.groth: unknown key 'groth'" in done.stderr
    assert "(did you mean 'growth'?)" in done.stderr
    assert done.stdout == ""
    assert list(tmp_path.iterdir()) == [bad], "a bad scenario writes nothing"


CHECK_BEFORE_LOADING = """
import sys
from sim.cli import main
status = main(sys.argv[1:])
heavy = [m for m in ("pandas", "matplotlib", "mesa", "scipy.stats", "panel") if m in sys.modules]
print("exit", status, "loaded", *heavy)
"""


@pytest.mark.parametrize(
    "command",
    [
        ("run", "{bad}", "--workers", "1"),
        ("compare", "{bad}", "{good}", "--workers", "1"),
        ("sweep", "{sweep}", "--workers", "1"),
        ("sensitivity", "{sweep}", "--workers", "1"),
        ("explore", "{bad}"),
        ("validate", "{good}"),
    ],
    ids=lambda command: command[0],
)
def test_a_mistake_in_a_file_is_answered_before_the_libraries_load(command, tmp_path):
    # A misspelt key costs a user half a second, not the seconds pandas, scipy and Mesa
    # take to load; validate needs none of them for a valid file either.
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {SCENARIOS / 'baseline.yaml'}\nname: bad\nhorizon: 0\n")
    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text(
        f"name: s\ndescription: d\nbase: {SCENARIOS / 'baseline.yaml'}\n"
        "design: {kind: grid}\nparameters:\n"
        "  growth: {path: channels.military.growht, values: [0.05]}\n"
        "outputs:\n  - {domain: military, horizon: 12}\n"
    )
    files = {"bad": bad, "good": SCENARIOS / "baseline.yaml", "sweep": sweep_file}
    args = [part.format(**files) for part in command]
    done = subprocess.run([sys.executable, "-c", CHECK_BEFORE_LOADING, *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    status = "0" if command[0] == "validate" else "2"
    assert done.stdout.splitlines()[-1] == f"exit {status} loaded", (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    if status == "2":
        assert ("horizon" if "{bad}" in command else "growht") in done.stderr, done.stderr


@pytest.mark.parametrize("command", ["run", "compare", "paper"])
def test_an_empty_output_place_exits_2(command):
    # It fell back silently on the default place (results/...).
    done = alliance_sim(command, str(SCENARIOS / "baseline.yaml"), "--out", "")
    assert done.returncode == 2
    assert "argument --out: expected a path, got an empty one" in done.stderr


def test_bad_option_value_exits_2():
    done = alliance_sim("run", str(SCENARIOS / "baseline.yaml"), "--replications", "zero")
    assert done.returncode == 2
    assert "expected a whole number" in done.stderr


def test_paper_into_a_file_exits_2_before_simulating(tmp_path):
    (tmp_path / "afile").write_text("")
    done = alliance_sim(
        "paper", str(SCENARIOS / "baseline.yaml"), "--replications", "100", "--workers", "1",
        "--out", "afile", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert "afile is a file: give --out a folder for the tables" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "given",
    [("--atop", "nowhere"), ("base-rates",), ("--base-rates", "nowhere.csv")],
    ids=["missing ATOP folder", "base-rates without --atop", "missing base rates"],
)
def test_calibrate_with_bad_input_exits_2_and_leaves_no_folder(tmp_path, given):
    done = alliance_sim("calibrate", *given, "--out", "calibrated", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "calibrated").exists()


def test_misspelt_option_names_the_option_meant():
    done = alliance_sim("run", str(SCENARIOS / "baseline.yaml"), "--replicatons", "100")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "usage: alliance-sim run" in done.stderr
    assert "--replicatons (did you mean --replications?)" in done.stderr


def test_misspelt_file_names_the_file_meant(tmp_path):
    done = alliance_sim("run", str(SCENARIOS / "ukraine_cesefire.yaml"), cwd=tmp_path)
    assert done.returncode == 2
    assert "file not found:" in done.stderr
    assert "(did you mean 'ukraine_ceasefire.yaml'?)" in done.stderr
    assert list(tmp_path.iterdir()) == []
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {SCENARIOS / 'baselin.yaml'}\n")
    done = alliance_sim("validate", str(child), cwd=tmp_path)
    assert done.returncode == 2
    assert f"(did you mean '{SCENARIOS / 'baseline.yaml'}'?)" in done.stderr


def test_validating_a_part_of_the_world_says_to_validate_what_extends_it():
    done = alliance_sim("validate", str(SCENARIOS / "world" / "russia_dprk.yaml"))
    assert done.returncode == 2
    assert "missing required key 'start'" in done.stderr
    assert "if this file is a part that complete scenarios extend" in done.stderr


def test_validate_recognises_sweep_files_and_schema_refuses_resolved_sweep(tmp_path):
    sweeps = sorted((SCENARIOS / "sweeps").glob("*.yaml"))
    bad = tmp_path / "bad_sweep.yaml"
    text = (SCENARIOS / "sweeps" / "ceasefire_timing_vs_deal.yaml").read_text()
    bad.write_text(
        text.replace("base: ../", f"base: {SCENARIOS}/").replace("kind: grid", "kind: gird")
    )
    done = alliance_sim("validate", *map(str, sweeps), str(bad))
    assert done.returncode == 2
    ok = done.stdout.splitlines()
    assert len(ok) == len(sweeps)
    assert all(line.startswith("ok: ") and "(sweep " in line and " points over " in line
               for line in ok)  # fmt: skip
    assert "unknown key" not in done.stderr  # read as a sweep, not as a scenario
    assert "bad_sweep.yaml:" in done.stderr
    assert "design.kind" in done.stderr
    done = alliance_sim("schema", "--resolved", "--sweep")
    assert done.returncode == 2
    assert "--resolved applies to scenario files" in done.stderr
    assert done.stdout == ""


def test_a_scheduler_that_is_not_an_address_exits_2(tmp_path):
    pytest.importorskip("dask.distributed")
    done = alliance_sim(
        "run", str(SCENARIOS / "baseline.yaml"), "--scheduler", "not a url",
        "--replications", "100", "--horizon", "12", "--out", str(tmp_path / "run"),
    )  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "not a Dask scheduler address: 'not a url'" in done.stderr
    assert "tcp://" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_force_onto_a_regular_file_exits_2_and_keeps_the_file(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("precious")
    done = alliance_sim(
        "run", str(SCENARIOS / "baseline.yaml"), "--replications", "100", "--horizon", "12",
        "--workers", "1", "--out", str(target), "--force",
    )  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"{target} exists and is not a run directory: refusing to replace it" in done.stderr
    assert target.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def _interrupted_run(tmp_path):
    """A finished run made to look interrupted, as a killed run leaves its manifest."""
    out = tmp_path / "partial"
    run(load_scenario(SCENARIOS / "baseline.yaml"), replications=200, horizon=12, workers=1,
        out=out)  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps(manifest | {"status": "running"}))
    return out


@pytest.mark.slow
def test_resume_refuses_other_settings_and_notes_an_edited_scenario(tmp_path):
    out = _interrupted_run(tmp_path)
    done = alliance_sim("run", "--resume", str(out), "--seed", "4", "--replications", "300")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "a resumed run keeps its own settings; these differ:" in done.stderr
    assert "replications 300 (the run has 200); seed 4 (the run has " in done.stderr
    assert len(json.loads((out / "manifest.json").read_text())["sessions"]) == 1
    edited = tmp_path / "edited.yaml"
    edited.write_text(
        f"extends: {SCENARIOS / 'baseline.yaml'}\nchannel_defaults: {{growth: 0.2}}\n"
    )
    done = alliance_sim("run", str(edited), "--resume", str(out), "--horizon", "12", "--quiet")
    assert done.returncode == 0, done.stderr
    (note,) = [line for line in done.stderr.splitlines() if "note:" in line]
    assert note.startswith(f"alliance-sim: note: the scenario differs from the one {out} was")
    assert "resuming with the stored scenario" in note


@pytest.mark.slow
def test_each_kind_of_directory_is_recognised_by_the_others(tmp_path):
    baseline = load_scenario(SCENARIOS / "baseline.yaml")
    ceasefire = load_scenario(SCENARIOS / "ukraine_ceasefire.yaml")
    comparison = tmp_path / "cmp"
    compare([baseline, ceasefire], replications=200, horizon=12, workers=1, out=comparison)
    rundir = comparison / "runs" / "baseline"
    sweepdir = tmp_path / "swp"
    file = tmp_path / "sweep.yaml"
    file.write_text(
        f"name: s\ndescription: d\nbase: {SCENARIOS / 'baseline.yaml'}\nreplications: 100\n"
        "design: {kind: grid}\nparameters:\n  growth: {path: channels.military.growth, "
        "values: [0.05]}\noutputs:\n  - {domain: military, horizon: 12}\n"
    )
    sweep(file, out=sweepdir, workers=1)
    cases = [
        (("report", str(comparison)), f"{comparison} is a comparison directory, not a run "
         f"directory: its tables are comparison.md/.csv/.tex in it"),
        (("report", str(sweepdir)), f"{sweepdir} is a sweep directory, not a run directory: "
         "its table is sweep.csv in it"),
        (("compare", "--resume", str(rundir)), f"{rundir} is a run directory, not a comparison "
         f"directory: rebuild its reports with `alliance-sim report {rundir}`"),
        (("sweep", "--resume", str(comparison)), f"{comparison} is a comparison directory, not "
         f"a sweep directory"),
        (("run", "--resume", str(comparison)), f"continue an interrupted one with "
         f"`alliance-sim compare --resume {comparison}`"),
    ]  # fmt: skip
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    for args, expected in cases:
        done = alliance_sim(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr, args
        assert expected in done.stderr, (args, done.stderr)
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


@pytest.fixture(scope="module")
def small_run(tmp_path_factory, baseline):
    out = tmp_path_factory.mktemp("cli") / "run"
    run(baseline, replications=300, horizon=12, seed=1, workers=1, out=out, progress=False)
    return out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--domain", "militray", "--horizon", "12"],
         "no domain 'militray'; did you mean military?"),
        (["--domain", "military", "--horizon", "36"],
         "horizon 36 is beyond the run in {run}, which simulated 12 months: choose a horizon "
         "from 1 to 12"),
    ],
)  # fmt: skip
def test_discover_refuses_bad_questions_with_status_2(small_run, capsys, arguments, message):
    from sim.cli import main

    assert main(["discover", str(small_run), *arguments]) == 2
    err = capsys.readouterr().err
    assert message.format(run=small_run) in err
    assert "Traceback" not in err
    assert not list(small_run.glob("discover-*")), "nothing half-written"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--domain", "military", "--horizon", "0"], "expected a number of at least 1, got 0"),
        (["--domain", "military", "--horizon", "12", "--outcome", "dead"],
         "invalid choice: 'dead'"),
        (["--domain", "military", "--horizon", "12", "--threshold", "2"],
         "expected a number between 0 and 1, got 2.0"),
    ],
)  # fmt: skip
def test_discover_options_are_checked(small_run, capsys, arguments, message):
    from sim.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["discover", str(small_run), *arguments])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_discover_without_the_extra_says_what_to_install(small_run, capsys, monkeypatch):
    import sys

    from sim.cli import main

    monkeypatch.setitem(sys.modules, "ema_workbench.analysis", None)
    assert main(["discover", str(small_run), "--domain", "resources", "--horizon", "12"]) == 2
    assert "pip install 'alliance-sim[discover]'" in capsys.readouterr().err


def test_discover_on_a_directory_that_is_neither_run_nor_sweep(tmp_path, capsys):
    from sim.cli import main

    assert main(["discover", str(tmp_path), "--domain", "military", "--horizon", "12"]) == 2
    assert "is not a run or sweep directory" in capsys.readouterr().err


def test_a_scenario_taken_as_the_posterior_is_named(capsys):
    from sim.cli import main
    from sim.paths import CALIBRATION

    flagship = str(SCENARIOS / "ukraine_ceasefire.yaml")
    assert main(["run", "--parameter-uncertainty", flagship]) == 2
    assert (
        f"no scenario file: --parameter-uncertainty took {flagship} as its POSTERIOR; put "
        f"the scenario first: alliance-sim run {flagship} --parameter-uncertainty"
    ) in capsys.readouterr().err
    posterior = os.path.relpath(CALIBRATION / "posterior.yaml")
    for named in ([], [posterior]):  # the default posterior, however it is written
        assert main(["run", "--parameter-uncertainty", *named]) == 2
        assert "give a scenario file to run, or --resume DIR" in capsys.readouterr().err


def test_discover_refuses_to_replace_an_earlier_discovery_before_it_peels(
    small_run, tmp_path, capsys, monkeypatch
):
    import sim.reports.discovery
    from sim.cli import main

    def peel(*_args, **_kwargs):
        raise AssertionError("PRIM ran before the refusal")

    monkeypatch.setattr(sim.reports.discovery, "discover", peel)

    earlier = tmp_path / "discover-military-12-ended.md"
    earlier.write_text("an earlier discovery")
    question = ["--domain", "military", "--horizon", "12", "--out", str(tmp_path)]
    assert main(["discover", str(small_run), *question]) == 2
    err = capsys.readouterr().err
    assert f"{earlier} already exists; use --force to replace it, or another --out" in err
    assert earlier.read_text() == "an earlier discovery"
    assert [p.name for p in tmp_path.iterdir()] == [earlier.name], "nothing else written"


def test_history_command_draws_a_file_and_refuses_a_bad_domain(small_run, tmp_path, capsys):
    from sim.cli import main

    stem = tmp_path / "h"
    question = ["history", str(small_run), "--domain", "military", "--horizon", "12"]
    assert main([*question, "--out", str(stem)]) == 0
    assert (tmp_path / "h.png").stat().st_size > 0
    assert "p_survive" in capsys.readouterr().out
    drawn = (tmp_path / "h.csv").stat().st_mtime_ns
    assert main([*question, "--out", str(stem)]) == 2, "no silent overwrite"
    assert f"{stem}.csv, {stem}.png and 1 more already exist; use --force" in (
        capsys.readouterr().err
    )
    assert (tmp_path / "h.csv").stat().st_mtime_ns == drawn
    assert main([*question, "--out", str(stem), "--force"]) == 0
    assert (tmp_path / "h.csv").stat().st_mtime_ns > drawn
    assert main(["history", str(small_run), "--domain", "milli", "--horizon", "12"]) == 2
    assert "did you mean military?" in capsys.readouterr().err


def test_validate_notes_a_sweep_past_the_sweep_limit(tmp_path):
    text = (SCENARIOS / "sweeps" / "sanctions_enforcement.yaml").read_text()
    big = text.replace("base: ../", f"base: {SCENARIOS}/").replace("points: 32", "points: 20000")
    (tmp_path / "big.yaml").write_text(big)
    done = alliance_sim("validate", "big.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "the design has 20,000 points, more than sweep's limit of 10,000" in done.stderr
    assert "--max-points 20000" in done.stderr
