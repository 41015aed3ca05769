"""Parameter uncertainty against chance, for runs that draw parameters from a posterior.

When a scenario's parameters come from a joint sample (``{dist: empirical, group: g}``,
as ``alliance-sim run --parameter-uncertainty`` sets from ``calibration/posterior.yaml``),
each replication uses one draw k, and the pooled P(alive) is the forecast that accounts
for what we do not know about the parameters. Two things make it uncertain: chance (the
Monte Carlo error of the estimate, which more replications shrink) and the parameters
(how much P(alive) itself changes from draw to draw, which they do not). The second is
the spread of P_k, the estimate under draw k, after removing each P_k's own binomial
noise: Var(P_k) ≈ var(estimates) − mean(P_k(1 − P_k)/(n_k − 1)). That difference is itself
estimated: over D draws its standard error is about √(2/(D − 1)) times the variance of the
estimates, so with few replications a draw (much noise) a small parameter spread cannot
be told from none; the table gives, for each row, the smallest standard deviation that
would stand two standard errors clear of none. The rows each replication drew are
recomputed from its chunk's random stream, so nothing extra is saved.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel

from sim.model.parameters import JUDGEMENT_GROUP, group_stream
from sim.model.streams import Streams, chunk_sizes, sample_rows
from sim.months import iso_month, month_label, parse_month
from sim.reports.tables import domain_label, interval_cell, interval_digits, markdown_grid
from sim.results import RunResult
from sim.scenario.schema import Scenario, sample_group_sizes
from sim.stats.survival import horizon_estimates


def sample_groups(scenario: BaseModel) -> dict[str, int]:
    """The joint-sample groups of a (validated) scenario and their number of draws."""
    return {group: max(sizes) for group, sizes in sample_group_sizes(scenario).items()}


def run_groups(result: RunResult) -> list[str]:
    """The joint-sample groups of a run: its scenario's, and the judged numbers' if drawn so."""
    groups = list(sample_groups(result.scenario))
    if result.settings.joint_draws:
        groups.append(JUDGEMENT_GROUP)
    return groups


def drawn_rows(result: RunResult, group: str) -> tuple[np.ndarray, int]:
    """The draw of the group each replication of the run used, and the number of draws.

    A scenario's sample (a posterior) is the same in every chunk: a draw is its row. The
    judged numbers' joint sample is drawn anew in each chunk: a draw is a chunk's row.
    """
    sizes = chunk_sizes(result.replications, result.settings.chunk_size)
    if group == JUDGEMENT_GROUP:
        rows = result.settings.joint_draws
        ids = [
            index * rows + sample_rows(Streams(result.seed, index), size, group_stream(group), rows)
            for index, size in enumerate(sizes)
        ]
        return np.concatenate(ids), rows * len(sizes)
    rows = sample_groups(result.scenario)[group]
    ids = [
        sample_rows(Streams(result.seed, index), size, group_stream(group), rows)
        for index, size in enumerate(sizes)
    ]
    return np.concatenate(ids), rows


def parameter_spread(per_draw: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
    """How much P(alive) moves across draws, chance removed, and the least that shows.

    Args:
        per_draw: P(alive) estimated under each draw.
        counts: The replications behind each estimate.

    Returns:
        The standard deviation across draws with each estimate's binomial noise removed
        (0 where the noise accounts for all of it), and its resolution: the standard
        deviation whose variance lies two standard errors of that estimate above none
        when the draws move nothing (NaN with fewer than two draws).
    """
    noise = float(np.mean(per_draw * (1 - per_draw) / np.maximum(counts - 1, 1)))
    spread = float(np.sqrt(max(float(np.var(per_draw)) - noise, 0.0)))
    draws = len(per_draw)
    resolution = float(np.sqrt(2 * np.sqrt(2 / (draws - 1)) * noise)) if draws > 1 else np.nan
    return spread, resolution


def uncertainty_table(result: RunResult, group: str) -> pd.DataFrame:
    """Per domain and report horizon: P(alive), its chance interval, its parameter band.

    Returns:
        Columns ``domain, horizon, date`` (``YYYY-MM``), ``p_survive``, ``chance_low,
        chance_high`` (Wilson 95%
        over all replications), ``parameter_sd`` (standard deviation of P(alive) across
        posterior draws, noise removed), ``parameter_low, parameter_high`` (a 90% band,
        ±1.645 parameter_sd), ``parameter_sd_resolution`` (the least parameter_sd this
        many draws and replications can tell from none: the sd whose variance is two
        standard errors of the noise-corrected variance when the parameters move nothing),
        ``draws`` and ``replications_per_draw``.
    """
    drawn, rows = drawn_rows(result, group)
    counts = np.bincount(drawn, minlength=rows)
    used = counts > 0
    outcomes = result.outcomes
    horizons = result.scenario.report_horizons
    pooled = horizon_estimates(result.summary, horizons).set_index(["domain", "horizon"])
    start = parse_month(result.scenario.start)
    table = []
    for index, domain in enumerate(outcomes.channels):
        for horizon in horizons:
            estimate = pooled.loc[(domain, horizon)]
            p = float(estimate.p_survive)
            alive = ~(outcomes.event[index] & (outcomes.month[index] <= horizon))
            per_draw = np.bincount(drawn, weights=alive, minlength=rows)[used] / counts[used]
            spread, resolution = parameter_spread(per_draw, counts[used])
            table.append({
                "domain": domain, "horizon": horizon, "date": iso_month(start + horizon),
                "p_survive": p,
                "chance_low": float(estimate.ci_low), "chance_high": float(estimate.ci_high),
                "parameter_sd": spread,
                "parameter_low": max(p - 1.645 * spread, 0.0),
                "parameter_high": min(p + 1.645 * spread, 1.0),
                "parameter_sd_resolution": resolution,
                "draws": int(used.sum()), "replications_per_draw": float(counts[used].mean()),
            })  # fmt: skip
    return pd.DataFrame(table)


def _band(low: float, high: float, beside: tuple[float, float]) -> str:
    """``[low, high]`` with the decimals that show its width, as table cells have them.

    It has at least the decimals of the interval ``beside`` it, so that a band of no width
    at 0.999 reads 0.999, as the estimate beside it does, not 1.00.
    """
    digits = max(interval_digits(low, high), interval_digits(*beside))
    return f"[{low:.{digits}f}, {high:.{digits}f}]"


def uncertainty_markdown(table: pd.DataFrame, group: str, scenario: Scenario) -> str:
    """The decomposition as a Markdown table, with domain labels and dates as other tables."""
    per_draw = table.replications_per_draw.iloc[0]
    start = parse_month(scenario.start)
    title = (
        f"P(alive) with parameters drawn from the '{group}' sample: chance against "
        "parameter uncertainty"
    )
    note = (
        "Chance: Wilson 95% interval of the pooled estimate (shrinks with more replications). "
        "Parameters: 90% band of P(alive) across the posterior draws, after removing each "
        f"draw's own sampling noise ({table.draws.iloc[0]} draws, about {per_draw:.0f} "
        "replications each; more replications sharpen this band's estimate, not its width). "
        f"At this size a parameter sd below about {table.parameter_sd_resolution.max():.3f} "
        "cannot be told from none (two standard errors of the noise-corrected variance; "
        "`parameter_sd_resolution` in the CSV gives it row by row)."
    )
    header = ["Domain", "Date", "P(alive) [chance]", "Parameters", "Parameter sd"]
    rows = [
        [
            domain_label(scenario, row.domain),
            month_label(start + int(row.horizon)),
            interval_cell(row.p_survive, row.chance_low, row.chance_high),
            _band(row.parameter_low, row.parameter_high, (row.chance_low, row.chance_high)),
            f"{row.parameter_sd:.3f}",
        ]
        for row in table.itertuples()
    ]
    return f"**{title}**\n\n{note}\n\n{markdown_grid(header, rows)}\n"
