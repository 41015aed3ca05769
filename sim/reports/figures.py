"""Figures of a run, sized for journal columns, in a colour-blind-safe palette.

Survival curves are drawn as post-step lines (a Kaplan–Meier curve is a step function)
with their pointwise 95% log-log intervals as step-filled bands edged by hairlines, dark
enough to see wherever they are wider than the curve; captions give the widest band, so
that a band too narrow to see is known to be there. Figures are
built on :class:`matplotlib.figure.Figure` (no pyplot state) and saved without
timestamps, so the same run gives the same files.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.months import parse_month
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


def year_ticks(ax, start: int, horizon: int) -> None:
    """Ticks at each January (every second one for long horizons), labelled by year."""
    first_january = (12 - start % 12) % 12
    step = 12 if horizon <= 72 else 24
    ticks = np.arange(first_january, horizon + 1, step)
    ax.set_xticks(ticks)
    ax.set_xticklabels([str((start + t) // 12) for t in ticks])
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


def panel_grid(count: int, start: int, horizon: int, caption_text: str, ylabel: str):
    """A full-width figure of ``count`` small multiples sharing both axes, with a caption.

    Panels run four to a row on a fixed layout (in inches) rather than a solver: the same
    look, drawn in a fraction of the time, for any number of rows. The lowest panel of
    each column carries the year labels, the first of each row the y label.

    Returns:
        The figure and the panels in use (the unused ones are hidden).
    """
    columns = min(4, count)
    rows = -(-count // columns)
    height = 1.45 * rows + 0.55
    figure = Figure(figsize=(DOUBLE_COLUMN, height))
    figure.subplots_adjust(
        left=0.07, right=0.975, top=1 - 0.22 / height, bottom=0.55 / height,
        wspace=0.12, hspace=0.42,
    )  # fmt: skip
    axes = figure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)
    # The axes share both scales: ticks and limits set once apply to every panel
    # (set per panel, each setting is repeated across all of them).
    axes[0, 0].set_ylim(0, 1.02)
    axes[0, 0].set_yticks([0, 0.5, 1])
    year_ticks(axes[0, 0], start, horizon)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    for column in range(columns):
        last = max(r for r in range(rows) if r * columns + column < count)
        axes[last, column].xaxis.set_tick_params(labelbottom=True)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    figure.text(0.01, 0.08 / height, "\n".join(textwrap.wrap(caption_text, 150)),
                fontsize=6, ha="left", va="bottom")  # fmt: skip
    return figure, list(axes.flat[:count])


def survival_figure(result: RunResult) -> Figure:
    """Small multiples: one panel per domain, survival with its 95% band."""
    from sim.reports.tables import domain_label

    survival = result.survival
    domains = [*result.scenario.channels, *result.scenario.treaties]
    start = parse_month(result.scenario.start)
    with style():
        figure, axes = panel_grid(
            len(domains), start, result.scenario.horizon, caption(result), "P(alive)"
        )
        for ax, domain in zip(axes, domains, strict=True):
            curve = survival[survival.domain == domain]
            step_band(ax, curve.month, curve.p_survive, curve.ci_low, curve.ci_high, OKABE_ITO[0])
            ax.set_title(domain_label(result.scenario, domain))
            ax.grid(axis="y", linewidth=0.3, alpha=0.5)
    return figure


def intensity_caption(result: RunResult) -> str:
    """The intensity figure's caption."""
    return (
        f"Intensity of cooperation per domain, scenario {result.scenario.name}, "
        f"{result.replications:,} replications (seed {result.seed}): median (line), 50% and "
        "90% of replications (bands), mean (dashed); an ended channel counts at its "
        "intensity after it ended. Treaty: share of replications in force."
    )


def intensity_figure(result: RunResult, frame: pd.DataFrame) -> Figure:
    """Fan charts: one panel per domain, the median intensity with its 50% and 90% ranges.

    Args:
        result: The run.
        frame: Its :func:`sim.stats.intensity.intensity_frame` (``mean, q05 … q95``).
    """
    from sim.reports.tables import domain_label

    domains = [*result.scenario.channels, *result.scenario.treaties]
    start = parse_month(result.scenario.start)
    colour = OKABE_ITO[0]
    with style():
        figure, axes = panel_grid(
            len(domains), start, result.scenario.horizon, intensity_caption(result), "intensity"
        )
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
            ax.set_title(domain_label(result.scenario, domain))
            ax.grid(axis="y", linewidth=0.3, alpha=0.5)
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
        figure = Figure(figsize=(SINGLE_COLUMN, 2.6), layout="constrained")
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
    """The house style, as a context manager."""
    return matplotlib.rc_context(STYLE)


def prepare() -> None:
    """Load the plotting backends and fonts ahead of the first figure.

    Worth a few tenths of a second; a run calls it in a background thread while its
    workers start, when this process has nothing else to do.
    """
    import matplotlib.backends.backend_agg
    import matplotlib.backends.backend_pdf  # noqa: F401

    with style():
        figure = Figure(figsize=(1, 1))
        figure.text(0.5, 0.5, "0")
        figure.canvas.draw()


def save(figure: Figure, path: Path) -> None:
    """Save atomically and without timestamps (format from the suffix: png or pdf)."""
    kind = path.suffix.lstrip(".")
    metadata = {"CreationDate": None} if kind == "pdf" else {"Software": None}
    # Light PNG compression: files a little larger, written several times faster.
    extra = {"pil_kwargs": {"compress_level": 1}} if kind == "png" else {}
    with atomic_file(path) as handle:
        figure.savefig(handle, format=kind, dpi=300, metadata=metadata, **extra)
    # The layout is now computed: keep it for the next format instead of solving it again.
    figure.set_layout_engine("none")
