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
from scipy import stats

from sim.engine.runner import DEFAULT_CHUNK_SIZE
from sim.model.streams import Stream, study_sequence
from sim.reports.sensitivity import write_sensitivity
from sim.scenario.sweepfile import cast_value
from sim.studies.sweep import evaluate_points, open_study, point_key


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
    seed_sequence = study_sequence(base.seed, Stream.SENSITIVITY)

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
