"""Print the measured columns of docs/validation.md: ``python -m tests.validation.measure``."""

from __future__ import annotations

import sim
from tests.helpers import SCENARIOS
from tests.validation.expectations import check, measure_scenarios, scenario_rows
from tests.validation.knobs import KNOBS, run

if __name__ == "__main__":
    rows = scenario_rows()
    table = measure_scenarios(rows)
    for row in rows:
        cells = []
        for horizon in (24, 60):
            here = table[(table.scenario == row.scenario) & (table.baseline == row.reference)]
            found = here[(here.domain == row.domain) & (here.horizon == horizon)].iloc[0]
            cells.append(f"{found.difference:+.3f}".replace("-", "−"))
        flags = "; ".join(check(row, table)) or "ok"
        print(
            f"{row.scenario} | {row.reference} | {row.domain} | {cells[0]} | {cells[1]} | {flags}"
        )
    baseline = sim.load_scenario(SCENARIOS / "baseline.yaml")
    reference = run(baseline, workers=2)
    for name, knob in KNOBS.items():
        try:
            print(f"{name} | {knob(baseline, reference)} | ok")
        except AssertionError as failure:
            print(f"{name} | fails: {failure}")
