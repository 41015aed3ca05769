"""Speed and memory of alliance-sim on this machine, against a fair Mesa peer, and scaling.

Run inside the project's environment (``make`` sets it up):

    .venv/bin/python benchmarks/run.py          # a table
    .venv/bin/python benchmarks/run.py --json   # the table, then one JSON line
    .venv/bin/python benchmarks/run.py --json --figure docs/scaling.png

Measures, on the flagship scenario (scenarios/ukraine_ceasefire.yaml, 120 months, 13
channels and a treaty):

- ``reps_per_s``: 100,000 replications divided by the wall time of the whole
  ``alliance-sim run`` command on 2 workers (startup, simulation, outputs, tables and
  figures), the fastest of three runs;
- ``end_to_end_runs_s``: the three runs' wall times; ``cpu_s_100k``: the CPU seconds
  the fastest took, summed over the command's processes (the command, the server that
  forks the workers, the workers, the process that draws half the figures);
- ``fixed_cpu_s``: the same sum for a run of 100 replications, the least of three: what
  every run costs before its simulation (imports in two processes, the outputs, tables
  and figures); ``cores``: the cores this process may use; ``reps_per_s_ceiling``:
  100,000 × ``cores`` / ``fixed_cpu_s``, the most replications a second the command could
  reach on these cores if its chunks cost nothing (a run's wall time is at least its CPU
  time over the cores it runs on);
- ``peer_loop_reps_per_s``: the fair peer (benchmarks/peer.py: the same dynamics written
  as the Mesa documentation teaches, one ``Model`` per replication, Python floats) in a
  loop in this process; ``peer_batch_run_reps_per_s``: the same peer through
  ``mesa.batch_run`` on 2 processes; ``ratio_vs_peer``: ``reps_per_s`` over the faster;
- ``per_model_loop_reps_per_s``: this package's batched model run one replication per
  ``Model`` in a loop (numpy arrays of length one), and ``ratio_vs_per_model_loop``;
- ``peak_rss_mib_1m``: peak resident memory of a 1,000,000-replication run, summed over
  the command and its worker processes (sampled every 20 ms); pages the workers share
  with the server they are forked from (Python, numpy, pandas, numba's compiled code)
  count once per process; ``peak_pss_mib_1m`` counts each shared page once, split among
  the processes that share it (proportional set size, sampled every 100 ms): the memory
  the run takes from the machine;
- ``sweep_64x10k_s``: wall time of ``alliance-sim sweep`` on a 64-point grid with 10,000
  replications per point, the fastest of three runs (all three in
  ``sweep_64x10k_runs_s``);
- ``rng_share``: the time numpy takes to draw a chunk's random numbers alone, as a share
  of the chunk's time: the floor of an implementation that draws with numpy (the compiled
  kernels draw the channels' normals themselves, the same numbers about four times faster);
- ``kernels``: which implementation ran the hot loops (numba, or the numpy reference);
- ``scaling_*``: wall time and peak memory of ``alliance-sim run`` against replications
  (10k to 1M; 10M extrapolated: time in a straight line through 100k and 1M, memory from
  the 1M peak plus the growth of the run's own process, the one part that grows),
  horizon (60 to 480 months, 30,000 replications), world size (13, 26, 52 channels; 8,
  16 actors: generated worlds, benchmarks/worlds.py; 20,000 replications) and executor
  (a 2-worker Dask ``LocalCluster`` against the local pool); ``scaling_chunk_cpu_s``: CPU
  seconds of one 10,000-replication chunk in this process against horizon and world
  size (the simulation alone, which a loaded machine disturbs less than wall time);
- ``load``: the machine's load averages (1, 5, 15 minutes) when each measurement began:
  other processes on a shared machine slow every timing.

The end-to-end run and the sweep are timed three times and the fastest kept: on a shared
machine it is the one least disturbed by others (as ``timeit`` advises). The other
timings are single runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for benchmarks.peer and benchmarks.worlds

FLAGSHIP = ROOT / "scenarios" / "ukraine_ceasefire.yaml"
CLI = [sys.executable, "-m", "sim"]
WORKERS = 2
TARGETS = {
    "reps_per_s": (">=", 50_000),
    "ratio_vs_peer": (">=", 100),
    "peak_rss_mib_1m": ("<=", 1024),
    "sweep_64x10k_s": ("<=", 30),
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


def run_command(replications: int, out: Path, *options: str, scenario: Path = FLAGSHIP):
    """The ``alliance-sim run`` command of a benchmark run on the benchmark's workers."""
    return [*CLI, "run", str(scenario), "--replications", str(replications), "--workers",
            str(WORKERS), "--out", str(out), "--quiet", *options]  # fmt: skip


def measured_run(command: list[str], proportional: bool = False) -> dict[str, float]:
    """Wall seconds, CPU seconds and peak memory (MiB) of a command and its process tree.

    Sampled every 20 ms: ``s``, wall time; ``cpu_s``, user and system CPU summed over
    every process of the tree, each at the last sample that saw it (a process's last 20
    ms, or one that lived less, can go unseen: the sum errs low); ``rss_mib``, peak
    resident memory summed over the tree, and ``own_rss_mib``, the command's own process
    alone; ``pss_mib``, the summed proportional set size if asked (NaN otherwise: reading
    it costs the machine a little).
    """
    start = time.perf_counter()
    process = psutil.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)  # fmt: skip
    peak, own_peak, peak_pss, last_pss = 0, 0, 0, 0.0
    cpu: dict[int, float] = {}
    while process.poll() is None:
        try:
            tree = [p for p in (process, *process.children(recursive=True)) if p.is_running()]
            resident = [p.memory_info().rss for p in tree]
            peak = max(peak, sum(resident))
            own_peak = max(own_peak, resident[0] if tree and tree[0] is process else 0)
            for member in tree:
                times = member.cpu_times()
                cpu[member.pid] = max(cpu.get(member.pid, 0.0), times.user + times.system)
            if proportional and time.perf_counter() - last_pss >= 0.1:
                peak_pss = max(peak_pss, sum(p.memory_full_info().pss for p in tree))
                last_pss = time.perf_counter()
        except psutil.Error:
            pass
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {process.stderr.read().decode()}")
    return {
        "s": seconds,
        "cpu_s": sum(cpu.values()),
        "rss_mib": peak / 2**20,
        "own_rss_mib": own_peak / 2**20,
        "pss_mib": peak_pss / 2**20 if proportional else float("nan"),
    }


def timed_run(
    replications: int, *options: str, scenario: Path = FLAGSHIP, proportional: bool = False
) -> dict[str, float]:
    """Seconds, CPU seconds and peak memory of one run, in a fresh output directory.

    ``rss_mib`` sums the process tree; ``own_rss_mib`` is the run's own process alone.
    """
    with tempfile.TemporaryDirectory() as folder:
        command = run_command(replications, Path(folder) / "run", *options, scenario=scenario)
        measured = measured_run(command, proportional)
    keys = ["s", "cpu_s", "rss_mib", "own_rss_mib", *(["pss_mib"] if proportional else [])]
    return {key: round(measured[key], 3 if key in ("s", "cpu_s") else 1) for key in keys}


def three_runs(replications: int) -> list[dict[str, float]]:
    """Three runs of the whole ``alliance-sim run`` command (see :func:`timed_run`)."""
    return [timed_run(replications) for _ in range(3)]


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def peer_loop(replications: int = 60) -> float:
    """Replications per second of the fair peer, one Mesa model per replication, in a loop."""
    from benchmarks import peer
    from sim.scenario import load_scenario

    scenario = load_scenario(FLAGSHIP)
    peer.end_months(scenario, 2, seed=1)  # warm up imports and caches
    return replications / _timed(lambda: peer.end_months(scenario, replications, seed=1))


def peer_batch_run(replications: int = 120) -> float:
    """Replications per second of the fair peer through ``mesa.batch_run`` on 2 processes."""
    from benchmarks import peer

    seconds = _timed(lambda: peer.batch_end_months(FLAGSHIP, replications, 1, WORKERS))
    return replications / seconds


def per_model_loop(replications: int = 100) -> float:
    """Replications per second when every replication is its own batched model."""
    from sim.model.model import AllianceModel
    from sim.scenario import load_scenario

    scenario = load_scenario(FLAGSHIP)
    AllianceModel(scenario, 1, seed=1, collect=False).run()  # warm up imports and caches
    start = time.perf_counter()
    for index in range(replications):
        AllianceModel(scenario, 1, seed=1, chunk_index=index, collect=False).run()
    return replications / (time.perf_counter() - start)


def sweep_seconds() -> float:
    """Wall time of a 64-point sweep with 10,000 replications per point."""
    with tempfile.TemporaryDirectory() as folder:
        sweep = Path(folder) / "sweep.yaml"
        sweep.write_text(SWEEP.format(base=FLAGSHIP))
        command = [*CLI, "sweep", str(sweep), "--workers", str(WORKERS), "--out",
                   str(Path(folder) / "out"), "--quiet"]  # fmt: skip
        return measured_run(command)["s"]


def rng_share(replications: int = 10_000) -> float:
    """Share of a chunk's time spent drawing random numbers."""
    from sim.engine.chunks import simulate_chunk
    from sim.model.model import AllianceModel
    from sim.model.streams import Source, Streams
    from sim.results.settings import RunSettings
    from sim.scenario import load_scenario

    scenario = load_scenario(FLAGSHIP)
    settings = RunSettings(replications, 1, replications)
    simulate_chunk(scenario, settings, 0, replications)
    chunk = min(
        _timed(lambda: simulate_chunk(scenario, settings, 0, replications)) for _ in range(3)
    )
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


def scaling_replications() -> dict[str, Any]:
    """Time and memory against replications; 10M extrapolated from 100k to 1M.

    Time in a straight line through the 100k and 1M runs. Memory from the 1M run's summed
    peak plus the growth of the run's own process alone: that process holds the metadata
    of every row group of ``replications.parquet`` until the file is closed (about 0.3 MiB
    a chunk), so it grows with the replications, slowly, where the workers do not. (The
    summed peaks, single samples of several processes, can even fall from 100k to 1M.)
    """
    runs = {str(n): timed_run(n) for n in (10_000, 100_000)}
    runs["1000000"] = timed_run(1_000_000, proportional=True)
    million, hundred_thousand = runs["1000000"], runs["100000"]

    def beyond(value: float, before: float) -> float:
        return round(value + 9_000_000 * max(value - before, 0) / 900_000, 1)

    growth = beyond(million["own_rss_mib"], hundred_thousand["own_rss_mib"])
    runs["10000000"] = {
        "s": beyond(million["s"], hundred_thousand["s"]),
        "rss_mib": round(million["rss_mib"] + growth - million["own_rss_mib"], 1),
        "own_rss_mib": growth,
        "extrapolated": True,
    }
    return runs


def scaling_horizon(replications: int = 30_000) -> dict[str, Any]:
    """Time and memory against the horizon (months)."""
    return {str(h): timed_run(replications, "--horizon", str(h)) for h in (60, 120, 240, 480)}


def scaling_world(replications: int = 20_000) -> dict[str, Any]:
    """Time and memory against the number of channels and actors (generated worlds)."""
    from benchmarks.worlds import write_world
    from sim.scenario import load_scenario

    scenario = load_scenario(FLAGSHIP)
    runs = {}
    with tempfile.TemporaryDirectory() as folder:
        for actors in (8, 16):
            for channels in (13, 26, 52):
                path = write_world(scenario, channels, actors, Path(folder))
                runs[f"{channels}x{actors}"] = timed_run(replications, scenario=path)
    return runs


def scaling_executor(replications: int = 100_000) -> dict[str, Any]:
    """A 2-worker Dask LocalCluster against the local process pool."""
    return {
        "local": timed_run(replications),
        "dask": timed_run(replications, "--executor", "dask"),
    }


def chunk_cpu(replications: int = 10_000) -> dict[str, Any]:
    """CPU seconds of one chunk in this process, against horizon and world size.

    CPU time of the simulation alone (no start-up, no outputs) is what the wall-time
    runs cannot isolate on a loaded machine; it is also what grows with the work.
    """
    from threadpoolctl import threadpool_limits

    from benchmarks.worlds import generated_world
    from sim.engine.chunks import simulate_chunk
    from sim.results.settings import RunSettings
    from sim.scenario import Scenario, load_scenario, with_horizon

    scenario = load_scenario(FLAGSHIP)
    settings = RunSettings(replications, 1, replications)

    def cpu(case: Scenario) -> float:
        simulate_chunk(case, settings, 0, 100)  # warm up
        with threadpool_limits(limits=1):
            start = time.process_time()
            simulate_chunk(case, settings, 0, replications)
        return round(time.process_time() - start, 3)

    horizons = {str(h): cpu(with_horizon(scenario, h)) for h in (60, 120, 240, 480)}
    worlds = {}
    for actors in (8, 16):
        for channels in (13, 26, 52):
            world = Scenario.model_validate(generated_world(scenario, channels, actors))
            worlds[f"{channels}x{actors}"] = cpu(world)
    return {"horizon": horizons, "world": worlds}


def kernels() -> str:
    """Which implementation runs the hot loops in this environment."""
    from sim.model.accelerate import load_kernels

    return "numpy" if load_kernels() is None else "numba"


def _timed(function: Callable[[], Any]) -> float:
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


def figure(results: dict[str, Any], path: Path) -> None:
    """Draw run time and memory against replications, chunk CPU against horizon and world."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(10, 3.2), constrained_layout=True)
    runs = results["scaling_replications"]
    counts = [int(n) for n in runs]
    measured = [n for n in counts if not runs[str(n)].get("extrapolated")]
    axes[0].loglog(measured, [runs[str(n)]["s"] for n in measured], "o-", label="measured")
    line = [measured[-1], *(n for n in counts if n not in measured)]
    axes[0].loglog(line, [runs[str(n)]["s"] for n in line], "o--", color="grey",
                   label="extrapolated")  # fmt: skip
    memory = axes[0].twinx()
    memory.semilogx(measured, [runs[str(n)]["rss_mib"] for n in measured], "s:", color="C3")
    memory.set_ylabel("peak memory (MiB)", color="C3")
    memory.set_ylim(bottom=0)
    axes[0].set(xlabel="replications", ylabel="wall time (s)", title="replications")
    axes[0].legend(fontsize=7, loc="upper left")
    # Horizon and world size: CPU seconds of one chunk (the simulation alone).
    chunk = results["scaling_chunk_cpu_s"]
    axes[1].plot([int(h) for h in chunk["horizon"]], list(chunk["horizon"].values()), "o-")
    axes[1].set(xlabel="horizon (months)", ylabel="CPU s per 10k-replication chunk",
                title="horizon")  # fmt: skip
    axes[1].set_ylim(bottom=0)
    world = chunk["world"]
    for actors in (8, 16):
        keys = [k for k in world if k.endswith(f"x{actors}")]
        axes[2].plot([int(k.split("x")[0]) for k in keys], [world[k] for k in keys], "o-",
                     label=f"{actors} actors")  # fmt: skip
    axes[2].set(xlabel="channels", ylabel="CPU s per 10k-replication chunk", title="world size")
    axes[2].set_ylim(bottom=0)
    axes[2].legend(fontsize=7)
    fig.savefig(path, dpi=120)


def main() -> int:
    """Measure, print the table, and with --json a JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("--figure", type=Path, help="draw the scaling figure to this file")
    parser.add_argument("--save", type=Path, help="keep the results so far in this file")
    parser.add_argument("--skip-scaling", action="store_true", help="only the headline table")
    args = parser.parse_args()
    results: dict[str, Any] = {"kernels": kernels()}
    load: dict[str, list[float]] = {}

    def measure(key: str, function: Callable[[], Any]) -> None:
        load[key] = [round(value, 2) for value in os.getloadavg()]
        results[key] = function()
        if args.save:  # what is measured so far, should a later measurement fail
            args.save.write_text(json.dumps(results | {"load": load}))

    measure("end_to_end_runs", lambda: three_runs(100_000))
    fastest = min(results["end_to_end_runs"], key=lambda run: run["s"])
    results["reps_per_s"] = 100_000 / fastest["s"]
    results["end_to_end_runs_s"] = [run["s"] for run in results["end_to_end_runs"]]
    results["cpu_s_100k"] = fastest["cpu_s"]
    del results["end_to_end_runs"]
    # 100 replications simulate next to nothing: what every run costs before its chunks.
    measure("fixed_cost_runs", lambda: three_runs(100))
    results["fixed_cpu_s"] = min(run["cpu_s"] for run in results.pop("fixed_cost_runs"))
    results["cores"] = cores()
    results["reps_per_s_ceiling"] = 100_000 * results["cores"] / results["fixed_cpu_s"]
    measure("peer_loop_reps_per_s", peer_loop)
    measure("peer_batch_run_reps_per_s", peer_batch_run)
    fastest_peer = max(results["peer_loop_reps_per_s"], results["peer_batch_run_reps_per_s"])
    results["ratio_vs_peer"] = results["reps_per_s"] / fastest_peer
    measure("per_model_loop_reps_per_s", per_model_loop)
    results["ratio_vs_per_model_loop"] = (
        results["reps_per_s"] / results["per_model_loop_reps_per_s"]
    )
    measure("sweep_64x10k_runs_s", lambda: [round(sweep_seconds(), 3) for _ in range(3)])
    results["sweep_64x10k_s"] = min(results["sweep_64x10k_runs_s"])
    measure("rng_share", rng_share)
    if not args.skip_scaling:
        measure("scaling_replications", scaling_replications)
        million = results["scaling_replications"]["1000000"]
        results["peak_rss_mib_1m"] = million["rss_mib"]
        results["peak_pss_mib_1m"] = million["pss_mib"]
        measure("scaling_horizon", scaling_horizon)
        measure("scaling_world", scaling_world)
        measure("scaling_executor", scaling_executor)
        measure("scaling_chunk_cpu_s", chunk_cpu)
    else:
        measure("peak_mib_1m", lambda: timed_run(1_000_000, proportional=True))
        million = results.pop("peak_mib_1m")
        results["peak_rss_mib_1m"] = million["rss_mib"]
        results["peak_pss_mib_1m"] = million["pss_mib"]
    results["load"] = load
    print(f"alliance-sim benchmarks on {machine()} (kernels: {results['kernels']})")
    for key, value in results.items():
        if not isinstance(value, float | int):
            continue
        target = TARGETS.get(key)
        verdict = ""
        if target:
            sign, bound = target
            met = value >= bound if sign == ">=" else value <= bound
            verdict = f"target {sign} {bound:,}: {'met' if met else 'NOT MET'}"
        print(f"  {key:28s} {value:14,.3f}   {verdict}")
    for key in ("end_to_end_runs_s", "sweep_64x10k_runs_s"):
        if key in results:
            print(f"  {key:28s} {results[key]}")
    for key in ("scaling_replications", "scaling_horizon", "scaling_world", "scaling_executor"):
        if key in results:
            cells = ", ".join(f"{k}: {v['s']} s / {v['rss_mib']:.0f} MiB"
                              for k, v in results[key].items())  # fmt: skip
            print(f"  {key:28s} {cells}")
    print(f"  load averages at each start: {load}")
    if args.figure and "scaling_chunk_cpu_s" in results:
        figure(results, args.figure)
    if args.json:
        rounded = {k: round(v, 4) if isinstance(v, float) else v for k, v in results.items()}
        print(json.dumps(rounded))
    return 0


if __name__ == "__main__":
    sys.exit(main())
