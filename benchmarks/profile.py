"""Where a chunk's time goes: the model's phases timed one by one, on both implementations.

    .venv/bin/python benchmarks/profile.py [--replications 10000] [--repeats 3]

Runs a flagship chunk the way the engine does (BLAS on one thread), timing (CPU time of
this process) the set-up (parameter draws, event months, agents), each phase of the
monthly step (actors' and channels' desires, state-timed events, actors' plans, shocks,
channels' next intensity, treaties, the commit of month t + 1, the record of
intensities) and the outcomes; first with the numpy reference, then with the numba
kernels if installed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from threadpoolctl import threadpool_limits  # noqa: E402

from sim.model.accelerate import VARIABLE  # noqa: E402
from sim.model.model import AllianceModel  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

FLAGSHIP = ROOT / "scenarios" / "ukraine_ceasefire.yaml"


def phases(model: AllianceModel) -> Counter:
    """Run the model to its end, the CPU seconds of each phase of its steps."""
    spent: Counter = Counter()
    end = model.horizon + model.alliance_scenario.termination.dormancy_months
    clock = time.process_time

    def timed(name: str, function, *args) -> None:
        start = clock()
        function(*args)
        spent[name] += clock() - start

    def clear() -> None:
        for channel in model._channels.values():
            channel.hit.fill(0)
            channel.drop.fill(0)

    while model.month < end:
        timed("desires (actors, channels)", lambda: (model.actors.do("decide"),
                                                     model.channels.do("decide")))  # fmt: skip
        if model.schedule.has_dynamic:
            timed("state-timed events", model.schedule.update, model.month, model.read)
        timed("actors' plans", model.actors.do, "plan")
        timed("shocks", lambda: (clear(), model.shocks and model.shocks.do("step")))
        timed("channels' next month", model.channels.do, "step")
        if model.treaties:
            timed("treaties", model.treaties.do, "step")
        timed("commit month t + 1", model.agents.do, "advance")
        model.month += 1
        timed("record intensities", model._observe)
    return spent


def profile(replications: int) -> Counter:
    """CPU seconds by phase of one chunk of the flagship scenario (BLAS on one thread)."""
    with threadpool_limits(limits=1):
        return _profile(replications)


def _profile(replications: int) -> Counter:
    scenario = load_scenario(FLAGSHIP)
    start = time.process_time()
    model = AllianceModel(scenario, replications, collect=False, tally=True)
    spent = Counter({"set-up (draws, events, agents)": time.process_time() - start})
    spent += phases(model)
    start = time.process_time()
    model.outcomes()
    spent["outcomes"] = time.process_time() - start
    return spent


def main() -> int:
    """Print the phases' shares for the numpy reference and, if installed, the kernels."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replications", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for implementation in ("numpy", "numba"):
        os.environ[VARIABLE] = implementation
        profile(args.replications)  # warm up
        runs = [profile(args.replications) for _ in range(args.repeats)]
        best = Counter({key: min(run[key] for run in runs) for key in runs[0]})
        total = sum(best.values())
        print(f"{implementation}: {total:.3f} s CPU per chunk of {args.replications:,} "
              f"(fastest of {args.repeats} per phase), load {os.getloadavg()[0]:.1f}")  # fmt: skip
        for key, value in best.most_common():
            print(f"  {key:34s} {value:7.3f} s  {value / total:6.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
