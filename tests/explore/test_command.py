"""``alliance-sim explore``: bad input is refused before anything is served or written."""

from __future__ import annotations

import pytest

pytest.importorskip("panel", reason="the explore extra is not installed")

from sim.cli import main
from tests.helpers import SCENARIOS


def test_a_missing_scenario_exits_2_with_its_message(tmp_path, capsys):
    assert main(["explore", str(tmp_path / "nowhere.yaml"), "--port", "1"]) == 2
    assert "nowhere.yaml" in capsys.readouterr().err


def test_a_baseline_with_other_domains_is_refused(capsys):
    example = SCENARIOS / "examples" / "china_dprk.yaml"
    assert main(["explore", str(SCENARIOS / "baseline.yaml"), "--baseline", str(example)]) == 2
    assert "cannot be the baseline" in capsys.readouterr().err


def test_an_unknown_grid_control_names_the_likely_one(tmp_path, capsys):
    page = tmp_path / "page.html"
    flagship = str(SCENARIOS / "ukraine_ceasefire.yaml")
    code = main(["explore", flagship, "--export", str(page), "--grid", "events.cease.probability"])
    assert code == 2
    assert "did you mean events.ceasefire.probability" in capsys.readouterr().err
    assert not page.exists()
