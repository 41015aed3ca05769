"""The page's logic without a browser: refining, and what saving refuses."""

from __future__ import annotations

import pytest

pytest.importorskip("panel", reason="the explore extra is not installed")

import sim
from sim.explore.app import Page
from sim.reports.tables import markdown_table
from tests.helpers import SCENARIOS

REPLICATIONS = 150


@pytest.mark.slow
def test_more_replications_doubles_them_and_saving_refuses_paths(ceasefire, tmp_path):
    page = Page(str(SCENARIOS / "ukraine_ceasefire.yaml"), None, REPLICATIONS, None, tmp_path)
    page.refine()
    assert page.session.replications == 2 * REPLICATIONS
    ran = sim.run(ceasefire, replications=2 * REPLICATIONS, seed=ceasefire.seed, workers=1)
    assert page.headline.object == markdown_table(ran)
    for name in ("../elsewhere.yaml", "/tmp/x.yaml", "notes.txt"):
        page.file_name.value = name
        page.write()
        assert page.saved.object.startswith("Not saved"), name
    assert list(tmp_path.iterdir()) == []
    page.file_name.value = "mine.yaml"
    page.write()
    saved = sim.load_scenario(tmp_path / "mine.yaml")
    assert (saved.replications, saved.seed) == (2 * REPLICATIONS, ceasefire.seed)
