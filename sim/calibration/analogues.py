"""Analogue backtest: the model's forecasts for past partnerships scored against their endings.

Each case is an evidence ledger (``calibration/analogues/<case>.yaml``: when each
cooperation channel ended, from dated sources) and a scenario that starts from the
ledger's start month with its events as they happened
(``calibration/analogues/scenarios/<case>.yaml``). The scenario is run and, for every
(case, domain, horizon), the model's P(channel alive at the horizon) is set against
whether the ledger records it alive then. Two reference forecasters get the same rows:
the ATOP base rate (the Kaplan–Meier survival of all ATOP alliances from formation at the
horizon, knowing nothing of the case) and a leave-one-case-out climatology (the share of
the other cases' channels alive at the horizon).

Endings are read by the *practical* rule: where the ledger gives a ``practical_end`` (a
treaty or lease that outlived its content), that month ends the channel, since the
channels stand for practice; elsewhere the ledger's ``month``. The *legal* reading (the
instrument's legal end, forecast by the treaty's P(in force)) is scored as a variant.
A channel is alive at horizon h when it has not ended by month start + h; an ending is
dated to the first month of dormancy, as the model dates its own (docs/model.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration.verification import (
    bootstrap_skill,
    brier_score,
    log_score,
    murphy,
    skill,
)
from sim.engine.runner import run
from sim.errors import UserError
from sim.months import parse_month
from sim.paths import CALIBRATION
from sim.scenario import load_scenario, load_yaml
from sim.stats.survival import horizon_estimates

FOLDER = CALIBRATION / "analogues"
HORIZONS = (12, 24, 60, 120)
BASE_RATE_CLASS = "all"
"""Reference class of ``calibration/reference_curves.csv`` used as the base rate."""
FORECASTERS = ("model", "base_rate", "climatology")


@dataclass(frozen=True)
class AnalogueSettings:
    """How the analogue backtest runs: replications per case and bootstrap resamples."""

    replications: int = 2000
    bootstrap: int = 2000
    seed: int = 20230913  # of the bootstrap; each case runs with its scenario's own seed


@dataclass
class AnalogueBacktest:
    """The backtest's forecast table and its scores."""

    forecasts: pd.DataFrame
    scores: pd.DataFrame
    settings: AnalogueSettings
    seconds: float  # wall time of the runs and the scoring


def cases(folder: Path = FOLDER) -> list[str]:
    """Names of the cases: ledgers in ``folder`` that have a scenario."""
    return sorted(
        p.stem for p in folder.glob("*.yaml") if (folder / "scenarios" / p.name).is_file()
    )


def outcomes(ledger: dict, horizons: tuple[int, ...] = HORIZONS) -> pd.DataFrame:
    """What the ledger records at each horizon, domain by domain.

    Returns:
        One row per (domain, horizon): ``domain, horizon, observed`` (1 alive, 0 ended,
        practical reading), ``observed_legal`` (the ledger's ``month``), ``end_month``
        and ``legal_end_month`` (``""`` when the channel survived), ``how``,
        ``confidence`` and ``low_confidence``.
    """
    start = parse_month(ledger["start_month"])
    rows = []
    for domain, ending in ledger["endings"].items():
        ended = bool(ending["ended"])
        legal = ending["month"] if ended else ""
        practical = ending.get("practical_end", {}).get("month", legal) if ended else ""
        for h in horizons:
            rows.append(
                {
                    "domain": domain,
                    "horizon": h,
                    "observed": int(not ended or parse_month(practical) - start > h),
                    "observed_legal": int(not ended or parse_month(legal) - start > h),
                    "end_month": practical,
                    "legal_end_month": legal,
                    "how": ending.get("how", ""),
                    "confidence": ending.get("confidence", ""),
                    "low_confidence": ended and ending.get("confidence") == "low",
                }
            )
    return pd.DataFrame(rows)


def base_rate(curves: pd.DataFrame, horizons: tuple[int, ...] = HORIZONS) -> dict[int, float]:
    """The base-rate forecaster: the reference class's survival from formation at each horizon."""
    curve = curves[curves["class"] == BASE_RATE_CLASS].sort_values("years")
    if curve.empty:
        raise UserError(f"reference curves have no class {BASE_RATE_CLASS!r}")
    values = {}
    for h in horizons:
        known = curve[curve.years <= h / 12 + 1e-9]
        values[h] = float(known.survival.iloc[-1])
    return values


def case_forecasts(
    case: str,
    settings: AnalogueSettings,
    folder: Path = FOLDER,
    horizons: tuple[int, ...] = HORIZONS,
) -> pd.DataFrame:
    """The model's forecasts for one case beside the ledger's outcomes.

    Returns:
        :func:`outcomes`' rows with ``case, start`` and the model's ``model`` (P(channel
        alive)), ``model_se`` (its Monte Carlo standard error) and ``model_legal`` (for
        the channel of a treaty, P(treaty in force); otherwise ``model``).
    """
    ledger, _ = load_yaml(folder / f"{case}.yaml")
    scenario = load_scenario(folder / "scenarios" / f"{case}.yaml")
    if scenario.start != ledger["start_month"]:
        raise UserError(
            f"{case}: the scenario starts in {scenario.start}, the ledger in "
            f"{ledger['start_month']}"
        )
    missing = set(ledger["endings"]) - set(scenario.channels)
    if missing:
        raise UserError(f"{case}: ledger domains without a channel: {', '.join(sorted(missing))}")
    result = run(
        scenario,
        replications=settings.replications,
        seed=scenario.seed,
        horizon=max(horizons),
        workers=1,
    )
    table = horizon_estimates(result.summary, list(horizons)).set_index(["domain", "horizon"])
    of_channel = {t.channel: name for name, t in scenario.treaties.items()}
    frame = outcomes(ledger, horizons)
    keys = list(zip(frame.domain, frame.horizon, strict=True))
    frame.insert(0, "case", case)
    frame.insert(1, "start", ledger["start_month"])
    frame["model"] = [float(table.p_survive[k]) for k in keys]
    frame["model_se"] = [float(table.se[k]) for k in keys]
    frame["model_legal"] = [float(table.p_survive[(of_channel.get(d, d), h)]) for d, h in keys]
    return frame


def climatology(frame: pd.DataFrame, observed: str = "observed") -> np.ndarray:
    """Leave-one-case-out climatology: the other cases' share alive at the same horizon."""
    values = np.empty(len(frame))
    for i, (case, h) in enumerate(zip(frame.case, frame.horizon, strict=True)):
        others = frame[(frame.case != case) & (frame.horizon == h)]
        values[i] = others[observed].mean()
    return values


def forecast_table(
    settings: AnalogueSettings,
    folder: Path = FOLDER,
    curves: Path = CALIBRATION / "reference_curves.csv",
) -> pd.DataFrame:
    """Every (case, domain, horizon) with the outcome and the three forecasters."""
    names = cases(folder)
    if not names:
        raise UserError(f"no analogue cases in {folder} (a ledger with a scenario)")
    frame = pd.concat([case_forecasts(c, settings, folder) for c in names], ignore_index=True)
    rates = base_rate(pd.read_csv(curves))
    frame["base_rate"] = frame.horizon.map(rates)
    frame["climatology"] = climatology(frame)
    return frame


SUBSETS = {
    "all endings": lambda f: f,
    "without low-confidence endings": lambda f: f[~f.low_confidence],
}


def _scores(frame: pd.DataFrame, subset: str, settings: AnalogueSettings) -> list[dict]:
    """Scores of every forecaster on one subset of rows (its climatology recomputed on it)."""
    frame = frame.assign(climatology=climatology(frame))
    reference = brier_score(frame.base_rate, frame.observed)
    rows = []
    for name in FORECASTERS:
        decomposition = murphy(frame[name], frame.observed)
        low, high = (
            bootstrap_skill(frame, name, "base_rate", draws=settings.bootstrap, seed=settings.seed)
            if name != "base_rate"
            else (float("nan"), float("nan"))
        )
        rows.append(
            {
                "subset": subset,
                "forecaster": name,
                "forecasts": len(frame),
                "endings": int((frame.observed == 0).sum()),
                "brier": decomposition.brier,
                "log_score": log_score(frame[name], frame.observed),
                "brier_skill": skill(decomposition.brier, reference),
                "brier_skill_low": low,
                "brier_skill_high": high,
                "binned_brier": decomposition.binned_brier,
                "reliability": decomposition.reliability,
                "resolution": decomposition.resolution,
                "uncertainty": decomposition.uncertainty,
            }
        )
    return rows


def score_table(forecasts: pd.DataFrame, settings: AnalogueSettings) -> pd.DataFrame:
    """Scores of the model and the reference forecasters, by subset and by horizon.

    Subsets: all endings; without low-confidence endings; the legal reading (the treaty's
    legal end, forecast by P(in force)); each horizon alone (all endings). Brier skill is
    against the base rate, with a 95% bootstrap interval over cases.
    """
    rows = []
    for subset, pick in SUBSETS.items():
        rows += _scores(pick(forecasts), subset, settings)
    legal = forecasts.assign(observed=forecasts.observed_legal, model=forecasts.model_legal)
    rows += _scores(legal, "legal reading", settings)
    for h in sorted(forecasts.horizon.unique()):
        rows += _scores(forecasts[forecasts.horizon == h], f"horizon {h}", settings)
    return pd.DataFrame(rows)


def analogue_backtest(
    settings: AnalogueSettings | None = None,
    folder: Path = FOLDER,
    curves: Path = CALIBRATION / "reference_curves.csv",
) -> AnalogueBacktest:
    """Run every analogue case and score the forecasts (a minute at the default settings).

    Args:
        settings: Replications and bootstrap; :class:`AnalogueSettings`' defaults if None.
        folder: Where the ledgers and their ``scenarios/`` are.
        curves: Kaplan–Meier curves of the ATOP reference classes.

    Returns:
        The :class:`AnalogueBacktest`.

    Raises:
        UserError: A missing or malformed ledger, scenario or curve file.
    """
    settings = settings or AnalogueSettings()
    began = time.perf_counter()
    forecasts = forecast_table(settings, folder, curves)
    scores = score_table(forecasts, settings)
    return AnalogueBacktest(forecasts, scores, settings, time.perf_counter() - began)
