"""Actor agents: the states (and institutions) that decide how much they want each channel.

An actor is a Mesa agent whose variables (war intensity, isolation, ...) are rows of the
model's state matrix, one value per replication, so that its decision for all its
channels is one matrix product. Each month runs in two phases (simultaneous update): in
``step`` the actor reads the state of month t and computes its desires and its next
variables; in ``advance`` it commits them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model.events import Effect, apply_effects
from sim.model.parameters import DTYPE, Value
from sim.scenario.schema import Actor, Channel

if TYPE_CHECKING:
    from sim.model.model import AllianceModel


class ActorAgent(mesa.Agent):
    """A state actor: its variables (war intensity, isolation, ...) and its decision rule.

    The decision rule gives, for every channel the actor is a party to, its desire
    ``clip(base + Σ w·x − Σ cost·x + Σ spillover·I, 0, 1)``, where x are actor variables
    and I the intensities of other channels, all at month t. A variable's value is its
    start value moved by the scenario's event effects, plus any response to channel
    intensities (third parties reacting to what they see), kept inside its range.
    """

    def __init__(self, model: AllianceModel, name: str, spec: Actor) -> None:
        super().__init__(model)
        self.name = name
        scenario = model.spec
        sample = model.sampler
        self._ranges: dict[str, tuple[np.float32, np.float32]] = {}
        self._base: dict[str, Value] = {}
        self._effects: dict[str, list[Effect]] = {}
        self._responses: dict[str, list[tuple[int, Value]]] = {}
        for variable, definition in spec.variables.items():
            low, high = definition.range
            self._ranges[variable] = (DTYPE(low), DTYPE(high))
            self._base[variable] = sample(
                scenario.state.actors[name][variable], f"state.actors.{name}.{variable}"
            )
            self._effects[variable] = [
                e for e in model.schedule.effects if (e.owner, e.attribute) == (name, variable)
            ]
            self._responses[variable] = [
                (
                    model.feature_row[channel],
                    sample(weight, f"actors.{name}.variables.{variable}.responds_to.{channel}"),
                )
                for channel, weight in definition.responds_to.items()
            ]
        self.rows = {v: model.feature_row[f"{name}.{v}"] for v in spec.variables}
        self._changing = [v for v in spec.variables if self._effects[v] or self._responses[v]]
        self._changing_rows = np.array([self.rows[v] for v in self._changing], dtype=np.intp)
        self._next = np.empty((len(self._changing), model.replications), dtype=DTYPE)
        self.channels = [c for c, spec in scenario.channels.items() if name in spec.parties]
        self.channel_index = {channel: i for i, channel in enumerate(self.channels)}
        self._weights = np.zeros((len(self.channels), model.state.shape[0]), dtype=DTYPE)
        self._uncertain_terms: list[tuple[int, int, np.ndarray]] = []
        for index, channel in enumerate(self.channels):
            self._compile_desire(index, channel, scenario.channels[channel])
        self.desire = np.zeros((len(self.channels), model.replications), dtype=DTYPE)

    def _compile_desire(self, index: int, channel: str, spec: Channel) -> None:
        model = self.model
        terms: list[tuple[str, int, float, object]] = []
        for term, weight in spec.desire[self.name].items():
            row = model.constant_row if term == "base" else model.feature_row[term]
            terms.append((f"channels.{channel}.desire.{self.name}.{term}", row, 1.0, weight))
        for term, weight in spec.cost.items():
            terms.append((f"channels.{channel}.cost.{term}", model.feature_row[term], -1.0, weight))
        for source, weight in spec.spillover.items():
            row = model.feature_row[source]
            terms.append((f"channels.{channel}.spillover.{source}", row, 1.0, weight))
        for key, row, sign, weight in terms:
            value = model.sampler(weight, key)
            if np.ndim(value):
                self._uncertain_terms.append((index, row, DTYPE(sign) * value))
            else:
                self._weights[index, row] += DTYPE(sign) * value

    def variable_at(self, variable: str, month: int, out: np.ndarray | None = None) -> np.ndarray:
        """The variable's value at ``month`` given the channel intensities in the state now.

        Args:
            variable: The variable's name.
            month: The month whose effects apply.
            out: Where to write the value (one row of the replications); a new array if
                None.

        Returns:
            The value in every replication (``out`` if given).
        """
        value = apply_effects(self._base[variable], self._effects[variable], month)
        for row, weight in self._responses[variable]:
            value = value + weight * self.model.state[row]
        low, high = self._ranges[variable]
        clipped = np.maximum(value, low, out=out)  # clip, cheaply
        return np.minimum(clipped, high, out=out)

    def initialise(self) -> None:
        """Write the variables' values at month 0 into the model's state."""
        for variable, row in self.rows.items():
            self.model.state[row] = self.variable_at(variable, 0)

    def value(self, variable: str) -> np.ndarray:
        """The variable's current value in every replication."""
        return self.model.state[self.rows[variable]]

    def step(self) -> None:
        """Decide: desires for month t, and the variables' values for month t + 1."""
        state = self.model.state
        if self.channels:
            np.matmul(self._weights, state, out=self.desire)
            for index, row, weight in self._uncertain_terms:
                self.desire[index] += weight * state[row]
            np.maximum(self.desire, 0, out=self.desire)  # clip to [0, 1]
            np.minimum(self.desire, 1, out=self.desire)
        month = self.model.month + 1
        for variable, following in zip(self._changing, self._next, strict=True):
            self.variable_at(variable, month, out=following)

    def advance(self) -> None:
        """Commit the variables of month t + 1."""
        if self._changing:
            self.model.state[self._changing_rows] = self._next
