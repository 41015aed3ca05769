"""Scenario events: when each one happens in each replication, and what its effects do.

An event's month is known before the run when it depends only on the calendar and on
other such events (``after``, ``unless``): those months are drawn before the first step,
in dependency order, from the event's own streams (timing and occurrence). An event timed
by the state (``timing: {when: ...}``), or following or blocked by one, is resolved
during the run: its trigger is evaluated every month on the state of that month, and its
month (and those of the events that follow it) is set when it fires. Every random number
an event needs is drawn before the run, so that a scenario with a trigger and one
without still share them (common random numbers).

Effects on the same target compose in event dependency order (an event after those it
follows or is blocked by), then in the order the scenario declares them. Each effect
moves the value by a weight ``w`` in [0, 1]: 0 before the event, rising linearly over
``ramp`` months to 1, and back to 0 once ``duration`` months have passed:

- ``set x``:   value + w·(x − value)
- ``add x``:   value + w·x
- ``scale x``: value · (1 + w·(x − 1))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from sim.model.parameters import DTYPE, Drawn, ParameterSampler, triangular_quantile
from sim.model.streams import Source, Streams
from sim.months import month_offset, parse_month
from sim.scenario.schema import (
    AddEffect,
    AtMonth,
    Condition,
    Event,
    InWindow,
    Scenario,
    SetEffect,
    WhenState,
    WithHazard,
)

NEVER = np.int32(2**30)

Reader = Callable[[str], np.ndarray]
"""Reads a value of the state of the current month ('actor.variable', a channel, ...)."""


@dataclass
class EventMonths:
    """The month of one event in every replication (NEVER where it does not happen).

    ``months`` is updated in place while a run resolves a state-timed event, so that the
    effects that hold it see every change.
    """

    months: np.ndarray
    dynamic: bool
    first: int = field(init=False)

    def __post_init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Recompute the earliest month after the months changed."""
        self.first = int(self.months.min()) if self.months.size else int(NEVER)


@dataclass
class ScheduledEffect:
    """One effect of one event, ready to apply to a target month by month."""

    event: str
    owner: str
    attribute: str
    operation: str
    value: Drawn
    ramp: int
    duration: int | None
    timing: EventMonths
    settled: np.ndarray | None = field(default=None, init=False)

    @property
    def first(self) -> int:
        """The earliest month the effect is in force in any replication."""
        return self.timing.first

    @cached_property
    def _settles_at(self) -> int:
        """The month from which the weights no longer change.

        Asked only of events timed before the run, whose months are fixed: found once.
        """
        happening = self.timing.months[self.timing.months < NEVER]
        last = int(happening.max()) if happening.size else -1
        return last + self.ramp + (self.duration or 0)

    def weight(self, month: int) -> np.ndarray | None:
        """Weight of the effect at ``month`` per replication.

        None before any replication's event has happened: the effect changes nothing yet.
        """
        if month < self.timing.first:
            return None
        if self.settled is not None:
            return self.settled
        elapsed = month - self.timing.months
        if self.ramp:
            weight = np.clip(elapsed.astype(DTYPE) / DTYPE(self.ramp), 0, 1)
        else:
            weight = (elapsed >= 0).astype(DTYPE)
        if self.duration is not None:
            weight *= elapsed < self.duration
        # Once the last replication's event has run its course the weights no longer
        # change: keep them (an event still to be resolved by the state never settles).
        if not self.timing.dynamic and month >= self._settles_at:
            self.settled = weight
        return weight

    def apply(self, value: Drawn, month: int) -> Drawn:
        """The value after this effect at ``month``."""
        weight = self.weight(month)
        if weight is None:
            return value
        if self.operation == "set":
            return value + weight * (self.value - value)
        if self.operation == "add":
            return value + weight * self.value
        return value * (1 + weight * (self.value - 1))


def apply_effects(value: Drawn, effects: list[ScheduledEffect], month: int) -> Drawn:
    """A target's value at ``month`` after all its effects, in composition order."""
    for effect in effects:
        value = effect.apply(value, month)
    return value


def settled(effects: list[ScheduledEffect]) -> bool:
    """Whether every effect's weights have stopped changing (then so has their target)."""
    return all(effect.settled is not None for effect in effects)


def event_order(scenario: Scenario) -> list[str]:
    """Events sorted so each comes after the events it follows or is blocked by."""
    events = scenario.events
    ordered: list[str] = []
    placed: set[str] = set()

    def place(name: str) -> None:
        if name in placed:
            return
        placed.add(name)
        for other in events[name].depends_on:
            place(other)
        ordered.append(name)

    for name in events:
        place(name)
    return ordered


def dynamic_events(scenario: Scenario) -> set[str]:
    """Events resolved during the run: timed by the state, or depending on one that is."""
    found: set[str] = set()
    for name in event_order(scenario):
        event = scenario.events[name]
        if isinstance(event.timing, WhenState) or any(d in found for d in event.depends_on):
            found.add(name)
    return found


def condition_holds(condition: Condition, read: Reader) -> np.ndarray:
    """Where a condition holds in the state the reader sees."""
    value = read(condition.value)
    if condition.below is not None:
        return value < condition.below
    return value > condition.above


class Schedule:
    """The month of every event in every replication of a chunk, and the compiled effects.

    Args:
        scenario: The resolved scenario.
        streams: The chunk's random streams.
        sampler: Draws uncertain parameters (hazards, probabilities, effect sizes).
        replications: Replications in the chunk.
    """

    def __init__(
        self,
        scenario: Scenario,
        streams: Streams,
        sampler: ParameterSampler,
        replications: int,
    ) -> None:
        self.scenario = scenario
        self.replications = replications
        self.timings: dict[str, EventMonths] = {}
        self.effects: list[ScheduledEffect] = []
        self._dynamic = dynamic_events(scenario)
        self._delays: dict[str, np.ndarray] = {}
        self._occurs: dict[str, np.ndarray | None] = {}
        self._held: dict[str, np.ndarray] = {}  # months in a row a trigger has held
        self._decided: dict[str, np.ndarray] = {}  # fired, timed from its anchor, or blocked
        start = parse_month(scenario.start)
        for name in event_order(scenario):
            event = scenario.events[name]
            self._delays[name] = self._draw_delay(name, event, streams, sampler, start)
            probability = sampler(event.probability, f"events.{name}.probability")
            self._occurs[name] = (
                None
                if _certain(probability)
                else streams.uniforms(Source.EVENT_OCCURRENCE, name, replications) < probability
            )
            if name in self._dynamic:
                months = np.full(replications, NEVER, dtype=np.int32)
                self._held[name] = np.zeros(replications, dtype=np.int32)
                self._decided[name] = np.zeros(replications, dtype=bool)
            else:
                months = self._static_months(name, event)
            self.timings[name] = EventMonths(months, name in self._dynamic)
            for index, spec in enumerate(event.effects):
                owner, _, attribute = spec.target.partition(".")
                if isinstance(spec, SetEffect):
                    operation, param = "set", spec.set
                elif isinstance(spec, AddEffect):
                    operation, param = "add", spec.add
                else:
                    operation, param = "scale", spec.scale
                key = f"events.{name}.effects[{index}].{operation}"
                self.effects.append(
                    ScheduledEffect(
                        name, owner, attribute, operation, sampler(param, key), spec.ramp,
                        spec.duration, self.timings[name],
                    )
                )  # fmt: skip

    @property
    def months(self) -> dict[str, np.ndarray]:
        """The month of every event in every replication (NEVER: it did not happen)."""
        return {name: timing.months for name, timing in self.timings.items()}

    def _draw_delay(
        self,
        name: str,
        event: Event,
        streams: Streams,
        sampler: ParameterSampler,
        start: int,
    ) -> np.ndarray:
        """Months from the event's anchor to the event (NEVER: not within any horizon)."""
        replications = self.replications
        u = streams.uniforms(Source.EVENT_TIMING, name, replications)
        timing = event.timing
        if isinstance(timing, WhenState):
            return np.zeros(replications, dtype=np.int64)  # the trigger decides
        if isinstance(timing, AtMonth):
            return np.full(replications, month_offset(timing.month, start), dtype=np.int64)
        if isinstance(timing, InWindow):
            low, high = (month_offset(v, start) for v in timing.window)
            return low + np.floor(u * (high - low + 1)).astype(np.int64)
        if isinstance(timing, WithHazard):
            hazard = np.broadcast_to(
                sampler(timing.hazard, f"events.{name}.timing.hazard"), (replications,)
            ).astype(np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                waits = 1 + np.floor(np.log1p(-u) / np.log1p(-hazard))
            waits = np.where(hazard >= 1, 1, waits)
            return np.where(hazard > 0, np.minimum(waits, NEVER), NEVER).astype(np.int64)
        low, mode, high = (month_offset(v, start) for v in timing.triangular)
        if high == low:
            return np.full(replications, low, dtype=np.int64)
        return np.floor(triangular_quantile(u, low, mode, high) + 0.5).astype(np.int64)

    def _anchor(self, event: Event) -> np.ndarray:
        if event.after is None:
            return np.zeros(self.replications, dtype=np.int64)
        anchor = self.timings[event.after.event].months.astype(np.int64)
        return np.where(anchor >= NEVER, NEVER, anchor + event.after.lag)

    def _static_months(self, name: str, event: Event) -> np.ndarray:
        anchor = self._anchor(event)
        delay = self._delays[name]
        months = np.where((anchor >= NEVER) | (delay >= NEVER), NEVER, anchor + delay)
        if self._occurs[name] is not None:
            months = np.where(self._occurs[name], months, NEVER)
        for other in event.unless:
            months = np.where(self.timings[other].months <= months, NEVER, months)
        return np.minimum(months, NEVER).astype(np.int32)

    @property
    def has_dynamic(self) -> bool:
        """Whether any event is resolved during the run."""
        return bool(self._dynamic)

    def update(self, month: int, read: Reader) -> None:
        """Resolve the state-timed events of the next month from the state of ``month``.

        A trigger that has held for its months in a row at ``month`` makes its event
        happen at ``month + 1``; the events that follow a resolved event get their month;
        an event whose month comes is cancelled if an event that blocks it has happened.

        Args:
            month: The month whose state the reader sees.
            read: Reads a value of that state.
        """
        following = month + 1
        for name in event_order(self.scenario):
            if name not in self._dynamic:
                continue
            event = self.scenario.events[name]
            timing = self.timings[name]
            months = timing.months
            decided = self._decided[name]
            changed = False
            if isinstance(event.timing, WhenState):
                trigger = event.timing.when
                armed = ~decided & (self._anchor(event) <= month)
                if self._occurs[name] is not None:
                    armed &= self._occurs[name]
                if armed.any():
                    holds = [condition_holds(c, read) for c in trigger.conditions]
                    met = (
                        np.logical_and.reduce(holds) if trigger.all else np.logical_or.reduce(holds)
                    )
                    held = self._held[name]
                    held[:] = np.where(armed & met, held + 1, 0)
                    firing = armed & (held >= trigger.months)
                    if firing.any():
                        months[firing] = following
                        decided |= firing
                        changed = True
            else:
                anchor = self._anchor(event)
                pending = ~decided & (anchor < NEVER)
                if self._occurs[name] is not None:
                    pending &= self._occurs[name]
                if pending.any():
                    delay = self._delays[name]
                    resolved = pending & (delay < NEVER)
                    months[resolved] = np.minimum(anchor + delay, NEVER)[resolved]
                    # An event timed before the month being decided comes as soon as it can.
                    late = resolved & (months < following)
                    months[late] = following
                    decided |= pending
                    changed = bool(resolved.any())
            for other in event.unless:
                blocked = (months == following) & (self.timings[other].months <= following)
                if blocked.any():
                    months[blocked] = NEVER
                    changed = True
            if changed:
                timing.refresh()


def _certain(probability: Drawn) -> bool:
    return np.ndim(probability) == 0 and math.isclose(float(probability), 1.0)
