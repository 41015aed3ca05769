"""A session's numbers are those of the public API: `sim.run` and `sim.compare`."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.explore.controls import apply
from sim.explore.session import Session
from sim.reports.tables import markdown_table
from tests.helpers import SCENARIOS

REPLICATIONS = 300


@pytest.mark.slow
def test_an_exploration_is_sim_compare_on_common_random_numbers(ceasefire, baseline):
    session = Session.of(ceasefire, baseline, replications=REPLICATIONS, workers=1)
    edited = apply(ceasefire, {("events", "ceasefire", "probability"): 0.5})
    exploration = session.explore(edited)
    ran = sim.run(edited, replications=REPLICATIONS, seed=ceasefire.seed, workers=1)
    assert exploration.headline_markdown() == markdown_table(ran)
    compared = sim.compare(
        [baseline, edited], replications=REPLICATIONS, seed=ceasefire.seed, workers=1
    ).differences("p_alive")
    ours = exploration.table
    assert list(ours.domain) == list(compared.domain)
    assert list(ours.horizon) == list(compared.horizon)
    for column in ("value", "baseline_value", "difference", "difference_low", "difference_high"):
        np.testing.assert_allclose(ours[column], compared[column], rtol=0, atol=1e-12)
    assert session.baseline_run() is exploration.baseline  # run once, then kept


def test_a_baseline_must_share_the_domains(ceasefire):
    example = sim.load_scenario(SCENARIOS / "examples" / "china_dprk.yaml")
    with pytest.raises(sim.UserError, match="cannot be the baseline"):
        Session.of(ceasefire, example)
