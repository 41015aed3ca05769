"""The command line end to end: real processes, real files, exit statuses."""

from __future__ import annotations

from sim.scenario import load_scenario
from tests.helpers import LIBRARY_DOMAINS, SCENARIOS, alliance_sim


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
    labels = {
        channel.label for channel in load_scenario(SCENARIOS / "baseline.yaml").channels.values()
    }
    rows = [line for line in lines if any(line.startswith(f"{label} ") for label in labels)]
    assert len(rows) == len(LIBRARY_DOMAINS)
    assert all(row.count("[") == 4 for row in rows)
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
    bad.write_text(f"extends: {parent}\nname: bad\nchannels:\n  military:\n    decya: 0.1\n")
    done = alliance_sim("run", str(bad), cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "bad.yaml:5:5: channels.military.decya: unknown key 'decya'" in done.stderr
    assert "(did you mean 'decay'?)" in done.stderr
    assert done.stdout == ""
    assert list(tmp_path.iterdir()) == [bad], "a bad scenario writes nothing"


def test_bad_option_value_exits_2():
    done = alliance_sim("run", str(SCENARIOS / "baseline.yaml"), "--replications", "zero")
    assert done.returncode == 2
    assert "expected a whole number" in done.stderr


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
