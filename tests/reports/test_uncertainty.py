"""Parameter uncertainty against chance (sim.reports.uncertainty), on runs with joint samples."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.engine.runner import run
from sim.reports.uncertainty import parameter_spread, uncertainty_table
from sim.scenario import load_scenario
from tests.helpers import SCENARIOS, alive_at, alliance_sim, proportion_se, variant

DOMAINS = list(load_scenario(SCENARIOS / "baseline.yaml").channels)


def test_parameter_uncertainty_separates_parameters_from_chance(baseline):
    # Two equally likely worlds: a treaty that time cannot end, or one with a high hazard.
    treaty_name = "mutual_defence_treaty"
    split = variant(
        baseline,
        treaties={
            treaty_name: {
                "fixed_ratio": {"dist": "empirical", "values": [0.0, 20.0], "group": "posterior"}
            }
        },
    )
    n, m = 6000, 3000  # replications of the split run, and of each world run on its own
    result = run(split, replications=n, seed=3, horizon=60, workers=1, chunk_size=2000)
    table = uncertainty_table(result, "posterior").set_index(["domain", "horizon"])
    per_world = [
        run(
            variant(baseline, treaties={treaty_name: {"fixed_ratio": h}}),
            replications=m,
            seed=4,
            horizon=60,
            workers=1,
        )
        for h in (0.0, 20.0)
    ]
    treaty = table.loc[(treaty_name, 60)]
    per_draw = treaty.replications_per_draw
    alive = [alive_at(r, treaty_name, 60) for r in per_world]
    se_alive = [proportion_se(p, m) for p in alive]
    # With two draws, parameter_sd estimates |P0 - P1| / 2 from about n/2 replications per
    # draw; the world runs estimate the same from m each, independently (another seed).
    se_split = [proportion_se(p, per_draw) for p in alive]
    se_sd = np.sqrt(np.sum(np.square(se_split)) + np.sum(np.square(se_alive))) / 2
    assert treaty.parameter_sd == pytest.approx(abs(alive[0] - alive[1]) / 2, abs=4 * se_sd)
    # The pooled P(alive) is a mean over all n replications of the mixture.
    se_mean = np.hypot(proportion_se(treaty.p_survive, n), np.hypot(*se_alive) / 2)
    assert treaty.p_survive == pytest.approx(np.mean(alive), abs=4 * se_mean)
    # Chance is the Wilson interval of the n replications pooled, whatever their draw
    # (scipy's, on the count alive), and the parameters' spread dwarfs it.
    alive_count = treaty.p_survive * n
    assert alive_count == pytest.approx(round(alive_count), abs=1e-6)
    wilson = stats.binomtest(round(alive_count), n).proportion_ci(method="wilson")
    assert (treaty.chance_low, treaty.chance_high) == pytest.approx(
        (wilson.low, wilson.high), abs=1e-9
    )
    assert treaty.parameter_sd > 4 * proportion_se(treaty.p_survive, n)
    # Health does not depend on the treaty's hazard: its two draws' estimates differ
    # by chance alone, less than 4 SE of their difference, so parameter_sd <= |diff| / 2 is
    # below 2 SE of that difference.
    health = table.loc[("health", 60)]
    se_difference = np.sqrt(2) * proportion_se(health.p_survive, per_draw)
    assert health.parameter_sd < 4 * se_difference / 2


def test_run_with_parameter_uncertainty_writes_the_decomposition(tmp_path):
    done = alliance_sim(
        "run",
        str(SCENARIOS / "baseline.yaml"),
        "--parameter-uncertainty",
        "--replications",
        "2000",
        "--horizon",
        "24",
        "--out",
        str(tmp_path / "run"),
        "--quiet",
        "--workers",
        "1",
    )
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(tmp_path / "run" / "uncertainty-posterior.csv")
    assert set(table.domain) == {*DOMAINS, "mutual_defence_treaty"}
    assert list(table.date.unique()) == ["2026-03", "2027-03"]
    # The Markdown table reads like the other tables: domain labels and dates.
    markdown = (tmp_path / "run" / "uncertainty-posterior.md").read_text()
    header, *rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert header == "| Domain | Date | P(alive) [chance] | Parameters | Parameter sd |"
    assert rows[0].startswith("| Military | Mar 2026 | ")
    assert "defence_treaty" not in markdown
    assert "Defence treaty" in markdown
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["scenario"]["channel_defaults"]["growth"]["dist"] == "empirical"
    # The judged numbers were drawn as a joint sample, reported against chance as well.
    assert manifest["joint_draws"] == 200
    judged = pd.read_csv(tmp_path / "run" / "uncertainty-judgement.csv")
    assert (judged.parameter_sd > 0).any()


@pytest.mark.parametrize("n", [20, 200])
def test_the_resolution_tells_a_spread_from_noise(n):
    # 200 draws of n replications each around P = 0.5. Where the draws move nothing, the
    # noise-corrected spread passes its resolution (two standard errors of its variance)
    # in a few studies in a hundred; where they move P by twice that resolution, in
    # nearly all. 2,000 studies: a share's standard error is at most 0.011.
    rng = np.random.default_rng(8)
    draws, studies = 200, 2000
    counts = np.full(draws, n)
    _, resolution = parameter_spread(np.full(draws, 0.5), counts)

    def passes(sd: float) -> float:
        p = np.clip(0.5 + sd * rng.standard_normal((studies, draws)), 0, 1)
        estimates = rng.binomial(n, p) / n
        return np.mean([np.greater(*parameter_spread(e, counts)) for e in estimates])

    assert passes(0.0) < 0.05
    assert passes(2 * resolution) > 0.95
