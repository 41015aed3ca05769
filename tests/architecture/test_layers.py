"""The architecture holds: packages import only the layers below them, and the API is one.

The allowed imports are those of docs/architecture.md. Every ``import`` in every module,
including those inside functions, is checked, so the layering cannot rot silently.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from tests.helpers import ROOT

CORE = {"defaults", "errors", "lazy", "months", "paths", "storage"}
# Package -> the packages it may import (besides itself and the core modules).
ALLOWED = {
    "core": set(),
    "scenario": set(),
    "model": {"scenario"},
    "stats": {"model"},
    "results": {"scenario", "model", "stats"},
    "engine": {"scenario", "model", "stats", "results"},
    "reports": {"scenario", "model", "stats", "results"},
    "studies": {"scenario", "model", "stats", "results", "engine", "reports"},
    "calibration": {"scenario", "model", "stats", "results", "engine", "reports", "studies"},
    "explore": {"scenario", "model", "stats", "results", "engine", "reports"},
    "cli": {"scenario", "model", "stats", "results", "engine", "reports", "studies",
            "calibration", "explore"},
}  # fmt: skip


def _package(module: str) -> str | None:
    """The layer a ``sim...`` module belongs to."""
    parts = module.split(".")
    if parts[0] != "sim" or len(parts) == 1:
        return None
    name = parts[1]
    if name in CORE:
        return "core"
    if name in ("cli", "__main__"):
        return "cli"
    return name


def _absolute(node: ast.ImportFrom, path: Path) -> str:
    """The module a ``from ... import`` names, a relative one resolved against ``path``."""
    if node.level == 0:
        return node.module or ""
    package = list(path.relative_to(ROOT).with_suffix("").parts[:-1])
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = _absolute(node, path)
            names = [module] + [f"{module}.{alias.name}" for alias in node.names]
            found += [(node.lineno, name) for name in names if name.startswith("sim")]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("sim")]
    return found


MODULES = sorted(p for p in (ROOT / "sim").rglob("*.py") if p.name != "__init__.py" or
                 p.parent.name != "sim")  # fmt: skip


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_import_only_the_layers_below(path):
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    here = _package(module)
    broken = []
    for line, imported in _imports(path):
        there = _package(imported)
        if there is None or there == here or there == "core":
            continue
        if there not in ALLOWED[here]:
            broken.append(f"line {line}: {here} imports {imported}")
    assert not broken, "\n".join(broken)


def test_statistics_and_reports_never_reach_the_runner():
    """Analysis never runs simulations (the EMA Workbench rule)."""
    for package in ("stats", "reports", "results"):
        for path in (ROOT / "sim" / package).rglob("*.py"):
            for line, imported in _imports(path):
                assert not imported.startswith(("sim.engine", "sim.studies")), (path, line)


def test_every_export_is_what_its_name_says_and_stays_so():
    """``sim.compare`` is the function, before and after its module is imported."""
    for name in sim.__all__:
        first = getattr(sim, name)
        for module in ("sim.studies.compare", "sim.studies.sweep", "sim.studies.sensitivity"):
            importlib.import_module(module)
        assert getattr(sim, name) is first, name
        assert not isinstance(first, type(sim)), f"sim.{name} is a module"
    for study in (sim.compare, sim.sweep, sim.sensitivity):
        assert callable(study)


def test_importing_the_study_modules_in_a_fresh_process_keeps_the_functions():
    code = (
        "import sim, sim.studies.compare, sim.studies.sweep; "
        "assert callable(sim.compare) and callable(sim.sweep); print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr


@pytest.mark.slow
def test_the_readme_api_snippet_runs_as_written(tmp_path):
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Python API\n\n```python\n(.*?)```", readme, re.S).group(1)
    # Smaller numbers, the same calls: the snippet is checked for what it calls, not for speed.
    block = block.replace("20_000", "2_000").replace("5_000", "500").replace("2_000)", "200)")
    block = block.replace('"results/ceasefire"', repr(str(tmp_path / "ceasefire")))
    # The study files with fewer points and samples (their bases named in full).
    studies = ROOT / "scenarios" / "sweeps"
    for name in ("ceasefire_timing_vs_deal", "sanctions_enforcement"):
        text = (studies / f"{name}.yaml").read_text()
        for many, few in (("base: ../", f"base: {studies.parent}/"), ("steps: 5", "steps: 2"),
                          ("points: 32", "points: 4"), ("samples: 64", "samples: 4")):  # fmt: skip
            text = text.replace(many, few)
        (tmp_path / f"{name}.yaml").write_text(text)
        original = f'"scenarios/sweeps/{name}.yaml"'
        assert original in block, original
        block = block.replace(original, repr(str(tmp_path / f"{name}.yaml")))
    script = tmp_path / "snippet.py"
    script.write_text("if __name__ == '__main__':\n" + "".join(
        f"    {line}\n" for line in block.splitlines()
    ))  # fmt: skip
    done = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_relative_imports_are_resolved_against_the_module():
    module = ROOT / "sim" / "stats" / "example.py"
    tree = ast.parse("from ..engine import runner\nfrom . import spells\n")
    first, second = (node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom))
    assert _absolute(first, module) == "sim.engine"
    assert _absolute(second, module) == "sim.stats"
