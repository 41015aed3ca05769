"""The treaty's termination hazard, mapped from the survival regression of alliances.

``calibration/hazards.md`` estimates how the hazard that an alliance ends depends on its
design and on what happens to its members (a Cox model with time-varying covariates on
ATOP, Archigos, COW and the Leeds–Savun threat index). This module turns one of its
models into the numbers of a world's treaty (``h0(age) · fixed_ratio · exp(Σ β·z)``):

- the **baseline** hazard by age: the Breslow cumulative baseline hazard averaged over the
  age steps of the setup, at the regression's reference covariates;
- the **fixed ratio**: the treaty's formation covariates (wartime, bilateral, defence, a
  major with a minor power, its threat level against the reference) times their
  coefficients;
- each **covariate** of the world's treaty: the coefficients of the regression terms it
  stands for, summed, or a mixture of kinds of one event (a leader's death, removal or
  regular exit), and an age slope where the regression lets the effect fade with age.

It also draws the same numbers jointly from the coefficients' sampling distribution
(multivariate normal with the fit's covariance), so that ``--parameter-uncertainty``
carries the regression's uncertainty into the forecasts. The mapping (which covariate
stands for which term, and why) is the world's and lives in ``calibration/setup.yaml``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.calibration.setup import Setup, TreatyHazardSetup
from sim.errors import UserError

SEED = 20240619
"""Seed of the joint draws (the date the treaty was signed)."""

FILES = ("hazards.csv", "hazard_covariance.csv", "baseline_hazard.csv", "hazard_reference.csv")


@dataclass(frozen=True)
class Regression:
    """One model of ``calibration/hazards.csv``: coefficients, covariance, baseline.

    Attributes:
        model: The model's name.
        coef: Coefficient of each covariate.
        covariance: The coefficients' covariance (covariate by covariate).
        baseline: ``age_years, cum_hazard``: Breslow cumulative baseline hazard.
        reference: Covariate values of the baseline (0 unless listed).
    """

    model: str
    coef: pd.Series
    covariance: pd.DataFrame
    baseline: pd.DataFrame
    reference: pd.Series

    def cumulative(self, age_years: np.ndarray) -> np.ndarray:
        """The baseline cumulative hazard at ``age_years`` (a right-continuous step)."""
        ages = self.baseline["age_years"].to_numpy()
        values = np.r_[0.0, self.baseline["cum_hazard"].to_numpy()]
        return values[np.searchsorted(ages, np.asarray(age_years, dtype=float), side="right")]


def load_regression(folder: Path, model: str) -> Regression:
    """Read one model's coefficients, covariance, baseline and reference values.

    Raises:
        UserError: A file is missing or does not hold the model.
    """
    folder = Path(folder)
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        raise UserError(
            f"{folder}: missing {', '.join(missing)} "
            "(python -m sim.calibration.hazards writes them)"
        )
    hazards = pd.read_csv(folder / "hazards.csv")
    rows = hazards[hazards["model"] == model]
    if rows.empty:
        models = ", ".join(dict.fromkeys(hazards["model"]))
        raise UserError(f"{folder / 'hazards.csv'}: no model '{model}' (it has {models})")
    coef = rows.set_index("covariate")["coef"]
    covariance = pd.read_csv(folder / "hazard_covariance.csv")
    covariance = covariance[covariance["model"] == model].set_index("covariate")
    covariance = covariance.loc[coef.index, list(coef.index)].astype(float)
    baseline = pd.read_csv(folder / "baseline_hazard.csv")
    baseline = baseline[baseline["model"] == model][["age_years", "cum_hazard"]]
    reference = pd.read_csv(folder / "hazard_reference.csv")
    reference = reference[reference["model"] == model].set_index("covariate")["value"]
    return Regression(model, coef, covariance, baseline.reset_index(drop=True), reference)


@dataclass(frozen=True)
class TreatyHazard:
    """The treaty's hazard as mapped from a regression, at the estimate and in draws.

    Attributes:
        setup: The mapping.
        regression: The regression it maps.
        baseline: ``from_month, hazard``: the monthly baseline hazard by age.
        estimate: The mapped numbers at the estimate, by key (``fixed_ratio``,
            ``<covariate>.log_hazard_ratio``, ``<covariate>.age_slope``).
        draws: The same numbers in joint draws (one row per draw).
    """

    setup: TreatyHazardSetup
    regression: Regression
    baseline: pd.DataFrame
    estimate: pd.Series
    draws: pd.DataFrame


def _mapped(setup: TreatyHazardSetup, regression: Regression, coef: np.ndarray) -> dict:
    """The treaty's numbers from coefficient vectors ``coef`` (draws by covariate)."""
    column = {name: k for k, name in enumerate(regression.coef.index)}
    reference = regression.reference

    def term(name: str) -> np.ndarray:
        if name not in column:
            raise UserError(
                f"calibration/setup.yaml, treaty_hazard: model '{regression.model}' has no "
                f"covariate '{name}' (it has {', '.join(column)})"
            )
        return coef[:, column[name]]

    fixed = np.zeros(len(coef))
    for name, formation in setup.formation.items():
        fixed += term(name) * (formation.value - float(reference.get(name, 0.0)))
    numbers = {"fixed_ratio": np.exp(fixed)}
    for key, covariate in setup.covariates.items():
        if covariate.mixture is not None:
            ratio = sum(share * np.exp(term(kind)) for kind, share in covariate.mixture.items())
            numbers[f"{key}.log_hazard_ratio"] = np.log(ratio)
        else:
            numbers[f"{key}.log_hazard_ratio"] = sum(term(name) for name in covariate.terms)
        if covariate.age_slope is not None:
            numbers[f"{key}.age_slope"] = term(covariate.age_slope)
    return numbers


def baseline_steps(regression: Regression, steps: list[int]) -> pd.DataFrame:
    """The monthly baseline hazard on each age step (the last runs ten years)."""
    edges = np.array([*steps, steps[-1] + 120], dtype=float)
    cumulative = regression.cumulative(edges / 12)
    hazard = np.diff(cumulative) / np.diff(edges)
    return pd.DataFrame({"from_month": steps, "hazard": hazard})


def map_treaty_hazard(setup: Setup) -> TreatyHazard:
    """Map the setup's regression onto its treaty: the estimate and the joint draws.

    Raises:
        UserError: The setup has no ``treaty_hazard`` section, or its files or terms are
            missing.
    """
    mapping = setup.treaty_hazard
    if mapping is None:
        raise UserError("calibration/setup.yaml has no treaty_hazard section")
    regression = load_regression(setup.folder, mapping.model)
    estimate = _mapped(mapping, regression, regression.coef.to_numpy()[None, :])
    rng = np.random.default_rng(np.random.SeedSequence(SEED))
    coef = rng.multivariate_normal(
        regression.coef.to_numpy(), regression.covariance.to_numpy(), size=mapping.draws
    )
    draws = _mapped(mapping, regression, coef)
    return TreatyHazard(
        setup=mapping,
        regression=regression,
        baseline=baseline_steps(regression, mapping.baseline_steps),
        estimate=pd.Series({key: float(value[0]) for key, value in estimate.items()}),
        draws=pd.DataFrame(draws),
    )


def _rounded(value: float) -> float:
    return float(f"{value:.4g}")


def _source(hazard: TreatyHazard) -> str:
    return (
        f"calibration/hazards.md, model {hazard.regression.model} (Cox regression on ATOP "
        "v4.01 with Archigos, COW wars and the Leeds–Savun threat index); mapped by "
        "calibration/setup.yaml (treaty_hazard)"
    )


def _interval(values: pd.Series) -> str:
    low, high = np.quantile(values, [0.05, 0.95])
    return f"[{low:.3g}, {high:.3g}]"


def treaty_hazard_fragment(hazard: TreatyHazard) -> dict:
    """The scenario fragment that sets the treaty's baseline, fixed ratio and covariates."""
    mapping, source = hazard.setup, _source(hazard)
    formation = ", ".join(f"{k} {v.value:g}" for k, v in mapping.formation.items())
    covariates = {}
    for key, covariate in mapping.covariates.items():
        entry = {}
        for part in ("log_hazard_ratio", "age_slope"):
            name = f"{key}.{part}"
            if name in hazard.estimate:
                terms = covariate.terms or [
                    f"{share:g} {kind}" for kind, share in covariate.mixture.items()
                ]
                entry[part] = {
                    "value": _rounded(hazard.estimate[name]),
                    "source": source,
                    "reason": (
                        f"{covariate.reason}; terms: "
                        f"{covariate.age_slope if part == 'age_slope' else ', '.join(terms)}; "
                        f"90% of draws in {_interval(hazard.draws[name])}"
                    ),
                }
        covariates[key] = entry
    treaty = {
        "baseline": [
            {
                "from_month": int(row.from_month),
                "hazard": _rounded(row.hazard),
                "source": f"{source}: Breslow baseline at the reference covariates, "
                "averaged over this age step",
            }
            for row in hazard.baseline.itertuples(index=False)
        ],
        "fixed_ratio": {
            "value": _rounded(hazard.estimate["fixed_ratio"]),
            "source": source,
            "reason": f"formation covariates: {formation}; 90% of draws in "
            f"{_interval(hazard.draws['fixed_ratio'])}",
        },
        "covariates": covariates,
    }
    return {"treaties": {mapping.treaty: treaty}}


def treaty_hazard_document(hazard: TreatyHazard) -> str:
    """``treaty_hazard.yaml``: the fragment of :func:`treaty_hazard_fragment` as YAML."""
    header = (
        "# The treaty's termination hazard, written by `alliance-sim calibrate` from the\n"
        "# survival regression of alliances (calibration/hazards.md) and the mapping in\n"
        "# calibration/setup.yaml: do not edit by hand. Scenarios extend this file after the\n"
        "# world file. Joint draws for --parameter-uncertainty: calibration/posterior.yaml.\n"
    )
    body = yaml.safe_dump(
        treaty_hazard_fragment(hazard), sort_keys=False, allow_unicode=True, width=100
    )
    return header + body


def posterior_fragment(hazard: TreatyHazard) -> dict:
    """The joint draws as a scenario fragment of ``empirical`` samples (group treaty_hazard)."""
    covariates: dict[str, dict] = {}
    treaty: dict = {}
    for name, values in hazard.draws.items():
        sample = {
            "dist": "empirical",
            "group": "treaty_hazard",
            "values": [_rounded(v) for v in values],
        }
        if name == "fixed_ratio":
            treaty["fixed_ratio"] = sample
        else:
            key, part = name.split(".")
            covariates.setdefault(key, {})[part] = sample
    treaty["covariates"] = covariates
    return {"treaties": {hazard.setup.treaty: treaty}}


def implied_survival(hazard: TreatyHazard, age0: int, months: int, war: bool) -> np.ndarray:
    """Survival of the treaty from age ``age0`` over ``months`` under constant conditions.

    The regression's own answer, with no model around it: the baseline steps, the fixed
    ratio and, if ``war``, the war covariate at each age (every other covariate 0).

    Args:
        hazard: The mapped hazard.
        age0: The treaty's age in months at the start.
        months: How many months to follow it.
        war: Whether the members are at war throughout.

    Returns:
        Survival at the end of each month 1..months.
    """
    ages = age0 + np.arange(months)
    steps = hazard.baseline
    index = np.searchsorted(steps["from_month"].to_numpy(), ages, side="right") - 1
    rate = steps["hazard"].to_numpy()[index] * hazard.estimate["fixed_ratio"]
    if war:
        slope = hazard.estimate.get("war.age_slope", 0.0)
        log_ratio = hazard.estimate["war.log_hazard_ratio"] + slope * np.log((ages + 0.5) / 12)
        rate = rate * np.exp(log_ratio)
    return np.exp(-np.cumsum(-np.log1p(-np.minimum(rate, 1 - 1e-12))))


def conditional_curve(
    curves: pd.DataFrame, reference_class: str, age0: int, months: int = 120
) -> pd.DataFrame:
    """A class's Kaplan–Meier survival among alliances that reached age ``age0`` months.

    ``S(a0 + t) / S(a0)``, with the 95% band divided by the same ``S(a0)`` (which
    neglects the small uncertainty of ``S(a0)`` itself).

    Args:
        curves: ``reference_curves.csv``: ``class, years, survival, low, high`` on a
            monthly grid.
        reference_class: The class.
        age0: The age in months to condition on.
        months: How many months to follow.

    Returns:
        One row per month 0..months: ``month, survival, low, high``.

    Raises:
        UserError: The class is not in ``curves`` or its curve is too short.
    """
    curve = curves[curves["class"] == reference_class].reset_index(drop=True)
    if curve.empty:
        raise UserError(f"reference_curves.csv has no class '{reference_class}'")
    if len(curve) <= age0 + months:
        raise UserError(f"reference_curves.csv: the curve of '{reference_class}' is too short")
    part = curve.iloc[age0 : age0 + months + 1]
    start = float(curve["survival"].iloc[age0])
    return pd.DataFrame(
        {
            "month": np.arange(months + 1),
            "survival": part["survival"].to_numpy() / start,
            "low": part["low"].to_numpy() / start,
            "high": np.minimum(part["high"].to_numpy() / start, 1.0),
        }
    )


def reference_comparison(model: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """The model's treaty survival beside its reference class's at 1, 2, 5 and 10 years.

    Args:
        model: ``month, p_survive, ci_low, ci_high``: the model's treaty survival.
        reference: The class's survival from the same age (:func:`conditional_curve`).

    Returns:
        One row per horizon: ``years, model, model_low, model_high, class, class_low,
        class_high, inside`` (the model's estimate inside the class's 95% band).
    """
    model = model.set_index("month")
    reference = reference.set_index("month")
    rows = []
    for years in (1, 2, 5, 10):
        ours, theirs = model.loc[12 * years], reference.loc[12 * years]
        rows.append(
            {
                "years": years,
                "model": ours.p_survive,
                "model_low": ours.ci_low,
                "model_high": ours.ci_high,
                "class": theirs.survival,
                "class_low": theirs.low,
                "class_high": theirs.high,
                "inside": bool(theirs.low <= ours.p_survive <= theirs.high),
            }
        )
    return pd.DataFrame(rows)


def ratio_at(hazard: TreatyHazard, key: str, age_months: float) -> float:
    """The hazard ratio of covariate ``key`` at an age, at the estimate."""
    slope = hazard.estimate.get(f"{key}.age_slope", 0.0)
    return math.exp(hazard.estimate[f"{key}.log_hazard_ratio"] + slope * math.log(age_months / 12))
