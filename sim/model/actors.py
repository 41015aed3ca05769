"""Actor agents: the states (and institutions) that decide how much they want each channel.

An actor is a Mesa agent whose variables (war intensity, isolation, pressure ...) are rows
of the model's state matrix, one value per replication. Each month it decides, from the
state of month t, how much it wants each channel it is a party to (its own part of the
desire; costs and spillover, which both parties face alike, are the channel's), and
plans its variables for month t + 1: their values after the scenario's events, plus its
responses to what it observes (channel intensities, other actors' variables), reached
at its own speed. ``advance`` commits the plan (simultaneous update).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model.events import ScheduledEffect, apply_effects, settled
from sim.model.index import LinearIndex
from sim.model.parameters import DTYPE, Drawn
from sim.scenario.schema import Actor

if TYPE_CHECKING:
    from sim.model.model import AllianceModel


class ActorAgent(mesa.Agent):
    """A state actor: its variables, its desires for its channels, and its responses.

    Party p's own desire for channel d is ``β⁰ + Σ β·x`` over the variables x of month t
    (``channels.<d>.desire.<p>``). A variable's value in month t + 1 is its start value
    moved by the scenario's events, plus ``Σ ρ·s`` over what it responds to (channel
    intensities or variables of month t), kept in its range and approached at its
    ``adjustment`` speed: ``x ← x + a·(target − x)``.

    Args:
        model: The model.
        name: The actor's key.
        definition: The actor as the scenario defines it.
    """

    def __init__(self, model: AllianceModel, name: str, definition: Actor) -> None:
        super().__init__(model)
        self.name = name
        scenario = model.alliance_scenario
        sample = model.sampler
        self.rows = {v: model.feature_row[f"{name}.{v}"] for v in definition.variables}
        self._base: dict[str, Drawn] = {}
        self._effects: dict[str, list[ScheduledEffect]] = {}
        self._ranges: dict[str, tuple[np.float32, np.float32]] = {}
        self._speed: dict[str, Drawn] = {}
        self._settled: dict[str, Drawn] = {}
        """A variable's value after events, once its events have run their course."""
        responding: list[str] = []
        for variable, spec in definition.variables.items():
            path = f"actors.{name}.variables.{variable}"
            low, high = spec.range
            self._ranges[variable] = (DTYPE(low), DTYPE(high))
            self._base[variable] = sample(
                scenario.state.actors[name][variable], f"state.actors.{name}.{variable}"
            )
            self._effects[variable] = [
                e for e in model.schedule.effects if (e.owner, e.attribute) == (name, variable)
            ]
            self._speed[variable] = sample(spec.adjustment, f"{path}.adjustment")
            if spec.responds_to:
                responding.append(variable)
        self._changing = [v for v in definition.variables if self._effects[v] or v in responding]
        self._responses = LinearIndex(
            len(self._changing),
            model.state.shape[0],
            model.replications,
            model.kernels,
            model.sampler.drawn,
        )
        for index, variable in enumerate(self._changing):
            spec = definition.variables[variable]
            for source, weight in spec.responds_to.items():
                row = model.feature_row[source]
                key = f"actors.{name}.variables.{variable}.responds_to.{source}"
                self._responses.add(index, row, model.sampler(weight, key))
        self._has_responses = bool(responding)
        self._next = np.empty((len(self._changing), model.replications), dtype=DTYPE)
        self._target = np.empty(model.replications, dtype=DTYPE)
        self._changing_rows = np.array([self.rows[v] for v in self._changing], dtype=np.intp)
        self.channels = [c for c, spec in scenario.channels.items() if name in spec.parties]
        self.channel_index = {channel: i for i, channel in enumerate(self.channels)}
        self._own = LinearIndex(
            len(self.channels),
            model.state.shape[0],
            model.replications,
            model.kernels,
            model.sampler.drawn,
        )
        for index, channel in enumerate(self.channels):
            for term, weight in scenario.channels[channel].desire[name].items():
                row = model.constant_row if term == "base" else model.feature_row[term]
                key = f"channels.{channel}.desire.{name}.{term}"
                self._own.add(index, row, model.sampler(weight, key))
        self._jumps = {v: bool(np.ndim(s) == 0 and s >= 1) for v, s in self._speed.items()}
        """Whether a variable takes its target at once (a speed of 1 or more)."""
        self._kernels = model.kernels
        if model.kernels is not None:
            # What the kernel takes: speeds one per replication, and the events' values
            # repeated where they are one number (_value_vector).
            self._speed_vectors = {
                v: model.kernels.vector(speed, model.replications)
                for v, speed in self._speed.items()
            }
            self._value_vectors: dict[str, tuple[np.float32, np.ndarray]] = {}
        self.own_desire = self._own.values
        """Own part of the desire for each channel (rows in ``channels`` order), unclipped."""

    def _events_value(self, variable: str, month: int) -> Drawn:
        """The variable's value at ``month`` after the scenario's events.

        Months come in increasing order, as a run asks them.
        """
        value = self._settled.get(variable)
        if value is None:
            effects = self._effects[variable]
            value = apply_effects(self._base[variable], effects, month)
            if settled(effects):
                self._settled[variable] = value
        return value

    def _value_at(
        self,
        variable: str,
        month: int,
        responses: np.ndarray | None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """The variable's target at ``month``: events' value plus responses, in its range.

        Args:
            variable: The variable.
            month: The month (in increasing order, as a run asks them).
            responses: The responses to add (None: none yet, at the start).
            out: Where to write the target (None: a new array).
        """
        return self._in_range(variable, self._events_value(variable, month), responses, out)

    def _in_range(
        self, variable: str, value: Drawn, responses: np.ndarray | None, out: np.ndarray | None
    ) -> np.ndarray:
        """The events' value plus the responses (if any), kept in the variable's range."""
        if responses is not None:
            value = np.add(value, responses, out=out)
        low, high = self._ranges[variable]
        return np.clip(value, low, high, out=out)

    def initialise(self) -> None:
        """Write the variables' start values (with the events of month 0) into the state."""
        state = self.model.state
        for variable, row in self.rows.items():
            state[row] = self._value_at(variable, 0, None)

    def initialise_responses(self) -> None:
        """Add the responses to the state at month 0 (after every actor has initialised).

        A start value is coded without the response to what the actor sees at the start,
        which is added here, as every later month adds it.
        """
        if not self._has_responses:
            return
        state = self.model.state
        responses = self._responses.compute(state)
        values = [
            self._value_at(variable, 0, responses[index])
            for index, variable in enumerate(self._changing)
        ]
        for variable, value in zip(self._changing, values, strict=True):
            state[self.rows[variable]] = value

    def value(self, variable: str) -> np.ndarray:
        """The variable's current value in every replication."""
        return self.model.state[self.rows[variable]]

    def decide(self) -> None:
        """Own desires for month t, from the state of month t."""
        if self.channels:
            self._own.compute(self.model.state)

    def plan(self) -> None:
        """The variables' values for month t + 1 (events of t + 1, responses to month t)."""
        if not self._changing:
            return
        state = self.model.state
        month = self.model.month + 1
        responses = self._responses.compute(state) if self._has_responses else None
        for index, variable in enumerate(self._changing):
            value = self._events_value(variable, month)
            response = responses[index] if responses is not None else None
            current = state[self.rows[variable]]
            jump = self._jumps[variable]
            if response is not None and self._kernels is not None:
                vector = self._value_vector(variable, value)
                if vector is not None:
                    low, high = self._ranges[variable]
                    self._kernels.approach(vector, response, low, high,
                                           self._speed_vectors[variable], jump, current,
                                           self._next[index])  # fmt: skip
                    continue
            target = self._in_range(variable, value, response, self._target)
            if jump:
                self._next[index] = target
            else:
                # current + speed · (target − current), in the buffers (float32 throughout).
                gap = np.subtract(target, current, out=self._target)
                gap *= self._speed[variable]
                np.add(current, gap, out=self._next[index])

    def _value_vector(self, variable: str, value: Drawn) -> np.ndarray | None:
        """The events' value as the kernel takes it, one float32 per replication.

        A number the same in every replication is repeated once and kept while it holds;
        None where the value is not float32 (the numpy reference then plans the variable).
        """
        if np.ndim(value):
            return value if value.dtype == DTYPE else None
        if not isinstance(value, DTYPE):
            return None
        kept = self._value_vectors.get(variable)
        if kept is None or kept[0] != value:
            kept = (value, self._kernels.vector(value, self.model.replications))
            self._value_vectors[variable] = kept
        return kept[1]

    def advance(self) -> None:
        """Commit the variables of month t + 1."""
        if self._changing:
            self.model.state[self._changing_rows] = self._next
