"""Treaty agents: a formal agreement's status (in force, or ended), apart from its practice.

A treaty ends at a proportional hazard, ``h0(age) · fixed_ratio · exp(Σ βᵢ zᵢ(t))``, whose
covariates ``z`` are quantities of the model's state that stand for those of the
historical evidence (a member at war, a leader's exit, the threat environment, what the
parties want), or when a scenario event abrogates it (``<treaty>.in_force: 0``). Its
cooperation in practice is a channel (``channel``): once the treaty has ended, that
channel's ceiling falls and it loses the lock-in the treaty gave it, so its practice is
broken off or winds down at its domain's pace. Indicators can be read by calendar year
(``by_calendar_year``), as the yearly data the hazard was estimated from code them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model.channels import FORMAL, ONGOING
from sim.model.events import NEVER, ScheduledEffect
from sim.model.parameters import DTYPE, Drawn
from sim.model.streams import Source
from sim.months import parse_month
from sim.scenario.schema import HazardCovariate, Treaty

if TYPE_CHECKING:
    from sim.model.model import AllianceModel


class TreatyAgent(mesa.Agent):
    """A treaty's formal status in every replication, and its termination hazard.

    Args:
        model: The model.
        name: The treaty's key.
        definition: The treaty as the scenario defines it.
    """

    def __init__(self, model: AllianceModel, name: str, definition: Treaty) -> None:
        super().__init__(model)
        self.name = name
        self.definition = definition
        replications = model.replications
        self.row = model.feature_row[name]
        self.channel = model.channel(definition.channel)
        self._age0 = model.start_month - parse_month(definition.signed)
        steps = sorted(definition.baseline, key=lambda step: step.from_month)
        self._step_ages = np.array([s.from_month for s in steps], dtype=np.int64)
        self._step_hazards = [model.sampler(s.hazard, f"treaties.{name}.baseline") for s in steps]
        self._fixed = model.sampler(definition.fixed_ratio, f"treaties.{name}.fixed_ratio")
        self._covariates: list[tuple[str, HazardCovariate, Drawn, Drawn]] = []
        for key, covariate in definition.covariates.items():
            path = f"treaties.{name}.covariates.{key}"
            beta = model.sampler(covariate.log_hazard_ratio, f"{path}.log_hazard_ratio")
            slope = (
                DTYPE(0.0)
                if covariate.age_slope is None
                else model.sampler(covariate.age_slope, f"{path}.age_slope")
            )
            self._covariates.append((key, covariate, beta, slope))
        # Values at the start month, for covariates measured as changes since the start;
        # read at the first step, when every desire of month 0 is known.
        self._starts: dict[str, np.ndarray] = {}
        # The last month each `ended_within` or `by_calendar_year` condition held (history
        # before the start is unknown, so a condition that stopped holding before it counts
        # as never held).
        self._last_held: dict[str, np.ndarray] = {
            key: np.full(replications, -(2**30), dtype=np.int64)
            for key, covariate in definition.covariates.items()
            if covariate.ended_within is not None or covariate.by_calendar_year
        }
        self._after_end = DTYPE(definition.after_end_ceiling)
        self._abrogations: list[ScheduledEffect] = [
            e for e in model.schedule.effects if (e.owner, e.attribute) == (name, "in_force")
        ]
        self._clock = np.zeros(replications, dtype=np.float64)
        self._threshold = model.streams.generator(Source.RUPTURE, name).standard_exponential(
            replications
        )
        self.in_force = np.ones(replications, dtype=bool)
        self.end_month = np.full(replications, NEVER, dtype=np.int32)
        self.ending = np.full(replications, ONGOING, dtype=np.int8)
        self.hazard = np.zeros(replications, dtype=np.float64)
        """The monthly hazard of month t (for inspection)."""
        self._ending = np.zeros(replications, dtype=bool)
        model.state[self.row] = 1

    def baseline(self, age: int) -> Drawn:
        """The baseline monthly hazard at ``age`` months."""
        index = int(np.searchsorted(self._step_ages, age, side="right")) - 1
        return self._step_hazards[max(index, 0)]

    def _covariate(self, key: str, covariate: HazardCovariate) -> np.ndarray:
        value = self.model.read(covariate.value)
        if covariate.per is not None:
            if covariate.since_start:
                start = self._starts.setdefault(covariate.value, value.copy())
                value = value - start
            return value / covariate.per
        holds = value > covariate.above if covariate.above is not None else value < covariate.below
        if key not in self._last_held:
            return holds.astype(np.float64)
        last = self._last_held[key]
        month = self.model.month
        last[holds] = month
        if covariate.by_calendar_year:
            # As yearly data code it: a year counts as held if any month of it did (the
            # months of the year still to come are not known yet: a causal reading).
            start = self.model.start_month
            years_since = (start + month) // 12 - (start + last) // 12
            if covariate.ended_within is None:
                return (years_since == 0).astype(np.float64)
            within = (years_since > 0) & (years_since <= covariate.ended_within // 12)
            return within.astype(np.float64)
        return (~holds & (month - last <= covariate.ended_within)).astype(np.float64)

    def step(self) -> None:
        """Decide which treaties end in month t + 1: by their hazard at t, or abrogated."""
        model = self.model
        month = model.month
        age = self._age0 + month
        log_age = np.log((age + 0.5) / 12)  # ln(age in years) at the middle of the month
        log_ratio = np.zeros(model.replications, dtype=np.float64)
        for key, covariate, beta, slope in self._covariates:
            log_ratio += (beta + slope * log_age) * self._covariate(key, covariate)
        self.hazard = self.baseline(age) * self._fixed * np.exp(log_ratio)
        self._clock += -np.log1p(-np.minimum(self.hazard, 1 - 1e-12))
        ending = self.in_force & (self._clock >= self._threshold)
        for effect in self._abrogations:
            weight = effect.weight(month + 1)
            if weight is not None:
                value = effect.value if effect.operation == "set" else 0
                ending |= self.in_force & (weight > 0) & (np.asarray(value) < 0.5)
        self._ending = ending

    def advance(self) -> None:
        """Commit the status of month t + 1; an ended treaty caps its channel's practice.

        The practice also loses the lock-in the treaty in force gave it (the officials and
        budgets attached to an agreement that no longer exists), so it winds down at its
        own pace, and what the cap takes away counts as unwanted in its decided-break
        hazard (:class:`~sim.model.channels.ChannelAgent`).
        """
        month = self.model.month + 1
        ending = self._ending
        if ending.any():
            self.in_force &= ~ending
            self.end_month[ending] = month
            self.ending[ending] = FORMAL
            self.channel.cap[ending] = self._after_end
            self.channel.lock_in_base[ending] = 0
        self.model.state[self.row] = self.in_force

    def close(self) -> None:
        """Nothing to count at the horizon: the status is the whole history."""
