"""Scenario events: when each one happens in each replication, and what its effects do.

Events depend only on other events (``after``, ``unless``), never on the model's state,
so the month of every event in every replication is drawn before the first step, in
dependency order, from the event's own streams (timing and occurrence). During the run
an effect only has to know how far into its ramp and duration each replication is.

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
from dataclasses import dataclass

import numpy as np

from sim.model.parameters import DTYPE, ParameterSampler, Value, triangular_quantile
from sim.model.streams import Source, Streams
from sim.months import month_offset, parse_month
from sim.scenario.schema import AddEffect, AtMonth, InWindow, Scenario, SetEffect, WithHazard

NEVER = np.int32(2**30)


@dataclass
class Effect:
    """One effect of one event, ready to apply to a target month by month."""

    event: str
    owner: str
    attribute: str
    operation: str
    value: Value
    ramp: int
    duration: int | None
    start: np.ndarray

    def __post_init__(self) -> None:
        self.first = int(self.start.min()) if self.start.size else int(NEVER)
        # After the last replication's event has finished its ramp and duration, the
        # weights no longer change: they are computed once more, then reused.
        happening = self.start[self.start < NEVER]
        last = int(happening.max()) if happening.size else -1
        self._settles = last + self.ramp + (self.duration or 0)
        self.settled: np.ndarray | None = None  # the weights, once they no longer change

    def weight(self, month: int) -> np.ndarray | None:
        """Weight of the effect at ``month`` per replication.

        None before any replication's event has happened: the effect changes nothing yet.
        """
        if month < self.first:
            return None
        if self.settled is not None:
            return self.settled
        elapsed = month - self.start
        if self.ramp:
            weight = np.clip(elapsed.astype(DTYPE) / DTYPE(self.ramp), 0, 1)
        else:
            weight = (elapsed >= 0).astype(DTYPE)
        if self.duration is not None:
            weight *= elapsed < self.duration
        if month >= self._settles:
            self.settled = weight
        return weight

    def apply(self, value: Value, month: int) -> Value:
        """The value after this effect at ``month``."""
        weight = self.weight(month)
        if weight is None:
            return value
        if self.operation == "set":
            return value + weight * (self.value - value)
        if self.operation == "add":
            return value + weight * self.value
        return value * (1 + weight * (self.value - 1))


def apply_effects(value: Value, effects: list[Effect], month: int) -> Value:
    """A target's value at ``month`` after all its effects, in composition order."""
    for effect in effects:
        value = effect.apply(value, month)
    return value


def event_order(scenario: Scenario) -> list[str]:
    """Events sorted so each comes after the events it follows or is blocked by."""
    events = scenario.events
    ordered: list[str] = []
    placed: set[str] = set()

    def place(name: str) -> None:
        if name in placed:
            return
        placed.add(name)
        event = events[name]
        for other in event.depends_on:
            place(other)
        ordered.append(name)

    for name in events:
        place(name)
    return ordered


class Schedule:
    """The month of every event in every replication of a chunk, and the compiled effects."""

    def __init__(
        self,
        scenario: Scenario,
        streams: Streams,
        sampler: ParameterSampler,
        replications: int,
    ) -> None:
        self.months: dict[str, np.ndarray] = {}
        self.effects: list[Effect] = []
        start = parse_month(scenario.start)
        for name in event_order(scenario):
            event = scenario.events[name]
            months = self._draw(name, scenario, streams, sampler, replications, start)
            self.months[name] = months
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
                    Effect(
                        name,
                        owner,
                        attribute,
                        operation,
                        sampler(param, key),
                        spec.ramp,
                        spec.duration,
                        months,
                    )
                )

    def _draw(
        self,
        name: str,
        scenario: Scenario,
        streams: Streams,
        sampler: ParameterSampler,
        replications: int,
        start: int,
    ) -> np.ndarray:
        event = scenario.events[name]
        if event.after is None:
            anchor = np.zeros(replications, dtype=np.int64)
        else:
            anchor = self.months[event.after.event].astype(np.int64) + event.after.lag
        u = streams.uniforms(Source.EVENT_TIMING, name, replications)
        timing = event.timing

        if isinstance(timing, AtMonth):
            delay = np.full(replications, month_offset(timing.month, start), dtype=np.int64)
        elif isinstance(timing, InWindow):
            low, high = (month_offset(v, start) for v in timing.window)
            delay = low + np.floor(u * (high - low + 1)).astype(np.int64)
        elif isinstance(timing, WithHazard):
            hazard = np.broadcast_to(
                sampler(timing.hazard, f"events.{name}.timing.hazard"), (replications,)
            ).astype(np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                waits = 1 + np.floor(np.log1p(-u) / np.log1p(-hazard))
            waits = np.where(hazard >= 1, 1, waits)
            delay = np.where(hazard > 0, np.minimum(waits, NEVER), NEVER).astype(np.int64)
        else:
            low, mode, high = (month_offset(v, start) for v in timing.triangular)
            if high == low:
                delay = np.full(replications, low, dtype=np.int64)
            else:
                drawn = triangular_quantile(u, low, mode, high)
                delay = np.floor(drawn + 0.5).astype(np.int64)
        months = np.where((anchor >= NEVER) | (delay >= NEVER), NEVER, anchor + delay)
        probability = sampler(event.probability, f"events.{name}.probability")
        if not _certain(probability):
            occurs = streams.uniforms(Source.EVENT_OCCURRENCE, name, replications) < probability
            months = np.where(occurs, months, NEVER)
        for other in event.unless:
            months = np.where(self.months[other] <= months, NEVER, months)
        return np.minimum(months, NEVER).astype(np.int32)


def _certain(probability: Value) -> bool:
    return np.ndim(probability) == 0 and math.isclose(float(probability), 1.0)
