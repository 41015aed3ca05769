"""Outputs of a sweep: ``sweep.csv``, ``sweep.parquet`` and a figure of P(alive) over the design.

One panel per output of interest: a line (with its Wilson band) for one parameter, a
heatmap for a two-parameter grid, points with error bars otherwise.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.reports import figures
from sim.reports.tables import domain_label
from sim.results.settings import RunSettings
from sim.results.store import write_frame
from sim.scenario import Scenario
from sim.scenario.sweepfile import Sweep
from sim.storage import write_text

SWEEP_TABLE = "sweep.parquet"


def write_sweep(
    table: pd.DataFrame, sweep_file: Sweep, base: Scenario, settings: RunSettings, directory: Path
) -> list[Path]:
    """Write ``sweep.csv``, ``sweep.parquet`` and ``sweep.png``/``.pdf``."""
    write_text(directory / "sweep.csv", table.to_csv(index=False))
    write_frame(directory / SWEEP_TABLE, table)
    figure = sweep_figure(table, sweep_file, base, settings)
    written = [directory / "sweep.csv", directory / SWEEP_TABLE]
    for kind in ("png", "pdf"):
        figures.save(figure, directory / f"sweep.{kind}")
        written.append(directory / f"sweep.{kind}")
    return written


def sweep_figure(
    table: pd.DataFrame, sweep_file: Sweep, base: Scenario, settings: RunSettings
) -> Figure:
    """One panel per output of interest: a line for one parameter, a heatmap for a 2-D grid."""
    names = list(sweep_file.parameters)
    labels = {n: sweep_file.parameters[n].label or n.replace("_", " ") for n in names}
    outputs = sweep_file.outputs
    columns = min(len(outputs), 2)
    rows = -(-len(outputs) // columns)
    heatmap = len(names) == 2 and sweep_file.design.kind == "grid"
    with figures.style():
        figure = Figure(figsize=(figures.DOUBLE_COLUMN if columns > 1 else figures.SINGLE_COLUMN,
                                 2.6 * rows + 0.4), layout="constrained")  # fmt: skip
        axes = figure.subplots(rows, columns, squeeze=False)
        for ax, output in zip(axes.flat, outputs, strict=False):
            here = table[(table.domain == output.domain) & (table.horizon == output.horizon)]
            title = f"P({domain_label(base, output.domain)} alive at {output.horizon} months)"
            if heatmap:
                grid = here.pivot_table(index=names[1], columns=names[0], values="p_survive")
                image = ax.pcolormesh(range(grid.shape[1] + 1), range(grid.shape[0] + 1),
                                      grid.to_numpy(), cmap="viridis", vmin=0, vmax=1)  # fmt: skip
                ax.set_xticks(
                    np.arange(grid.shape[1]) + 0.5,
                    [f"{v:g}" if not isinstance(v, str) else v for v in grid.columns],
                )
                ax.set_yticks(
                    np.arange(grid.shape[0]) + 0.5,
                    [f"{v:g}" if not isinstance(v, str) else v for v in grid.index],
                )
                for (y, x), value in np.ndenumerate(grid.to_numpy()):
                    ax.text(x + 0.5, y + 0.5, f"{value:.2f}", ha="center", va="center", fontsize=5,
                            color="white" if value < 0.6 else "black")  # fmt: skip
                figure.colorbar(image, ax=ax, shrink=0.8)
                ax.set_xlabel(labels[names[0]])
                ax.set_ylabel(labels[names[1]])
            else:
                ordered = here.sort_values(names[0])
                x = ordered[names[0]]
                if len(names) == 1:
                    ax.fill_between(x, ordered.ci_low, ordered.ci_high, color=figures.OKABE_ITO[0],
                                    alpha=0.25, linewidth=0)  # fmt: skip
                    ax.plot(
                        x, ordered.p_survive, color=figures.OKABE_ITO[0], marker="o", markersize=2
                    )
                else:
                    ax.errorbar(x, ordered.p_survive, yerr=[ordered.p_survive - ordered.ci_low,
                                ordered.ci_high - ordered.p_survive], fmt="o", markersize=2,
                                color=figures.OKABE_ITO[0], elinewidth=0.5)  # fmt: skip
                ax.set_xlabel(labels[names[0]])
                ax.set_ylabel("P(alive)")
                ax.set_ylim(0, 1.02)
            ax.set_title(title)
        for ax in axes.flat[len(outputs) :]:
            ax.set_visible(False)
        n = settings.replications
        caption = (
            f"Sweep {sweep_file.name}: {len(table.point.unique())} points "
            f"({sweep_file.design.kind}), "
            f"{n:,} replications each on common random numbers; "
            + ("cells: P(alive)." if heatmap else "bands and bars: Wilson 95% intervals.")
        )
        # Wrapped to the figure's width (6-point type: about 22 characters an inch), or a
        # single-column figure cuts it off.
        width = int(figure.get_figwidth() * 22)
        figure.supxlabel("\n".join(textwrap.wrap(caption, width)), fontsize=6, x=0.0, ha="left")
    return figure
