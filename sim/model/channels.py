"""Channel agents: the cooperation channels of a dyad, one per domain, with their life histories.

A channel is a Mesa agent whose intensity is a row of the model's state matrix, one value
per replication. In ``step`` it computes month t + 1's intensity from the state of month
t and its parties' desires; in ``advance`` it commits it and updates its life history
(established, terminated, revived).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model.events import NEVER, Effect, apply_effects
from sim.model.parameters import DTYPE, Value
from sim.model.streams import Source
from sim.scenario.schema import CHANNEL_DEFAULTABLE, Channel

if TYPE_CHECKING:
    from sim.model.model import AllianceModel


class ChannelAgent(mesa.Agent):
    """A cooperation channel of a dyad in one domain, with its life history per replication.

    Intensity moves toward the level both parties want (the less willing sets the
    ceiling): up at rate ``growth``, down at rate ``decay·(1 − lock_in)``, plus Gaussian
    noise that shrinks toward 0 and 1, kept in [0, 1]. Lock-in (institutionalisation)
    accrues while the channel is alive. A channel alive at the start, or one that later
    reaches its ``emergence`` level, is established; it terminates after
    ``dormancy_months`` months in a row below its ``threshold``, or at a rupture, whose
    monthly hazard is ``rupture_hazard·(1 − lock_in)``. A terminated channel may revive
    (reach its emergence level again), which is recorded but does not undo the
    termination.
    """

    def __init__(self, model: AllianceModel, name: str, spec: Channel) -> None:
        super().__init__(model)
        self.name = name
        scenario = model.spec
        defaults = scenario.channel_defaults
        replications = model.replications
        self.row = model.feature_row[name]
        self.parties = [(model.actor(p), model.actor(p).channel_index[name]) for p in spec.parties]
        self._base: dict[str, Value] = {}
        for parameter in CHANNEL_DEFAULTABLE:
            value = getattr(spec, parameter)
            value = getattr(defaults, parameter) if value is None else value
            self._base[parameter] = model.sampler(value, f"channels.{name}.{parameter}")
        self._base["ceiling"] = DTYPE(1)
        self._effects: dict[str, list[Effect]] = {}
        for effect in model.schedule.effects:
            if effect.owner == name:
                self._effects.setdefault(effect.attribute, []).append(effect)
        # The parameters (lock-in aside, which lock_in() moves itself) change only from the
        # first month one of their effects is in force until all have settled: they are
        # recomputed only in between. An effect whose event never happens never counts.
        self._parameter_effects = [
            effect
            for parameter, effects in self._effects.items()
            if parameter != "lock_in"
            for effect in effects
            if effect.first < NEVER
        ]
        self._parameters_from = min((e.first for e in self._parameter_effects), default=NEVER)
        self._parameters_vary = bool(self._parameter_effects)
        start = scenario.state.channels[name]
        intensity = model.sampler(start.intensity, f"state.channels.{name}.intensity")
        model.state[self.row] = intensity
        self.lock_in_base = np.broadcast_to(
            model.sampler(start.lock_in, f"state.channels.{name}.lock_in"), (replications,)
        ).astype(DTYPE)
        self._dormancy = scenario.termination.dormancy_months
        self._noise = model.streams.generator(Source.CHANNEL_NOISE, name)
        uniforms = model.streams.uniforms(Source.RUPTURE, name, replications)
        self._rupture_at = (-np.log1p(-uniforms)).astype(DTYPE)
        self._clock = np.zeros(replications, dtype=DTYPE)
        self.params = self.parameters_at(0)
        self._switches = self._switched_on(self.params)
        self.alive = model.state[self.row] >= self.params["threshold"]
        self.latent = ~self.alive
        self._latent_count = int(self.latent.sum())
        self._awaiting_revival = np.zeros(replications, dtype=bool)
        self._awaiting_count = 0
        self.below = np.zeros(replications, dtype=np.int16)
        self.emerged_month = np.where(self.alive, 0, NEVER).astype(np.int32)
        self.end_month = np.full(replications, NEVER, dtype=np.int32)
        self.revival_month = np.full(replications, NEVER, dtype=np.int32)
        self._next = np.empty(replications, dtype=DTYPE)
        self._ruptured_mask = np.empty(replications, dtype=bool)
        self._ruptured: np.ndarray | None = None
        # Temporaries of the step, shared by all channels (they run one after another): a
        # small working set stays in cache, which matters more than any single operation.
        scratch = model.scratch
        self._target, self._gap, self._rate = scratch["target"], scratch["gap"], scratch["rate"]
        self._unprotected, self._spread = scratch["unprotected"], scratch["spread"]
        self._flags, self._below, self._ending = (
            scratch["flags"],
            scratch["below"],
            scratch["ending"],
        )
        self._reaching, self._crossing = scratch["reaching"], scratch["crossing"]

    @staticmethod
    def _switched_on(params: dict[str, Value]) -> tuple[bool, bool, bool]:
        """Whether noise, ruptures and lock-in accrual are on (checked once, not every month)."""
        return tuple(
            bool(np.any(params[name])) for name in ("noise", "rupture_hazard", "lock_in_accrual")
        )

    @property
    def intensity(self) -> np.ndarray:
        """Intensity at the current month in every replication."""
        return self.model.state[self.row]

    def parameters_at(self, month: int) -> dict[str, Value]:
        """Parameter values at ``month`` after the scenario's effects."""
        params = dict(self._base)
        for parameter, effects in self._effects.items():
            if parameter != "lock_in":
                params[parameter] = apply_effects(params[parameter], effects, month)
        return params

    def lock_in(self, month: int) -> np.ndarray:
        """Effective lock-in at ``month``: accrued lock-in moved by the scenario's effects."""
        effects = self._effects.get("lock_in")
        if not effects:
            return self.lock_in_base
        return np.clip(apply_effects(self.lock_in_base, effects, month), 0, 1)

    def step(self) -> None:
        """Compute month t + 1's intensity from month t's state and the parties' desires."""
        month = self.model.month
        if self._parameters_vary and month >= self._parameters_from:
            self.params = self.parameters_at(month)
            self._switches = self._switched_on(self.params)
            self._parameters_vary = any(e.settled is None for e in self._parameter_effects)
        params = self.params
        noisy, hazardous, _ = self._switches
        (first, first_row), (second, second_row) = self.parties
        target = np.minimum(first.desire[first_row], second.desire[second_row], out=self._target)
        if "ceiling" in self._effects:
            np.minimum(target, params["ceiling"], out=target)
        intensity = self.intensity
        unprotected = np.subtract(1, self.lock_in(month), out=self._unprotected)
        gap = np.subtract(target, intensity, out=self._gap)
        falling = np.multiply(params["decay"], unprotected, out=self._rate)
        rate = np.where(np.greater(gap, 0, out=self._flags), params["growth"], falling)
        following = np.multiply(rate, gap, out=self._next)
        following += intensity
        if noisy:
            # Shocks shrink toward 0 and 1 (a Jacobi-type diffusion): `noise` is their
            # standard deviation at intensity 0.5, and chance alone cannot keep alive a
            # channel that nobody wants.
            shock = self._noise.standard_normal(out=self._spread, dtype=DTYPE)
            spread = np.subtract(1, intensity, out=self._rate)
            spread *= intensity
            np.sqrt(spread, out=spread)
            spread *= 2 * params["noise"]
            spread *= shock
            following += spread
        np.maximum(following, 0, out=following)  # clip to [0, 1], as two cheap ufuncs
        np.minimum(following, 1, out=following)
        self._ruptured = None
        if hazardous:
            increment = np.multiply(params["rupture_hazard"], unprotected, out=self._gap)
            increment *= self.alive
            self._clock += increment
            ruptured = np.greater_equal(self._clock, self._rupture_at, out=self._ruptured_mask)
            ruptured &= self.alive
            if ruptured.any():
                self._ruptured = ruptured
                following[ruptured] = 0

    def advance(self) -> None:
        """Commit month t + 1: intensity, lock-in, and the channel's life history."""
        model = self.model
        month = model.month + 1
        following = self._next
        params = self.params
        if self._switches[2]:
            grown = np.multiply(params["lock_in_accrual"], model.state[self.row], out=self._gap)
            grown *= self.alive
            self.lock_in_base += grown
            np.minimum(self.lock_in_base, params["lock_in_max"], out=self.lock_in_base)
        model.state[self.row] = following
        below = np.less(following, params["threshold"], out=self._below)
        self.below *= below
        self.below += below
        ending = np.greater_equal(self.below, self._dormancy, out=self._ending)
        ending &= self.alive
        if self._ruptured is not None:
            ending |= self._ruptured
            self.lock_in_base[self._ruptured] = 0
        if ending.any():
            self.end_month[ending] = month
            self.alive &= ~ending
            self._awaiting_revival |= ending
            self._awaiting_count += np.count_nonzero(ending)
        if not (self._latent_count or self._awaiting_count):
            return
        reaching = np.greater_equal(following, params["emergence"], out=self._reaching)
        if self._latent_count:
            emerging = np.logical_and(self.latent, reaching, out=self._crossing)
            if emerging.any():
                self.emerged_month[emerging] = month
                self.alive |= emerging
                self.latent &= ~emerging
                self.below[emerging] = 0
                self._latent_count -= np.count_nonzero(emerging)
        if self._awaiting_count:
            reviving = np.logical_and(self._awaiting_revival, reaching, out=self._crossing)
            if reviving.any():
                self.revival_month[reviving] = month
                self._awaiting_revival &= ~reviving
                self._awaiting_count -= np.count_nonzero(reviving)
