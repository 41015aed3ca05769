"""The fit: simulated method of moments, and a quasi-posterior of the free parameters.

Each target has a scale (sigma); the objective is J(θ) = Σ ((simulated − observed) /
sigma)², computed on common random numbers, so that it is a deterministic, nearly smooth
function of θ. The emergence targets depend on the growth rates and the leaders'
pre-summit commitment; a setup may add a block of base-rate targets (an alliance
channel's survival) fitted apart. The treaty's termination hazard is not fitted here: it
is mapped from the survival regression of alliances (:mod:`sim.calibration.treaty_hazard`)
before the fit, so that the baseline the backtest runs has the current mapping. Each
block: a scrambled Sobol' sample of its box, then Nelder–Mead from the best point.
Uncertainty: the Laplace-type quasi-posterior p(θ) ∝ exp(−J(θ)/2) under a flat prior
(Chernozhukov and Hong 2003), sampled by importance sampling on a box around the optimum
that shrinks until the sample is informative.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.stats import qmc

from sim.calibration.analogues import (
    AnalogueBacktest,
    AnalogueSettings,
    analogue_backtest,
    cases,
)
from sim.calibration.backtest import backtest_table
from sim.calibration.ledger import load_evidence
from sim.calibration.moments import (
    Settings,
    base_rate_moments,
    emergence_moments,
    objective,
    treaty_survival,
    with_parameters,
    world_values,
)
from sim.calibration.setup import FreeParameter, Setup, load_setup
from sim.calibration.targets import Target, targets
from sim.calibration.treaty_hazard import (
    TreatyHazard,
    conditional_curve,
    map_treaty_hazard,
    treaty_hazard_fragment,
)
from sim.errors import UserError
from sim.model.streams import Stream, study_sequence
from sim.months import parse_month
from sim.paths import CALIBRATION
from sim.scenario import Scenario, load_scenario, override


@dataclass
class BlockFit:
    """The fit of one block of parameters."""

    parameters: list[str]
    estimate: np.ndarray
    value: float
    sample: np.ndarray  # posterior draws, one row per draw
    effective_size: float
    evaluations: int


def _log2_ceil(count: int) -> int:
    """The exponent of the smallest power of 2 at least ``count`` (Sobol' points come in 2^m)."""
    return max(0, (count - 1).bit_length())


def _fit_block(
    block: dict[str, FreeParameter],
    loss: Callable[[np.ndarray], float],
    settings: Settings,
    rng: np.random.Generator,
) -> BlockFit:
    """Search the block's box (Sobol' points, then Nelder–Mead), then sample its posterior."""
    lows = np.array([p.low for p in block.values()])
    highs = np.array([p.high for p in block.values()])
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
    return BlockFit(list(block), estimate, best, proposals[rows], effective, evaluations)


@dataclass
class Calibration:
    """A finished calibration: estimates, posterior sample, targets and moments."""

    setup: Setup
    settings: Settings
    targets: list[Target]
    blocks: list[BlockFit]
    moments: dict[str, float]
    moment_bands: dict[str, tuple[float, float]]
    backtest: pd.DataFrame
    forecast_months: int
    forecast_start: str  # YYYY-MM: when the backtested forecast starts
    treaty_hazard: TreatyHazard | None = None
    treaty_survival: pd.DataFrame | None = None  # the baseline's, month by month
    reference: pd.DataFrame | None = None  # its reference class's, from the same age
    analogues: AnalogueBacktest | None = None  # past partnerships against their endings

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
                columns[parameter] = block.sample[:, i]
        return pd.DataFrame(columns)


def _estimates(blocks: list[BlockFit]) -> dict[str, float]:
    return {p: float(v) for b in blocks for p, v in zip(b.parameters, b.estimate, strict=True)}


def calibrate(
    setup_path: Path = CALIBRATION / "setup.yaml",
    settings: Settings | None = None,
    *,
    base_rates: Path | None = None,
) -> Calibration:
    """Fit the free parameters of a setup to its targets and backtest the model.

    Two backtests: the fitted baseline's forecast against the observations held out of
    the fit, and, when the setup's folder has ``analogues/`` cases, the analogue backtest
    (:mod:`sim.calibration.analogues`).

    Args:
        setup_path: The calibration's setup file (``calibration/setup.yaml``).
        settings: How hard to work (replications, search and posterior points); the
            defaults of :class:`Settings` if None.
        base_rates: A base-rate table to fit to instead of the setup's (one just
            recomputed from the ATOP data, say).

    Returns:
        The :class:`Calibration`.

    Raises:
        UserError: A setup, ledger or base-rate file that is missing or malformed.
    """
    settings = settings or Settings()
    setup = load_setup(setup_path)
    start_scenario = load_scenario(setup.path(setup.fit_scenario))
    base = load_scenario(setup.path(setup.baseline))
    treaty = map_treaty_hazard(setup) if setup.treaty_hazard else None
    if treaty is not None:
        base = override(base, treaty_hazard_fragment(treaty))
    evidence = load_evidence(setup.path(setup.evidence), list(base.channels))
    base_rates_path = base_rates or setup.path(setup.base_rates)
    if not base_rates_path.is_file():
        raise UserError(
            f"{base_rates_path} not found: run `alliance-sim calibrate base-rates --atop DIR`"
        )
    rates = pd.read_csv(base_rates_path)
    wanted = targets(setup, evidence, start_scenario, base, rates)
    rng = np.random.default_rng(study_sequence(settings.seed, Stream.CALIBRATION))
    reference = {
        n: p.reference for n, p in setup.free_parameters.items() if p.reference is not None
    }
    emergence = setup.block("emergence")
    emergence_targets = [t for t in wanted if t.block == "emergence"]

    def emergence_loss(x: np.ndarray) -> float:
        values = reference | dict(zip(emergence, x, strict=True))
        scenario = with_parameters(setup, start_scenario, values)
        return objective(emergence_moments(setup, scenario, settings), emergence_targets)

    first = _fit_block(emergence, emergence_loss, settings, rng)
    grown = {name: float(v) for name, v in zip(emergence, first.estimate, strict=True)}
    base_rate = setup.block("base_rate")
    base_rate_targets = [t for t in wanted if t.block == "base_rate"]

    def base_rate_loss(x: np.ndarray) -> float:
        values = world_values(setup, grown) | dict(zip(base_rate, x, strict=True))
        moments = base_rate_moments(with_parameters(setup, base, values), settings)
        return objective(moments, base_rate_targets)

    blocks = [first]
    if base_rate:
        blocks.append(_fit_block(base_rate, base_rate_loss, settings, rng))
    estimates = _estimates(blocks)
    moments = emergence_moments(setup, with_parameters(setup, start_scenario, estimates), settings)
    fitted_base = with_parameters(setup, base, world_values(setup, estimates))
    if base_rate:
        moments |= base_rate_moments(fitted_base, settings)
    bands = _moment_bands(setup, start_scenario, base, blocks, settings)
    backtest, months = backtest_table(setup, evidence, fitted_base, rates, settings)
    survival = reference = None
    if treaty is not None:
        name = treaty.setup.treaty
        survival = treaty_survival(fitted_base, name, settings)
        age0 = parse_month(fitted_base.start) - parse_month(fitted_base.treaties[name].signed)
        curves = pd.read_csv(setup.path("reference_curves.csv"))
        reference = conditional_curve(curves, treaty.setup.reference_class, age0)
    folder = setup.path("analogues")
    analogues = (
        analogue_backtest(
            AnalogueSettings(replications=settings.analogue_replications, seed=settings.seed),
            folder,
            setup.path("reference_curves.csv"),
        )
        if cases(folder)
        else None
    )
    return Calibration(
        setup,
        settings,
        wanted,
        blocks,
        moments,
        bands,
        backtest,
        months,
        fitted_base.start,
        treaty,
        survival,
        reference,
        analogues,
    )


def _moment_bands(
    setup: Setup,
    start_scenario: Scenario,
    base: Scenario,
    blocks: list[BlockFit],
    settings: Settings,
) -> dict[str, tuple[float, float]]:
    """5–95% range of every simulated moment over 20 posterior draws (parameter uncertainty)."""
    draws = pd.DataFrame({p: b.sample[:20, i] for b in blocks for i, p in enumerate(b.parameters)})
    rows = []
    for values in draws.to_dict("records"):
        moments = emergence_moments(setup, with_parameters(setup, start_scenario, values), settings)
        if setup.block("base_rate"):
            world = with_parameters(setup, base, world_values(setup, values))
            moments |= base_rate_moments(world, settings)
        rows.append(moments)
    frame = pd.DataFrame(rows)
    return {
        name: (float(frame[name].quantile(0.05)), float(frame[name].quantile(0.95)))
        for name in frame
    }
