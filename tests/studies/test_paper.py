"""The paper study: committed tables are not overwritten by a run with other settings."""

from __future__ import annotations

import shutil

from tests.helpers import ROOT, SCENARIOS, alliance_sim


def test_paper_refuses_to_overwrite_tables_made_with_other_settings(tmp_path):
    out = tmp_path / "paper"
    shutil.copytree(ROOT / "results" / "paper", out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    done = alliance_sim("paper", "--out", str(out), "--replications", "1000", "--quiet")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert (
        f"{out / 'baseline.csv'} was made with seed 20250301 and 50,000 replications, not seed "
        "20250301 and 1,000: give --force to overwrite it, or another --out"
    ) in done.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before, "nothing was touched"
    # --force overwrites, here only the tables of the scenario given.
    done = alliance_sim(
        "paper", str(SCENARIOS / "baseline.yaml"), "--out", str(out), "--replications", "200",
        "--workers", "1", "--quiet", "--force",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "seed 20250301, 200 replications" in (out / "baseline.csv").read_text()
    assert (out / "ukraine_ceasefire.csv").read_bytes() == before["ukraine_ceasefire.csv"]
