"""Figures of a run, sized for journal columns, in a colour-blind-safe palette.

Survival curves are drawn as post-step lines (a Kaplan–Meier curve is a step function)
with their pointwise 95% log-log intervals as step-filled bands edged by hairlines, dark
enough to see wherever they are wider than the curve; captions give the widest band, so
that a band too narrow to see is known to be there. Figures are
built on :class:`matplotlib.figure.Figure` (no pyplot state) and saved without
timestamps, so the same run gives the same files.

Writing them is most of the time a run spends on its reports, so they are drawn to be
quick to draw: fixed layouts instead of a layout solver, positions and tick labels set
rather than measured, one set of small multiples (:class:`Panels`) drawn into by each
panel figure of a run in turn, and each figure drawn once per format.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import IO

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import transforms
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from sim.months import parse_month
from sim.reports import fonts
from sim.results import RunResult
from sim.storage import atomic_file

# Okabe and Ito (2008), "Color Universal Design": distinguishable with any colour vision.
OKABE_ITO = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)
SINGLE_COLUMN = 3.5  # inches, a journal's single column
DOUBLE_COLUMN = 7.0  # inches, the full text width
STYLE = {
    "font.size": 7,
    "axes.titlesize": 7,
    "axes.labelsize": 7,
    "xtick.labelsize": 6,
    "ytick.labelsize": 6,
    "legend.fontsize": 6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.0,
    "pdf.fonttype": 42,
}


def year_positions(start: int, horizon: int) -> tuple[np.ndarray, list[str]]:
    """Months of each January (every second one for long horizons), and their years."""
    first_january = (12 - start % 12) % 12
    ticks = np.arange(first_january, horizon + 1, 12 if horizon <= 72 else 24)
    return ticks, [str((start + t) // 12) for t in ticks]


def year_ticks(ax, start: int, horizon: int) -> None:
    """Ticks at each January (every second one for long horizons), labelled by year."""
    ax.set_xticks(*year_positions(start, horizon))
    ax.set_xlim(0, horizon)


BAND_ALPHA = 0.4
"""Opacity of an interval band: a tint of 0.25 could not be told from the background."""
CURVE_WIDTH = 0.8  # points: thin enough that a narrow band shows on both sides
BOUND_WIDTH = 0.3  # points: the hairlines that edge a band


def step_band(ax, months, estimate, low, high, color: str, label: str | None = None) -> None:
    """A post-step curve with its interval as a step-filled band edged by hairlines."""
    ax.fill_between(months, low, high, step="post", color=color, alpha=BAND_ALPHA, linewidth=0)
    for bound in (low, high):
        ax.step(months, bound, where="post", color=color, linewidth=BOUND_WIDTH)
    ax.step(months, estimate, where="post", color=color, linewidth=CURVE_WIDTH, label=label)


def widest_band(survival) -> float:
    """The largest half-width of the pointwise intervals of a survival table."""
    return float(((survival.ci_high - survival.ci_low) / 2).max())


def caption(result: RunResult) -> str:
    """The survival figure's caption: what is drawn, replications, interval level."""
    return (
        f"Kaplan–Meier probability that each channel is alive, scenario {result.scenario.name}, "
        f"{result.replications:,} replications (seed {result.seed}). "
        "Bands: pointwise 95% log-log confidence intervals, at most "
        f"±{widest_band(result.survival):.3f} wide; where narrower than the curve they "
        "cannot be seen."
    )


YLABEL_OFFSET = 20.8
"""Points from a panel's left edge to its y label: where matplotlib puts it beside tick
labels 0.0 to 1.0 at the house style's sizes (ticks, pads and the labels' width: 20.6
points as measured at 300 dpi, 21.0 at 72)."""


class Panels:
    """Small multiples, one per domain of a run, on one scale (0 to 1), with a caption.

    Panels run four to a row, full width, on a fixed layout (in inches) rather than a
    solver: the same look, drawn in a fraction of the time, for any number of rows. The
    lowest panel of each column carries the year labels, the first of each row the y
    label. Positions a draw would otherwise work out from the extents of text (titles, y
    labels) are fixed, and tick labels are given as text, so that saving the figure
    measures and formats as little as it can.

    The panel figures of a run (survival, intensity, termination, fan charts) share all
    of this (titles, ticks, layout): one set of panels serves each in turn, built once.
    :meth:`draw` empties the panels and relabels them for the next figure; each figure
    is saved before the next is drawn. The figure keeps one raster canvas, whose
    renderer (and what it has measured) each PNG reuses.
    """

    def __init__(self, titles: list[str], start: int, horizon: int) -> None:
        """Build the panels (under the house style).

        Args:
            titles: One per panel.
            start: The first month (months since year 0), for the year ticks.
            horizon: Months simulated.
        """
        count = len(titles)
        columns = min(4, count)
        rows = -(-count // columns)
        height = 1.45 * rows + 0.55
        ticks, years = year_positions(start, horizon)
        with style():
            self.figure = Figure(figsize=(DOUBLE_COLUMN, height))
            FigureCanvasAgg(self.figure)
            grid = self.figure.add_gridspec(
                rows, columns, left=0.07, right=0.975, top=1 - 0.22 / height,
                bottom=0.55 / height, wspace=0.12, hspace=0.42,
            )  # fmt: skip
            offset = transforms.ScaledTranslation(
                -YLABEL_OFFSET / 72, 0, self.figure.dpi_scale_trans
            )
            self.axes = []
            for index, title in enumerate(titles):
                column = index % columns
                ax = self.figure.add_subplot(grid[index // columns, column])
                ax.set_xlim(0, horizon)
                ax.set_xticks(ticks, years)
                ax.set_ylim(0, 1.02)
                ax.set_yticks([0, 0.5, 1], ["0.0", "0.5", "1.0"])
                ax.tick_params(labelbottom=index + columns >= count, labelleft=column == 0)
                ax.grid(axis="y", linewidth=0.3, alpha=0.5)
                ax.set_title(title, y=1.0)  # placed, not moved clear of decorations
                # Labels placed, not moved clear of the tick labels: the y label where
                # matplotlib would put it (on the first column; empty elsewhere), no x label.
                ax.yaxis.set_label_coords(0, 0.5, transform=ax.transAxes + offset)
                ax.xaxis.set_label_coords(0.5, 0)
                self.axes.append(ax)
            self.caption = self.figure.text(
                0.01, 0.08 / height, "", fontsize=6, ha="left", va="bottom"
            )

    def draw(self, caption_text: str, ylabel: str) -> tuple[Figure, list]:
        """Empty the panels and label them for a figure.

        Returns:
            The figure and its panels, one per title.
        """
        for ax in self.axes:
            for artist in (*ax.lines, *ax.collections, *ax.patches, *ax.texts):
                artist.remove()
            if ax.legend_ is not None:
                ax.legend_.remove()
            ax.set_prop_cycle(None)
            if ax.get_subplotspec().is_first_col():
                ax.set_ylabel(ylabel)
        self.caption.set_text("\n".join(textwrap.wrap(caption_text, 150)))
        return self.figure, self.axes


def run_panels(result: RunResult) -> Panels:
    """Panels for the domains of a run (channels, then treaties)."""
    from sim.reports.tables import domain_label

    domains = [*result.scenario.channels, *result.scenario.treaties]
    return Panels(
        [domain_label(result.scenario, domain) for domain in domains],
        parse_month(result.scenario.start),
        result.scenario.horizon,
    )


def survival_figure(result: RunResult, panels: Panels | None = None) -> Figure:
    """Small multiples: one panel per domain, survival with its 95% band.

    Args:
        result: The run.
        panels: The run's :class:`Panels` to draw into (new ones if not given).
    """
    survival = result.survival
    domains = [*result.scenario.channels, *result.scenario.treaties]
    with style():
        figure, axes = (panels or run_panels(result)).draw(caption(result), "P(alive)")
        for ax, domain in zip(axes, domains, strict=True):
            curve = survival[survival.domain == domain]
            step_band(ax, curve.month, curve.p_survive, curve.ci_low, curve.ci_high, OKABE_ITO[0])
    return figure


def intensity_caption(result: RunResult) -> str:
    """The intensity figure's caption."""
    return (
        f"Intensity of cooperation per domain, scenario {result.scenario.name}, "
        f"{result.replications:,} replications (seed {result.seed}): median (line), 50% and "
        "90% of replications (bands), mean (dashed); an ended channel counts at its "
        "intensity after it ended. Treaty: share of replications in force."
    )


def intensity_figure(
    result: RunResult, frame: pd.DataFrame, panels: Panels | None = None
) -> Figure:
    """Fan charts: one panel per domain, the median intensity with its 50% and 90% ranges.

    Args:
        result: The run.
        frame: Its :func:`sim.stats.intensity.intensity_frame` (``mean, q05 … q95``).
        panels: The run's :class:`Panels` to draw into (new ones if not given).
    """
    domains = [*result.scenario.channels, *result.scenario.treaties]
    colour = OKABE_ITO[0]
    with style():
        figure, axes = (panels or run_panels(result)).draw(intensity_caption(result), "intensity")
        for ax, domain in zip(axes, domains, strict=True):
            here = frame[frame.domain == domain]
            months = here.month.to_numpy()
            if domain in result.scenario.treaties:
                ax.plot(months, here["mean"], color=colour, label="share in force")
            else:
                ax.fill_between(months, here.q05, here.q95, color=colour, alpha=0.15,
                                linewidth=0, label="90%")  # fmt: skip
                ax.fill_between(months, here.q25, here.q75, color=colour, alpha=0.3,
                                linewidth=0, label="50%")  # fmt: skip
                ax.plot(months, here.q50, color=colour, label="median")
                ax.plot(months, here["mean"], color=OKABE_ITO[7], linewidth=0.6,
                        linestyle=(0, (3, 2)), label="mean")  # fmt: skip
        axes[0].legend(frameon=False, loc="upper right", ncols=2, fontsize=5)
    return figure


def alive_figure(result: RunResult) -> Figure:
    """Number of domains alive over time: mean, and the 10–90% and 25–75% ranges."""
    counts = result.summary.alive_counts.astype(np.float64)
    months = np.arange(counts.shape[0])
    share = np.cumsum(counts, axis=1) / counts.sum(axis=1, keepdims=True)

    def quantile(q: float) -> np.ndarray:
        return np.argmax(share >= q - 1e-12, axis=1)

    mean = (counts * np.arange(counts.shape[1])).sum(axis=1) / counts.sum(axis=1)
    start = parse_month(result.scenario.start)
    with style():
        figure = Figure(figsize=(SINGLE_COLUMN, 2.6))
        # Margins in inches, as a layout solver finds them for this figure (title above,
        # two-digit counts and a y label to the left), set without solving.
        figure.subplots_adjust(left=0.398 / SINGLE_COLUMN, right=1 - 0.042 / SINGLE_COLUMN,
                               bottom=0.222 / 2.6, top=1 - 0.199 / 2.6)  # fmt: skip
        ax = figure.subplots()
        ax.fill_between(months, quantile(0.1), quantile(0.9), step="post", color=OKABE_ITO[0],
                        alpha=0.15, linewidth=0, label="10–90% of replications")  # fmt: skip
        ax.fill_between(months, quantile(0.25), quantile(0.75), step="post", color=OKABE_ITO[0],
                        alpha=0.3, linewidth=0, label="25–75%")  # fmt: skip
        ax.step(months, mean, where="post", color=OKABE_ITO[0], label="mean")
        ax.set_ylim(0, counts.shape[1] - 0.5)
        ax.set_ylabel("domains alive")
        year_ticks(ax, start, result.scenario.horizon)
        ax.legend(frameon=False, loc="lower left")
        ax.set_title(f"Domains alive, {result.scenario.name}, {result.replications:,} replications")
    return figure


def style():
    """The house style, as a context manager (typeface: :mod:`sim.reports.fonts`)."""
    return matplotlib.rc_context({**STYLE, "font.family": list(fonts.families())})


def prepare() -> None:
    """Load the plotting backends and fonts ahead of the first figure.

    Worth a few tenths of a second; a run calls it in a background thread while its
    workers start, when this process has nothing else to do. A small figure is drawn in
    each format, so that what their first use loads (fonts, encoders) is loaded here.
    """
    with style():
        figure = Figure(figsize=(1, 1))
        figure.text(0.5, 0.5, "0.5 P(alive)")
        for kind in ("png", "pdf"):
            _write(figure, io.BytesIO(), kind)


DPI = 300
"""Resolution of the PNG figures."""


def save(figure: Figure, path: Path) -> None:
    """Save atomically and without timestamps (format from the suffix: png or pdf).

    Saved in the house style, as it was drawn: some settings (the PDF's embedded
    TrueType fonts, which journals ask for, rather than Type 3) act only when saving.
    """
    kind = path.suffix.lstrip(".")
    with style(), atomic_file(path) as handle:
        _write(figure, handle, kind)
    # The layout is now computed: keep it for the next format instead of solving it again.
    figure.set_layout_engine("none")


def _write(figure: Figure, handle: IO[bytes], kind: str) -> None:
    """Draw the figure once and write it in one format.

    A PNG is drawn at :data:`DPI` on the figure's raster canvas (kept, with its
    renderer, for the next PNG of the same figure) and written as RGB, lightly
    compressed: the figure is opaque, and the pixels without an alpha channel are a
    quarter fewer bytes to encode (the encoding was a good part of a figure's time).
    """
    if kind != "png":
        figure.savefig(handle, format=kind, dpi=DPI, metadata={"CreationDate": None})
        return
    canvas = figure.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(figure)
    screen = figure.dpi
    figure.dpi = DPI
    try:
        canvas.draw()
        pixels = Image.fromarray(np.asarray(canvas.buffer_rgba())).convert("RGB")
    finally:
        figure.dpi = screen
    pixels.save(handle, format="png", dpi=(DPI, DPI), compress_level=1)
