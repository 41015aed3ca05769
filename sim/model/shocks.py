"""Relationship-wide shocks: crises, scandals, closed borders that hit several channels at once.

A shock strikes at a constant monthly hazard, any number of times over a run. A strike
hits each channel with that channel's reach probability: a hit channel loses a share of
its intensity at once, and both parties' desire for it drops for some months. Because
one strike hits several channels in the same replication, and spillover links them,
channels fail together more often than chance alone would make them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model.streams import Source
from sim.scenario.schema import Shock

if TYPE_CHECKING:
    from sim.model.model import AllianceModel


class ShockAgent(mesa.Agent):
    """One kind of relationship-wide shock, striking in every replication at its hazard.

    Args:
        model: The model.
        name: The shock's key.
        definition: The shock as the scenario defines it.
    """

    def __init__(self, model: AllianceModel, name: str, definition: Shock) -> None:
        super().__init__(model)
        self.name = name
        sample = model.sampler
        path = f"shocks.{name}"
        self._hazard = sample(definition.hazard, f"{path}.hazard")
        self._severity = sample(definition.severity, f"{path}.severity")
        self._drop = sample(definition.desire_drop, f"{path}.desire_drop")
        self._drop_vector = (
            model.kernels.vector(self._drop, model.replications) if model.kernels else None
        )
        self._duration = definition.duration
        self._strikes = model.streams.generator(Source.SHOCK, name)
        self._reach = []
        for channel in model.alliance_scenario.channels:
            reach = definition.reach.get(channel, definition.default_reach)
            if reach:
                stream = model.streams.generator(Source.SHOCK, f"{name}:{channel}")
                drawn = sample(reach, f"{path}.reach.{channel}")
                self._reach.append((model.channel(channel), drawn, stream))
        replications = model.replications
        self.strikes = np.zeros(replications, dtype=np.int16)
        """Strikes so far in every replication."""
        self._until = {id(c): np.zeros(replications, dtype=np.int32) for c, _, _ in self._reach}
        self._last = {id(c): 0 for c, _, _ in self._reach}
        """The last month a channel's desire drop holds in any replication."""

    def step(self) -> None:
        """Strike in month t + 1 where the hazard says so; hit channels and lower desires.

        The model clears every channel's hit and drop first, so that several kinds of
        shock combine (the largest hit, the largest drop).
        """
        model = self.model
        month = model.month + 1
        struck = self._strikes.random(model.replications, dtype=np.float32) < self._hazard
        where = np.flatnonzero(struck)
        if where.size:
            self.strikes[where] += 1
            for channel, reach, stream in self._reach:
                # Reach is drawn for the struck replications only: a few per month.
                chance = reach[where] if np.ndim(reach) else reach
                hit = where[stream.random(where.size, dtype=np.float32) < chance]
                if hit.size:
                    severity = self._severity[hit] if np.ndim(self._severity) else self._severity
                    channel.hit[hit] = np.maximum(channel.hit[hit], severity)
                    self._until[id(channel)][hit] = month + self._duration
                    self._last[id(channel)] = month + self._duration
        kernels = model.kernels
        for channel, _, _ in self._reach:
            if self._last[id(channel)] <= month:
                continue  # no drop holds anywhere (most months in a small chunk)
            until = self._until[id(channel)]
            if kernels is not None:
                kernels.desire_drop(until, month, channel.drop, self._drop_vector)
                continue
            active = until > month
            if active.any():
                np.maximum(channel.drop, np.where(active, self._drop, 0), out=channel.drop)

    def advance(self) -> None:
        """Nothing to commit: the hits and drops act on the channels this month."""
