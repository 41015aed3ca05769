"""The Mesa model: a batch of replications of one scenario, stepped a month at a time.

One :class:`AllianceModel` runs a chunk of replications at once: every agent keeps its
state as numpy arrays over the replications, so a step costs a few vectorised
operations per agent whatever the chunk size. A chunk of one replication is an
ordinary single run that can be stepped and inspected, with Mesa's ``DataCollector``
recording monthly aggregates.

Each month: actors decide (desires from the state of month t and their next
variables), channels compute their next intensity, then every agent advances
(simultaneous update). After ``horizon`` months, :meth:`AllianceModel.outcomes` gives,
per replication and channel, the month of termination (or the horizon, censored) and
the event flag.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.model.actors import ActorAgent
from sim.model.channels import ChannelAgent
from sim.model.events import NEVER, Schedule
from sim.model.outcomes import OUTCOME_DTYPE, Outcomes
from sim.model.parameters import DTYPE, ParameterSampler
from sim.model.streams import Streams, chunk_seed_sequence
from sim.months import iso_month, parse_month
from sim.scenario.schema import Scenario


class AllianceModel(mesa.Model):
    """A chunk of replications of a scenario.

    Args:
        scenario: The resolved scenario.
        replications: Replications in this chunk.
        seed: Run seed (default: the scenario's).
        chunk_index: Index of this chunk in the run; with the seed it fixes every
            random number of the chunk.
        collect: Record monthly aggregates with Mesa's DataCollector.
    """

    def __init__(
        self,
        scenario: Scenario,
        replications: int = 1,
        *,
        seed: int | None = None,
        chunk_index: int = 0,
        collect: bool = True,
    ) -> None:
        seed = scenario.seed if seed is None else seed
        super().__init__(rng=chunk_seed_sequence(seed, chunk_index))
        self.spec = scenario
        self.replications = replications
        self.horizon = scenario.horizon
        self.start_month = parse_month(scenario.start)
        self.month = 0
        self.streams = Streams(seed, chunk_index)
        self.sampler = ParameterSampler(self.streams, replications)
        self.schedule = Schedule(scenario, self.streams, self.sampler, replications)
        names = [f"{a}.{v}" for a, spec in scenario.actors.items() for v in spec.variables]
        names += list(scenario.channels)
        self.feature_row = {name: row for row, name in enumerate(names)}
        self.constant_row = len(names)
        self.state = np.zeros((len(names) + 1, replications), dtype=DTYPE)
        self.state[self.constant_row] = 1
        self.scratch = {
            name: np.empty(replications, dtype=dtype)
            for name, dtype in (
                ("target", DTYPE), ("gap", DTYPE), ("rate", DTYPE), ("unprotected", DTYPE),
                ("spread", DTYPE), ("flags", bool), ("below", bool), ("ending", bool),
                ("reaching", bool), ("crossing", bool),
            )
        }  # fmt: skip
        self._actors = {
            name: ActorAgent(self, name, spec) for name, spec in scenario.actors.items()
        }
        self._channels = {
            name: ChannelAgent(self, name, spec) for name, spec in scenario.channels.items()
        }
        for actor in self._actors.values():
            actor.initialise()
        self.actors = self.agents_by_type[ActorAgent]
        self.channels = self.agents_by_type[ChannelAgent]
        self.datacollector = self._data_collector() if collect else None
        if self.datacollector:
            self.datacollector.collect(self)

    def actor(self, name: str) -> ActorAgent:
        """The actor agent called ``name``."""
        return self._actors[name]

    def channel(self, name: str) -> ChannelAgent:
        """The channel agent called ``name``."""
        return self._channels[name]

    @property
    def date(self) -> str:
        """The current month as YYYY-MM."""
        return iso_month(self.start_month + self.month)

    def step(self) -> None:
        """Advance every replication by one month."""
        self.actors.do("step")
        self.channels.do("step")
        self.agents.do("advance")
        self.month += 1
        if self.datacollector:
            self.datacollector.collect(self)

    def run(self) -> Outcomes:
        """Step to the horizon and return the outcomes."""
        while self.month < self.horizon:
            self.step()
        return self.outcomes()

    def outcomes(self) -> Outcomes:
        """Outcomes so far, censored at the current month."""
        channels = list(self._channels.values())

        def months(values: np.ndarray, missing: int) -> np.ndarray:
            return np.where(values == NEVER, missing, values).astype(OUTCOME_DTYPE)

        ended = np.stack([c.end_month for c in channels])
        return Outcomes(
            channels=tuple(self._channels),
            horizon=self.month,
            month=np.minimum(ended, self.month).astype(OUTCOME_DTYPE),
            event=ended <= self.month,
            emerged=months(np.stack([c.emerged_month for c in channels]), -1),
            revived=months(np.stack([c.revival_month for c in channels]), -1),
        )

    def _data_collector(self) -> mesa.DataCollector:
        reporters = {"date": lambda m: m.date}
        for name, channel in self._channels.items():
            reporters[f"{name}.intensity"] = lambda m, c=channel: float(c.intensity.mean())
            reporters[f"{name}.alive"] = lambda m, c=channel: float(c.alive.mean())
        for name in self.feature_row:
            if "." in name:
                row = self.feature_row[name]
                reporters[name] = lambda m, r=row: float(m.state[r].mean())
        return mesa.DataCollector(model_reporters=reporters)
