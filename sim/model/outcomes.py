"""Outcomes: what happened to every domain in every replication, the model's only output.

Everything downstream (survival statistics, reports, comparisons) reads these arrays and
never the model, so a run saved to disk can be re-analysed without simulating again.
Besides the per-replication arrays, a chunk carries two aggregates that merge by
addition: the histogram of each domain's intensity in every month, and its sum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

OUTCOME_DTYPE = np.int16
INTENSITY_BINS = 100
"""Bins of width 0.01 on [0, 1] for the monthly intensity histograms."""

# Per-replication arrays, one row per domain.
FIELDS = (
    "month", "event", "ending", "emerged", "revived", "spells", "alive_months",
    "interruptions",
)  # fmt: skip
OUTCOME_DTYPES = {
    "month": np.dtype(OUTCOME_DTYPE),
    "event": np.dtype(np.bool_),
    "ending": np.dtype(np.int8),
    "emerged": np.dtype(OUTCOME_DTYPE),
    "revived": np.dtype(OUTCOME_DTYPE),
    "spells": np.dtype(OUTCOME_DTYPE),
    "alive_months": np.dtype(OUTCOME_DTYPE),
    "interruptions": np.dtype(OUTCOME_DTYPE),
}
ENDINGS = {0: "not ended", 1: "lapsed", 2: "broken off", 3: "formally ended"}


@dataclass(frozen=True)
class IntensityTally:
    """Each domain's intensity over the replications of a chunk (or a run), month by month.

    Attributes:
        counts: ``counts[d, t, b]`` replications with domain d's intensity at month t in
            bin b (width 1 / INTENSITY_BINS; 1.0 falls in the last bin).
        sums: ``sums[d, t]`` the sum of the intensities, for exact means.
    """

    counts: np.ndarray
    sums: np.ndarray

    def __add__(self, other: IntensityTally) -> IntensityTally:
        return IntensityTally(self.counts + other.counts, self.sums + other.sums)


@dataclass(frozen=True)
class Outcomes:
    """What happened to every domain in every replication.

    A domain is a channel's cooperation or a treaty's formal status (in force or not).

    Attributes:
        channels: Domain names, in the scenario's order (the rows of the arrays):
            channels first, then treaties.
        horizon: Months simulated.
        month: Month the first spell ended, or ``horizon`` where it had not (int16).
        event: True where the first spell ended by the horizon.
        ending: How the first spell ended: 0 not by the horizon, 1 lapsed (fell below its
            threshold for the dormancy window), 2 broken off (a rupture not undone within
            the window), 3 formally ended (a treaty).
        emerged: Month the channel was first established (0: at the start), -1 if never.
        revived: Month a second spell began, -1 if none.
        spells: Spells begun by the horizon (0 if never established).
        alive_months: Months in a spell within [0, horizon).
        interruptions: Ruptures undone within the dormancy window (not terminations).
        intensity_at: Intensity at each report horizon, ``(domains, horizons, reps)``
            float32 (a treaty's is 1 while in force).
        report_horizons: The horizons of ``intensity_at``.
        event_months: Month each scenario event happened, -1 if it did not by the horizon
            (``(events, reps)`` int16).
        events: Event names, the rows of ``event_months``.
        tally: Intensity histograms and sums per domain and month (a chunk aggregate).
        treaties: The domains that are treaties' formal status (the last rows).
        parameters: Every parameter drawn per replication, by key path (float32); kept in
            memory for analysis, not saved with the outcomes.
    """

    channels: tuple[str, ...]
    horizon: int
    month: np.ndarray
    event: np.ndarray
    ending: np.ndarray
    emerged: np.ndarray
    revived: np.ndarray
    spells: np.ndarray
    alive_months: np.ndarray
    interruptions: np.ndarray
    intensity_at: np.ndarray
    report_horizons: tuple[int, ...]
    event_months: np.ndarray
    events: tuple[str, ...]
    tally: IntensityTally | None = None
    treaties: tuple[str, ...] = ()
    parameters: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def replications(self) -> int:
        """Number of replications."""
        return self.month.shape[1]

    @classmethod
    def concatenate(cls, parts: list[Outcomes]) -> Outcomes:
        """Join the outcomes of consecutive chunks."""
        first = parts[0]
        tallies = [p.tally for p in parts if p.tally is not None]
        tally = None
        if tallies:
            tally = tallies[0]
            for other in tallies[1:]:
                tally = tally + other
        parameters = {
            key: np.concatenate([p.parameters[key] for p in parts])
            for key in first.parameters
            if all(key in p.parameters for p in parts)
        }
        return cls(
            first.channels,
            first.horizon,
            *(np.concatenate([getattr(p, name) for p in parts], axis=1) for name in FIELDS),
            np.concatenate([p.intensity_at for p in parts], axis=2),
            first.report_horizons,
            np.concatenate([p.event_months for p in parts], axis=1),
            first.events,
            tally,
            first.treaties,
            parameters,
        )
