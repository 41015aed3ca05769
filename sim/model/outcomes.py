"""Outcomes: what happened to every channel in every replication, the model's only output.

Everything downstream (survival statistics, reports, comparisons) reads these arrays and
never the model, so a run saved to disk can be re-analysed without simulating again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OUTCOME_DTYPE = np.int16
FIELDS = ("month", "event", "emerged", "revived")
OUTCOME_DTYPES = {
    "month": OUTCOME_DTYPE,
    "event": np.dtype(np.bool_),
    "emerged": OUTCOME_DTYPE,
    "revived": OUTCOME_DTYPE,
}


@dataclass(frozen=True)
class Outcomes:
    """What happened to every channel in every replication.

    Attributes:
        channels: Channel names, in the scenario's order (the rows of the arrays).
        horizon: Months simulated.
        month: Month of termination, or ``horizon`` where censored (int16, channels x reps).
        event: True where the channel terminated by the horizon.
        emerged: Month the channel was established (0: at the start), -1 if never.
        revived: Month a terminated channel revived, -1 if it did not.
    """

    channels: tuple[str, ...]
    horizon: int
    month: np.ndarray
    event: np.ndarray
    emerged: np.ndarray
    revived: np.ndarray

    @property
    def replications(self) -> int:
        """Number of replications."""
        return self.month.shape[1]

    @classmethod
    def concatenate(cls, parts: list[Outcomes]) -> Outcomes:
        """Join the outcomes of consecutive chunks."""
        first = parts[0]
        return cls(
            first.channels,
            first.horizon,
            *(np.concatenate([getattr(p, name) for p in parts], axis=1) for name in FIELDS),
        )
