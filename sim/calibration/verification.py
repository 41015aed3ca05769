"""Forecast verification for probabilities of binary outcomes (a channel alive or not).

Scores of a set of forecasts p_i of outcomes y_i in {0, 1}: the Brier score, the log
score, a reliability table with Wilson intervals, the Murphy (1973) decomposition of the
Brier score, skill scores against a reference forecaster, and a bootstrap interval of the
skill that resamples groups (cases) rather than rows, since forecasts of one case share
its history and are not independent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.stats.survival import wilson_interval

LOG_CLIP = 0.01
"""Log scores clip forecasts to [LOG_CLIP, 1 − LOG_CLIP]. A Monte Carlo share of 0 or 1 is
not a claim of certainty, and without a clip one confident miss makes the score infinite;
the clip caps the penalty of a miss at −ln 0.01 ≈ 4.6."""

BIN_EDGES = np.linspace(0.0, 1.0, 11)
"""Ten equal-width forecast bins; the last is closed, so that forecasts of 1 fall in it."""


def brier_score(forecast: np.ndarray, outcome: np.ndarray) -> float:
    """Mean squared difference between forecasts and outcomes (0 is perfect, lower is better)."""
    p, y = np.asarray(forecast, float), np.asarray(outcome, float)
    return float(np.mean((p - y) ** 2))


def log_score(forecast: np.ndarray, outcome: np.ndarray, clip: float = LOG_CLIP) -> float:
    """Mean negative log likelihood of the outcomes (0 is perfect, lower is better).

    Forecasts are clipped to ``[clip, 1 − clip]`` first (see :data:`LOG_CLIP`).
    """
    p = np.clip(np.asarray(forecast, float), clip, 1 - clip)
    y = np.asarray(outcome, float)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def bin_index(forecast: np.ndarray, edges: np.ndarray = BIN_EDGES) -> np.ndarray:
    """The bin of each forecast: ``[e_k, e_k+1)``, the last bin closed at 1."""
    inner = np.asarray(edges)[1:-1]
    return np.searchsorted(inner, np.asarray(forecast, float), side="right")


def reliability_table(
    forecast: np.ndarray, outcome: np.ndarray, edges: np.ndarray = BIN_EDGES
) -> pd.DataFrame:
    """Forecasts binned, with the observed frequency in each bin and its Wilson 95% interval.

    Returns:
        One row per non-empty bin: ``low, high, count, mean_forecast, observed,
        observed_low, observed_high``.
    """
    p, y = np.asarray(forecast, float), np.asarray(outcome, int)
    index = bin_index(p, edges)
    rows = []
    for k in np.unique(index):
        here = index == k
        count, hits = int(here.sum()), int(y[here].sum())
        low, high = wilson_interval(hits, count)
        rows.append(
            {
                "low": float(edges[k]),
                "high": float(edges[k + 1]),
                "count": count,
                "mean_forecast": float(p[here].mean()),
                "observed": hits / count,
                "observed_low": low,
                "observed_high": high,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Decomposition:
    """Murphy's decomposition of the Brier score of binned forecasts.

    ``binned_brier`` is the Brier score of the forecasts replaced by their bin's mean
    forecast; it equals ``reliability − resolution + uncertainty`` exactly. The Brier
    score of the raw forecasts differs from it by the spread of forecasts within bins.
    """

    brier: float
    binned_brier: float
    reliability: float  # Σ n_k (f̄_k − ō_k)² / N: lower is better
    resolution: float  # Σ n_k (ō_k − ō)² / N: higher is better
    uncertainty: float  # ō (1 − ō)


def murphy(
    forecast: np.ndarray, outcome: np.ndarray, edges: np.ndarray = BIN_EDGES
) -> Decomposition:
    """The Brier score split into reliability, resolution and uncertainty (Murphy 1973)."""
    p, y = np.asarray(forecast, float), np.asarray(outcome, float)
    index = bin_index(p, edges)
    n = len(p)
    base = y.mean()
    reliability = resolution = 0.0
    binned = np.empty(n)
    for k in np.unique(index):
        here = index == k
        mean_forecast, frequency = p[here].mean(), y[here].mean()
        reliability += here.sum() * (mean_forecast - frequency) ** 2 / n
        resolution += here.sum() * (frequency - base) ** 2 / n
        binned[here] = mean_forecast
    return Decomposition(
        brier=brier_score(p, y),
        binned_brier=brier_score(binned, y),
        reliability=float(reliability),
        resolution=float(resolution),
        uncertainty=float(base * (1 - base)),
    )


def skill(score: float, reference: float) -> float:
    """Skill score 1 − score / reference: above 0 when the forecast beats the reference.

    NaN when the reference scores 0 (a perfect reference leaves no skill to measure).
    """
    return 1.0 - score / reference if reference > 0 else float("nan")


def bootstrap_skill(
    table: pd.DataFrame,
    forecast: str,
    reference: str,
    group: str = "case",
    draws: int = 2000,
    seed: int = 20230913,
) -> tuple[float, float]:
    """95% percentile interval of the Brier skill score, resampling whole groups.

    Args:
        table: One row per forecast, with an ``observed`` column (0 or 1).
        forecast: Column of the forecast scored.
        reference: Column of the reference forecast.
        group: Column whose values are resampled with replacement (rows of a group stay
            together).
        draws: Bootstrap resamples.
        seed: Seed of the resampling.

    Returns:
        The 2.5% and 97.5% quantiles of the skill over the resamples (resamples where the
        reference scores 0 have no skill score and are left out; NaN if all are).
    """
    groups = list(dict.fromkeys(table[group]))
    parts = [table[table[group] == g] for g in groups]
    errors = [
        (
            ((part[forecast] - part.observed) ** 2).sum(),
            ((part[reference] - part.observed) ** 2).sum(),
        )
        for part in parts
    ]
    sums = np.array(errors)  # per group: squared errors of the forecast, of the reference
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(groups), size=(draws, len(groups)))
    model, ref = sums[picks, 0].sum(axis=1), sums[picks, 1].sum(axis=1)
    keep = ref > 0
    if not keep.any():
        return float("nan"), float("nan")
    skills = 1 - model[keep] / ref[keep]
    return float(np.quantile(skills, 0.025)), float(np.quantile(skills, 0.975))
