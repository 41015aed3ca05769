"""The live exploration page (Panel): controls on the left, survival against the baseline.

:class:`Page` is the page of one browser session (:func:`page_factory` makes one per
session); :func:`serve` serves it on the loopback interface. A change of any control
applies every changed value to the scenario through the scenario language
(:func:`sim.explore.controls.apply`): a value it refuses is shown under the control with
the language's message and nothing is run; a value it accepts re-runs the scenario
(:class:`sim.explore.session.Session`) and redraws the figures and tables of
:mod:`sim.reports`. The module is also a Panel app script:
``panel serve sim/explore/app.py --args SCENARIO`` serves it with Panel's own options.
"""

from __future__ import annotations

import re
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import panel as pn

from sim.errors import ScenarioError, UserError
from sim.explore.controls import Control, KeyPath, apply, problem_for, save_scenario
from sim.explore.controls import scenario_controls as generate_controls
from sim.explore.plots import SurvivalPlots, curve_data, survival_plots
from sim.explore.session import Exploration, Session, settings_line
from sim.months import iso_month, parse_month
from sim.paths import SCENARIOS
from sim.reports.comparison import comparison_figure
from sim.reports.figures import alive_figure, intensity_figure
from sim.reports.measures import run_intensity
from sim.scenario import Scenario, load_scenario

LOCALHOST = "127.0.0.1"
SIDEBAR_WIDTH = 400
FIGURE_DPI = 110
AS_LOADED = "the scenario as loaded"
SAFE_FILE = re.compile(r"^[\w.-]+\.ya?ml$")
"""A file name the page may save to (inside its save folder, nothing else)."""


def library() -> dict[str, str]:
    """The library's scenarios: name -> path."""
    return {path.stem: str(path) for path in sorted(SCENARIOS.glob("*.yaml"))}


def _decimals(step: float) -> int:
    return max(0, -int(f"{step:.0e}".split("e")[1]))


def control_widget(control: Control) -> pn.widgets.Widget:
    """The widget of a control: a slider over its range whose box also takes typed values.

    A typed value outside the slider's range is passed on to the scenario language,
    which says whether it is acceptable.
    """
    common = {
        "label": control.label,
        "width": SIDEBAR_WIDTH - 80,
        "css_classes": ["control", "control-" + re.sub(r"\W", "-", control.key)],
    }
    if control.kind == "month":
        months = _months(str(control.low), str(control.high))
        return pn.widgets.DiscreteSlider(options=months, value=control.value, **common)
    if control.kind == "count":
        return pn.widgets.EditableIntSlider(
            start=int(control.low), end=int(control.high), value=int(control.value), **common
        )
    return pn.widgets.EditableFloatSlider(
        start=control.low, end=control.high, step=control.step, value=control.value,
        format=f"0.[{'0' * max(2, _decimals(control.step))}]", **common,
    )  # fmt: skip


def _months(first: str, last: str) -> list[str]:
    return [iso_month(m) for m in range(parse_month(first), parse_month(last) + 1)]


def _value(control: Control, widget: pn.widgets.Widget) -> Any:
    """The widget's value as the scenario writes it (numbers rounded to the slider's step)."""
    value = widget.value
    if control.kind == "number":
        return round(float(value), _decimals(control.step) + 2)
    return value


class Page:
    """One browser session's page: its scenario, controls, session and panes.

    Args:
        scenario_file: The scenario to start with.
        baseline_file: The baseline (None: the scenario as loaded).
        replications: Replications of a run (None: the session's default).
        seed: Seed (None: the scenario's).
        save_folder: Where "Save scenario" writes.
    """

    def __init__(
        self,
        scenario_file: str,
        baseline_file: str | None,
        replications: int | None,
        seed: int | None,
        save_folder: Path,
    ) -> None:
        self.replications, self.seed, self.save_folder = replications, seed, save_folder
        files = library()
        if scenario_file not in files.values():
            files[Path(scenario_file).stem] = scenario_file
        self.scenario_select = pn.widgets.Select(
            label="Scenario", options=files, value=scenario_file, width=SIDEBAR_WIDTH - 40
        )
        baselines = {AS_LOADED: "", **library()}
        if baseline_file and baseline_file not in baselines.values():
            baselines[Path(baseline_file).stem] = baseline_file
        self.baseline_select = pn.widgets.Select(
            label="Baseline (common random numbers)", options=baselines,
            value=baseline_file or "", width=SIDEBAR_WIDTH - 40,
        )  # fmt: skip
        self.more = pn.widgets.Button(label="More replications", color="primary")
        self.reset = pn.widgets.Button(label="Reset controls")
        self.file_name = pn.widgets.TextInput(label="Save as (in the save folder)", width=220)
        self.save = pn.widgets.Button(label="Save scenario", color="success")
        self.saved = pn.pane.Markdown("", css_classes=["saved"])
        self.status = pn.pane.Markdown("", css_classes=["status"])
        self.error = pn.pane.Alert("", alert_type="danger", visible=False)
        self.controls_column = pn.Column(scroll=True, height=620, width=SIDEBAR_WIDTH)
        self.headline = pn.pane.Markdown("", css_classes=["headline"], width=900)
        self.differences = pn.pane.DataFrame(None, index=False, css_classes=["differences"])
        self.survival = pn.pane.Bokeh(None)
        self.figures = {
            name: pn.pane.Matplotlib(None, dpi=FIGURE_DPI, tight=True, width=width)
            for name, width in (("differences", 1000), ("intensity", 1000), ("alive", 700))
        }
        self.drawn: set[str] = set()
        self.tabs = pn.Tabs(
            ("Survival", self.survival),
            ("Paired differences", pn.Column(self.differences, self.figures["differences"])),
            ("Intensity", self.figures["intensity"]),
            ("Domains alive", self.figures["alive"]),
        )
        self.tabs.param.watch(lambda _: self.draw(), "active")
        self.widgets: dict[KeyPath, tuple[Control, pn.widgets.Widget, pn.pane.Alert]] = {}
        self.exploration: Exploration | None = None
        self.plots: SurvivalPlots | None = None
        self.plots_for: tuple | None = None
        self.edited: Scenario | None = None
        self.changes: dict[KeyPath, Any] = {}

        self.scenario_select.param.watch(lambda _: self.load(), "value")
        self.baseline_select.param.watch(lambda _: self.load(), "value")
        self.more.on_click(lambda _: self.refine())
        self.reset.on_click(lambda _: self.load())
        self.save.on_click(lambda _: self.write())
        self.load()

    def load(self) -> None:
        """Load the chosen scenario and baseline, generate their controls, and run."""
        try:
            scenario = load_scenario(self.scenario_select.value)
            chosen = self.baseline_select.value
            baseline = load_scenario(chosen) if chosen else None
            self.session = Session.of(scenario, baseline, self.replications, self.seed)
        except UserError as error:
            self._show_error(str(error))
            return
        self.file_name.value = f"{scenario.name}_explored.yaml"
        self.widgets = {}
        groups: dict[str, list[Control]] = {}
        for control in generate_controls(scenario):
            groups.setdefault(control.group, []).append(control)
        cards = {}
        for group, controls in groups.items():
            event = group in scenario.events
            card = pn.Card(title=group, collapsed=not event, width=SIDEBAR_WIDTH - 25)
            cards[group] = card
            if event:
                self._fill(card, controls)
            else:  # hundreds of judged numbers: a card's widgets are made when it opens
                card.param.watch(lambda _, c=card, cs=controls: self._fill(c, cs), "collapsed")
        self.controls_column[:] = [
            pn.pane.Markdown("### Events"),
            *[card for group, card in cards.items() if group in scenario.events],
            pn.pane.Markdown("### Uncertain parameters (judged ranges)"),
            *[card for group, card in cards.items() if group not in scenario.events],
        ]
        self.update()

    def _fill(self, card: pn.Card, controls: list[Control]) -> None:
        """Put the widgets of a group's controls into its card (once)."""
        if len(card) or card.collapsed:
            return
        rows = []
        for control in controls:
            widget = control_widget(control)
            alert = pn.pane.Alert("", alert_type="danger", visible=False, css_classes=["refused"])
            widget.param.watch(lambda _: self.update(), "value_throttled")
            self.widgets[control.path] = (control, widget, alert)
            tip = pn.widgets.TooltipIcon(value=f"{control.key}: {control.meaning}")
            rows += [pn.Row(widget, tip), alert]
        card[:] = rows

    def update(self) -> None:
        """Apply every changed control; run and redraw, or show what the language refused."""
        scenario = self.session.scenario
        changes = {
            path: _value(control, widget)
            for path, (control, widget, _) in self.widgets.items()
            if _value(control, widget) != control.value
        }
        for _, _, alert in self.widgets.values():
            alert.visible = False
        try:
            edited = apply(scenario, changes)
        except ScenarioError as error:
            shown = False
            for path in changes:
                message = problem_for(error, path)
                if message:
                    alert = self.widgets[path][2]
                    alert.object, alert.visible, shown = f"Refused: {message}", True, True
            self._show_error(
                f"Not applied; the scenario language refused the change:\n\n{error}"
                if not shown else "Not applied: see the refused value in the controls."
            )  # fmt: skip
            return
        self.edited, self.changes = edited, changes
        self.run()

    def run(self) -> None:
        """Run the edited scenario against the baseline and redraw everything."""
        self.error.visible = False
        exploration = self.session.explore(self.edited)
        self.exploration = exploration
        names = tuple(exploration.results)[::-1]  # (scenario, baseline)
        changed = "; ".join(f"`{'.'.join(map(str, p))}` = {v}" for p, v in self.changes.items())
        # One batch of changes to the browser, the status line last: a reader (or a test)
        # who sees "Changed: ..." sees the numbers of that change, never the last ones.
        with pn.io.hold():
            self.headline.object = exploration.headline_markdown()
            self.differences.object = exploration.differences()
            if self.plots is None or self.plots_for != (exploration.result.scenario.name, names):
                self.plots = survival_plots(exploration.result.scenario, names)
                self.plots_for = (exploration.result.scenario.name, names)
                self.survival.object = self.plots.layout
            self.plots.show(curve_data(exploration.result), curve_data(exploration.baseline))
            self.drawn = set()
            self.draw()
            self.status.object = (
                f"**{names[0]}** against **{names[1]}**: {settings_line(exploration)}.  \n"
                f"Changed: {changed or 'nothing'}"
            )

    def draw(self) -> None:
        """Draw the matplotlib figure of the tab shown, if it is out of date (they take seconds)."""
        name = (None, "differences", "intensity", "alive")[self.tabs.active]
        exploration = self.exploration
        if name is None or name in self.drawn or exploration is None:
            return
        result = exploration.result
        if name == "differences":
            figure = comparison_figure(exploration.table, exploration.results)
        elif name == "intensity":
            figure = intensity_figure(result, run_intensity(result))
        else:
            figure = alive_figure(result)
        self.figures[name].object = figure
        self.drawn.add(name)

    def refine(self) -> None:
        """Double the replications and run again (same seed: still common random numbers)."""
        self.session.replications *= 2
        self.replications = self.session.replications
        self.run()

    def write(self) -> None:
        """Save the edited scenario as YAML that reproduces the page's numbers."""
        name = self.file_name.value.strip()
        if not SAFE_FILE.match(name):
            self.saved.object = f"Not saved: give a file name ending in .yaml, not {name!r}."
            return
        if self.edited is None:
            self.saved.object = "Not saved: the scenario has values its language refused."
            return
        path = save_scenario(self.save_folder / name, self.edited, self.session.replications,
                             self.session.seed, self.changes)  # fmt: skip
        self.saved.object = f"Wrote `{path}`; `alliance-sim run {path}` gives these numbers."

    def _show_error(self, message: str) -> None:
        self.error.object, self.error.visible = message, True
        self.status.object = "Not run."
        self.status.visible = True

    def view(self) -> pn.viewable.Viewable:
        """The page's layout."""
        sidebar = pn.Column(
            "## alliance-sim explore",
            self.scenario_select, self.baseline_select,
            pn.Row(self.more, self.reset),
            pn.Row(self.file_name, self.save, align="end"), self.saved,
            self.controls_column, width=SIDEBAR_WIDTH,
        )  # fmt: skip
        main = pn.Column(self.status, self.error, self.headline, self.tabs)
        return pn.Row(sidebar, main)


def page_factory(
    scenario_file: str,
    baseline_file: str | None = None,
    replications: int | None = None,
    seed: int | None = None,
    save_folder: Path | None = None,
) -> Callable[[], pn.viewable.Viewable]:
    """A function that builds a fresh page for each browser session."""
    folder = save_folder or Path.cwd()

    def build() -> pn.viewable.Viewable:
        return Page(scenario_file, baseline_file, replications, seed, folder).view()

    return build


def serve(build: Callable[[], pn.viewable.Viewable], port: int, show: bool = False) -> None:
    """Serve the page on 127.0.0.1 until interrupted (nothing listens on other interfaces).

    Raises:
        UserError: The port is taken (or not ours to take), found before serving starts.
    """
    try:
        with socket.socket() as probe:  # as the server binds: reusing a closed port's address
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((LOCALHOST, port))
    except OSError as error:
        raise UserError(
            f"cannot serve on {LOCALHOST}:{port}: {error.strerror or error}; give another "
            "port with --port"
        ) from None
    origins = [f"{LOCALHOST}:{port}", f"localhost:{port}"]
    print(f"alliance-sim explore: serving on http://{LOCALHOST}:{port} (Ctrl-C stops it)")
    sys.stdout.flush()
    pn.serve(
        build, port=port, address=LOCALHOST, websocket_origin=origins, show=show,
        title="alliance-sim explore",
    )  # fmt: skip


if __name__.startswith("bokeh"):  # run by `panel serve sim/explore/app.py --args SCENARIO`
    page_factory(
        sys.argv[1] if len(sys.argv) > 1 else str(SCENARIOS / "ukraine_ceasefire.yaml")
    )().servable(title="alliance-sim explore")
