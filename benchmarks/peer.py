"""The fair peer: the model's dynamics written the way the Mesa documentation teaches.

One :class:`ScalarAllianceModel` is one replication. Its agents hold plain Python floats,
each month runs through ``AgentSet.do``, a ``DataCollector`` records the month, and
Monte Carlo means running one model per replication, in a loop or with
``mesa.batch_run``. Every random number comes from the model's own ``random.Random``
(seeded per replication), so this is an independent implementation of the dynamics of
docs/model.md: its outcome distributions must agree with the batched model's within Monte
Carlo error (tests/benchmarks/test_peer_oracle.py), never its bits.

It reads the same resolved scenario (``sim.scenario``: the input format), and nothing of
``sim.model``: desires from actor variables and weights, growth toward desire and
wind-down by domain, lock-in, decided ruptures and the accident floor, spells, dormancy
and revival, the treaty's formal status and its proportional hazard, events (calendar,
hazard and state-timed, ``after``, ``unless``, ``probability``) with effects that ramp
and last, relationship-wide shocks, actors' responses, and judged parameters drawn once
per replication from their triangular ranges.

It serves twice: as the baseline that ``benchmarks/run.py`` measures the batched engine
against (one model per replication in a loop, and ``mesa.batch_run`` on two processes),
and as the oracle of the batched model's distributions.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import mesa
import numpy as np

from sim.months import month_offset, parse_month
from sim.scenario import Scenario, load_scenario
from sim.scenario.schema import (
    AtMonth,
    Beta,
    Documented,
    Empirical,
    InWindow,
    Normal,
    SetEffect,
    Triangular,
    TruncatedNormal,
    Uniform,
    WhenState,
    WithHazard,
)

NEVER = 10**9
"""The month of what does not happen."""

LAPSED, BROKEN, FORMAL = 1, 2, 3
WIND_DOWN_SPAN = math.log(0.7 / 0.1)  # wind_down is the time from 0.7 to below 0.1


@cache
def _load(path: str) -> Scenario:
    return load_scenario(path)


class Draws:
    """Parameters drawn once per replication from the model's ``random.Random``."""

    def __init__(self, random_: random.Random) -> None:
        self.random = random_
        self._rows: dict[str, int] = {}

    def __call__(self, param) -> float:
        """The parameter's value in this replication."""
        rng = self.random
        if isinstance(param, int | float):
            return float(param)
        if isinstance(param, Documented):
            if param.judgement is None or param.judgement[0] == param.judgement[1]:
                return param.value
            low, high = param.judgement
            return rng.triangular(low, high, param.value)
        if isinstance(param, Normal):
            return rng.gauss(param.mean, param.sd)
        if isinstance(param, TruncatedNormal):
            while True:
                value = rng.gauss(param.mean, param.sd)
                if param.low <= value <= param.high:
                    return value
        if isinstance(param, Uniform):
            return rng.uniform(param.low, param.high)
        if isinstance(param, Beta):
            return param.low + (param.high - param.low) * rng.betavariate(param.a, param.b)
        if isinstance(param, Triangular):
            return rng.triangular(param.low, param.high, param.mode)
        if isinstance(param, Empirical):
            if param.group is None:
                return rng.choice(param.values)
            row = self._rows.setdefault(param.group, rng.randrange(len(param.values)))
            return param.values[row]
        raise TypeError(f"not a parameter: {param!r}")


@dataclass
class Effect:
    """One effect of one event on one target: its weight ramps up, and may lapse."""

    event: str
    operation: str
    value: float
    ramp: int
    duration: int | None

    def weight(self, month: int, event_month: int) -> float:
        """How much of the effect holds at ``month``, from 0 to 1."""
        elapsed = month - event_month
        if elapsed < 0 or (self.duration is not None and elapsed >= self.duration):
            return 0.0
        return min(1.0, elapsed / self.ramp) if self.ramp else 1.0

    def apply(self, value: float, month: int, event_month: int) -> float:
        """The target's value at ``month`` after this effect."""
        weight = self.weight(month, event_month)
        if weight == 0:
            return value
        if self.operation == "set":
            return value + weight * (self.value - value)
        if self.operation == "add":
            return value + weight * self.value
        return value * (1 + weight * (self.value - 1))


class Timeline:
    """When each event happens in this replication (NEVER if it does not)."""

    def __init__(self, model: ScalarAllianceModel) -> None:
        scenario = model.spec
        self.model = model
        self.events = scenario.events
        self.order = _dependency_order(scenario)
        self.dynamic = set()
        for name in self.order:
            event = self.events[name]
            if isinstance(event.timing, WhenState) or any(
                other in self.dynamic for other in event.depends_on
            ):
                self.dynamic.add(name)
        self.month: dict[str, int] = {}
        self.delay: dict[str, int] = {}
        self.occurs: dict[str, bool] = {}
        self.held = dict.fromkeys(self.dynamic, 0)
        self.decided = dict.fromkeys(self.dynamic, False)
        self.effects: dict[tuple[str, str], list[Effect]] = {}
        rng, draw = model.random, model.draw
        for name in self.order:
            event = self.events[name]
            self.delay[name] = self._delay(event)
            probability = draw(event.probability)
            self.occurs[name] = probability >= 1 or rng.random() < probability
            self.month[name] = NEVER if name in self.dynamic else self._static_month(event, name)
            for spec in event.effects:
                owner, _, attribute = spec.target.partition(".")
                operation = "set" if isinstance(spec, SetEffect) else None
                operation = operation or ("add" if hasattr(spec, "add") else "scale")
                value = draw(getattr(spec, operation))
                effect = Effect(name, operation, value, spec.ramp, spec.duration)
                self.effects.setdefault((owner, attribute), []).append(effect)

    def _delay(self, event) -> int:
        rng, draw = self.model.random, self.model.draw
        timing, start = event.timing, self.model.start
        if isinstance(timing, WhenState):
            return 0
        if isinstance(timing, AtMonth):
            return month_offset(timing.month, start)
        if isinstance(timing, InWindow):
            low, high = (month_offset(v, start) for v in timing.window)
            return rng.randint(low, high)
        if isinstance(timing, WithHazard):
            hazard = draw(timing.hazard)
            if hazard <= 0:
                return NEVER
            if hazard >= 1:
                return 1
            # Months to the first success of a monthly Bernoulli trial.
            return min(NEVER, 1 + int(math.log1p(-rng.random()) / math.log1p(-hazard)))
        low, mode, high = (month_offset(v, start) for v in timing.triangular)
        return low if low == high else math.floor(rng.triangular(low, high, mode) + 0.5)

    def _anchor(self, event) -> int:
        if event.after is None:
            return 0
        month = self.month[event.after.event]
        return NEVER if month >= NEVER else month + event.after.lag

    def _static_month(self, event, name: str) -> int:
        anchor, delay = self._anchor(event), self.delay[name]
        month = NEVER if anchor >= NEVER or delay >= NEVER else anchor + delay
        if not self.occurs[name]:
            return NEVER
        if any(self.month[other] <= month for other in event.unless):
            return NEVER
        return min(month, NEVER)

    def resolve(self, month: int) -> None:
        """Decide the state-timed events of month + 1 from the state of ``month``."""
        following = month + 1
        for name in self.order:
            if name not in self.dynamic:
                continue
            event = self.events[name]
            anchor = self._anchor(event)
            if isinstance(event.timing, WhenState):
                armed = not self.decided[name] and anchor <= month and self.occurs[name]
                trigger = event.timing.when
                if armed:
                    holds = [self._holds(condition) for condition in trigger.conditions]
                    met = all(holds) if trigger.all else any(holds)
                    self.held[name] = self.held[name] + 1 if met else 0
                    if self.held[name] >= trigger.months:
                        self.month[name] = following
                        self.decided[name] = True
                else:
                    self.held[name] = 0
            elif not self.decided[name] and anchor < NEVER and self.occurs[name]:
                if self.delay[name] < NEVER:
                    self.month[name] = max(min(anchor + self.delay[name], NEVER), following)
                self.decided[name] = True
            if self.month[name] == following and any(
                self.month[other] <= following for other in event.unless
            ):
                self.month[name] = NEVER

    def _holds(self, condition) -> bool:
        value = self.model.read(condition.value)
        return value < condition.below if condition.below is not None else value > condition.above

    def apply(self, owner: str, attribute: str, value: float, month: int) -> float:
        """``owner.attribute``'s value at ``month`` after the events' effects."""
        for effect in self.effects.get((owner, attribute), ()):
            value = effect.apply(value, month, self.month[effect.event])
        return value


def _dependency_order(scenario: Scenario) -> list[str]:
    ordered: list[str] = []

    def place(name: str) -> None:
        if name not in ordered:
            for other in scenario.events[name].depends_on:
                place(other)
            ordered.append(name)

    for name in scenario.events:
        place(name)
    return ordered


def _clip(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


class StateActor(mesa.Agent):
    """A state (or an institution): variables it plans, and its own desire for each channel."""

    def __init__(self, model: ScalarAllianceModel, name: str, spec) -> None:
        super().__init__(model)
        self.name = name
        scenario, draw = model.spec, model.draw
        self.start = {v: draw(scenario.state.actors[name][v]) for v in spec.variables}
        self.range = {v: tuple(variable.range) for v, variable in spec.variables.items()}
        self.speed = {v: draw(variable.adjustment) for v, variable in spec.variables.items()}
        self.responses = {
            v: [(source, draw(weight)) for source, weight in variable.responds_to.items()]
            for v, variable in spec.variables.items()
        }
        self.values: dict[str, float] = {}
        self.planned: dict[str, float] = {}
        self.changing = [
            v for v in spec.variables if self.responses[v] or (name, v) in model.timeline.effects
        ]
        self.desire_terms = {
            channel: [(term, draw(weight)) for term, weight in c.desire[name].items()]
            for channel, c in scenario.channels.items()
            if name in c.parties
        }
        self.own: dict[str, float] = {}

    def target(self, variable: str, month: int) -> float:
        """What the variable moves toward: events' value plus responses, in its range."""
        value = self.model.timeline.apply(self.name, variable, self.start[variable], month)
        value += sum(weight * get() for get, weight in self.responses[variable])
        return _clip(value, *self.range[variable])

    def connect(self) -> None:
        """Turn the names its weights apply to into readers of the state (once all exist)."""
        reader = self.model.reader
        self.responses = {v: [(reader(s), w) for s, w in r] for v, r in self.responses.items()}
        self.desire_terms = {
            c: [(reader(t), w) for t, w in terms] for c, terms in self.desire_terms.items()
        }

    def initialise(self, with_responses: bool) -> None:
        """Values at month 0: the start, with the events of month 0 (and the responses)."""
        if with_responses:
            self.values.update({v: self.target(v, 0) for v in self.changing})
        else:
            for v in self.start:
                value = self.model.timeline.apply(self.name, v, self.start[v], 0)
                self.values[v] = _clip(value, *self.range[v])

    def decide(self) -> None:
        """Own desire for each channel: base plus weighted variables (clipped by the channel)."""
        self.own = {
            channel: sum(w * get() for get, w in terms)
            for channel, terms in self.desire_terms.items()
        }

    def plan(self) -> None:
        """Next month's variables, reached at each variable's speed."""
        month = self.model.month + 1
        for v in self.changing:
            current, target = self.values[v], self.target(v, month)
            speed = self.speed[v]
            self.planned[v] = target if speed >= 1 else current + speed * (target - current)

    def advance(self) -> None:
        """Commit next month's variables."""
        self.values.update(self.planned)


CHANNEL_PARAMETERS = (
    "threshold", "emergence", "growth", "wind_down", "lock_in_slowdown", "noise",
    "rupture_floor", "rupture_decision", "rupture_steepness", "lock_in_protection",
    "lock_in_accrual", "lock_in_max",
)  # fmt: skip


class CooperationChannel(mesa.Agent):
    """A cooperation channel between two parties: its intensity and its life history."""

    def __init__(self, model: ScalarAllianceModel, name: str, spec) -> None:
        super().__init__(model)
        self.name = name
        scenario, draw = model.spec, model.draw
        defaults = scenario.channel_defaults
        self.base = {}
        for parameter in CHANNEL_PARAMETERS:
            value = getattr(spec, parameter)
            self.base[parameter] = draw(getattr(defaults, parameter) if value is None else value)
        self.base["ceiling"] = 1.0
        self.has_effects = any(owner == name for owner, _ in model.timeline.effects)
        self.parties = spec.parties
        self.shared_terms = [(t, -draw(w)) for t, w in spec.cost.items()]
        self.shared_terms += [(t, draw(w)) for t, w in spec.spillover.items()]
        start = scenario.state.channels[name]
        self.intensity = draw(start.intensity)
        self.lock_in = draw(start.lock_in)
        self.dormancy = scenario.termination.dormancy_months
        self.horizon = model.horizon
        self.params = self.parameters_at(0)
        self.cap, self.hit, self.drop = 1.0, 0.0, 0.0
        self.desire = {party: 0.0 for party in self.parties}
        self.desire_min = 0.0
        self.clock = 0.0
        self.rupture_at = model.random.expovariate(1.0)
        self.in_spell = self.intensity >= self.params["threshold"]
        self.spell_start = 0 if self.in_spell else NEVER
        self.emerged = self.spell_start
        self.end_month, self.ending, self.revived = NEVER, 0, NEVER
        self.spells = int(self.in_spell)
        self.alive_months = self.interruptions = 0
        self.below = 0
        self.below_since = NEVER
        self.broken_run = False
        self.following = self.intensity
        self.ruptured = False

    def parameters_at(self, month: int) -> dict[str, float]:
        """The parameters at ``month``, after the events' effects."""
        timeline = self.model.timeline
        params = {p: timeline.apply(self.name, p, v, month) for p, v in self.base.items()}
        params["wind_down_rate"] = 1 - math.exp(-WIND_DOWN_SPAN / params["wind_down"])
        return params

    def effective_lock_in(self, month: int) -> float:
        """Accrued lock-in moved by the events' effects."""
        return _clip(self.model.timeline.apply(self.name, "lock_in", self.lock_in, month), 0, 1)

    def connect(self) -> None:
        """Turn the names its weights apply to into readers of the state (once all exist)."""
        self.shared_terms = [(self.model.reader(t), w) for t, w in self.shared_terms]
        self.party_agents = [self.model.actor(p) for p in self.parties]

    def decide(self) -> None:
        """Each party's desire: its own part plus costs and spillover both face alike."""
        shared = sum(w * get() for get, w in self.shared_terms)
        own = [party.own[self.name] for party in self.party_agents]
        self.desire = {p: _clip(o + shared, 0, 1) for p, o in zip(self.parties, own, strict=True)}
        self.desire_min = _clip(min(own) + shared, 0, 1)
        self.hit = self.drop = 0.0

    def step(self) -> None:
        """Next month's intensity: toward what both want, noise, shocks, a rupture."""
        month = self.model.month
        if self.has_effects:
            self.params = self.parameters_at(month)
        p = self.params
        lock_in = self.effective_lock_in(month)
        intensity = self.intensity
        target = max(min(self.desire_min - self.drop, self.cap, p["ceiling"]), 0.0)
        if target > intensity:
            rate = p["growth"]
        else:
            rate = p["wind_down_rate"] / (1 + p["lock_in_slowdown"] * lock_in)
        following = intensity + rate * (target - intensity)
        if p["noise"]:
            spread = 2 * p["noise"] * math.sqrt(max(intensity * (1 - intensity), 0.0))
            following += spread * self.random.gauss(0.0, 1.0)
        following = _clip(following * (1 - self.hit), 0, 1)
        # A decision to break off, likelier the less the less willing party wants of it.
        hazard = p["rupture_floor"]
        discontent = intensity - min(self.desire_min, self.cap)  # an ended treaty's too
        if discontent > 0.01 * intensity:
            hazard += p["rupture_decision"] * (discontent / intensity) ** p["rupture_steepness"]
        self.ruptured = False
        if self.in_spell:
            self.clock += hazard * (1 - p["lock_in_protection"] * lock_in)
            if self.clock >= self.rupture_at and intensity > 0:
                self.ruptured = True
                self.rupture_at = self.clock + self.random.expovariate(1.0)
                following = 0.0
        self.following = following

    def advance(self) -> None:
        """Commit next month: lock-in, intensity, and the spell's life history."""
        month = self.model.month + 1
        p = self.params
        if p["lock_in_accrual"]:
            grown = p["lock_in_accrual"] * self.intensity if self.in_spell else 0.0
            self.lock_in = min(self.lock_in + grown, p["lock_in_max"])
        self.intensity = self.following
        below = self.intensity < p["threshold"]
        if below and self.below == 0:
            self.below_since, self.broken_run = month, False
        if self.ruptured:
            self.broken_run = self.broken_run or below
            self.lock_in = 0.0
        if not below and self.below > 0 and self.in_spell and self.broken_run:
            self.interruptions += 1
        self.below = self.below + 1 if below else 0
        if self.in_spell and self.below >= self.dormancy:
            # Known only now, the spell ended when the channel fell below its threshold.
            if self.end_month == NEVER:
                self.end_month = self.below_since
                self.ending = BROKEN if self.broken_run else LAPSED
            self.alive_months += max(min(self.below_since, self.horizon) - self.spell_start, 0)
            self.in_spell = False
        if not self.in_spell and self.intensity >= p["emergence"]:
            if month <= self.horizon:
                if self.emerged == NEVER:
                    self.emerged = month
                elif self.revived == NEVER:
                    self.revived = month
                self.spells += 1
            self.in_spell, self.spell_start, self.below = True, month, 0


class FormalTreaty(mesa.Agent):
    """A treaty's formal status, ended by its proportional hazard or by abrogation."""

    def __init__(self, model: ScalarAllianceModel, name: str, spec) -> None:
        super().__init__(model)
        self.name = name
        draw = model.draw
        self.channel = model.channel(spec.channel)
        self.age0 = model.start - parse_month(spec.signed)
        self.steps = sorted((s.from_month, draw(s.hazard)) for s in spec.baseline)
        self.fixed = draw(spec.fixed_ratio)
        self.covariates = [
            (key, c, draw(c.log_hazard_ratio), 0.0 if c.age_slope is None else draw(c.age_slope))
            for key, c in spec.covariates.items()
        ]
        self.starts: dict[str, float] = {}
        self.last_held = dict.fromkeys(spec.covariates, -(2**30))
        self.after_end = spec.after_end_ceiling
        self.clock, self.threshold = 0.0, model.random.expovariate(1.0)
        self.in_force, self.end_month, self.ending = True, NEVER, False

    def _z(self, key: str, covariate) -> float:
        value = self.model.read(covariate.value)
        if covariate.per is not None:
            if covariate.since_start:
                value -= self.starts.setdefault(covariate.value, value)
            return value / covariate.per
        holds = value > covariate.above if covariate.above is not None else value < covariate.below
        if covariate.ended_within is None and not covariate.by_calendar_year:
            return float(holds)
        month = self.model.month
        if holds:
            self.last_held[key] = month
        if covariate.by_calendar_year:
            # Held for the rest of any calendar year it held in, as yearly data code it.
            start = self.model.start
            years = (start + month) // 12 - (start + self.last_held[key]) // 12
            if covariate.ended_within is None:
                return float(years == 0)
            return float(0 < years <= covariate.ended_within // 12)
        # 1 in the months after the condition stopped holding (never before the start).
        return 0.0 if holds else float(month - self.last_held[key] <= covariate.ended_within)

    def step(self) -> None:
        """Whether the treaty ends next month."""
        month = self.model.month
        age = self.age0 + month
        baseline = self.steps[0][1]
        for start, hazard in self.steps:
            if start <= age:
                baseline = hazard
        log_age = math.log((age + 0.5) / 12)  # ln(age in years) in the middle of the month
        log_ratio = sum(
            (beta + slope * log_age) * self._z(key, c) for key, c, beta, slope in self.covariates
        )
        hazard = baseline * self.fixed * math.exp(log_ratio)
        self.clock += -math.log1p(-min(hazard, 1 - 1e-12))
        self.ending = self.in_force and self.clock >= self.threshold
        # An effect on in_force ends the treaty from the month it starts to hold.
        timeline = self.model.timeline
        for effect in timeline.effects.get((self.name, "in_force"), ()):
            value = effect.value if effect.operation == "set" else 0.0
            weight = effect.weight(month + 1, timeline.month[effect.event])
            self.ending = self.ending or (self.in_force and weight > 0 and value < 0.5)

    def advance(self) -> None:
        """Commit the status; an ended treaty caps its practice and takes its lock-in."""
        if self.ending:
            self.in_force, self.end_month = False, self.model.month + 1
            self.channel.cap = self.after_end
            self.channel.lock_in = 0.0


class RelationshipShock(mesa.Agent):
    """A crisis that strikes at its hazard and hits several channels at once."""

    def __init__(self, model: ScalarAllianceModel, name: str, spec) -> None:
        super().__init__(model)
        draw = model.draw
        self.hazard, self.severity = draw(spec.hazard), draw(spec.severity)
        self.desire_drop, self.duration = draw(spec.desire_drop), spec.duration
        self.reach = []
        for channel in model.spec.channels:
            reach = spec.reach.get(channel, spec.default_reach)
            if reach:
                self.reach.append((model.channel(channel), draw(reach)))
        self.until = {c.name: 0 for c, _ in self.reach}

    def step(self) -> None:
        """Strike, hit channels and lower both parties' desire while it lasts."""
        month = self.model.month + 1
        struck = self.random.random() < self.hazard
        for channel, reach in self.reach:
            if struck and self.random.random() < reach:
                channel.hit = max(channel.hit, self.severity)
                self.until[channel.name] = month + self.duration
            if self.until[channel.name] > month:
                channel.drop = max(channel.drop, self.desire_drop)

    def advance(self) -> None:
        """Nothing to commit."""


class ScalarAllianceModel(mesa.Model):
    """One replication of a scenario, with agents holding Python floats.

    Args:
        scenario: A resolved scenario, or the path of a scenario file (read once per
            process, as ``mesa.batch_run`` passes parameters by value).
        rng: Seed of the replication's random numbers.
    """

    def __init__(self, scenario: Scenario | str | Path, rng: int | None = None) -> None:
        super().__init__(rng=rng)
        self.spec = _load(str(scenario)) if isinstance(scenario, str | Path) else scenario
        self.horizon = self.spec.horizon
        self.start = parse_month(self.spec.start)
        self.month = 0
        self.end = self.horizon + self.spec.termination.dormancy_months
        self.draw = Draws(self.random)
        self._readers: dict[str, Callable[[], float]] = {}
        self._treaties: dict[str, FormalTreaty] = {}
        self.timeline = Timeline(self)
        self._actors = {n: StateActor(self, n, a) for n, a in self.spec.actors.items()}
        self._channels = {n: CooperationChannel(self, n, c) for n, c in self.spec.channels.items()}
        for agent in [*self._actors.values(), *self._channels.values()]:
            agent.connect()
        for actor in self._actors.values():
            actor.initialise(with_responses=False)
        for actor in self._actors.values():
            if any(actor.responses.values()):
                actor.initialise(with_responses=True)
        self._treaties = {n: FormalTreaty(self, n, t) for n, t in self.spec.treaties.items()}
        for name, shock in self.spec.shocks.items():
            RelationshipShock(self, name, shock)
        reporters = {
            f"{n}.intensity": _attribute(c, "intensity") for n, c in self._channels.items()
        }
        reporters |= {f"{n}.end": _attribute(c, "end_month") for n, c in self.domains.items()}
        self.datacollector = mesa.DataCollector(model_reporters=reporters)
        self.datacollector.collect(self)

    @property
    def domains(self) -> dict[str, CooperationChannel | FormalTreaty]:
        """Every channel, then every treaty's formal status."""
        return self._channels | self._treaties

    def actor(self, name: str) -> StateActor:
        """The actor called ``name``."""
        return self._actors[name]

    def channel(self, name: str) -> CooperationChannel:
        """The channel called ``name``."""
        return self._channels[name]

    def read(self, name: str) -> float:
        """A value of this month's state, by the name the scenario language uses."""
        return self.reader(name)()

    def reader(self, name: str) -> Callable[[], float]:
        """A function that reads ``name`` in the state of the current month."""
        if name not in self._readers:
            self._readers[name] = self._new_reader(name)
        return self._readers[name]

    def _new_reader(self, name: str) -> Callable[[], float]:
        if name == "base":
            return lambda: 1.0
        if name in self._channels:
            return _attribute(self._channels[name], "intensity")
        if name in self._treaties:
            treaty = self._treaties[name]
            return lambda: float(treaty.in_force)
        owner, _, rest = name.partition(".")
        if owner in self._actors:
            values = self._actors[owner].values
            return lambda: values[rest]
        channel = self._channels[owner]
        if rest == "desire":
            return _attribute(channel, "desire_min")
        party = rest.removeprefix("desire.")
        return lambda: channel.desire[party]

    def step(self) -> None:
        """One month, every agent deciding from the state of this month."""
        actors = self.agents_by_type[StateActor]
        channels = self.agents_by_type[CooperationChannel]
        actors.do("decide")
        channels.do("decide")
        self.timeline.resolve(self.month)
        actors.do("plan")
        if RelationshipShock in self.agents_by_type:
            self.agents_by_type[RelationshipShock].do("step")
        channels.do("step")
        if FormalTreaty in self.agents_by_type:
            self.agents_by_type[FormalTreaty].do("step")
        self.agents.do("advance")
        self.month += 1
        self.datacollector.collect(self)
        self.running = self.month < self.end

    def end_months(self) -> dict[str, int]:
        """Month each domain's first spell ended (a treaty: its formal end), NEVER if not."""
        return {name: domain.end_month for name, domain in self.domains.items()}


def _attribute(agent, name: str) -> Callable[..., float]:
    return lambda *_: getattr(agent, name)


def replication_seed(seed: int, index: int) -> int:
    """The seed of replication ``index`` of a run with ``seed``."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def end_months(scenario: Scenario, replications: int, seed: int, first: int = 0) -> np.ndarray:
    """End months, ``(domains, replications)``, of one model per replication in a loop."""
    months = []
    for index in range(first, first + replications):
        model = ScalarAllianceModel(scenario, rng=replication_seed(seed, index))
        model.run_model()
        months.append(list(model.end_months().values()))
    return np.array(months, dtype=np.int64).T


def batch_end_months(
    scenario_file: str | Path, replications: int, seed: int, processes: int = 2
) -> np.ndarray:
    """The same through ``mesa.batch_run``: ``(domains, replications)`` end months."""
    scenario = _load(str(scenario_file))
    results = mesa.batch_run(
        ScalarAllianceModel,
        parameters={"scenario": [str(scenario_file)]},
        number_processes=processes,
        rng=[replication_seed(seed, index) for index in range(replications)],
        data_collection_period=-1,
        max_steps=10**6,
        display_progress=False,
    )
    domains = [*scenario.channels, *scenario.treaties]
    rows = sorted(results, key=lambda row: row["RunId"])
    return np.array([[row[f"{d}.end"] for row in rows] for d in domains], dtype=np.int64)
