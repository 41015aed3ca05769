"""Local workers start from a server that has loaded the model, not the outputs' libraries.

This module imports nothing of the outputs (no pyarrow, nothing of ``tests.helpers``): a
worker imports it to run the probe below.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sim.engine.executors import ChunkTask, LocalPool

ROOT = Path(__file__).resolve().parents[2]


def _loaded(scenario, settings, index, size) -> dict[str, bool]:
    """Which modules the worker running this has loaded (the chunk functions' signature)."""
    names = ("pyarrow", "sim.engine.chunks", "sim.model.model", "sim.results.result")
    return {name: sys.modules.get(name) is not None for name in names}


def test_a_local_worker_has_the_model_loaded_and_not_pyarrow():
    pool = LocalPool(1)
    try:
        [(_, loaded)] = list(pool.map_unordered(_loaded, [ChunkTask("probe", None, None, 0, 1)]))
    finally:
        pool.close()
    assert loaded == {
        "pyarrow": False,
        "sim.engine.chunks": True,
        "sim.model.model": True,
        "sim.results.result": False,
    }


def test_the_preload_loads_no_pyarrow_and_leaves_it_importable():
    probe = (
        "import sys, sim.engine.preload, pandas as pd, numpy as np\n"
        "from sim.engine.chunks import summarise_chunk\n"
        "from sim.scenario import load_scenario\n"
        "from sim.results.settings import RunSettings\n"
        "print('pyarrow' in sys.modules)\n"
        "scenario = load_scenario('scenarios/ukraine_ceasefire.yaml')\n"
        "summary = summarise_chunk(scenario, RunSettings(50, 1, 50), 0, 50)\n"
        "print(len(summary.life_tables), int(pd.DataFrame({'a': np.arange(3)})['a'].sum()))\n"
        "import pyarrow  # a user's script, imported again by a worker, may need it\n"
        "print(pyarrow.array([1, 2]).sum())\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, cwd=ROOT)  # fmt: skip
    assert done.stdout.split() == ["False", "14", "3", "3"]


def test_a_script_that_imports_pyarrow_runs_on_local_workers(tmp_path):
    # Each worker imports the script again as its main module, pyarrow with it.
    script = tmp_path / "study.py"
    flagship = str(ROOT / "scenarios" / "ukraine_ceasefire.yaml")
    script.write_text(
        "import pyarrow\n"
        "import sim\n"
        "if __name__ == '__main__':\n"
        f"    scenario = sim.load_scenario({flagship!r})\n"
        "    result = sim.run(scenario, replications=200, chunk_size=100, workers=2,\n"
        "                     progress=False)\n"
        "    print(result.summary.replications)\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["200"]
