"""Channel agents: the cooperation channels of a dyad, one per domain, with their life histories.

A channel is a Mesa agent whose intensity is a row of the model's state matrix, one value
per replication. In ``step`` it computes month t + 1's intensity from month t's state and
its parties' desires: up toward what the less willing party wants at its growth rate,
down at a rate set by its domain's wind-down time and slowed (never stopped) by lock-in,
with noise, shocks and ruptures. In ``advance`` it commits that intensity and updates its
life history: established, broken off or lapsed, revived.

A spell ends when the channel has stayed below its threshold for the dormancy window;
its end is dated to the month it fell below (or broke off), as a historian would date it.
A channel that falls below and comes back within the window has only been interrupted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model.events import NEVER, ScheduledEffect, apply_effects, settled
from sim.model.index import LinearIndex
from sim.model.parameters import DTYPE, Drawn
from sim.model.power import unit_power
from sim.model.streams import Source
from sim.scenario.schema import CHANNEL_DEFAULTABLE, CHANNEL_PARAMETERS, Channel

if TYPE_CHECKING:
    from sim.model.model import AllianceModel

# How a spell ended (the ``ending`` outcome); FORMAL is a treaty's.
ONGOING, LAPSED, BROKEN, FORMAL = 0, 1, 2, 3
WIND_DOWN_FROM, WIND_DOWN_TO = 0.7, 0.1  # the span `wind_down` is measured over


def wind_down_rate(months: Drawn) -> Drawn:
    """The monthly share of the gap an unwanted channel closes, from its wind-down time.

    An intensity falling toward 0 at rate r goes from 0.7 to 0.1 in ``ln 7 / −ln(1 − r)``
    months; this is the r that makes that ``months``.
    """
    ratio = np.log(WIND_DOWN_FROM / WIND_DOWN_TO)
    return (1 - np.exp(-ratio / np.asarray(months, dtype=np.float64))).astype(DTYPE)


class ChannelAgent(mesa.Agent):
    """A cooperation channel of a dyad in one domain, with its life history per replication.

    Month t → t + 1, with ``D`` the lesser of the parties' desires (own parts plus the
    channel's shared costs and spillover, clipped to [0, 1]) and ``L`` the lock-in:

    - target ``T = min(D − shock drop, ceiling)``; rate ``growth`` if ``T > I``, else
      ``r_w / (1 + lock_in_slowdown · L)`` with ``r_w`` from the wind-down time;
    - ``I ← clip(I + rate·(T − I) + noise·2√(I(1 − I))·ε)``, times ``1 − severity`` if a
      shock hits it;
    - a rupture (a decision to break off) at monthly hazard
      ``(rupture_floor + rupture_decision·f^rupture_steepness)·(1 − lock_in_protection·L)``
      with ``f = max(0, I − min(D, cap))/I`` (the share of what the channel carries that
      the less willing party no longer wants, or an ended treaty no longer allows) sets
      ``I`` to 0. A party that wants none of it breaks
      off at ``rupture_decision``; one that wants most of it almost never does.

    Args:
        model: The model.
        name: The channel's key.
        definition: The channel as the scenario defines it.
    """

    def __init__(self, model: AllianceModel, name: str, definition: Channel) -> None:
        super().__init__(model)
        self.name = name
        scenario = model.alliance_scenario
        defaults = scenario.channel_defaults
        replications = model.replications
        self.row = model.feature_row[name]
        self.parties = [
            (model.actor(p), model.actor(p).channel_index[name]) for p in definition.parties
        ]
        self._base: dict[str, Drawn] = {}
        for parameter in CHANNEL_DEFAULTABLE:
            value = getattr(definition, parameter)
            value = getattr(defaults, parameter) if value is None else value
            self._base[parameter] = model.sampler(value, f"channels.{name}.{parameter}")
        self._base["ceiling"] = DTYPE(1)
        self._base_rate = wind_down_rate(self._base["wind_down"])
        self._effects: dict[str, list[ScheduledEffect]] = {}
        for effect in model.schedule.effects:
            if effect.owner == name:
                self._effects.setdefault(effect.attribute, []).append(effect)
        self._varying = [e for p, e in self._effects.items() if p != "lock_in"]
        """The effects on the parameters (lock-in's act on the accrued lock-in)."""
        self._shared = LinearIndex(
            1, model.state.shape[0], replications, model.kernels, model.sampler.drawn
        )
        for term, weight in definition.cost.items():
            key = f"channels.{name}.cost.{term}"
            self._shared.add(0, model.feature_row[term], -model.sampler(weight, key))
        for source, weight in definition.spillover.items():
            key = f"channels.{name}.spillover.{source}"
            self._shared.add(0, model.feature_row[source], model.sampler(weight, key))
        start = scenario.state.channels[name]
        model.state[self.row] = model.sampler(start.intensity, f"state.channels.{name}.intensity")
        self.lock_in_base = np.broadcast_to(
            model.sampler(start.lock_in, f"state.channels.{name}.lock_in"), (replications,)
        ).astype(DTYPE)
        self._dormancy = scenario.termination.dormancy_months
        self._horizon = scenario.horizon
        self._noise = model.streams.generator(Source.CHANNEL_NOISE, name)
        if model.kernels is not None:
            # The same normals from the same stream, drawn by a compiled loop.
            self._noise = model.kernels.NormalStream(self._noise)
        self._rupture_stream = model.streams.generator(Source.RUPTURE, name)
        self._rupture_at = self._rupture_stream.standard_exponential(replications).astype(DTYPE)
        self._clock = np.zeros(replications, dtype=DTYPE)
        self.params = self.parameters_at(0)
        self.cap = np.ones(replications, dtype=DTYPE)
        """A ceiling set from outside the channel (a treaty that ended), 1 otherwise."""
        self.desire_min = np.zeros(replications, dtype=DTYPE)
        """The lesser of the parties' desires in month t."""
        self.shared = np.zeros(replications, dtype=DTYPE)
        self.drop = np.zeros(replications, dtype=DTYPE)
        """Fall in both parties' desire from relationship-wide shocks now in force."""
        self.hit = np.zeros(replications, dtype=DTYPE)
        """Share of intensity a shock removes this month (0 where none hits)."""
        intensity = model.state[self.row]
        # Life history.
        self.in_spell = intensity >= self.params["threshold"]
        self.spell_start = np.where(self.in_spell, 0, NEVER).astype(np.int32)
        self.emerged_month = self.spell_start.copy()
        self.end_month = np.full(replications, NEVER, dtype=np.int32)
        self.ending = np.full(replications, ONGOING, dtype=np.int8)
        self.revival_month = np.full(replications, NEVER, dtype=np.int32)
        self.spells = self.in_spell.astype(np.int16)
        self.alive_months = np.zeros(replications, dtype=np.int32)
        self.interruptions = np.zeros(replications, dtype=np.int16)
        self.below = np.zeros(replications, dtype=np.int16)
        self.below_since = np.full(replications, NEVER, dtype=np.int32)
        self.broken_run = np.zeros(replications, dtype=bool)
        self._next = np.empty(replications, dtype=DTYPE)
        # Scratch space of the numpy reference's step (the kernels have their own).
        self._buffers = [
            np.empty(replications, dtype=DTYPE) for _ in range(3 if model.kernels is None else 0)
        ]
        self._ruptured: np.ndarray | None = None
        self._noisy = bool(np.any(self.params["noise"])) or "noise" in self._effects
        self._shocked = any(
            channel in (shock.reach or {}) or shock.default_reach
            for shock in scenario.shocks.values()
            for channel in (name,)
        )
        self._kernels = model.kernels
        self._vectors: tuple[dict[str, Drawn], dict[str, np.ndarray]] | None = None
        self._accrues = False
        self._broke = np.zeros(replications, dtype=bool)
        self._nothing = np.empty(0, dtype=DTYPE)
        if model.kernels is not None:
            # Scratch space of the compiled step: the list of replications that broke
            # off, and the month's normals.
            self._broken = np.empty(replications, dtype=np.intp)
            self._normals = np.empty(replications, dtype=DTYPE)

    def parameters_at(self, month: int) -> dict[str, Drawn]:
        """Parameter values at ``month`` after the scenario's effects, kept in their ranges.

        An ``add`` or ``scale`` effect could take a parameter where it means nothing (a
        negative steepness, a wind-down under a month); like an actor variable, the
        parameter is then held at the end of its range.
        """
        params = dict(self._base)
        for parameter, effects in self._effects.items():
            if parameter != "lock_in":
                low, high = CHANNEL_PARAMETERS[parameter]
                value = apply_effects(params[parameter], effects, month)
                params[parameter] = np.clip(value, low, high)
        if params["wind_down"] is self._base["wind_down"]:
            params["wind_down_rate"] = self._base_rate  # found once: logs and exps
        else:
            params["wind_down_rate"] = wind_down_rate(params["wind_down"])
        return params

    def lock_in(self, month: int) -> np.ndarray:
        """Effective lock-in at ``month``: accrued lock-in moved by the scenario's effects."""
        effects = self._effects.get("lock_in")
        if not effects:
            return self.lock_in_base
        return np.clip(apply_effects(self.lock_in_base, effects, month), 0, 1)

    @property
    def intensity(self) -> np.ndarray:
        """Intensity at the current month in every replication."""
        return self.model.state[self.row]

    def desire(self, party: str) -> np.ndarray:
        """A party's desire for the channel in month t, in [0, 1]."""
        (first, first_row), (second, second_row) = self.parties
        actor, row = (first, first_row) if first.name == party else (second, second_row)
        return np.clip(actor.own_desire[row] + self.shared, 0, 1)

    def decide(self) -> None:
        """The parties' desires for month t: their own parts plus what both face alike."""
        (first, first_row), (second, second_row) = self.parties
        self.shared = self._shared.compute(self.model.state)[0]
        if self._kernels is not None:
            self._kernels.lesser_desire(first.own_desire[first_row],
                                        second.own_desire[second_row], self.shared,
                                        self.desire_min)  # fmt: skip
            return
        lesser = np.minimum(first.own_desire[first_row], second.own_desire[second_row],
                            out=self.desire_min)  # fmt: skip
        lesser += self.shared
        np.clip(lesser, 0, 1, out=lesser)

    def step(self) -> None:
        """Compute month t + 1's intensity from month t's state and the parties' desires."""
        model = self.model
        month = model.month
        if self._varying:
            self.params = self.parameters_at(month)
            if all(settled(effects) for effects in self._varying):
                self._varying = []  # the parameters no longer change: keep them
        if self._kernels is not None:
            self._compiled_step(month)
            return
        params = self.params
        buffers = self._buffers
        target = np.subtract(self.desire_min, self.drop, out=buffers[0])
        np.minimum(target, self.cap, out=target)
        if "ceiling" in self._effects:
            np.minimum(target, params["ceiling"], out=target)
        np.maximum(target, 0, out=target)
        intensity = self.intensity
        lock_in = self.lock_in(month)
        gap = np.subtract(target, intensity, out=target)
        # Down at the wind-down rate, slowed (never stopped) by lock-in; up at growth.
        rate = np.multiply(params["lock_in_slowdown"], lock_in, out=buffers[1])
        rate += 1
        np.divide(params["wind_down_rate"], rate, out=rate)
        np.copyto(rate, params["growth"], where=gap > 0)
        following = np.multiply(rate, gap, out=self._next)
        following += intensity
        if self._noisy:
            # Shocks shrink toward 0 and 1 (a Jacobi-type diffusion): chance alone cannot
            # keep alive a channel that nobody wants.
            spread = np.subtract(1, intensity, out=buffers[1])
            spread *= intensity
            np.sqrt(spread, out=spread)
            spread *= self._noise.standard_normal(len(intensity), dtype=DTYPE)
            spread *= 2 * params["noise"]
            following += spread
        if self._shocked:
            following *= 1 - self.hit
        np.clip(following, 0, 1, out=following)
        self._ruptured = self._ruptures(intensity, lock_in, params)
        if self._ruptured is not None:
            following[self._ruptured] = 0

    def _parameter_vectors(self) -> dict[str, np.ndarray]:
        """The parameters as the kernels take them (recomputed when they change)."""
        if self._vectors is None or self._vectors[0] is not self.params:
            vector, size = self._kernels.vector, self.model.replications
            vectors = {k: vector(v, size) for k, v in self.params.items()}
            self._vectors = (self.params, vectors)
            self._accrues = bool(np.any(vectors["lock_in_accrual"]))
        return self._vectors[1]

    def _compiled_step(self, month: int) -> None:
        """:meth:`step` in one compiled pass (the same numbers, the same random draws)."""
        p = self._parameter_vectors()
        intensity = self.intensity
        epsilon = (
            self._noise.standard_normal(len(intensity), out=self._normals)
            if self._noisy
            else self._nothing
        )
        broke = self._kernels.channel_step(
            self.desire_min, self.drop, self.cap, p["ceiling"], intensity,
            self._kernels.vector(self.lock_in(month), len(intensity)), p["lock_in_slowdown"],
            p["wind_down_rate"], p["growth"], epsilon, p["noise"],
            self.hit if self._shocked else self._nothing, p["lock_in_protection"],
            p["rupture_floor"], p["rupture_decision"], p["rupture_steepness"], self.in_spell,
            self._clock, self._rupture_at, self._next, self._broke, self._broken,
        )  # fmt: skip
        self._ruptured = None
        if broke:
            # A new clock threshold for the next spell, drawn as the reference draws it.
            fresh = self._rupture_stream.standard_exponential(broke)
            self._kernels.renew_clocks(self._rupture_at, self._clock, self._broken, fresh)
            self._ruptured = self._broke

    def _ruptures(
        self, intensity: np.ndarray, lock_in: np.ndarray, params: dict[str, Drawn]
    ) -> np.ndarray | None:
        """Where the channel breaks off this month (None: nowhere).

        A rupture is a decision to break off, likelier the larger the share of the channel
        the less willing party no longer wants (or an ended treaty no longer allows: the
        cap); lock-in raises the shock needed. The
        hazard accumulates on a clock that rings at an Exp(1) threshold (inversion of the
        cumulative hazard), so one uniform per spell decides it.
        """
        buffers = self._buffers
        hazard = np.subtract(1, np.multiply(params["lock_in_protection"], lock_in,
                                            out=buffers[1]), out=buffers[1])  # fmt: skip
        hazard *= params["rupture_floor"]
        # The decided break counts only where the party wants clearly less than there is
        # (elsewhere its hazard would be below a millionth a month at the world's central
        # values), so it is computed on that subset. What an ended treaty no longer allows
        # (its cap) counts as unwanted: the practice has lost what it ran under.
        wanted = np.minimum(self.desire_min, self.cap, out=buffers[2])
        discontent = np.subtract(intensity, wanted, out=buffers[2])
        where = np.flatnonzero(discontent > 0.01 * intensity)
        if where.size:
            share = discontent[where] / intensity[where]
            steepness = params["rupture_steepness"]
            steepness = steepness[where] if np.ndim(steepness) else steepness
            decision = params["rupture_decision"]
            decision = decision[where] if np.ndim(decision) else decision
            protection = params["lock_in_protection"]
            protection = protection[where] if np.ndim(protection) else protection
            hazard[where] += (
                decision * unit_power(share, steepness) * (1 - protection * lock_in[where])
            )
        hazard *= self.in_spell
        self._clock += hazard
        ruptured = self._clock >= self._rupture_at
        ruptured &= self.in_spell
        ruptured &= intensity > 0
        if not ruptured.any():
            return None
        # A new clock threshold for the next spell (memoryless: Exp(1) beyond now).
        fresh = self._rupture_stream.standard_exponential(int(ruptured.sum()))
        self._rupture_at[ruptured] = self._clock[ruptured] + fresh.astype(DTYPE)
        return ruptured

    def advance(self) -> None:
        """Commit month t + 1: intensity, lock-in and the channel's life history."""
        model = self.model
        month = model.month + 1
        following = self._next
        params = self.params
        if self._kernels is not None:
            p = self._parameter_vectors()
            self._kernels.channel_advance(
                model.state[self.row], following, p["threshold"], p["emergence"],
                p["lock_in_accrual"], self._accrues, p["lock_in_max"],
                self.lock_in_base, self._broke, self._ruptured is not None, self.in_spell,
                self.below, self.below_since, self.broken_run, self.interruptions,
                self.end_month, self.ending, self.alive_months, self.spell_start,
                self.emerged_month, self.revival_month, self.spells, month, self._horizon,
                self._dormancy,
            )  # fmt: skip
            return
        if np.any(params["lock_in_accrual"]):
            grown = params["lock_in_accrual"] * model.state[self.row] * self.in_spell
            self.lock_in_base = np.minimum(self.lock_in_base + grown, params["lock_in_max"])
        model.state[self.row] = following
        below = following < params["threshold"]
        starting = below & (self.below == 0)
        self.below_since[starting] = month
        self.broken_run[starting] = False
        if self._ruptured is not None:
            self.broken_run |= self._ruptured & below
            self.lock_in_base = np.where(self._ruptured, 0, self.lock_in_base).astype(DTYPE)
        recovered = ~below & (self.below > 0) & self.in_spell
        self.interruptions += (recovered & self.broken_run).astype(np.int16)
        self.below = np.where(below, self.below + 1, 0).astype(np.int16)
        ending = self.in_spell & (self.below >= self._dormancy)
        if ending.any():
            # The spell ended when the channel fell below its threshold (or broke off);
            # it is known only now, when the dormancy window has passed.
            ended_at = np.minimum(self.below_since[ending], self._horizon)
            first = ending & (self.end_month == NEVER)
            self.end_month[first] = self.below_since[first]
            self.ending[first] = np.where(self.broken_run[first], BROKEN, LAPSED)
            self.alive_months[ending] += np.maximum(ended_at - self.spell_start[ending], 0)
            self.in_spell &= ~ending
        reaching = (~self.in_spell) & (following >= params["emergence"])
        if reaching.any():
            within = month <= self._horizon
            never_before = reaching & (self.emerged_month == NEVER)
            first_revival = reaching & ~never_before & (self.revival_month == NEVER)
            if within:
                self.emerged_month[never_before] = month
                self.revival_month[first_revival] = month
                self.spells += reaching.astype(np.int16)
            self.in_spell |= reaching
            self.spell_start[reaching] = month
            self.below[reaching] = 0

    def close(self) -> None:
        """Count the months of the spells still open at the horizon."""
        horizon = self._horizon
        open_spells = self.in_spell & (self.spell_start < horizon)
        self.alive_months[open_spells] += horizon - self.spell_start[open_spells]
