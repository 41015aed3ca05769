"""The exported page: a grid over the main controls, offline, its slider redrawing the curves."""

from __future__ import annotations

import pytest

pytest.importorskip("panel", reason="the explore extra is not installed")
pytest.importorskip("pytest_playwright", reason="pytest-playwright is not installed")

from sim.errors import UserError
from sim.explore.controls import apply, scenario_controls
from sim.explore.export import grid_axes, grid_values, write_page
from sim.explore.plots import curve_data
from sim.explore.session import Session

REPLICATIONS = 200
CEASEFIRE = ("events", "ceasefire", "probability")
SETTLEMENT = ("events", "peace_settlement", "probability")


def test_the_grid_defaults_to_the_scenarios_own_events(ceasefire):
    axes = grid_axes(ceasefire)
    assert [a.control.path for a in axes] == [CEASEFIRE, SETTLEMENT]
    assert axes[0].values == (0.0, 0.25, 0.5, 0.75, 1.0)
    hazard = {c.key: c for c in scenario_controls(ceasefire)}[
        "events.peace_settlement.timing.hazard"
    ]
    values = grid_values(hazard, 3)
    assert hazard.value in values
    assert min(values) == hazard.low
    assert max(values) == hazard.high
    with pytest.raises(UserError, match=r"did you mean events\.ceasefire\.probability"):
        grid_axes(ceasefire, ["events.ceasefire.probabilty"])


CURVE = "Bokeh.documents[0].get_model_by_name('scenario-military').data.p_survive"
"""The scenario's curve of the military domain, as the page holds it."""


def _curve(page) -> list[float]:
    return page.evaluate(f"() => {CURVE}")


@pytest.mark.slow
def test_the_exported_page_works_offline_and_its_slider_changes_the_curve(
    page, ceasefire, tmp_path
):
    session = Session.of(ceasefire, replications=REPLICATIONS, workers=1)
    axes = grid_axes(ceasefire, [".".join(CEASEFIRE)], points=2)  # probability 0 or 1
    path = tmp_path / "page.html"
    size = write_page(path, session, axes)
    assert size == path.stat().st_size
    assert size < 10e6

    blocked = []

    def only_the_file(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_file)
    page.goto(path.as_uri())
    page.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0", timeout=60_000)
    page.locator(".bk-slider-title").first.wait_for(timeout=60_000)  # rendered
    shown = _curve(page)
    assert shown == curve_data(session.explore(ceasefire).result)[0]["p_survive"]

    before = page.screenshot()
    page.evaluate(f"() => {{ window.shownBefore = {CURVE}.join(); }}")
    page.locator(".noUi-handle").first.press("Home")  # the ceasefire's probability to 0
    page.wait_for_function(f"() => {CURVE}.join() !== window.shownBefore", timeout=60_000)
    expected = curve_data(session.explore(apply(ceasefire, {CEASEFIRE: 0.0})).result)[0]
    assert _curve(page) == expected["p_survive"]
    assert page.screenshot() != before  # the curve is redrawn, not only its data
    assert blocked == []  # nothing asked for anything outside the file
