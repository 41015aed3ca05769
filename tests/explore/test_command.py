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


def test_an_existing_page_is_refused_before_the_grid_runs(tmp_path, capsys, monkeypatch):
    import sim.explore.export

    def grid(*_args, **_kwargs):
        raise AssertionError("the grid ran before the refusal")

    monkeypatch.setattr(sim.explore.export, "compute_grid", grid)
    page = tmp_path / "page.html"
    page.write_text("an earlier page")
    assert main(["explore", "--export", str(page)]) == 2
    assert (
        f"{page} already exists; use --force to replace it, or another PAGE.html"
        in capsys.readouterr().err
    )
    assert page.read_text() == "an earlier page"
    assert main(["explore", "--force"]) == 2, "--force replaces only what --export writes"
    assert "--force applies to --export" in capsys.readouterr().err


def test_a_port_out_of_range_or_taken_exits_2_before_serving(capsys):
    import socket

    with pytest.raises(SystemExit) as refused:  # argparse's own exit for a bad value
        main(["explore", "--port", "99999"])
    assert refused.value.code == 2
    assert "expected a port number up to 65535, got 99999" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["explore", str(SCENARIOS / "baseline.yaml"), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot serve on 127.0.0.1:{port}: Address already in use" in err
    assert "Traceback" not in err
