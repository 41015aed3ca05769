"""The YAML reader against hostile files: control characters, deep nesting, symlink loops.

Each must give a ScenarioError located at its file and line (exit status 2 from the
command line, without a traceback, and nothing written), never an exception from PyYAML
or the interpreter (``ReaderError``, ``RecursionError``, ``RuntimeError``).
"""

from __future__ import annotations

import sys

import pytest
import yaml

from sim.errors import ScenarioError
from sim.scenario import load_scenario, load_yaml, yamlfile
from sim.scenario.sweepfile import load_sweep
from tests.helpers import ROOT, SCENARIOS, alliance_sim

BASELINE = SCENARIOS / "baseline.yaml"


def hostile_files(folder):
    """Files that once crashed the reader, with the line each problem must be reported at."""
    texts = {
        "nul_in_string.yaml": (f"extends: {BASELINE}\nname: ab\x00c\n", 2),
        "bell_in_comment.yaml": (f"extends: {BASELINE}\n# a comment \x07 here\nname: x\n", 2),
        # The 65th key is one level too deep.
        "block_3000.yaml": ("".join(f"{' ' * i}k{i}:\n" for i in range(3000)) + "x\n", 65),
        "flow_5000.yaml": ("name: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n", 1),
        "brackets_100000.yaml": ("[" * 100_000 + "\n", 1),
    }
    files = {}
    for name, (text, line) in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
        files[folder / name] = line
    return files


def test_hostile_files_are_located_errors(tmp_path):
    for file, line in hostile_files(tmp_path).items():
        with pytest.raises(ScenarioError) as caught:
            load_scenario(file)
        (problem,) = caught.value.problems
        assert problem.location is not None, (file.name, str(caught.value))
        assert problem.location.file.name == file.name
        assert problem.location.line == line, (file.name, str(caught.value))
        with pytest.raises(ScenarioError):
            load_sweep(file)


@pytest.mark.slow
def test_a_flood_of_values_is_refused_as_it_is_read(tmp_path):
    file = tmp_path / "lists.yaml"
    file.write_text("[" + "[], " * 300_000 + "]\n")  # 1.2 MB: 300,000 empty lists
    with pytest.raises(ScenarioError, match=r"lists\.yaml:1:\d+: .*document too large"):
        load_yaml(file)


def test_control_characters_are_named_at_their_column(tmp_path):
    file = tmp_path / "bell.yaml"
    file.write_text(f"extends: {BASELINE}\ndescription: ring \x07 the bell\n")
    with pytest.raises(ScenarioError, match=r"bell\.yaml:2:19: .*character U\+0007"):
        load_scenario(file)


def test_nesting_is_refused_before_python_recurses(tmp_path):
    file = tmp_path / "deep.yaml"
    file.write_text("[" * 100_000)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)  # far below the nesting, far above the cap of 64
    try:
        with pytest.raises(ScenarioError, match="nested more than 64 levels deep"):
            load_scenario(file)
    finally:
        sys.setrecursionlimit(limit)


def test_a_symlink_loop_in_extends_is_a_located_error(tmp_path):
    (tmp_path / "loop_a.yaml").symlink_to(tmp_path / "loop_b.yaml")
    (tmp_path / "loop_b.yaml").symlink_to(tmp_path / "loop_a.yaml")
    child = tmp_path / "child.yaml"
    child.write_text("name: child\nextends: [loop_a.yaml]\n")
    with pytest.raises(ScenarioError, match=r"child\.yaml:2:\d+: extends: .*symbolic link.*loop"):
        load_scenario(child)
    with pytest.raises(ScenarioError, match=r"symbolic link.*loop"):
        load_scenario(tmp_path / "loop_a.yaml")


@pytest.mark.slow
def test_hostile_files_exit_2_and_write_nothing(tmp_path):
    files = hostile_files(tmp_path)
    (tmp_path / "loop_a.yaml").symlink_to(tmp_path / "loop_b.yaml")
    (tmp_path / "loop_b.yaml").symlink_to(tmp_path / "loop_a.yaml")
    (tmp_path / "child.yaml").write_text(f"extends: [{BASELINE}, loop_a.yaml]\n")
    names = sorted([*(f.name for f in files), "child.yaml", "loop_a.yaml"])
    before = sorted(p.name for p in tmp_path.iterdir())
    done = alliance_sim("validate", *names, cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"{len(names)} of {len(names)} files have errors" in done.stderr
    for name in names:
        if name != "loop_a.yaml":
            assert f"\n{name}:" in done.stderr, name  # file:line:column
    assert "cannot read loop_a.yaml: its symbolic links form a loop" in done.stderr
    for name in ("brackets_100000.yaml", "child.yaml"):
        done = alliance_sim("run", name, "--workers", "1", cwd=tmp_path)
        assert done.returncode == 2
        assert "Traceback" not in done.stderr
        assert f"{name}:" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "a refused file writes nothing"


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml: one parser only")
def test_libyaml_and_pyyaml_read_every_library_file_alike(monkeypatch):
    # libyaml parses the files (ten times faster); what it reads must be what PyYAML's own
    # parser reads, value for value and location for location.
    assert yamlfile._Loader is yamlfile._LibyamlLoader
    files = sorted((ROOT / "scenarios").rglob("*.yaml")) + sorted(ROOT.glob("calibration/*.yaml"))
    assert len(files) > 20
    for file in files:
        fast = load_yaml(file)
        with monkeypatch.context() as patch:
            patch.setattr(yamlfile, "_Loader", yamlfile._PythonLoader)
            assert load_yaml(file) == fast, file
