"""The exploration page's controls, generated from a scenario, and edits made with them.

Nothing here is written per scenario file: every event's probability, timing (a month, a
window's ends, a hazard, a triangular's months, a trigger's months and levels) and lag,
every effect's size, and every judged number (``{value: ..., judgement: [low, high]}``)
of the resolved scenario becomes a :class:`Control` with a range and the meaning the
scenario gives it. An edit is a set of values at the controls' key paths; it is applied
to the scenario's document and validated by the scenario language itself
(:func:`sim.scenario.scenario_from_dict`), so a value the language refuses is refused
with its own message, and what is saved is an ordinary scenario file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from sim.errors import ScenarioError
from sim.months import iso_month, parse_month
from sim.scenario import Scenario, load_yaml, scenario_from_dict
from sim.scenario.load import scenario_files
from sim.storage import write_text

KeyPath = tuple[str | int, ...]
Kind = Literal["number", "count", "month"]

HAZARD_SPAN = 4.0
"""A hazard's slider reaches this many times its value (at least :data:`MIN_HAZARD_SPAN`)."""
MIN_HAZARD_SPAN = 0.05
NAMED_SECTIONS = ("actors", "channels", "treaties", "shocks", "state")
JUDGED = (
    "Judged range [%g, %g]: runs draw it once per replication from the triangular "
    "distribution on that range with this value as its mode."
)
TRIANGULAR = "Triangular distribution on [%g, %g], drawn once per replication: this is its mode."
EFFECT_KINDS = ("set", "add", "scale")
EFFECT_RANGES = {"set": (0.0, 1.0), "add": (-1.0, 1.0), "scale": (0.0, 2.0)}
"""Slider ranges of effect sizes without a judged range (typing beyond them is allowed)."""


@dataclass(frozen=True)
class Control:
    """One value of a scenario a user may change, where it sits, and its range.

    Attributes:
        path: Key path of the value in the scenario's document (``events.ceasefire.
            probability`` is ``("events", "ceasefire", "probability")``).
        label: Short name shown beside the control.
        group: The heading it is shown under (an event, or a section of the world).
        meaning: What the value means, its source or reason and its range (a tooltip).
        kind: ``number``; ``count`` (whole months); ``month`` (``YYYY-MM``).
        value: Its value in the scenario.
        low: Lower end of the slider (for a judged number, of its judged range).
        high: Upper end.
        step: Slider step.
    """

    path: KeyPath
    label: str
    group: str
    meaning: str
    kind: Kind
    value: float | int | str
    low: float | int | str
    high: float | int | str
    step: float = 1.0

    @property
    def key(self) -> str:
        """The key path as text, as in error messages (``events.ceasefire.probability``)."""
        return ".".join(str(part) for part in self.path)


def document(scenario: Scenario) -> dict[str, Any]:
    """The resolved scenario as plain data, the form a scenario file takes."""
    return scenario.model_dump(mode="json", exclude_none=True)


def _describe(node: dict[str, Any], *extra: str) -> str:
    """Meaning first, then what the control adds, then the reason and source."""
    parts = [node.get("meaning") or node.get("description") or "", *extra]
    parts += [f"{key.capitalize()}: {node[key]}" for key in ("reason", "source") if node.get(key)]
    return " ".join(" ".join(str(part).split()) for part in parts if part)


def _number_step(low: float, high: float) -> float:
    span = abs(high - low) or abs(low) or 1.0
    step = 10.0 ** (len(f"{int(span * 1000)}") - 6)  # a hundredth to a thousandth of the span
    return float(f"{step:.0e}")


def _number(
    path: KeyPath, label: str, group: str, meaning: str, value: Any, low: float, high: float
) -> list[Control]:
    """A number's control (none for a distribution other than a triangular).

    A plain number, the value of a documented one, or the mode of a triangular
    distribution over its range.
    """
    if isinstance(value, dict) and value.get("dist") == "triangular":
        meaning = _describe(value, meaning, TRIANGULAR % (value["low"], value["high"]))
        low, high = value["low"], value["high"]
        path, value = (*path, "mode"), value["mode"]
    elif isinstance(value, dict):
        if "value" not in value:
            return []
        if "judgement" in value:
            meaning = f"{meaning} {JUDGED % tuple(value['judgement'])}".strip()
        meaning = _describe(value, meaning)
        low, high = value.get("judgement", (low, high))
        path, value = (*path, "value"), value["value"]
    low, high = min(low, value), max(high, value)
    return [Control(path, label, group, meaning, "number", value, low, high,
                    _number_step(low, high))]  # fmt: skip


def _month_control(
    path: KeyPath, label: str, group: str, meaning: str, value: str | int, scenario: Scenario
) -> Control:
    if isinstance(value, str):
        start = parse_month(scenario.start)
        end = iso_month(start + scenario.horizon)
        return Control(path, label, group, meaning, "month", value, scenario.start, end)
    return Control(path, f"{label} (months)", group, meaning, "count", value, 0, scenario.horizon)


def _timing_controls(name: str, event: dict[str, Any], scenario: Scenario) -> list[Control]:
    timing = event["timing"]
    here: KeyPath = ("events", name, "timing")
    anchor = f"after {event['after']['event']}" if "after" in event else "of the run"
    controls = []
    if "month" in timing:
        meaning = f"The month it happens (a number: months after the start {anchor})."
        controls.append(
            _month_control((*here, "month"), "month", name, meaning, timing["month"], scenario)
        )
    for key, labels in (("window", ("window opens", "window closes")),
                        ("triangular", ("earliest", "most likely", "latest"))):  # fmt: skip
        for index, (label, value) in enumerate(zip(labels, timing.get(key, ()), strict=False)):
            meaning = (
                f"Timing {key} [{', '.join(str(v) for v in timing[key])}]: {label} "
                f"(a number: months after the start {anchor}); months must not decrease."
            )
            controls.append(
                _month_control((*here, key, index), label, name, meaning, value, scenario)
            )
    if "hazard" in timing:
        value = timing["hazard"]
        meaning = f"Monthly probability that it happens, from the month after the start {anchor}."
        mode = value.get("value", value.get("mode", 0.0)) if isinstance(value, dict) else value
        high = min(1.0, max(MIN_HAZARD_SPAN, HAZARD_SPAN * mode))
        controls += _number((*here, "hazard"), "monthly hazard", name, meaning, value, 0.0, high)
    if "when" in timing:
        trigger = timing["when"]
        meaning = "Months in a row the trigger's conditions must hold before it happens."
        months = trigger["months"]
        controls.append(Control((*here, "when", "months"), "trigger months", name, meaning,
                                "count", months, 1, max(24, 2 * months)))  # fmt: skip
        side = "all" if "all" in trigger else "any"
        for index, condition in enumerate(trigger[side]):
            bound = "below" if "below" in condition else "above"
            meaning = f"The trigger holds while {condition['value']} is {bound} this level."
            controls += _number((*here, "when", side, index, bound),
                                f"{condition['value']} {bound}", name, meaning,
                                condition[bound], 0.0, 1.0)  # fmt: skip
    return controls


def _effect_controls(name: str, event: dict[str, Any]) -> list[Control]:
    controls = []
    for index, effect in enumerate(event.get("effects", [])):
        kind = next(k for k in EFFECT_KINDS if k in effect)
        value = effect[kind]
        path: KeyPath = ("events", name, "effects", index, kind)
        timing = f"over {effect['ramp']} months" if effect.get("ramp") else "at once"
        lasting = f" for {effect['duration']} months" if effect.get("duration") else ""
        meaning = f"Effect on {effect['target']}: {kind} this value, {timing}{lasting}."
        low, high = EFFECT_RANGES[kind]
        controls += _number(path, f"{effect['target']} {kind}", name, meaning, value, low, high)
    return controls


def own_events(scenario: Scenario) -> list[str]:
    """The events the scenario's own file defines (all its events if it has no file)."""
    files = scenario_files(scenario)
    if not files:
        return list(scenario.events)
    data, _ = load_yaml(Path(files[-1]))
    own = [name for name in (data.get("events") or {}) if name in scenario.events]
    return own or list(scenario.events)


def event_controls(scenario: Scenario) -> list[Control]:
    """Every event's probability, timing, lag and effect sizes: its own file's events first."""
    data = document(scenario)
    controls = []
    own = own_events(scenario)
    for name in [*own, *(e for e in data.get("events", {}) if e not in own)]:
        event = data["events"][name]
        about = _describe(event)
        meaning = f"Probability that it can happen at all (drawn once per replication). {about}"
        controls += _number(("events", name, "probability"), "probability", name,
                            meaning.strip(), event["probability"], 0.0, 1.0)  # fmt: skip
        controls += _timing_controls(name, event, scenario)
        if "after" in event:
            meaning = f"Months after {event['after']['event']} before its timing starts."
            controls.append(Control(("events", name, "after", "lag"), "lag (months)", name,
                                    meaning, "count", event["after"]["lag"], 0,
                                    scenario.horizon))  # fmt: skip
        controls += _effect_controls(name, event)
    return controls


def judged_controls(scenario: Scenario) -> list[Control]:
    """Every uncertain number outside the events, over its documented range.

    These are the judged numbers (``value`` with ``judgement: [low, high]``) and the
    triangular distributions: a run draws either once per replication from the
    triangular distribution on its range, and the control moves the mode.
    """
    found: list[Control] = []

    def visit(node: Any, path: KeyPath) -> None:
        uncertain = isinstance(node, dict) and (
            "judgement" in node or node.get("dist") == "triangular"
        )
        if uncertain:
            named = path[0] in NAMED_SECTIONS  # a mapping of actors, channels, ...
            group = ".".join(str(p) for p in path[: 2 if named else 1])
            label = ".".join(str(p) for p in path[2 if named else 1 :])
            found.extend(_number(path, label, group, "", node, 0.0, 1.0))
        elif isinstance(node, dict):
            for key, item in node.items():
                visit(item, (*path, key))
        elif isinstance(node, list):
            for index, item in enumerate(node):
                visit(item, (*path, index))

    data = document(scenario)
    for section, node in data.items():
        if section != "events":  # an event's numbers are its own controls
            visit(node, (section,))
    return found


def scenario_controls(scenario: Scenario) -> list[Control]:
    """The controls of a scenario: its events' first, then its judged numbers."""
    return event_controls(scenario) + judged_controls(scenario)


def _set(data: Any, path: KeyPath, value: Any) -> None:
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def edited_document(scenario: Scenario, values: dict[KeyPath, Any]) -> dict[str, Any]:
    """The scenario's document with values set at key paths (not yet validated)."""
    data = document(scenario)
    for path, value in values.items():
        _set(data, path, value)
    return data


def apply(scenario: Scenario, values: dict[KeyPath, Any]) -> Scenario:
    """The scenario with values set at the controls' key paths, validated as a file would be.

    Raises:
        ScenarioError: A value the scenario language does not accept, with its message
            and key path.
    """
    if not values:
        return scenario
    edited = scenario_from_dict(edited_document(scenario, values))
    edited._files = scenario_files(scenario)
    return edited


def problem_for(error: ScenarioError, path: KeyPath) -> str | None:
    """The message of a scenario error that concerns a control's key path (or the event)."""
    messages = [str(p) for p in error.problems if tuple(p.key_path)[: len(path)] == path]
    if not messages:  # a check of the whole event or timing ("months must not decrease")
        messages = [str(p) for p in error.problems if path[: len(p.key_path)] == p.key_path]
    return "\n".join(messages) or None


def scenario_yaml(
    scenario: Scenario, replications: int, seed: int, changes: dict[KeyPath, Any]
) -> str:
    """The scenario as a self-contained YAML file that runs as the page ran it.

    The file holds the whole resolved scenario (no ``extends``), with the page's
    replications and seed as its run settings, so ``alliance-sim run FILE`` gives the
    page's numbers; the description lists the values changed.
    """
    data = document(scenario)
    data["replications"], data["seed"] = replications, seed
    if changes:
        listed = "; ".join(
            f"{'.'.join(str(p) for p in path)} = {value}" for path, value in changes.items()
        )
        edited = f"Edited with alliance-sim explore: {listed}."
        data["description"] = f"{data['description'].strip()} {edited}"
    origin = ", ".join(scenario_files(scenario)) or scenario.name
    header = f"# {scenario.name}, resolved from {origin} and edited with alliance-sim explore\n"
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def save_scenario(
    path: Path, scenario: Scenario, replications: int, seed: int, changes: dict[KeyPath, Any]
) -> Path:
    """Write :func:`scenario_yaml` atomically to ``path``; return the path."""
    write_text(path, scenario_yaml(scenario, replications, seed, changes))
    return path
