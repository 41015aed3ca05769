"""The Mesa model: a batch of replications of one scenario, stepped a month at a time.

One :class:`AllianceModel` runs a chunk of replications at once: every agent keeps its
state as numpy arrays over the replications, so a step costs a few vectorised
operations per agent whatever the chunk size. A chunk of one replication is an
ordinary single run that can be stepped and inspected, with Mesa's ``DataCollector``
recording monthly aggregates.

Each month t → t + 1 (simultaneous update: everything reads the state of month t):

1. actors decide (their own desires for their channels) and channels add what both
   parties face alike (costs, spillover), giving each channel's desires;
2. events timed by the state are resolved (a trigger that has held fires for t + 1);
3. actors plan their variables for t + 1 (events, responses to what they see);
4. shocks strike; channels compute their next intensity (growth, wind-down, noise,
   ruptures); treaties decide whether they end;
5. every agent advances to t + 1.

The model runs ``dormancy_months`` past the horizon, so that every spell that ended by
the horizon is known to have ended (an end is confirmed only when the dormancy window
has passed); outcomes describe months 0 to the horizon.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.model.accelerate import load_kernels
from sim.model.actors import ActorAgent
from sim.model.channels import ChannelAgent
from sim.model.events import NEVER, Schedule
from sim.model.outcomes import INTENSITY_BINS, OUTCOME_DTYPE, IntensityTally, Outcomes
from sim.model.parameters import DTYPE, DrawMemo, ParameterSampler
from sim.model.shocks import ShockAgent
from sim.model.streams import Streams, chunk_seed_sequence
from sim.model.treaties import TreatyAgent
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
        fixed_parameters: Use judged numbers at their values (the point model).
        joint_draws: Draw judged numbers as a joint sample of this many rows per chunk.
        tally: Keep the monthly intensity histograms (the engine's runs do).
        draw_memo: Take the parameter draws an earlier chunk made alike from this memo
            (:class:`~sim.model.parameters.DrawMemo`; None: draw them all).
    """

    def __init__(
        self,
        scenario: Scenario,
        replications: int = 1,
        *,
        seed: int | None = None,
        chunk_index: int = 0,
        collect: bool = True,
        fixed_parameters: bool = False,
        joint_draws: int | None = None,
        tally: bool = False,
        draw_memo: DrawMemo | None = None,
    ) -> None:
        seed = scenario.seed if seed is None else seed
        super().__init__(rng=chunk_seed_sequence(seed, chunk_index))
        # Mesa 3.5 models have a `scenario` attribute of their own (mesa.experimental).
        self.alliance_scenario = scenario
        self.replications = replications
        self.horizon = scenario.horizon
        self.start_month = parse_month(scenario.start)
        self.month = 0
        self.kernels = load_kernels()
        """The compiled kernels (numba), or None: the numpy reference runs."""
        self.streams = Streams(seed, chunk_index)
        self.sampler = ParameterSampler(
            self.streams,
            replications,
            fixed=fixed_parameters,
            joint_draws=joint_draws,
            kernels=self.kernels,
            memo=draw_memo,
        )
        self.schedule = Schedule(scenario, self.streams, self.sampler, replications)
        names = [f"{a}.{v}" for a, spec in scenario.actors.items() for v in spec.variables]
        names += list(scenario.channels) + list(scenario.treaties)
        self.feature_row = {name: row for row, name in enumerate(names)}
        self.constant_row = len(names)
        self.state = np.zeros((len(names) + 1, replications), dtype=DTYPE)
        self.state[self.constant_row] = 1
        self._actors = {
            name: ActorAgent(self, name, spec) for name, spec in scenario.actors.items()
        }
        self._channels = {
            name: ChannelAgent(self, name, spec) for name, spec in scenario.channels.items()
        }
        for actor in self._actors.values():
            actor.initialise()
        for actor in self._actors.values():
            actor.initialise_responses()
        self._treaties = {
            name: TreatyAgent(self, name, spec) for name, spec in scenario.treaties.items()
        }
        self._shocks = [ShockAgent(self, name, spec) for name, spec in scenario.shocks.items()]
        self.actors = self.agents_by_type[ActorAgent]
        self.channels = self.agents_by_type[ChannelAgent]
        self.treaties = self.agents_by_type.get(TreatyAgent)
        self.shocks = self.agents_by_type.get(ShockAgent)
        self._domain_rows = np.array([self.feature_row[d] for d in self.domains], dtype=np.intp)
        self._horizons = tuple(h for h in scenario.report_horizons if h <= self.horizon)
        self.intensity_at = np.zeros(
            (len(self.domains), len(self._horizons), replications), dtype=DTYPE
        )
        self._tally = tally
        if tally:
            months = self.horizon + 1
            self._counts = np.zeros((len(self.domains), months, INTENSITY_BINS), dtype=np.int32)
            self._sums = np.zeros((len(self.domains), months), dtype=np.float64)
        self._observe()
        self.datacollector = self._data_collector() if collect else None
        if self.datacollector:
            self.datacollector.collect(self)

    @property
    def domains(self) -> tuple[str, ...]:
        """The outcome rows: every channel, then every treaty's formal status."""
        return (*self._channels, *self._treaties)

    def actor(self, name: str) -> ActorAgent:
        """The actor agent called ``name``."""
        return self._actors[name]

    def channel(self, name: str) -> ChannelAgent:
        """The channel agent called ``name``."""
        return self._channels[name]

    def treaty(self, name: str) -> TreatyAgent:
        """The treaty agent called ``name``."""
        return self._treaties[name]

    def read(self, value: str) -> np.ndarray:
        """A value of the current month's state, by the name the scenario language uses.

        Args:
            value: ``actor.variable``; a channel (its intensity) or a treaty (1 while in
                force); ``<channel>.desire`` (the lesser of its parties' desires) or
                ``<channel>.desire.<party>``.
        """
        if value in self.feature_row:
            return self.state[self.feature_row[value]]
        channel, _, rest = value.partition(".desire")
        if rest.startswith("."):
            return self._channels[channel].desire(rest[1:])
        return self._channels[channel].desire_min

    @property
    def date(self) -> str:
        """The current month as YYYY-MM."""
        return iso_month(self.start_month + self.month)

    def step(self) -> None:
        """Advance every replication by one month."""
        self.actors.do("decide")
        self.channels.do("decide")
        if self.schedule.has_dynamic:
            self.schedule.update(self.month, self.read)
        self.actors.do("plan")
        for channel in self._channels.values():
            channel.hit.fill(0)
            channel.drop.fill(0)
        if self.shocks:
            self.shocks.do("step")
        self.channels.do("step")
        if self.treaties:
            self.treaties.do("step")
        self.agents.do("advance")
        self.month += 1
        self._observe()
        if self.datacollector:
            self.datacollector.collect(self)

    def _observe(self) -> None:
        """Record the month's intensities where the outcomes need them."""
        month = self.month
        if month > self.horizon:
            return
        if month in self._horizons:
            self.intensity_at[:, self._horizons.index(month)] = self.state[self._domain_rows]
        if self._tally:
            values = self.state[self._domain_rows]
            self._sums[:, month] = values.sum(axis=1, dtype=np.float64)
            if self.kernels is not None:
                counts = self._counts[:, month]
                self.kernels.histogram(self.state, self._domain_rows, INTENSITY_BINS, counts)
                return
            bins = np.minimum((values * INTENSITY_BINS).astype(np.intp), INTENSITY_BINS - 1)
            bins += (np.arange(len(values)) * INTENSITY_BINS)[:, None]
            counts = np.bincount(bins.ravel(), minlength=len(values) * INTENSITY_BINS)
            self._counts[:, month] = counts.reshape(len(values), INTENSITY_BINS)

    def run(self) -> Outcomes:
        """Step to the horizon (and through the dormancy window after it); the outcomes."""
        end = self.horizon + self.alliance_scenario.termination.dormancy_months
        while self.month < end:
            self.step()
        return self.outcomes()

    def outcomes(self) -> Outcomes:
        """Outcomes of months 0 to the horizon (or to now, if the run has not got there)."""
        horizon = min(self.month, self.horizon)
        for channel in self._channels.values():
            channel.close()
        agents = [*self._channels.values(), *self._treaties.values()]

        def months(values: np.ndarray) -> np.ndarray:
            return np.where(values > horizon, -1, values).astype(OUTCOME_DTYPE)

        ended = np.stack([a.end_month for a in agents])
        treaties = len(self._treaties)
        channels = list(self._channels.values())
        zeros = np.zeros((treaties, self.replications), dtype=OUTCOME_DTYPE)
        in_force_months = [
            np.minimum(t.end_month, horizon).astype(OUTCOME_DTYPE) for t in self._treaties.values()
        ]
        events = self.schedule.months
        return Outcomes(
            channels=self.domains,
            horizon=horizon,
            month=np.minimum(ended, horizon).astype(OUTCOME_DTYPE),
            event=ended <= horizon,
            ending=np.where(ended <= horizon, np.stack([a.ending for a in agents]), 0).astype(
                np.int8
            ),
            emerged=np.concatenate([np.stack([months(c.emerged_month) for c in channels]), zeros]),
            revived=np.concatenate(
                [np.stack([months(c.revival_month) for c in channels]), zeros - 1]
            ),
            spells=np.concatenate([np.stack([c.spells for c in channels]), zeros + 1]).astype(
                OUTCOME_DTYPE
            ),
            alive_months=np.concatenate(
                [
                    np.stack([c.alive_months for c in channels]).astype(OUTCOME_DTYPE),
                    *([np.stack(in_force_months)] if treaties else []),
                ]
            ),
            interruptions=np.concatenate(
                [np.stack([c.interruptions for c in channels]), zeros]
            ).astype(OUTCOME_DTYPE),
            intensity_at=self.intensity_at,
            report_horizons=self._horizons,
            event_months=(
                np.stack([months(m) for m in events.values()])
                if events
                else np.zeros((0, self.replications), dtype=OUTCOME_DTYPE)
            ),
            events=tuple(events),
            tally=IntensityTally(self._counts, self._sums) if self._tally else None,
            treaties=tuple(self._treaties),
            parameters=dict(self.sampler.drawn),
        )

    def release(self) -> None:
        """Drop everything the model holds (the chunk's arrays, tens of MiB), now.

        A Mesa model and its agents refer to each other (model and agents, agent sets,
        scheduled events, the data collector's closures), so they would be freed only by
        a full garbage collection, which Python runs rarely and which costs a tenth of a
        second in a process with pandas and scipy loaded. Emptied, what is left of them
        is a few small objects for the collector to find in its own time. The model
        cannot be used afterwards; outcomes already taken keep their arrays.
        """
        for agent in list(self.agents):
            vars(agent).clear()
        vars(self).clear()

    def _data_collector(self) -> mesa.DataCollector:
        reporters = {"date": lambda m: m.date}
        for name, channel in self._channels.items():
            reporters[f"{name}.intensity"] = lambda m, c=channel: float(c.intensity.mean())
            reporters[f"{name}.alive"] = lambda m, c=channel: float(
                ((c.end_month == NEVER) | (c.end_month > m.month)).mean()
            )
            reporters[f"{name}.desire"] = lambda m, c=channel: float(c.desire_min.mean())
        for name, treaty in self._treaties.items():
            reporters[f"{name}.in_force"] = lambda m, t=treaty: float(t.in_force.mean())
        for name in self.feature_row:
            if "." in name:
                row = self.feature_row[name]
                reporters[name] = lambda m, r=row: float(m.state[r].mean())
        return mesa.DataCollector(model_reporters=reporters)
