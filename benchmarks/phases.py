"""Where a whole run's time goes: start-up, simulation and outputs of ``alliance-sim run``.

    .venv/bin/python benchmarks/phases.py [--replications 100000] [--repeats 3]

Runs the flagship scenario's ``alliance-sim run`` command on 2 workers, as
``benchmarks/run.py`` times it, in a new process each time, and records from inside it
when each chunk comes back and when the reports start and end. It prints the median of
each phase over the repeats:

- start-up: from launching the command until the first chunk is back (the command's and
  the fork server's imports, the scenario, and one chunk's simulation);
- simulation: from the first chunk back to the last;
- outputs: from the last chunk back to the reports (the workers exit,
  ``replications.parquet`` is closed, ``survival.csv`` written), the reports (tables and
  figures, while ``outcomes.npz`` is joined), and the rest until the process has exited.

The start-up less one chunk, plus the outputs, is what a run would cost if its chunks cost
nothing: its median, and the bound it sets on replications per second, are printed last.
A chunk's time is taken as the simulation phase over the rounds of chunks each worker
runs after its first (so the bound needs at least two chunks per worker).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIMULATION = "simulation, from the first chunk back to the last"


def _child(record: str, arguments: list[str]) -> None:
    """Run the command's ``arguments`` here, writing the moments it reaches to ``record``."""
    stamps: dict[str, float | list[float]] = {"chunks": []}
    import sim.cli as cli
    from sim.engine import executors

    chunks = executors.LocalPool.map_unordered

    def map_unordered(self, function, tasks):
        for item in chunks(self, function, tasks):
            stamps["chunks"].append(time.time())
            yield item

    executors.LocalPool.map_unordered = map_unordered
    reports = cli._reports

    def timed_reports(*args, **kwargs):
        stamps["reports_start"] = time.time()
        try:
            return reports(*args, **kwargs)
        finally:
            stamps["reports_end"] = time.time()

    cli._reports = timed_reports
    command = cli.main

    def recorded(argv=None) -> int:
        try:
            return command(argv)
        finally:
            Path(record).write_text(json.dumps(stamps))

    cli.main = recorded
    sys.argv = ["alliance-sim", *arguments]
    cli.entry()  # as the command runs, leaving as it leaves


def phases(replications: int) -> tuple[dict[str, float], int]:
    """The phases of one run of the command, in seconds, and how many chunks it ran."""
    # The benchmark's own command; imported here, so that the child, which runs it, loads
    # only what the command loads.
    from benchmarks.run import CLI, run_command

    with tempfile.TemporaryDirectory() as folder:
        record = Path(folder) / "stamps.json"
        arguments = run_command(replications, Path(folder) / "run")[len(CLI) :]
        command = [sys.executable, __file__, "--child", str(record), *arguments]
        launched = time.time()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        ended = time.time()
        stamps = json.loads(record.read_text())
    first, last = stamps["chunks"][0], stamps["chunks"][-1]
    durations = {
        "start-up, until the first chunk is back": first - launched,
        SIMULATION: last - first,
        "outputs before the reports": stamps["reports_start"] - last,
        "reports (tables, figures; outcomes.npz joined meanwhile)": (
            stamps["reports_end"] - stamps["reports_start"]
        ),
        "outputs after the reports, and exit": ended - stamps["reports_end"],
        "whole command": ended - launched,
    }
    return durations, len(stamps["chunks"])


def main() -> int:
    """Time the phases of the command ``--repeats`` times and print their medians."""
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3:])
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # for benchmarks.run
    from benchmarks.run import WORKERS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replications", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs, counts = zip(*(phases(args.replications) for _ in range(args.repeats)), strict=True)
    chunks = counts[0]
    print(f"alliance-sim run, flagship, {args.replications:,} replications ({chunks} chunks), "
          f"{WORKERS} workers: median of {args.repeats} runs, s (each run)")  # fmt: skip
    medians = {}
    for name in runs[0]:
        values = [run[name] for run in runs]
        medians[name] = statistics.median(values)
        shown = ", ".join(f"{v:.2f}" for v in values)
        print(f"  {name:58s} {medians[name]:6.2f}  ({shown})")
    rounds = math.ceil(chunks / WORKERS) - 1  # the chunks each worker runs after its first
    if rounds < 1:
        print("  (no bound without simulation: a run of two chunks or more per worker needed)")
        return 0
    # The whole command less its simulation: every phase but the chunks' rounds, of
    # which the first is inside the start-up.
    fixed = statistics.median(
        run["whole command"] - run[SIMULATION] * (1 + 1 / rounds) for run in runs
    )
    print(f"  without the chunks' simulation: about {fixed:.2f} s, at most "
          f"{args.replications / fixed:,.0f} replications/s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
