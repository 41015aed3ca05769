"""Whole-scenario checks: names that must exist, months inside the run, values in range.

The schema checks each value on its own; these checks need the whole resolved scenario
(does the actor a channel names exist? does an event fall inside the run?). Every
problem is reported with its file, line and key path, in file order.

:func:`likely_mistakes` is the one place for what is allowed but almost surely a mistake
(a ramp longer than the run, a threshold above the emergence level, ...): the loader
emits each as an :class:`~sim.errors.Advisory` warning and carries on.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from sim.errors import KeyPath, Problem, ScenarioError, did_you_mean
from sim.months import iso_month, month_offset, parse_month
from sim.scenario.problems import in_file_order, locate
from sim.scenario.schema import (
    CHANNEL_DEFAULTABLE,
    CHANNEL_PARAMETERS,
    Scenario,
    SetEffect,
    TruncatedNormal,
    format_bounds,
    point_value,
    sample_group_sizes,
    support,
)
from sim.scenario.yamlfile import Locations


class Checker:
    """Whole-scenario checks: names that must exist, months inside the run, ranges."""

    def __init__(self, scenario: Scenario, locations: Locations, check_months: bool) -> None:
        self.s = scenario
        self.locations = locations
        self.check_months = check_months
        self.problems: list[Problem] = []
        self.start = parse_month(scenario.start)
        self.variables = {
            f"{actor}.{name}": variable
            for actor, spec in scenario.actors.items()
            for name, variable in spec.variables.items()
        }

    def problem(self, path: KeyPath, message: str, suggestion: str | None = None) -> None:
        """Record a problem at ``path``."""
        self.problems.append(Problem(locate(self.locations, path), path, message, suggestion))

    def unknown(self, path: KeyPath, what: str, name: str, known: list[str]) -> None:
        """Report a name that does not exist, e.g. ``what='unknown actor'``."""
        self.problem(path, f"{what} '{name}'", did_you_mean(name, known))

    def run(self) -> list[Problem]:
        """Run every check; return the problems found."""
        self.names()
        self.sample_groups()
        self.channels()
        self.state()
        self.events()
        self.treaties()
        self.shocks()
        horizons = self.s.report_horizons
        if not horizons:
            self.problem(
                ("report_horizons",),
                "give at least one report horizon (months after the start), e.g. [12, 60]",
            )
        elif horizons != sorted(set(horizons)):
            self.problem(("report_horizons",), "report horizons must increase")
        if horizons and horizons[-1] > self.s.horizon:
            self.problem(
                ("report_horizons",),
                f"report horizon {horizons[-1]} is beyond the run's horizon of "
                f"{self.s.horizon} months",
            )
        return self.problems

    def sample_groups(self) -> None:
        """Parameters drawn jointly from samples (a posterior) need samples of one size."""
        for group, found in sample_group_sizes(self.s).items():
            if len(found) > 1:
                self.problem(
                    (),
                    f"empirical group '{group}' has samples of different sizes {sorted(found)}: "
                    "every parameter of a group needs one value per draw",
                )

    def names(self) -> None:
        """Actors and channels need distinct names; the alliance channel must exist."""
        for name in set(self.s.actors) & set(self.s.channels):
            self.problem(("channels", name), f"'{name}' names both an actor and a channel")
        for name in set(self.s.treaties) & (set(self.s.actors) | set(self.s.channels)):
            self.problem(
                ("treaties", name),
                f"'{name}' names a treaty and an actor or channel: give the treaty its own name",
            )
        core = self.s.alliance_channel
        if core is not None and core not in self.s.channels:
            self.unknown(("alliance_channel",), "unknown channel", core, list(self.s.channels))

    def variable_reference(self, path: KeyPath, reference: str) -> None:
        """Report ``reference`` unless it names an existing ``actor.variable``."""
        if reference in self.variables:
            return
        actor, _, variable = reference.partition(".")
        if actor not in self.s.actors:
            self.unknown(path, "unknown actor", actor, list(self.s.actors))
        elif not variable:
            self.problem(path, f"expected 'actor.variable', got '{reference}'")
        else:
            known = list(self.s.actors[actor].variables)
            self.unknown(path, f"{actor} has no variable", variable, known)

    def channels(self) -> None:
        """Parties, desires, costs, spillover and defaults of every channel."""
        defaults = self.s.channel_defaults
        for name, channel in self.s.channels.items():
            here = ("channels", name)
            for party in channel.parties:
                if party not in self.s.actors:
                    self.unknown((*here, "parties"), "unknown actor", party, list(self.s.actors))
            if channel.parties[0] == channel.parties[1]:
                self.problem((*here, "parties"), "a channel needs two different parties")
            for field in CHANNEL_DEFAULTABLE:
                if getattr(channel, field) is None and getattr(defaults, field) is None:
                    self.problem(
                        here, f"no value for '{field}' here or in channel_defaults.{field}"
                    )
            for party in channel.desire:
                if party not in channel.parties:
                    self.problem(
                        (*here, "desire", party),
                        f"'{party}' is not a party of this channel; parties are "
                        f"{', '.join(channel.parties)}",
                        did_you_mean(party, channel.parties),
                    )
            for party in channel.parties:
                if party not in channel.desire:
                    self.problem((*here, "desire"), f"no desire given for party '{party}'")
            for party, terms in channel.desire.items():
                for term in terms:
                    if term != "base":
                        self.variable_reference((*here, "desire", party, term), term)
            for term in channel.cost:
                self.variable_reference((*here, "cost", term), term)
            for source in channel.spillover:
                if source not in self.s.channels:
                    self.unknown(
                        (*here, "spillover", source),
                        "unknown channel",
                        source,
                        list(self.s.channels),
                    )
                elif source == name:
                    self.problem((*here, "spillover", source), "a channel cannot feed itself")
        for actor, spec in self.s.actors.items():
            for variable, definition in spec.variables.items():
                for source in definition.responds_to:
                    path = ("actors", actor, "variables", variable, "responds_to", source)
                    if "." in source:
                        self.variable_reference(path, source)
                    elif source not in self.s.channels:
                        known = list(self.s.channels) + list(self.variables)
                        self.unknown(path, "unknown channel or variable", source, known)

    def state(self) -> None:
        """The start state: its month, and a value for every variable and channel."""
        state = self.s.state
        if state.month != self.s.start:
            self.problem(
                ("start",),
                f"the run starts {self.s.start} but the state describes {state.month}; "
                "extend a file that holds the state of the start month",
            )
        for actor, values in state.actors.items():
            if actor not in self.s.actors:
                self.unknown(
                    ("state", "actors", actor), "unknown actor", actor, list(self.s.actors)
                )
                continue
            known = self.s.actors[actor].variables
            for variable, value in values.items():
                path = ("state", "actors", actor, variable)
                if variable not in known:
                    self.unknown(path, f"{actor} has no variable", variable, list(known))
                    continue
                self.within(path, value, *known[variable].range, "the variable's range")
        for actor, spec in self.s.actors.items():
            for variable in spec.variables:
                if variable not in state.actors.get(actor, {}):
                    self.problem(
                        ("actors", actor, "variables", variable),
                        f"no value at the start for {actor}.{variable}: "
                        f"add it under state.actors.{actor}",
                    )
        for channel in state.channels:
            if channel not in self.s.channels:
                self.unknown(
                    ("state", "channels", channel),
                    "unknown channel",
                    channel,
                    list(self.s.channels),
                )
        for channel in self.s.channels:
            if channel not in state.channels:
                self.problem(
                    ("channels", channel),
                    f"no state at the start for {channel}: add it under state.channels",
                )

    def month(self, path: KeyPath, value: str | int, relative: bool) -> None:
        """Report a timing month before the start or (if checked) after the end."""
        if isinstance(value, int):
            offset = value
        elif relative:
            self.problem(
                path,
                "timing after another event counts months from it: give a number of "
                f"months, not the date {value}",
            )
            return
        else:
            offset = month_offset(value, self.start)
        if offset < 0:
            self.problem(path, f"{value} is before the run starts ({self.s.start})")
        elif self.check_months and offset > self.s.horizon:
            end = iso_month(self.start + self.s.horizon)
            self.problem(path, f"{value} is after the run ends ({end})")

    def events(self) -> None:
        """Timings, conditions and effects of every event."""
        events = self.s.events
        for name, event in events.items():
            here = ("events", name)
            relative = event.after is not None
            timing = event.timing
            for key in ("month", "window", "triangular"):
                value = getattr(timing, key, None)
                if value is None:
                    continue
                values = value if isinstance(value, tuple) else (value,)
                for index, item in enumerate(values):
                    path = (*here, "timing", key) + ((index,) if isinstance(value, tuple) else ())
                    self.month(path, item, relative)
                offsets = [month_offset(item, self.start) for item in values]
                if offsets != sorted(offsets):
                    self.problem((*here, "timing", key), "months must not decrease")
            if event.after is not None and event.after.event not in events:
                self.unknown(
                    (*here, "after", "event"), "unknown event", event.after.event, list(events)
                )
            if event.after is not None and event.after.event == name:
                self.problem((*here, "after", "event"), "an event cannot follow itself")
            for index, other in enumerate(event.unless):
                if other not in events:
                    self.unknown((*here, "unless", index), "unknown event", other, list(events))
                elif other == name:
                    self.problem((*here, "unless", index), "an event cannot block itself")
            for index, effect in enumerate(event.effects):
                self.effect((*here, "effects", index), effect)
            trigger = getattr(timing, "when", None)
            if trigger is not None:
                side = "all" if trigger.all else "any"
                for index, condition in enumerate(trigger.conditions):
                    self.value_reference((*here, "timing", "when", side, index, "value"),
                                         condition.value)  # fmt: skip
        self.event_cycles()

    def effect(self, path: KeyPath, effect) -> None:
        """An effect's target exists, and a set value lies in the target's range."""
        target = effect.target
        owner, _, attribute = target.partition(".")
        if owner in self.s.treaties:
            if attribute != "in_force":
                self.problem((*path, "target"), f"a treaty's target is {owner}.in_force")
            elif not (isinstance(effect, SetEffect) and support(effect.set) == (0.0, 0.0)):
                self.problem(
                    (*path, "target"),
                    f"{target} can only be ended: write set: 0 (the treaty is abrogated)",
                )
            return
        if owner in self.s.channels:
            if attribute not in CHANNEL_PARAMETERS:
                self.unknown(
                    (*path, "target"), f"channel {owner} has no parameter", attribute,
                    list(CHANNEL_PARAMETERS),
                )  # fmt: skip
            elif isinstance(effect, SetEffect):
                low, high = CHANNEL_PARAMETERS[attribute]
                self.within((*path, "set"), effect.set, low, high, f"{target}'s range")
            return
        if owner not in self.s.actors:
            known = list(self.s.actors) + list(self.s.channels) + list(self.s.treaties)
            self.unknown((*path, "target"), "unknown actor, channel or treaty", owner, known)
            return
        self.variable_reference((*path, "target"), target)
        if isinstance(effect, SetEffect) and target in self.variables:
            self.within(
                (*path, "set"), effect.set, *self.variables[target].range, f"{target}'s range"
            )

    def value_reference(self, path: KeyPath, reference: str) -> None:
        """Report a state value a condition or covariate reads that does not exist."""
        if reference in self.variables or reference in self.s.channels:
            return
        if reference in self.s.treaties:
            return
        channel, marker, party = reference.partition(".desire")
        if marker and channel in self.s.channels:
            parties = self.s.channels[channel].parties
            if party == "" or party[1:] in parties:
                return
            self.unknown(path, f"{channel} has no party", party[1:], list(parties))
            return
        if "." in reference and not marker:
            self.variable_reference(path, reference)
            return
        known = list(self.s.channels) + list(self.variables) + list(self.s.treaties)
        self.unknown(path, "unknown value", reference, known)

    def treaties(self) -> None:
        """A treaty's channel exists, it was signed by the start, its covariates exist."""
        for name, treaty in self.s.treaties.items():
            here = ("treaties", name)
            if treaty.channel not in self.s.channels:
                self.unknown(
                    (*here, "channel"), "unknown channel", treaty.channel, list(self.s.channels)
                )
            if month_offset(treaty.signed, self.start) > 0:
                self.problem((*here, "signed"), f"signed {treaty.signed}, after the start")
            ages = [step.from_month for step in treaty.baseline]
            if ages != sorted(set(ages)) or ages[0] != 0:
                self.problem(
                    (*here, "baseline"),
                    "baseline steps start at from_month 0 and increase",
                )
            for key, covariate in treaty.covariates.items():
                self.value_reference((*here, "covariates", key, "value"), covariate.value)

    def shocks(self) -> None:
        """A shock reaches channels that exist."""
        for name, shock in self.s.shocks.items():
            for channel in shock.reach:
                if channel not in self.s.channels:
                    self.unknown(
                        ("shocks", name, "reach", channel),
                        "unknown channel",
                        channel,
                        list(self.s.channels),
                    )

    def within(
        self, path: KeyPath, value, low: float | None, high: float | None, what: str
    ) -> None:
        """Report ``value`` if it can fall outside [low, high] (None: unbounded)."""
        lo, hi = support(value)
        if (low is not None and lo < low) or (high is not None and hi > high):
            self.problem(path, f"must lie in {what} {format_bounds(low, high)}")

    def event_cycles(self) -> None:
        """Events may not depend on each other in a cycle."""
        events = self.s.events
        graph = {name: event.depends_on for name, event in events.items()}
        state: dict[str, int] = {}

        def visit(name: str, trail: list[str]) -> None:
            state[name] = 1
            for other in graph.get(name, []):
                if other not in graph:
                    continue
                if state.get(other) == 1:
                    cycle = " -> ".join([*trail[trail.index(other) :], other])
                    self.problem(
                        ("events", name), f"events depend on each other in a cycle: {cycle}"
                    )
                elif other not in state:
                    visit(other, [*trail, other])
            state[name] = 2

        for name in graph:
            if name not in state:
                visit(name, [name])


def check_scenario(scenario: Scenario, locations: Locations, check_months: bool = True) -> None:
    """Check the scenario as a whole.

    Raises:
        ScenarioError: Every problem found, in file order.
    """
    problems = Checker(scenario, locations, check_months).run()
    if problems:
        raise ScenarioError(in_file_order(problems))


TRUNCATED_MEAN_SDS = 2.0
"""A truncated normal whose mean lies more standard deviations than this outside its bounds
draws almost every value at the nearer bound: surely not what its author meant."""

RESPONSE_NOTED = 0.02
"""A ``set`` on a variable whose responses add at least this much at the start month is
warned about: it moves only the part that is not a response, so the variable lands that far
from the value written."""


def _shown(value: Any) -> str:
    """A parameter's value, or the range a distribution's values take, for a message."""
    low, high = support(value)
    return f"{low:g}" if low == high else f"{low:g} to {high:g}"


def _models(node: Any, path: KeyPath):
    """Every pydantic model under ``node`` (a scenario or a part of it) with its key path."""
    if isinstance(node, BaseModel):
        yield path, node
        for name in type(node).model_fields:
            yield from _models(getattr(node, name), (*path, name))
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _models(value, (*path, key))
    elif isinstance(node, list | tuple):
        for index, value in enumerate(node):
            yield from _models(value, (*path, index))


def _start_responses(scenario: Scenario) -> dict[str, tuple[float, float, list[str]]]:
    """For each responding variable: its own part, what its responses add, and to what.

    Typical values at the start month: channels at their start intensities, variables at
    their own parts plus their responses (solved by repeating the sums, as responses to
    responses settle; variables kept in their ranges). Empty where the state lacks a
    variable (a check elsewhere reports it).
    """
    state = scenario.state
    variables = {
        f"{actor}.{name}": variable
        for actor, spec in scenario.actors.items()
        for name, variable in spec.variables.items()
    }
    own: dict[str, float] = {}
    for target in variables:
        actor, _, name = target.partition(".")
        if name not in state.actors.get(actor, {}):
            return {}
        own[target] = point_value(state.actors[actor][name])
    intensity = {name: channel.intensity for name, channel in state.channels.items()}
    total = dict(own)
    added: dict[str, float] = {}
    # A chain of responses to responses settles within one pass per variable.
    for _ in variables:
        for target, variable in variables.items():
            if not variable.responds_to:
                continue
            values = [
                point_value(weight) * (total[source] if source in total else intensity[source])
                for source, weight in variable.responds_to.items()
                if source in total or source in intensity
            ]
            added[target] = sum(values)
            low, high = variable.range
            total[target] = min(max(own[target] + added[target], low), high)
    return {
        target: (own[target], total[target] - own[target], list(variables[target].responds_to))
        for target in added
    }


def likely_mistakes(scenario: Scenario, locations: Locations) -> list[Problem]:
    """What a valid scenario holds that is almost surely a mistake, in file order.

    - an effect whose ``ramp`` is longer than the run (it never reaches its full size);
    - ``termination.dormancy_months`` past the horizon (no channel can end by dormancy);
    - a ``threshold`` above the ``emergence`` level, in ``channel_defaults`` or in a
      channel (an established channel would count as dormant at once);
    - a truncated normal whose mean lies more than :data:`TRUNCATED_MEAN_SDS` standard
      deviations outside its bounds (almost every draw is the bound);
    - a ``set`` on an actor variable that responds to what it sees, where the responses
      add at least :data:`RESPONSE_NOTED` at the start: the effect moves only the part
      that is not a response, so the variable does not settle at the value written.
    """
    found: list[Problem] = []

    def note(path: KeyPath, message: str) -> None:
        found.append(Problem(locate(locations, path), path, message))

    horizon = scenario.horizon
    responses = _start_responses(scenario)
    for name, event in scenario.events.items():
        for index, effect in enumerate(event.effects):
            if effect.ramp > horizon:
                note(
                    ("events", name, "effects", index, "ramp"),
                    f"a ramp of {effect.ramp} months is longer than the run's horizon of "
                    f"{horizon} months: the effect never reaches its full size",
                )
            response = responses.get(effect.target)
            if isinstance(effect, SetEffect) and response is not None:
                own, added, sources = response
                if abs(added) >= RESPONSE_NOTED:
                    value = point_value(effect.set)
                    note(
                        ("events", name, "effects", index, "set"),
                        f"{effect.target} also responds to {' and '.join(sources)} (about "
                        f"{added:+.2g} at the start): a set moves only the part that is not "
                        f"a response ({own:.2g} at the start), and the responses are added on "
                        f"top, so set: {value:g} leaves it near {value + added:.2g}, not "
                        f"{value:g}. To take the whole variable from {own + added:.2g} to "
                        f"{value:g}, write add: {value - own - added:.2g}",
                    )
    dormancy = scenario.termination.dormancy_months
    if dormancy > horizon:
        note(
            ("termination", "dormancy_months"),
            f"{dormancy} months below the threshold end a channel, more than the run's "
            f"horizon of {horizon} months: no channel can end by dormancy",
        )
    defaults = scenario.channel_defaults
    places = [(("channel_defaults",), defaults, defaults.threshold, defaults.emergence)]
    for name, channel in scenario.channels.items():
        if channel.threshold is not None or channel.emergence is not None:
            threshold = defaults.threshold if channel.threshold is None else channel.threshold
            emergence = defaults.emergence if channel.emergence is None else channel.emergence
            places.append((("channels", name), channel, threshold, emergence))
    for here, owner, threshold, emergence in places:
        if threshold is None or emergence is None:
            continue
        if support(threshold)[0] > support(emergence)[1]:
            key = "threshold" if getattr(owner, "threshold", None) is not None else "emergence"
            note(
                (*here, key),
                f"the threshold ({_shown(threshold)}) is above the emergence level "
                f"({_shown(emergence)}): a channel that emerges is below its threshold at "
                "once and counts as dormant",
            )
    for path, model in _models(scenario, ()):
        if isinstance(model, TruncatedNormal):
            below = (model.low - model.mean) / model.sd
            above = (model.mean - model.high) / model.sd
            if max(below, above) > TRUNCATED_MEAN_SDS:
                side, bound, sds = ("below", model.low, below) if below > above else (
                    "above", model.high, above)  # fmt: skip
                note(
                    (*path, "mean"),
                    f"the truncated normal's mean {model.mean:g} lies {sds:.3g} standard "
                    f"deviations {side} its bound {bound:g}: almost every draw is {bound:g}",
                )
    return in_file_order(found)
