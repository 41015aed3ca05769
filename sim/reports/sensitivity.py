"""Outputs of a sensitivity analysis: Sobol' indices as CSV, Markdown and a bar chart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.reports import figures
from sim.reports.tables import domain_label, interval_cell, markdown_grid
from sim.results.settings import RunSettings
from sim.scenario import Scenario
from sim.scenario.sweepfile import Sweep
from sim.storage import write_text


def _description(sweep_file: Sweep, base: Scenario, settings: RunSettings) -> str:
    output = sweep_file.sensitivity.output
    label = domain_label(base, output.domain)
    evaluations = sweep_file.sensitivity.samples * (len(sweep_file.parameters) + 2)
    return (
        f"Sobol' indices of P({label} alive at {output.horizon} months) to the ranges of "
        f"sweep {sweep_file.name}: {evaluations} points (n = {sweep_file.sensitivity.samples}, "
        f"Saltelli 2010), {settings.replications:,} replications each on common random numbers; "
        f"95% bootstrap intervals ({sweep_file.sensitivity.resamples} resamples)."
    )


def write_sensitivity(
    table: pd.DataFrame, sweep_file: Sweep, base: Scenario, settings: RunSettings, directory: Path
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
    grid = markdown_grid(header, rows, title=_description(sweep_file, base, settings))
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
