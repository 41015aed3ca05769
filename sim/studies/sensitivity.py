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

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.engine.options import RunOptions
from sim.errors import Advisory
from sim.model.streams import Stream, study_sequence
from sim.reports.sensitivity import write_sensitivity
from sim.results.settings import RunSettings
from sim.scenario.sweepfile import Sweep, cast_value
from sim.studies.sweep import evaluate_points, open_sweep_study, point_key

WIDE_INTERVAL = 0.5
"""An index whose 95% interval is wider than this is too noisy to read (more samples)."""


@dataclass
class SensitivityResult:
    """Sobol' indices of a sweep file's sensitivity output.

    Attributes:
        table: One row per parameter: ``parameter, label, first_order, first_order_low,
            first_order_high, total_order, total_order_low, total_order_high``.
        sweep: The sweep file as read.
        settings: Replications, seed and chunk size of every point.
        directory: The study's directory, or None.
        manifest: Settings and provenance.
    """

    table: pd.DataFrame
    sweep: Sweep
    settings: RunSettings
    directory: Path | None
    manifest: dict[str, Any] = field(repr=False)


def sensitivity(
    file: str | Path | None = None, options: RunOptions | None = None, **changes: Any
) -> SensitivityResult:
    """Sobol' indices of a sweep file's sensitivity output to its parameters' ranges.

    Args:
        file: A sweep file with a ``sensitivity`` section and a range for every parameter
            (omit when resuming).
        options: How to run, as for :func:`sim.studies.sweep.sweep`.
        **changes: Fields of :class:`~sim.engine.options.RunOptions`.

    Returns:
        The :class:`SensitivityResult`. Indices outside [0, 1] or with intervals wider
        than :data:`WIDE_INTERVAL` come with an :class:`~sim.errors.Advisory` warning:
        they are Monte Carlo noise more than signal.
    """
    from scipy import stats

    options = RunOptions.of(options, **changes)
    study, sweep_file, base, settings = open_sweep_study("sensitivity", file, options)
    with study:
        sobol = sweep_file.sensitivity  # checked when the file was read: it is there, with ranges
        names = list(sweep_file.parameters)
        output = sobol.output
        total = sobol.samples * (len(names) + 2)

        def model(x: np.ndarray) -> np.ndarray:
            points = [
                {
                    name: cast_value(sweep_file.parameters[name], column[i])
                    for i, name in enumerate(names)
                }
                for column in x.T
            ]
            estimates = evaluate_points(
                study,
                sweep_file,
                base,
                settings,
                points,
                options,
                f"{sweep_file.name} sensitivity",
                total,
            )
            values = []
            for point in points:
                table = estimates[point_key(point)]
                row = table[(table.domain == output.domain) & (table.horizon == output.horizon)]
                values.append(float(row.p_survive.iloc[0]))
            return np.asarray(values)[None, :]

        dists = [
            stats.uniform(loc=p.range[0], scale=p.range[1] - p.range[0])
            for p in sweep_file.parameters.values()
        ]
        rng = np.random.default_rng(study_sequence(settings.seed, Stream.SENSITIVITY))
        result = stats.sobol_indices(func=model, n=sobol.samples, dists=dists, rng=rng)
        intervals = result.bootstrap(confidence_level=0.95, n_resamples=sobol.resamples)

        def per_parameter(values) -> np.ndarray:
            return np.asarray(values).reshape(-1)  # one output: scipy gives shape (d,)

        table = pd.DataFrame(
            {
                "parameter": names,
                "label": [sweep_file.parameters[n].label or n for n in names],
                "first_order": per_parameter(result.first_order),
                "first_order_low": per_parameter(intervals.first_order.confidence_interval.low),
                "first_order_high": per_parameter(intervals.first_order.confidence_interval.high),
                "total_order": per_parameter(result.total_order),
                "total_order_low": per_parameter(intervals.total_order.confidence_interval.low),
                "total_order_high": per_parameter(intervals.total_order.confidence_interval.high),
            }
        )
        _warn_if_noisy(table, sobol.samples)
        written = (
            write_sensitivity(table, sweep_file, base, settings, study.path) if study.path else []
        )
        study.finish(written)
        return SensitivityResult(table, sweep_file, settings, study.path, study.manifest)


def _warn_if_noisy(table: pd.DataFrame, samples: int) -> None:
    """Warn about indices that Monte Carlo noise dominates."""
    noisy = []
    for row in table.itertuples():
        for order in ("first_order", "total_order"):
            value = getattr(row, order)
            width = getattr(row, f"{order}_high") - getattr(row, f"{order}_low")
            if not -0.05 <= value <= 1.05 or width > WIDE_INTERVAL:
                noisy.append(f"{row.parameter} {order.replace('_', '-')} {value:.2f}")
    if noisy:
        warnings.warn(
            f"Sobol' indices dominated by noise ({'; '.join(noisy)}): indices lie in [0, 1] "
            f"and these fall outside it or have 95% intervals wider than {WIDE_INTERVAL}; "
            f"raise sensitivity.samples (now {samples}) or the replications",
            Advisory,
            stacklevel=3,
        )
