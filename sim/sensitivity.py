"""Global sensitivity: which uncertain parameters drive an output, by Sobol' indices.

The parameters and their ranges come from a sweep file, the output from its
``sensitivity`` section (P(domain alive) at a horizon). ``scipy.stats.sobol_indices``
draws its sample matrices (n·(d + 2) points for d parameters, Saltelli 2010); every
point is the base scenario with those values, run on common random numbers; first-order
and total indices get bootstrap 95% intervals. Each evaluation carries Monte Carlo noise
(its standard error is at most 0.5/sqrt(replications)), which inflates the indices of
parameters that barely matter: read small indices as "no detectable effect".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from sim import figures
from sim.engine import DEFAULT_CHUNK_SIZE
from sim.scenario import Scenario
from sim.storage import write_text
from sim.sweep import Sweep, cast_value, evaluate_points, open_study, point_key
from sim.tables import domain_label, interval_cell, markdown_grid


def sensitivity(
    file: str | Path | None = None,
    *,
    replications: int | None = None,
    seed: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    out: str | Path | None = None,
    resume: str | Path | None = None,
    force: bool = False,
    progress: bool = False,
) -> pd.DataFrame:
    """Sobol' indices of a sweep file's sensitivity output to its parameters' ranges.

    Args are as for :func:`sim.sweep.sweep`; the file must have a ``sensitivity``
    section and a range for every parameter.

    Returns:
        One row per parameter: ``parameter, label, first_order, first_order_low,
        first_order_high, total_order, total_order_low, total_order_high``.
    """
    spec, base, directory, manifest = open_study(
        file, "sensitivity", out=out, resume=resume, force=force, replications=replications,
        seed=seed, chunk_size=chunk_size,
    )  # fmt: skip
    settings = spec.sensitivity  # open_study checked it is there, with every range
    names = list(spec.parameters)
    output = settings.output
    seed_sequence = np.random.SeedSequence(base.seed, spawn_key=(2**32 + 1,))

    def model(x: np.ndarray) -> np.ndarray:
        points = [
            {name: cast_value(spec.parameters[name], column[i]) for i, name in enumerate(names)}
            for column in x.T
        ]
        estimates = evaluate_points(
            spec, base, points, directory=directory.path if directory else None,
            chunk_size=manifest["chunk_size"], workers=workers, executor=executor,
            scheduler=scheduler, progress=progress, description=f"{spec.name} sensitivity",
        )  # fmt: skip
        values = []
        for point in points:
            table = estimates[point_key(point)]
            row = table[(table.domain == output.domain) & (table.horizon == output.horizon)]
            values.append(float(row.p_survive.iloc[0]))
        return np.asarray(values)[None, :]

    dists = [
        stats.uniform(loc=p.range[0], scale=p.range[1] - p.range[0])
        for p in spec.parameters.values()
    ]
    rng = np.random.default_rng(seed_sequence)
    result = stats.sobol_indices(func=model, n=settings.samples, dists=dists, rng=rng)
    intervals = result.bootstrap(confidence_level=0.95, n_resamples=settings.resamples)

    def per_parameter(values) -> np.ndarray:
        return np.asarray(values).reshape(-1)  # one output: scipy gives shape (d,)

    table = pd.DataFrame(
        {
            "parameter": names,
            "label": [spec.parameters[n].label or n for n in names],
            "first_order": per_parameter(result.first_order),
            "first_order_low": per_parameter(intervals.first_order.confidence_interval.low),
            "first_order_high": per_parameter(intervals.first_order.confidence_interval.high),
            "total_order": per_parameter(result.total_order),
            "total_order_low": per_parameter(intervals.total_order.confidence_interval.low),
            "total_order_high": per_parameter(intervals.total_order.confidence_interval.high),
        }
    )
    if directory is not None:
        directory.finish(manifest, write_sensitivity(table, spec, base, directory.path))
    table.attrs.update(sweep=spec.name, directory=str(directory.path) if directory else None)
    return table


def _description(spec: Sweep, base: Scenario) -> str:
    output = spec.sensitivity.output
    label = domain_label(base, output.domain)
    evaluations = spec.sensitivity.samples * (len(spec.parameters) + 2)
    return (
        f"Sobol' indices of P({label} alive at {output.horizon} months) to the ranges of "
        f"sweep {spec.name}: {evaluations} points (n = {spec.sensitivity.samples}, "
        f"Saltelli 2010), {base.replications:,} replications each on common random numbers; "
        f"95% bootstrap intervals ({spec.sensitivity.resamples} resamples)."
    )


def write_sensitivity(
    table: pd.DataFrame, spec: Sweep, base: Scenario, directory: Path
) -> list[Path]:
    """Write ``sensitivity.csv``, ``sensitivity.md`` and a bar chart (png, pdf)."""
    write_text(directory / "sensitivity.csv", table.to_csv(index=False))
    rows = [
        [
            row.label,
            interval_cell(row.first_order, row.first_order_low, row.first_order_high),
            interval_cell(row.total_order, row.total_order_low, row.total_order_high),
        ]
        for row in table.itertuples()
    ]
    header = ["Parameter", "First order", "Total order"]
    grid = markdown_grid(header, rows, title=_description(spec, base))
    write_text(directory / "sensitivity.md", grid + "\n")
    figure = sensitivity_figure(table)
    written = [directory / "sensitivity.csv", directory / "sensitivity.md"]
    for kind in ("png", "pdf"):
        figures.save(figure, directory / f"sensitivity.{kind}")
        written.append(directory / f"sensitivity.{kind}")
    return written


def sensitivity_figure(table: pd.DataFrame) -> Figure:
    """Bar chart of first-order and total indices with their intervals."""
    positions = np.arange(len(table))
    width = 0.38
    with figures.style():
        figure = Figure(
            figsize=(figures.SINGLE_COLUMN, 1.2 + 0.45 * len(table)), layout="constrained"
        )
        ax = figure.subplots()
        for offset, (column, name, colour) in enumerate(
            (("first_order", "first order", figures.OKABE_ITO[0]),
             ("total_order", "total", figures.OKABE_ITO[1]))
        ):  # fmt: skip
            low = table[column] - table[f"{column}_low"]
            high = table[f"{column}_high"] - table[column]
            ax.barh(positions + (offset - 0.5) * width, table[column], height=width, color=colour,
                    xerr=[low.clip(lower=0), high.clip(lower=0)], error_kw={"elinewidth": 0.6},
                    label=name)  # fmt: skip
        ax.set_yticks(positions, table.label)
        ax.invert_yaxis()
        ax.set_xlabel("Sobol' index")
        ax.axvline(0, color="grey", linewidth=0.5)
        ax.legend(frameon=False, loc="lower right")
        ax.set_title("Global sensitivity", fontsize=7)
    return figure
