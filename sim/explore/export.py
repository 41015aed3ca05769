"""The exploration page as one self-contained HTML file, over a precomputed grid of controls.

For a paper's supplement: the main controls of a scenario (by default the probabilities of
the first two events its own file defines) each take a few values across their range,
every combination is run against the baseline on common random numbers, and the page
carries all of it. Its sliders pick a point of the grid in the browser. The file is
written by Bokeh (the library under Panel) with its JavaScript inlined: Panel's own
``save`` still links its stylesheets from a CDN, while this page makes no request at all.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
from bokeh.embed import file_html
from bokeh.layouts import column, row
from bokeh.models import (
    ColumnDataSource,
    CustomJS,
    CustomJSTickFormatter,
    DataTable,
    Div,
    Slider,
    TableColumn,
)
from bokeh.resources import INLINE

from sim.errors import UserError, did_you_mean
from sim.explore.controls import Control, apply, own_events, scenario_controls
from sim.explore.plots import curve_data, survival_plots
from sim.explore.session import Exploration, Session
from sim.scenario import Scenario
from sim.storage import refuse_to_replace, write_text

GRID_POINTS = 5
"""Values per grid control across its range (the scenario's own value is added)."""
MAX_STATES = 200
"""Refuse a grid of more combinations than this (each is a run)."""


@dataclass(frozen=True)
class GridAxis:
    """A control of the grid and the values it takes."""

    control: Control
    values: tuple[Any, ...]


def grid_values(control: Control, points: int = GRID_POINTS) -> tuple[Any, ...]:
    """Evenly spaced values over a control's range, with its own value among them."""
    if control.kind == "month":
        raise UserError(f"{control.key}: a month cannot be a grid control; choose a number")
    spaced = np.linspace(float(control.low), float(control.high), points)
    digits = max(0, -int(np.floor(np.log10(control.step)))) + 1
    values = {round(float(v), digits) for v in spaced} | {control.value}
    if control.kind == "count":
        values = {round(v) for v in values}
    return tuple(sorted(values))


def grid_axes(scenario: Scenario, keys: Sequence[str] = (), points: int = GRID_POINTS):
    """The grid: the controls named by key path (default: own events' probabilities)."""
    controls = {c.key: c for c in scenario_controls(scenario)}
    if not keys:
        keys = [f"events.{name}.probability" for name in own_events(scenario)][:2]
        keys = [k for k in keys if k in controls]
    axes = []
    for key in keys:
        if key not in controls:
            guess = did_you_mean(key, list(controls))
            hint = f" (did you mean {guess}?)" if guess else ""
            raise UserError(f"--grid {key}: not a control of {scenario.name}{hint}")
        axes.append(GridAxis(controls[key], grid_values(controls[key], points)))
    states = int(np.prod([len(a.values) for a in axes])) if axes else 1
    if states > MAX_STATES:
        raise UserError(f"the grid has {states} combinations; at most {MAX_STATES}")
    return axes


def _state_key(indices: Sequence[int]) -> str:
    return ",".join(str(i) for i in indices)


def _table(exploration: Exploration) -> dict[str, list[str]]:
    return {column: list(values) for column, values in exploration.differences().items()}


def compute_grid(
    session: Session,
    axes: list[GridAxis],
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run every combination of the grid; the data the page carries, by state key."""
    scenario = session.scenario
    combos = list(itertools.product(*[range(len(a.values)) for a in axes]))
    # Every combination is checked by the scenario language before any is run.
    edited = [
        apply(scenario, {
            axis.control.path: axis.values[i]
            for axis, i in zip(axes, indices, strict=True)
            if axis.values[i] != axis.control.value
        })
        for indices in combos
    ]  # fmt: skip
    states = {}
    for done, (indices, point) in enumerate(zip(combos, edited, strict=True)):
        exploration = session.explore(point)
        states[_state_key(indices)] = {
            "curves": curve_data(exploration.result),
            "table": _table(exploration),
        }
        if progress:
            progress(done + 1, len(combos))
    return {"states": states, "baseline": curve_data(exploration.baseline), "last": exploration}


def write_page(
    path: Path,
    session: Session,
    axes: list[GridAxis],
    progress: Callable[[int, int], None] | None = None,
    force: bool = False,
    elsewhere: str = "another path",
) -> int:
    """Compute the grid and write the page atomically; return its size in bytes.

    Raises:
        UserError: ``path`` exists (without ``force``), checked before the grid is run.
    """
    refuse_to_replace([path], force, elsewhere)
    data = compute_grid(session, axes, progress)
    scenario = session.scenario
    own = [axis.values.index(axis.control.value) for axis in axes]
    first = _state_key(own)
    last = data["last"]
    baseline_name, scenario_name = last.results  # as the comparison table names them
    plots = survival_plots(scenario, (scenario_name, baseline_name))
    plots.show(data["states"][first]["curves"], data["baseline"])
    table_source = ColumnDataSource(data["states"][first]["table"], name="table")
    table = DataTable(
        source=table_source, width=900, height=420, index_position=None, name="differences",
        columns=[TableColumn(field=c, title=c, width=w) for c, w in (
            ("domain", 190), ("date", 80), ("scenario", 190), ("baseline", 190),
            ("difference", 230))],
    )  # fmt: skip
    sliders = [
        Slider(start=0, end=len(a.values) - 1, value=i, step=1, title=a.control.key, width=380,
               name=f"grid-{n}", format=CustomJSTickFormatter(
                   args={"labels": [str(v) for v in a.values]}, code="return labels[tick]"))
        for n, (a, i) in enumerate(zip(axes, own, strict=True))
    ]  # fmt: skip
    callback = CustomJS(
        args={"sliders": sliders, "sources": plots.scenario, "table": table_source,
              "states": data["states"]},
        code="""
const key = sliders.map((s) => s.value).join(",");
const state = states[key];
sources.forEach((source, i) => {
  source.data = state.curves[i];
});
table.data = state.table;
""",
    )  # fmt: skip
    for slider in sliders:
        slider.js_on_change("value", callback)
    described = "; ".join(f"{a.control.key} in {list(a.values)}" for a in axes) or "none"
    title = f"{scenario_name}: survival against {baseline_name}"
    text = (
        f"<h1>{escape(title)}</h1><p>{escape(' '.join(scenario.description.split()))}</p>"
        f"<p>Every combination of the grid ({escape(described)}) was run with "
        f"{last.result.replications:,} replications, seed {last.result.seed}, on common random "
        "numbers with the baseline: P(alive) with 95% bands (baseline and scenario), and the "
        "table of P(alive) at the report horizons with Wilson intervals and the paired "
        "difference (Newcombe 95%). Made by <code>alliance-sim explore --export</code>; it "
        "works offline.</p>"
    )
    layout = column(Div(text=text, width=1000), row(*sliders), plots.layout, table)
    html = file_html(layout, INLINE, title=f"alliance-sim explore: {title}")
    write_text(path, html)
    return len(html.encode())
