"""Helpers shared by the tests: paths, scenario variants, Monte Carlo tolerances, processes."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.calibration.baserates import ATOP_FILE
from sim.scenario import Scenario, override

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
ATOP = ROOT.parent / "shared" / "data" / "atop"
# The ATOP data is not part of the repository (a machine without ../shared skips these).
needs_atop = pytest.mark.skipif(
    not (ATOP / ATOP_FILE).is_file(),
    reason="ATOP data not found at ../shared/data/atop (not committed to this repository)",
)


LIBRARY_DOMAINS = {
    "military",
    "defence_treaty",
    "resources",
    "food_trade",
    "agriculture_fisheries",
    "culture_sports",
    "tourism",
    "health",
    "science_technology",
    "education",
    "security_services",
    "labour",
    "people_flows",
}
LIBRARY_TREATIES = {"mutual_defence_treaty"}
LIBRARY_OUTCOMES = LIBRARY_DOMAINS | LIBRARY_TREATIES
"""Every outcome row of the library's runs: its domains, then its treaties' formal status."""


def variant(scenario: Scenario, **changes: Any) -> Scenario:
    """``scenario`` with ``changes`` merged in by the loader's rules, validated like a file."""
    return override(scenario, changes)


needs_pdflatex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no pdflatex")


def compile_latex(directory: Path, *tables: Path) -> str:
    """Compile an article that inputs ``tables`` with pdflatex; return its log.

    The document is LaTeX's default ``article``, whose text column is narrow (345 pt), so an
    overfull line in the log means a table is too wide for a paper as users write them.
    """
    inputs = "".join(f"\\input{{{table}}}\n" for table in tables)
    (directory / "paper.tex").write_text(
        "\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n"
        + inputs
        + "\\end{document}\n"
    )
    command = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "paper.tex"]
    done = subprocess.run(command, cwd=directory, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]
    return (directory / "paper.log").read_text(errors="replace")


def power_draws(size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Float32 bases over [2^-16, 1] (half uniform, half log-uniform), exponents over [0, 12].

    The rupture hazard's powers (``sim.model.power``) are checked on these.
    """
    rng = np.random.default_rng(seed)
    half = size // 2
    x = np.concatenate([rng.uniform(0.01, 1, half), 2.0 ** rng.uniform(-16, 0, size - half)])
    y = rng.uniform(0, 12, size)
    return x.astype(np.float32), y.astype(np.float32)


def proportion_se(p: float, n: int) -> float:
    """Monte Carlo standard error of a proportion, floored so it is never zero."""
    return max(np.sqrt(p * (1 - p) / n), 0.5 / n)


def alive_at(result, domain: str, month: int) -> float:
    """Kaplan–Meier P(alive) of ``domain`` at ``month`` in a run's survival table."""
    curve = result.survival
    row = curve[(curve.domain == domain) & (curve.month == month)]
    assert len(row) == 1, (domain, month)
    return float(row.p_survive.iloc[0])


def same_outputs(a: Path, b: Path) -> bool:
    """Whether two run directories hold byte-identical outcomes, replications and survival."""
    return all(
        (a / name).read_bytes() == (b / name).read_bytes()
        for name in ("outcomes.npz", "replications.parquet", "survival.csv")
    )


def ctrl_c_as_at_a_terminal() -> None:
    """In a child process: Ctrl-C at its default disposition, as a terminal gives it.

    A program keeps an ignored Ctrl-C it inherits (so does alliance-sim, as a background
    job should); a test run started in the background (``nohup make test &``) has it
    ignored, and its Ctrl-C tests would test nothing. Passed as ``preexec_fn``.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_flagship_run(out: Path, *extra: str) -> subprocess.Popen:
    """Start ``alliance-sim run`` on the flagship: 60,000 replications in 12 chunks.

    It runs in its own process group, so that a test can kill it with every worker.
    """
    command = [sys.executable, "-m", "sim", "run", str(SCENARIOS / "ukraine_ceasefire.yaml")]
    command += ["--replications", "60000", "--seed", "7", "--horizon", "60"]
    command += ["--chunk-size", "5000", "--out", str(out)]
    return subprocess.Popen(
        [*command, *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=ctrl_c_as_at_a_terminal,
    )


def wait_for_chunks(out: Path, count: int, process: subprocess.Popen) -> None:
    """Wait until the run in ``out`` has saved ``count`` chunks."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if (out / "chunks").is_dir() and len(list((out / "chunks").glob("chunk-*.npz"))) >= count:
            return
        time.sleep(0.05)
    pytest.fail("the run finished or stalled before it could be interrupted")


def alliance_sim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run the ``alliance-sim`` command in a new process."""
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def chunk_outcomes(scenario: Scenario, seed: int, index: int, size: int, **settings: Any):
    """One chunk's outcomes, as the engine computes it (settings: fixed_parameters, ...)."""
    from sim.engine.chunks import simulate_chunk
    from sim.results.settings import RunSettings

    return simulate_chunk(scenario, RunSettings(size, seed, size, **settings), index, size)
