"""Notebook display: a run's results as HTML with its headline table and a figure."""

from __future__ import annotations

import base64
import re

from sim.engine.runner import run
from sim.stats.survival import horizon_estimates

PNG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def inline_image(page: str) -> bytes:
    """The PNG inlined in an HTML page (the test fails if there is none)."""
    found = PNG.search(page)
    assert found, "an inline PNG"
    data = base64.b64decode(found.group(1))
    assert data.startswith(b"\x89PNG")
    return data


def test_a_run_shows_its_headline_table_and_curves(baseline):
    result = run(baseline, replications=400, horizon=24, seed=3, workers=1, progress=False)
    page = result._repr_html_()
    assert page.count("<table>") == 1
    assert "<th>Mar 2026</th>" in page
    assert "<th>Mar 2027</th>" in page
    estimate = horizon_estimates(result.summary, [24]).set_index("domain").loc["military"]
    cell = f"{estimate.p_survive:.2f} [{estimate.ci_low:.2f}, {estimate.ci_high:.2f}]"
    assert re.search(rf"<td[^>]*>Military</td>.*?<td[^>]*>{re.escape(cell)}</td></tr>", page)
    inline_image(page)
    assert "400 replications" in page
