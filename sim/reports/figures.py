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


def survival_figure(result: RunResult) -> Figure:
    """Small multiples: one panel per domain, survival with its 95% band."""
    from sim.reports.tables import domain_label

    survival = result.survival
    domains = list(result.scenario.channels)
    columns = min(4, len(domains))
    rows = -(-len(domains) // columns)
    start = parse_month(result.scenario.start)
    height = 1.45 * rows + 0.55
    with style():
        # A fixed layout (in inches) rather than a solver: the same look, drawn in a fraction
        # of the time, for any number of rows.
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
        year_ticks(axes[0, 0], start, result.scenario.horizon)
        for ax, domain in zip(axes.flat, domains, strict=False):
            curve = survival[survival.domain == domain]
            step_band(ax, curve.month, curve.p_survive, curve.ci_low, curve.ci_high, OKABE_ITO[0])
            ax.set_title(domain_label(result, domain))
            ax.grid(axis="y", linewidth=0.3, alpha=0.5)
        for ax in axes.flat[len(domains) :]:
            ax.set_visible(False)
        for column in range(columns):
            # The lowest panel of each column carries the year labels.
            last = max(r for r in range(rows) if r * columns + column < len(domains))
            axes[last, column].xaxis.set_tick_params(labelbottom=True)
        for ax in axes[:, 0]:
            ax.set_ylabel("P(alive)")
        figure.text(0.01, 0.08 / height, "\n".join(textwrap.wrap(caption(result), 150)),
                    fontsize=6, ha="left", va="bottom")  # fmt: skip
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
