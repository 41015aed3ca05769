"""Calibration: tie the model's free parameters to dated evidence and to how alliances end.

Targets, each traceable to a dated source:

(a) the emergence of cooperation after Kim Jong Un's September 2023 visit: the model,
    started in September 2023 (``calibration/from_2023_09.yaml``), should establish each
    latent channel about when the evidence ledger (``calibration/evidence.yaml``) first
    records it active, let people flows grow as entries did (about 1,100 in 2023, over
    13,000 in 2024), and arrive in March 2025 near the coded state of that month;
(b) the base rate: with no scenario shock (the baseline), the defence treaty should
    survive like the bilateral defence pacts formed since 1945 in ATOP
    (``calibration/base_rates.csv``).

Method: simulated method of moments. Each target has a scale (sigma); the objective is
J(θ) = Σ ((simulated − observed) / sigma)², computed on common random numbers, so that
it is a deterministic, nearly smooth function of θ. Targets (a) depend on the growth
rates and the leaders' pre-summit commitment, target (b) on the treaty's rupture
hazard, so the two blocks are fitted apart. Each block: a scrambled Sobol' sample of its
box, then Nelder–Mead from the best point. Uncertainty: the Laplace-type quasi-posterior
p(θ) ∝ exp(−J(θ)/2) under a flat prior (Chernozhukov and Hong 2003), sampled by
importance sampling on a box around the optimum that shrinks until the sample is
informative. 200 joint draws go to ``calibration/posterior.yaml`` for
``alliance-sim run --parameter-uncertainty``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure
from pydantic import Field
from scipy import optimize
from scipy.stats import qmc

from sim import figures
from sim.engine import run
from sim.errors import Problem, ScenarioError, UserError, did_you_mean
from sim.model import AllianceModel
from sim.months import parse_month
from sim.parameters import point_value
from sim.paths import CALIBRATION, SCENARIOS
from sim.scenario import Scenario, load_scenario, validate_structure
from sim.schema import MONTH_PATTERN, Closed, Name, Text
from sim.storage import write_text
from sim.survival import horizon_estimates
from sim.sweep import set_value
from sim.yamlfile import load_yaml

BASE_RATE_GROUP = "bilateral_defence_postwar"
POSTERIOR_GROUP = "posterior"
EMERGENCE_SIGMA = 2.0  # months: evidence dates are to the month, emergence is gradual
INTENSITY_SIGMA = 0.10  # one step of the coding scale is 0.2
# Year ends with a yearly count of DPRK entries into Russia in the ledger.
PEOPLE_FLOW_MONTHS = ("2023-12", "2024-12")

Month = Annotated[str, Field(pattern=MONTH_PATTERN)]
DateText = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$")]


# --- the evidence ledger ---------------------------------------------------------------


class ReportedFigure(Closed):
    """A figure an observation reports, with the range where sources disagree."""

    value: float
    unit: Text
    low: float | None = None
    high: float | None = None


class EvidenceSource(Closed):
    """Where an observation comes from: outlet or body, and date."""

    name: Text
    date: DateText
    url: Text | None = None


class Observation(Closed):
    """One dated observation of a cooperation domain."""

    id: Name
    domain: Name
    month: Month
    observed: Text
    active: bool
    figure: ReportedFigure | None = None
    sources: list[EvidenceSource] = Field(min_length=1)
    note: Text | None = None


class Evidence(Closed):
    """The evidence ledger."""

    description: Text
    fit_window: tuple[Month, Month]
    observations: list[Observation] = Field(min_length=1)


def load_evidence(path: Path, domains: list[str]) -> Evidence:
    """Read and check the evidence ledger against the world's domains.

    Raises:
        ScenarioError: Every problem, with line and key path.
    """
    data, locations = load_yaml(Path(path))
    evidence = validate_structure(Evidence, data, locations)
    problems = []
    seen: set[str] = set()
    for index, item in enumerate(evidence.observations):
        here = ("observations", index)
        where = locations.get((*here, "domain")) or locations.get(here)
        if item.domain not in domains:
            problems.append(
                Problem(
                    where,
                    (*here, "domain"),
                    f"unknown domain '{item.domain}'",
                    did_you_mean(item.domain, domains),
                )
            )
        if item.id in seen:
            problems.append(Problem(locations.get(here), (*here, "id"), f"duplicate id {item.id}"))
        seen.add(item.id)
        figure = item.figure
        if figure and not (figure.low or figure.value) <= figure.value <= (
            figure.high or figure.value
        ):
            problems.append(Problem(where, (*here, "figure"), "needs low <= value <= high"))
    for domain in domains:
        if not any(o.domain == domain for o in _in_window(evidence)):
            problems.append(
                Problem(
                    locations.get(()),
                    ("observations",),
                    f"no observation of {domain} in the fit window",
                )
            )
    if problems:
        raise ScenarioError(problems)
    return evidence


def _in_window(evidence: Evidence) -> list[Observation]:
    first, last = (parse_month(m) for m in evidence.fit_window)
    return [o for o in evidence.observations if first <= parse_month(o.month) <= last]


def held_out(evidence: Evidence) -> list[Observation]:
    """Observations after the fit window: the backtest's outcomes."""
    last = parse_month(evidence.fit_window[1])
    return [o for o in evidence.observations if parse_month(o.month) > last]


# --- targets -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One number the model should reproduce."""

    name: str
    block: str  # "emergence" (target a) or "base_rate" (target b)
    observed: float
    sigma: float
    source: str


def targets(
    evidence: Evidence, start_scenario: Scenario, reference: Scenario, base_rates: pd.DataFrame
) -> list[Target]:
    """Every calibration target, from the ledger, the coded March 2025 state and ATOP.

    Args:
        evidence: The ledger.
        start_scenario: The September 2023 calibration scenario (which channels start latent).
        reference: A scenario holding the coded state of the end of the fit window.
        base_rates: The table of :func:`sim.baserates.base_rates`.
    """
    start = parse_month(start_scenario.start)
    found: list[Target] = []
    for domain, state in start_scenario.state.channels.items():
        threshold = start_scenario.channels[domain].threshold
        threshold = start_scenario.channel_defaults.threshold if threshold is None else threshold
        if point_value(state.intensity) >= point_value(threshold):
            continue  # alive at the start: nothing to emerge
        seen = [o for o in _in_window(evidence) if o.domain == domain and o.active]
        if not seen:
            raise UserError(
                f"{domain} starts below its threshold in {start_scenario.start}, but the "
                "evidence ledger has no active observation of it in the fit window to date "
                "its emergence"
            )
        first = min(seen, key=lambda o: o.month)
        found.append(
            Target(
                f"emergence.{domain}",
                "emergence",
                parse_month(first.month) - start,
                EMERGENCE_SIGMA,
                f"{first.id} ({first.month})",
            )
        )
    yearly = {
        o.month: o
        for o in evidence.observations
        if o.domain == "people_flows" and o.figure and o.figure.unit == "entries per year"
    }
    # Entries per year on a log scale between a token 300 (0.1) and the highest year (0.6).
    highest = max(o.figure.value for o in yearly.values())
    for month in PEOPLE_FLOW_MONTHS:
        count = yearly[month].figure.value
        coded = 0.1 + 0.5 * np.log(count / 300) / np.log(highest / 300)
        found.append(
            Target(
                f"people_flows_intensity.{month}",
                "emergence",
                float(coded),
                INTENSITY_SIGMA,
                f"{yearly[month].id}: {count:,.0f} entries in the year",
            )
        )
    end = reference.state.month
    for domain, state in reference.state.channels.items():
        found.append(
            Target(
                f"intensity.{end}.{domain}",
                "emergence",
                point_value(state.intensity),
                INTENSITY_SIGMA,
                f"coded state of {end} (scenarios/world)",
            )
        )
    rates = base_rates.set_index("group").loc[BASE_RATE_GROUP]
    for years, months in ((1, 12), (5, 60), (10, 120)):
        half_width = (rates[f"s_{years}y_high"] - rates[f"s_{years}y_low"]) / 2
        found.append(
            Target(
                f"treaty_survival.{months}",
                "base_rate",
                float(rates[f"s_{years}y"]),
                float(half_width / 1.96),
                f"ATOP v4.01, bilateral defence pacts from 1945, S({years}y)",
            )
        )
    return found


# --- free parameters and simulated moments -----------------------------------------------


@dataclass(frozen=True)
class FreeParameter:
    """A parameter the calibration fits: where it lives and its admissible range."""

    name: str
    paths: tuple[str, ...]
    low: float
    high: float
    block: str
    meaning: str


FREE = (
    FreeParameter(
        "growth",
        ("channel_defaults.growth",),
        0.02,
        0.6,
        "emergence",
        "monthly share of the gap closed when the parties want more (all channels but the treaty)",
    ),
    FreeParameter(
        "treaty_growth",
        ("channels.defence_treaty.growth",),
        0.01,
        0.6,
        "emergence",
        "the same for the defence treaty, which must be negotiated and ratified",
    ),
    FreeParameter(
        "pre_summit_commitment",
        ("state.actors.russia.leader_commitment", "state.actors.dprk.leader_commitment"),
        0.0,
        1.0,
        "emergence",
        "both leaders' commitment before the September 2023 summit (calibration runs only)",
    ),
    FreeParameter(
        "treaty_rupture_hazard",
        ("channels.defence_treaty.rupture_hazard",),
        0.0,
        0.08,
        "base_rate",
        "monthly rupture hazard of the treaty before lock-in",
    ),
)
WORLD_PARAMETERS = ("growth", "treaty_growth", "treaty_rupture_hazard")


# The treaty's rupture hazard while the emergence block is fitted: the world's default,
# so that the fit never depends on an earlier calibration/fitted.yaml.
REFERENCE_TREATY_RUPTURE_HAZARD = 0.0004


def with_parameters(scenario: Scenario, values: dict[str, float]) -> Scenario:
    """The scenario with the given free parameters set at all their paths."""
    free = {p.name: p for p in FREE}
    settings = {path: float(value) for name, value in values.items() for path in free[name].paths}
    return set_value(scenario, settings)


def world_values(values: dict[str, float]) -> dict[str, float]:
    """The parameters of ``values`` that belong to the world (not to the 2023 state)."""
    return {name: value for name, value in values.items() if name in WORLD_PARAMETERS}


@dataclass(frozen=True)
class Settings:
    """How hard the calibration works; the defaults give a stable fit in about a minute."""

    replications: int = 1000
    treaty_replications: int = 2000
    seed: int = 20230913
    search_points: int = 32  # per free parameter of a block
    posterior_points: int = 64  # per free parameter of a block, per round
    posterior_draws: int = 200
    search_iterations: int = 200  # Nelder–Mead iterations per block


def emergence_moments(scenario: Scenario, settings: Settings) -> dict[str, float]:
    """Simulated counterparts of targets (a), from a run of the calibration scenario."""
    model = AllianceModel(scenario, settings.replications, seed=settings.seed, collect=False)
    start = model.start_month
    wanted = {parse_month(month) - start: month for month in PEOPLE_FLOW_MONTHS}
    moments: dict[str, float] = {}
    while model.month < scenario.horizon:
        model.step()
        if model.month in wanted:
            intensity = float(model.channel("people_flows").intensity.mean(dtype=np.float64))
            moments[f"people_flows_intensity.{wanted[model.month]}"] = intensity
    end = model.date
    for name in scenario.channels:
        channel = model.channel(name)
        moments[f"intensity.{end}.{name}"] = float(channel.intensity.mean(dtype=np.float64))
        emerged = np.minimum(channel.emerged_month, scenario.horizon + 1)
        moments[f"emergence.{name}"] = float(np.median(emerged))
    return moments


def base_rate_moments(scenario: Scenario, settings: Settings) -> dict[str, float]:
    """Simulated counterparts of target (b): the treaty's survival in the baseline."""
    result = run(
        scenario,
        replications=settings.treaty_replications,
        seed=settings.seed,
        horizon=120,
        workers=1,
    )
    table = horizon_estimates(result.summary, [12, 60, 120])
    treaty = table[table.domain == "defence_treaty"].set_index("horizon").p_survive
    return {f"treaty_survival.{h}": float(treaty[h]) for h in (12, 60, 120)}


def objective(moments: dict[str, float], wanted: list[Target]) -> float:
    """J = Σ ((simulated − observed) / sigma)² over the targets."""
    return float(sum(((moments[t.name] - t.observed) / t.sigma) ** 2 for t in wanted))


# --- fitting ----------------------------------------------------------------------------


@dataclass
class BlockFit:
    """The fit of one block of parameters."""

    parameters: list[FreeParameter]
    estimate: np.ndarray
    value: float
    sample: np.ndarray  # posterior draws, one row per draw
    effective_size: float
    evaluations: int


def _log2_ceil(count: int) -> int:
    """The exponent of the smallest power of 2 at least ``count`` (Sobol' points come in 2^m)."""
    return max(0, (count - 1).bit_length())


def _fit_block(
    block: list[FreeParameter],
    loss: Callable[[np.ndarray], float],
    settings: Settings,
    rng: np.random.Generator,
) -> BlockFit:
    lows = np.array([p.low for p in block])
    highs = np.array([p.high for p in block])
    evaluations = 0

    def counted(x: np.ndarray) -> float:
        nonlocal evaluations
        evaluations += 1
        return loss(np.clip(x, lows, highs))

    sobol = qmc.Sobol(len(block), scramble=True, rng=rng)
    points = qmc.scale(
        sobol.random_base2(_log2_ceil(settings.search_points * len(block))), lows, highs
    )
    values = np.array([counted(x) for x in points])
    start = points[np.argmin(values)]
    found = optimize.minimize(
        counted,
        start,
        method="Nelder-Mead",
        bounds=list(zip(lows, highs, strict=True)),
        options={"xatol": 1e-4, "fatol": 1e-3, "maxiter": settings.search_iterations},
    )
    estimate = np.clip(found.x, lows, highs)
    best = min(found.fun, values.min())
    half = (highs - lows) / 4
    for _ in range(6):
        box_low, box_high = np.maximum(lows, estimate - half), np.minimum(highs, estimate + half)
        unit = qmc.Sobol(len(block), scramble=True, rng=rng).random_base2(
            _log2_ceil(settings.posterior_points * len(block))
        )
        proposals = qmc.scale(unit, box_low, box_high)
        losses = np.array([counted(x) for x in proposals])
        weights = np.exp(-(losses - best) / 2)
        weights /= weights.sum()
        effective = 1 / np.sum(weights**2)
        if effective >= min(30, len(proposals) / 4) or np.all(half < (highs - lows) * 1e-3):
            break
        half /= 2
    rows = rng.choice(len(proposals), size=settings.posterior_draws, p=weights)
    return BlockFit(block, estimate, best, proposals[rows], effective, evaluations)


@dataclass
class Calibration:
    """A finished calibration: estimates, posterior sample, targets and moments."""

    settings: Settings
    targets: list[Target]
    blocks: list[BlockFit]
    moments: dict[str, float]
    moment_bands: dict[str, tuple[float, float]]
    backtest: pd.DataFrame
    forecast_months: int

    @property
    def estimates(self) -> dict[str, float]:
        """Point estimate of every free parameter."""
        return _estimates(self.blocks)

    @property
    def posterior(self) -> pd.DataFrame:
        """Joint posterior draws (the blocks are independent, so their draws are paired)."""
        columns = {}
        for block in self.blocks:
            for i, parameter in enumerate(block.parameters):
                columns[parameter.name] = block.sample[:, i]
        return pd.DataFrame(columns)


def _estimates(blocks: list[BlockFit]) -> dict[str, float]:
    return {p.name: float(v) for b in blocks for p, v in zip(b.parameters, b.estimate, strict=True)}


def calibrate(
    *,
    evidence_path: Path = CALIBRATION / "evidence.yaml",
    base_rates_path: Path = CALIBRATION / "base_rates.csv",
    fit_scenario: Path = CALIBRATION / "from_2023_09.yaml",
    baseline: Path = SCENARIOS / "baseline.yaml",
    settings: Settings = Settings(),
) -> Calibration:
    """Fit the free parameters to the targets and backtest the March 2025 forecast."""
    start_scenario = load_scenario(fit_scenario)
    base = load_scenario(baseline)
    evidence = load_evidence(evidence_path, list(base.channels))
    if not base_rates_path.is_file():
        raise UserError(
            f"{base_rates_path} not found: run `alliance-sim calibrate base-rates --atop DIR`"
        )
    base_rates = pd.read_csv(base_rates_path)
    wanted = targets(evidence, start_scenario, base, base_rates)
    rng = np.random.default_rng(np.random.SeedSequence(settings.seed, spawn_key=(2**32 + 2,)))
    reference = {"treaty_rupture_hazard": REFERENCE_TREATY_RUPTURE_HAZARD}
    emergence = [p for p in FREE if p.block == "emergence"]
    emergence_targets = [t for t in wanted if t.block == "emergence"]

    def emergence_loss(x: np.ndarray) -> float:
        values = reference | {p.name: v for p, v in zip(emergence, x, strict=True)}
        scenario = with_parameters(start_scenario, values)
        return objective(emergence_moments(scenario, settings), emergence_targets)

    first = _fit_block(emergence, emergence_loss, settings, rng)
    grown = {p.name: float(v) for p, v in zip(emergence, first.estimate, strict=True)}
    base_rate = [p for p in FREE if p.block == "base_rate"]
    base_rate_targets = [t for t in wanted if t.block == "base_rate"]

    def base_rate_loss(x: np.ndarray) -> float:
        values = world_values(grown) | {p.name: v for p, v in zip(base_rate, x, strict=True)}
        return objective(
            base_rate_moments(with_parameters(base, values), settings), base_rate_targets
        )

    blocks = [first, _fit_block(base_rate, base_rate_loss, settings, rng)]
    estimates = _estimates(blocks)
    moments = emergence_moments(with_parameters(start_scenario, estimates), settings)
    fitted_base = with_parameters(base, world_values(estimates))
    moments |= base_rate_moments(fitted_base, settings)
    bands = _moment_bands(start_scenario, base, blocks, settings)
    backtest, months = backtest_table(evidence, fitted_base, base_rates, settings)
    return Calibration(settings, wanted, blocks, moments, bands, backtest, months)


def _moment_bands(start_scenario, base, blocks, settings) -> dict[str, tuple[float, float]]:
    """5–95% range of every simulated moment over 20 posterior draws (parameter uncertainty)."""
    draws = pd.DataFrame(
        {p.name: b.sample[:20, i] for b in blocks for i, p in enumerate(b.parameters)}
    )
    rows = []
    for values in draws.to_dict("records"):
        moments = emergence_moments(with_parameters(start_scenario, values), settings)
        moments |= base_rate_moments(with_parameters(base, world_values(values)), settings)
        rows.append(moments)
    frame = pd.DataFrame(rows)
    return {
        name: (float(frame[name].quantile(0.05)), float(frame[name].quantile(0.95)))
        for name in frame
    }


# --- backtest -------------------------------------------------------------------------------


def backtest_table(
    evidence: Evidence, forecast: Scenario, base_rates: pd.DataFrame, settings: Settings
) -> tuple[pd.DataFrame, int]:
    """Score the March 2025 forecast against the held-out observations.

    The forecast is the fitted baseline run from the March 2025 state: for each held-out
    observation of a domain in month m, the forecast probability that the domain is alive
    at m. The reference forecast is ATOP's survival of all alliances at the same age
    (log-linear between 0 and 12 months), a base rate that knows nothing of this dyad.

    Returns:
        One row per held-out observation, and the longest forecast horizon used.
    """
    start = parse_month(forecast.start)
    observations = held_out(evidence)
    longest = max(parse_month(o.month) - start for o in observations)
    result = run(
        forecast,
        replications=10 * settings.replications,
        seed=settings.seed,
        horizon=max(longest, 12),
        workers=1,
    )
    curve = result.survival.set_index(["domain", "month"]).p_survive
    yearly = float(base_rates.set_index("group").loc["all", "s_1y"])
    rows = []
    for o in observations:
        months = parse_month(o.month) - start
        rows.append(
            {
                "id": o.id,
                "domain": o.domain,
                "month": o.month,
                "months_ahead": months,
                "observed": int(o.active),
                "forecast": float(curve[(o.domain, months)]),
                "reference": float(yearly ** (months / 12)),
            }
        )
    return pd.DataFrame(rows), longest


def brier(table: pd.DataFrame, column: str) -> float:
    """Mean squared difference between a forecast column and the outcomes."""
    return float(((table[column] - table.observed) ** 2).mean())


def reliability(table: pd.DataFrame) -> pd.DataFrame:
    """Calibration table: forecasts binned, with the share of outcomes that happened."""
    bins = [0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0 + 1e-9]
    labels = ["[0, 0.5)", "[0.5, 0.8)", "[0.8, 0.9)", "[0.9, 0.95)", "[0.95, 0.99)", "[0.99, 1]"]
    binned = pd.cut(table.forecast, bins=bins, labels=labels, right=False)
    grouped = table.groupby(binned, observed=False)
    return pd.DataFrame(
        {
            "forecasts": grouped.size().astype(int),
            "mean_forecast": grouped.forecast.mean(),
            "observed_share": grouped["observed"].mean(),
        }
    )


# --- outputs ----------------------------------------------------------------------------


def _interval(sample: np.ndarray) -> tuple[float, float]:
    return float(np.quantile(sample, 0.05)), float(np.quantile(sample, 0.95))


def fitted_document(calibration: Calibration) -> str:
    """``calibration/fitted.yaml``: the world's fitted parameters, as a scenario fragment."""
    posterior = calibration.posterior
    estimates = calibration.estimates
    paths: dict[str, Any] = {}
    for parameter in FREE:
        if parameter.name not in WORLD_PARAMETERS:
            continue
        low, high = _interval(posterior[parameter.name])
        entry = {
            "value": round(estimates[parameter.name], 6),
            "meaning": parameter.meaning,
            "source": "calibration/report.md: simulated method of moments fit to "
            "calibration/evidence.yaml and calibration/base_rates.csv",
            "reason": f"fitted; 90% quasi-posterior interval [{low:.4g}, {high:.4g}]",
        }
        node = paths
        *parents, leaf = parameter.paths[0].split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = entry
    header = (
        "# Fitted parameters of the Russia–DPRK world, written by `alliance-sim calibrate`:\n"
        "# do not edit by hand, run the command again. Scenarios extend this file after\n"
        "# scenarios/world/russia_dprk.yaml, so these values replace the world's defaults.\n"
        "# Method, targets and fit quality: calibration/report.md; posterior sample:\n"
        "# calibration/posterior.yaml.\n"
    )
    return header + yaml.safe_dump(paths, sort_keys=False, allow_unicode=True, width=88)


def posterior_document(calibration: Calibration) -> str:
    """``calibration/posterior.yaml``: the posterior sample as joint empirical distributions."""
    posterior = calibration.posterior
    paths: dict[str, Any] = {}
    for parameter in FREE:
        if parameter.name not in WORLD_PARAMETERS:
            continue
        node = paths
        *parents, leaf = parameter.paths[0].split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = {
            "dist": "empirical",
            "group": POSTERIOR_GROUP,
            "values": [round(float(v), 6) for v in posterior[parameter.name]],
            "reason": "quasi-posterior draws of the calibration (calibration/report.md)",
        }
    header = (
        "# Posterior sample of the fitted parameters, written by `alliance-sim calibrate`.\n"
        "# Row i of every list is one joint draw (group: posterior). Used by\n"
        "# `alliance-sim run SCENARIO --parameter-uncertainty`.\n"
    )
    return header + yaml.safe_dump(paths, sort_keys=False, width=88, default_flow_style=None)


def target_table(calibration: Calibration) -> pd.DataFrame:
    """Every target with its simulated value, parameter band and standardised error."""
    rows = []
    for t in calibration.targets:
        simulated = calibration.moments[t.name]
        low, high = calibration.moment_bands[t.name]
        rows.append(
            {
                "target": t.name,
                "block": t.block,
                "observed": t.observed,
                "sigma": t.sigma,
                "simulated": simulated,
                "simulated_low": low,
                "simulated_high": high,
                "z": (simulated - t.observed) / t.sigma,
                "source": t.source,
            }
        )
    return pd.DataFrame(rows)


def report_document(calibration: Calibration) -> str:
    """``calibration/report.md``: targets, fit, estimates, backtest, and what they show."""
    table = target_table(calibration)
    settings = calibration.settings
    lines = [
        "# Calibration report",
        "",
        "Written by `alliance-sim calibrate` (see docs/calibration.md "
        "for the method); regenerate it with the same command.",
        "",
    ]
    lines += [
        "## Estimates",
        "",
        "| parameter | estimate | 90% quasi-posterior interval | meaning |",
        "|:---|---:|---:|:---|",
    ]
    posterior = calibration.posterior
    for parameter in FREE:
        low, high = _interval(posterior[parameter.name])
        lines.append(
            f"| `{parameter.name}` | {calibration.estimates[parameter.name]:.4g} | "
            f"[{low:.4g}, {high:.4g}] | {parameter.meaning} |"
        )
    for block in calibration.blocks:
        names = ", ".join(p.name for p in block.parameters)
        count = sum(1 for t in calibration.targets if t.block == block.parameters[0].block)
        lines.append("")
        lines.append(
            f"Block ({names}): J = {block.value:.1f} over {count} targets "
            f"({len(block.parameters)} parameters), {block.evaluations} model evaluations, "
            f"effective posterior sample size {block.effective_size:.0f}."
        )
    lines += [
        "",
        "## Targets and fit",
        "",
        "Simulated: value at the estimate; band: 5–95% over posterior draws. "
        "z = (simulated − observed) / sigma.",
        "",
        "| target | observed | sigma | simulated | band | z | source |",
        "|:---|---:|---:|---:|---:|---:|:---|",
    ]
    for row in table.itertuples():
        lines.append(
            f"| {row.target} | {row.observed:.3g} | {row.sigma:.3g} | {row.simulated:.3g} | "
            f"[{row.simulated_low:.3g}, {row.simulated_high:.3g}] | {row.z:+.1f} | {row.source} |"
        )
    worst = table.reindex(table.z.abs().sort_values(ascending=False).index).head(3)
    lines += [
        "",
        "Largest misfits: "
        + "; ".join(f"{r.target} (z = {r.z:+.1f})" for r in worst.itertuples())
        + ". Emergence months are medians over replications; a channel the model establishes"
        " much earlier or later than the ledger records is one whose desire level in the"
        " model does not match how fast the parties actually moved.",
        "",
    ]
    lines += ["![Calibration](calibration.png)", ""]
    backtest = calibration.backtest
    lines += ["## Backtest: the March 2025 forecast against what happened next", ""]
    lines += [
        f"The fitted baseline, started in March 2025, gives for each of the {len(backtest)} "
        f"observations held out of the fit (April 2025 onwards, up to "
        f"{calibration.forecast_months} months ahead) the probability that the domain is still "
        f"alive in the observation's month. Brier score of the model: "
        f"{brier(backtest, 'forecast'):.4f}; of the reference forecast (ATOP's survival of "
        f"all alliances at the same age): {brier(backtest, 'reference'):.4f}.",
        "",
        "| forecast bin | forecasts | mean forecast | observed share |",
        "|:---|---:|---:|---:|",
    ]
    for label, row in reliability(backtest).iterrows():
        if row.forecasts:
            share = f"{row.observed_share:.2f}"
            lines.append(f"| {label} | {row.forecasts} | {row.mean_forecast:.3f} | {share} |")
    observed = backtest.observed.mean()
    lines += [
        "",
        "What this shows and does not show: every held-out observation records a channel "
        f"still active (share observed {observed:.2f}), and the model gave each of them a high "
        "probability, so it did not predict terminations that did not happen within the "
        "first months. It cannot show more: no channel ended in the held-out period, the "
        "horizon is short, and observations of the same dyad are not independent, so the "
        "backtest has no power to check the model's terminations, its sharpness, or its "
        "long-range forecasts. It would fail a model that predicted early collapse.",
        "",
    ]
    lines += [
        "## Settings",
        "",
        f"Replications per evaluation {settings.replications:,} (treaty: "
        f"{settings.treaty_replications:,}), seed {settings.seed}, Sobol' search "
        f"{settings.search_points} points and posterior proposals {settings.posterior_points} "
        f"per round, per free parameter; {settings.posterior_draws} posterior draws.",
        "",
    ]
    return "\n".join(lines)


def calibration_figure(calibration: Calibration) -> Figure:
    """Observed against simulated for every target block, with bands."""
    table = target_table(calibration)
    with figures.style():
        figure = Figure(figsize=(figures.DOUBLE_COLUMN, 4.6), layout="constrained")
        axes = figure.subplots(1, 3)
        for ax, prefix, title, unit in (
            (axes[0], "emergence.", "Months to emergence from Sep 2023", "months"),
            (axes[1], "intensity.", "Intensity in Mar 2025", "intensity"),
            (axes[2], "treaty_survival.", "Treaty survival, baseline vs ATOP", "P(alive)"),
        ):
            part = table[table.target.str.startswith(prefix)]
            labels = [t.split(".")[-1].replace("_", " ") for t in part.target]
            y = np.arange(len(part))
            ax.errorbar(
                part.observed,
                y,
                xerr=part.sigma,
                fmt="s",
                color=figures.OKABE_ITO[7],
                markersize=3,
                elinewidth=0.6,
                label="observed ± sigma",
            )
            ax.errorbar(
                part.simulated,
                y + 0.25,
                # The value at the estimate can fall outside the band of a few draws.
                xerr=[
                    (part.simulated - part.simulated_low).clip(lower=0),
                    (part.simulated_high - part.simulated).clip(lower=0),
                ],
                fmt="o",
                color=figures.OKABE_ITO[1],
                markersize=3,
                elinewidth=0.6,
                label="simulated (5–95% over posterior)",
            )
            ax.set_yticks(y, labels)
            ax.invert_yaxis()
            ax.set_xlabel(unit)
            ax.set_title(title)
        handles, labels = axes[0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside upper center", ncols=2, frameon=False)
        flows = table[table.target.str.startswith("people_flows")]
        caption = (
            "Calibration targets (black) and the model at the fitted parameters (vermillion). "
            + "People flows: "
            + "; ".join(
                f"{r.target.split('.')[-1]} observed {r.observed:.2f}, simulated {r.simulated:.2f}"
                for r in flows.itertuples()
            )
            + "."
        )
        figure.supxlabel("\n".join(textwrap.wrap(caption, 150)), fontsize=6, x=0.0, ha="left")
    return figure


def write_calibration(calibration: Calibration, out: Path = CALIBRATION) -> list[Path]:
    """Write fitted.yaml, posterior.yaml, targets.csv, report.md and calibration.png."""
    files = {
        "fitted.yaml": fitted_document(calibration),
        "posterior.yaml": posterior_document(calibration),
        "targets.csv": target_table(calibration).to_csv(index=False),
        "report.md": report_document(calibration),
    }
    written = []
    for name, text in files.items():
        write_text(out / name, text)
        written.append(out / name)
    figures.save(calibration_figure(calibration), out / "calibration.png")
    written.append(out / "calibration.png")
    return written
