"""Speed and memory of alliance-sim on this machine.

Run inside the project's environment (``make`` sets it up):

    .venv/bin/python benchmarks/run.py          # a table
    .venv/bin/python benchmarks/run.py --json   # the table, then one JSON line

Measures, on the flagship scenario (scenarios/ukraine_ceasefire.yaml, 120 months, 13
domains):

- ``reps_per_s``: 100,000 replications divided by the wall time of the whole
  ``alliance-sim run`` command (startup, simulation on all cores, outputs, tables and
  figures), the fastest of three runs;
- ``per_model_loop_reps_per_s``: the same model run the way Mesa users usually run Monte
  Carlo, one ``Model`` per replication in a loop, in this process;
- ``ratio_vs_per_model_loop``: the first over the second;
- ``peak_rss_mib_1m``: peak resident memory of a 1,000,000-replication run, summed over
  the command and its worker processes (sampled every 20 ms);
- ``sweep_64x10k_s``: wall time of ``alliance-sim sweep`` on a 64-point grid with 10,000
  replications per point;
- ``rng_share``: the share of a chunk's time spent drawing its random numbers (timed by
  drawing the same numbers alone), the floor no implementation of this model can go under.

The end-to-end run is timed three times and the fastest kept: on a shared machine it is
the one least disturbed by others (as ``timeit`` advises). The other timings are single
runs, long enough that a disturbance weighs little.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = ROOT / "scenarios" / "ukraine_ceasefire.yaml"
CLI = [sys.executable, "-m", "sim"]
TARGETS = {
    "reps_per_s": (">=", 20_000),
    "ratio_vs_per_model_loop": (">=", 100),
    "peak_rss_mib_1m": ("<=", 1024),
    "sweep_64x10k_s": ("<=", 60),
}
SWEEP = """name: benchmark_sweep
description: 64 points of ceasefire timing against the chance that the ceasefire collapses.
base: {base}
replications: 10000
design: {{kind: grid}}
parameters:
  ceasefire_month: {{path: events.ceasefire.timing.month, range: [3, 24], steps: 8, integer: true}}
  collapse_hazard: {{path: events.ceasefire_collapse.timing.hazard, range: [0.0, 0.04], steps: 8}}
outputs:
  - {{domain: military, horizon: 120}}
"""


def wall_time(command: list[str]) -> float:
    """Seconds the command takes, from start to exit."""
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def best_of(runs: int, command_for_run) -> float:
    """The fastest of ``runs`` runs, each given a fresh output directory."""
    times = []
    for index in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            times.append(wall_time(command_for_run(Path(folder) / f"out{index}")))
    return min(times)


def end_to_end(replications: int = 100_000) -> float:
    """Replications per second of the whole ``alliance-sim run`` command."""
    seconds = best_of(3, lambda out: [*CLI, "run", str(FLAGSHIP), "--replications",
                                      str(replications), "--out", str(out), "--quiet"])  # fmt: skip
    return replications / seconds


def per_model_loop(replications: int = 200) -> float:
    """Replications per second when every replication is its own Mesa model."""
    from sim.model.model import AllianceModel
    from sim.scenario import load_scenario

    scenario = load_scenario(FLAGSHIP)
    AllianceModel(scenario, 1, seed=1, collect=False).run()  # warm up imports and caches
    start = time.perf_counter()
    for index in range(replications):
        AllianceModel(scenario, 1, seed=1, chunk_index=index, collect=False).run()
    return replications / (time.perf_counter() - start)


def peak_memory(replications: int = 1_000_000) -> float:
    """Peak resident memory (MiB) of a run, summed over its process tree."""
    with tempfile.TemporaryDirectory() as folder:
        command = [*CLI, "run", str(FLAGSHIP), "--replications", str(replications),
                   "--out", str(Path(folder) / "run"), "--quiet"]  # fmt: skip
        process = psutil.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
        peak = 0
        tree = [process]
        while process.poll() is None:
            try:
                tree = [process, *process.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.02)
        if process.returncode != 0:
            raise RuntimeError(f"the 1M run failed with status {process.returncode}")
    return peak / 2**20


def sweep_seconds() -> float:
    """Wall time of a 64-point sweep with 10,000 replications per point."""
    with tempfile.TemporaryDirectory() as folder:
        sweep = Path(folder) / "sweep.yaml"
        sweep.write_text(SWEEP.format(base=FLAGSHIP))
        return best_of(1, lambda out: [*CLI, "sweep", str(sweep), "--out", str(out), "--quiet"])


def rng_share(replications: int = 10_000) -> float:
    """Share of a chunk's time spent drawing random numbers."""
    from sim.engine.runner import simulate_chunk
    from sim.model.model import AllianceModel
    from sim.model.streams import Source, Streams
    from sim.scenario import load_scenario

    scenario = load_scenario(FLAGSHIP)
    simulate_chunk(scenario, 1, 0, replications)
    chunk = min(_timed(lambda: simulate_chunk(scenario, 1, 0, replications)) for _ in range(3))
    # The uniforms a chunk draws before its first step (parameters, events, ruptures).
    drawn: list[tuple[Source, str]] = []
    original = Streams.uniforms

    def counting(self, source, name, size):
        drawn.append((source, name))
        return original(self, source, name, size)

    Streams.uniforms = counting
    try:
        AllianceModel(scenario, replications, collect=False)
    finally:
        Streams.uniforms = original
    out = np.empty(replications, dtype=np.float32)

    def draw() -> None:
        streams = Streams(1, 0)
        for source, name in drawn:
            streams.uniforms(source, name, replications)
        noise = [streams.generator(Source.CHANNEL_NOISE, name) for name in scenario.channels]
        for _ in range(scenario.horizon):
            for generator in noise:
                generator.standard_normal(out=out, dtype=np.float32)

    return min(_timed(draw) for _ in range(3)) / chunk


def _timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def machine() -> str:
    """A one-line description of this machine."""
    name = "unknown CPU"
    if Path("/proc/cpuinfo").is_file():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    memory = psutil.virtual_memory().total / 2**30
    return f"{name}, {os.cpu_count()} cores, {memory:.0f} GiB, Python {sys.version.split()[0]}"


def main() -> int:
    """Measure, print the table, and with --json a JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args()
    results: dict[str, float] = {}
    results["reps_per_s"] = end_to_end()
    results["per_model_loop_reps_per_s"] = per_model_loop()
    results["ratio_vs_per_model_loop"] = (
        results["reps_per_s"] / results["per_model_loop_reps_per_s"]
    )
    results["peak_rss_mib_1m"] = peak_memory()
    results["sweep_64x10k_s"] = sweep_seconds()
    results["rng_share"] = rng_share()
    print(f"alliance-sim benchmarks on {machine()}")
    for key, value in results.items():
        target = TARGETS.get(key)
        verdict = ""
        if target:
            sign, bound = target
            met = value >= bound if sign == ">=" else value <= bound
            verdict = f"target {sign} {bound:,}: {'met' if met else 'NOT MET'}"
        print(f"  {key:28s} {value:14,.3f}   {verdict}")
    if args.json:
        print(json.dumps({key: round(value, 4) for key, value in results.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
