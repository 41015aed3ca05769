"""The backtests' documents: analogue forecasts and scores, reliability diagram, report section.

``analogue_forecasts.csv`` holds every (case, domain, horizon) forecast of the analogue
backtest with its outcome; ``analogue_scores.csv`` the scores by subset and forecaster;
``reliability.png`` the reliability diagram of the analogue forecasts and of the
held-out backtest (``backtest.csv``, written by a full calibration); and
:func:`analogue_section` the section of ``report.md`` that states the result first.
``alliance-sim calibrate analogues`` rewrites all of these without refitting, replacing
the section of an existing report between its markers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.calibration.analogues import HORIZONS, AnalogueBacktest
from sim.calibration.verification import BIN_EDGES, LOG_CLIP, bin_index, reliability_table
from sim.errors import UserError
from sim.reports import figures
from sim.storage import write_text

BEGIN = "<!-- analogue backtest: begin (rewritten by `alliance-sim calibrate analogues`) -->"
END = "<!-- analogue backtest: end -->"
FULL_RUN = "about 2.5 minutes of processor time; 5 minutes of wall time when measured"
ANALOGUE_RUN = "about 10 seconds of processor time"
"""Times of `alliance-sim calibrate` and `calibrate analogues` at the default settings, one
worker (measured 2026-12-02 with `time` on the project's 2-core machine, shared with other
work). Stated, not measured per run, so that the same inputs write the same report."""

NAMES = {"model": "model", "base_rate": "ATOP base rate", "climatology": "climatology"}


def _score_row(scores: pd.DataFrame, subset: str, forecaster: str) -> pd.Series:
    return scores[(scores.subset == subset) & (scores.forecaster == forecaster)].iloc[0]


def _skill(row: pd.Series) -> str:
    if row.forecaster == "base_rate":
        return "(reference)"
    return f"{row.brier_skill:+.2f} [{row.brier_skill_low:+.2f}, {row.brier_skill_high:+.2f}]"


def analogue_section(backtest: AnalogueBacktest) -> list[str]:
    """The report's section on the analogue backtest, its verdict in the first sentence."""
    forecasts, scores = backtest.forecasts, backtest.scores
    model = _score_row(scores, "all endings", "model")
    rate = _score_row(scores, "all endings", "base_rate")
    strict = _score_row(scores, "without low-confidence endings", "model")
    strict_rate = _score_row(scores, "without low-confidence endings", "base_rate")
    loses = model.brier > rate.brier
    verdict = (
        "**The model loses to the ATOP base rate on the analogue backtest.**"
        if loses
        else "**The model beats the ATOP base rate on the analogue backtest.**"
    )
    names = sorted(forecasts.case.unique())
    channels = forecasts[forecasts.horizon == max(HORIZONS)]
    ended = channels[channels.observed == 0]
    low = int(ended.low_confidence.sum())
    lines = [
        BEGIN,
        "## Analogue backtest: past partnerships against their endings",
        "",
        f"{verdict} Over {len(forecasts)} (case, domain, horizon) forecasts, {model.endings} "
        f"of them of a channel that had ended, its Brier score is {model.brier:.3f} against "
        f"the base rate's {rate.brier:.3f} (skill {_skill(model)}, 95% bootstrap interval "
        f"over cases) and its log score {model.log_score:.2f} against {rate.log_score:.2f} "
        f"(lower is better for both). Without the channels of the {low} low-confidence "
        "endings: Brier "
        f"{strict.brier:.3f} against {strict_rate.brier:.3f}, log score "
        f"{strict.log_score:.2f} against {strict_rate.log_score:.2f}.",
        "",
        f"The cases are {len(names)} past patron–client partnerships whose cooperation came "
        f"apart ({', '.join(f'`{n}`' for n in names)}): {len(channels)} channels, "
        f"{len(ended)} of which ended within ten years of the start. Each runs from a "
        "documented start month with the events of its ledger as they happened "
        "(`calibration/analogues/`, docs/calibration.md, Analogue backtest), "
        f"{backtest.settings.replications:,} replications with the scenario's seed; each "
        f"channel is scored at {', '.join(map(str, HORIZONS))} months. Outcome: the ledger's "
        "sourced end month, read practically (a treaty or lease that outlived its content "
        "ends at the ledger's `practical_end`); the legal reading scores the treaty's legal "
        "end against the model's P(treaty in force). Forecasters: the model's P(alive); the "
        "ATOP base rate, the Kaplan–Meier survival of all ATOP alliances from formation at "
        "the horizon; a climatology, the share of the other cases' channels alive at the "
        f"horizon (leave one case out). Log scores clip forecasts to [{LOG_CLIP}, "
        f"{1 - LOG_CLIP}]. Skill is 1 − Brier / Brier of the base rate.",
        "",
        "| subset | forecaster | forecasts | endings | Brier | log score | "
        "Brier skill vs base rate [95%] |",
        "|:---|:---|---:|---:|---:|---:|---:|",
    ]
    for row in scores[~scores.subset.str.startswith("horizon")].itertuples():
        series = pd.Series(row._asdict())
        lines.append(
            f"| {row.subset} | {NAMES[row.forecaster]} | {row.forecasts} | {row.endings} | "
            f"{row.brier:.3f} | {row.log_score:.2f} | {_skill(series)} |"
        )
    lines += [
        "",
        "By horizon (all endings), Brier score:",
        "",
        "| horizon (months) | forecasts | endings | model | base rate | climatology |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for h in HORIZONS:
        subset = f"horizon {h}"
        row = [_score_row(scores, subset, f) for f in ("model", "base_rate", "climatology")]
        lines.append(
            f"| {h} | {row[0].forecasts} | {row[0].endings} | {row[0].brier:.3f} | "
            f"{row[1].brier:.3f} | {row[2].brier:.3f} |"
        )
    lines += [
        "",
        "Murphy's decomposition (all endings, ten equal-width bins): reliability (lower is "
        "better) − resolution (higher is better) + uncertainty equals the Brier score of the "
        "binned forecasts (each replaced by its bin's mean forecast) exactly; the raw Brier "
        "score differs from it by the spread of forecasts within bins.",
        "",
        "| forecaster | Brier | binned Brier | reliability | resolution | uncertainty |",
        "|:---|---:|---:|---:|---:|---:|",
    ]
    for row in scores[scores.subset == "all endings"].itertuples():
        lines.append(
            f"| {NAMES[row.forecaster]} | {row.brier:.4f} | {row.binned_brier:.4f} | "
            f"{row.reliability:.4f} | {row.resolution:.4f} | {row.uncertainty:.4f} |"
        )
    table = reliability_table(forecasts.model, forecasts.observed)
    lines += [
        "",
        "Reliability of the model (all endings): when it gives a channel a probability in a "
        "bin of being alive, how often was the channel alive? (Wilson 95% intervals.)",
        "",
        "| forecast bin | forecasts | mean forecast | observed alive | Wilson 95% |",
        "|:---|---:|---:|---:|---:|",
    ]
    for row in table.itertuples():
        close = "]" if row.high == 1 else ")"
        lines.append(
            f"| [{row.low:.1f}, {row.high:.1f}{close} | {row.count} | {row.mean_forecast:.3f} | "
            f"{row.observed:.2f} | [{row.observed_low:.2f}, {row.observed_high:.2f}] |"
        )
    lines += [
        "",
        "![Reliability diagram](reliability.png)",
        "",
        "By case, at ten years:",
        "",
        "| case | start | channels | alive at 120 months | model's mean P(alive) | base rate |",
        "|:---|:---|---:|---:|---:|---:|",
    ]
    last = forecasts[forecasts.horizon == max(HORIZONS)]
    for case, part in last.groupby("case"):
        lines.append(
            f"| `{case}` | {part.start.iloc[0]} | {len(part)} | {int(part.observed.sum())} | "
            f"{part.model.mean():.2f} | {part.base_rate.iloc[0]:.2f} |"
        )
    lines += [
        "",
        "Limits: five cases, chosen because their cooperation ended (the backtest asks "
        "whether the model foresees endings, not how often partnerships end); forecasts "
        "within a case share its history, so the bootstrap resamples cases, and with five "
        "cases its interval is coarse; the scenarios script the events as they happened, so "
        "these are conditional forecasts; the base rate is of alliances, not of channels.",
        "",
        "Regenerate: `alliance-sim calibrate analogues` reruns only this backtest "
        f"({ANALOGUE_RUN}) and rewrites "
        "`calibration/analogue_forecasts.csv` (every forecast with its outcome), "
        "`calibration/analogue_scores.csv` (every score above, by subset and horizon), "
        "`calibration/reliability.png` and this section; `alliance-sim calibrate` rewrites "
        f"the whole report ({FULL_RUN}).",
        END,
        "",
    ]
    return lines


def _reliability_points(ax, hist, forecast, observed, offset, colour, marker, label) -> None:
    """One series of the diagram: bin means with Wilson bars, and its counts below."""
    table = reliability_table(forecast, observed)
    share = table.observed.to_numpy()
    ax.errorbar(
        table.mean_forecast.to_numpy(),
        share,
        # Wilson bounds at 0 or 1 can miss the share by a rounding error.
        yerr=np.clip([share - table.observed_low, table.observed_high - share], 0, None),
        fmt=marker,
        color=colour,
        markersize=3.5,
        elinewidth=0.7,
        capsize=1.5,
        label=label,
        markerfacecolor=colour if marker != "D" else "white",
    )
    counts = np.bincount(bin_index(np.asarray(forecast)), minlength=len(BIN_EDGES) - 1)
    width = 0.028
    centres = (BIN_EDGES[:-1] + BIN_EDGES[1:]) / 2
    hist.bar(centres + offset * width, counts, width=width, color=colour, label=label)


def reliability_figure(backtest: AnalogueBacktest, held_out: pd.DataFrame | None) -> Figure:
    """Reliability diagram with Wilson bin intervals over a histogram of the forecasts.

    Args:
        backtest: The analogue backtest (the model's and the base rate's forecasts).
        held_out: The held-out backtest's rows (``forecast, observed``), or None.
    """
    forecasts = backtest.forecasts
    with figures.style():
        figure = Figure(figsize=(figures.SINGLE_COLUMN, 4.2), layout="constrained")
        ax, hist = figure.subplots(2, 1, height_ratios=[3, 1.3], sharex=True)
        ax.plot([0, 1], [0, 1], color="0.6", linewidth=0.6, linestyle="--")
        series = [
            (forecasts.model, forecasts.observed, figures.OKABE_ITO[1], "o",
             f"model, analogues ({len(forecasts)})"),
            (forecasts.base_rate, forecasts.observed, figures.OKABE_ITO[7], "D",
             f"ATOP base rate, analogues ({len(forecasts)})"),
        ]  # fmt: skip
        if held_out is not None:
            series.append(
                (held_out.forecast, held_out.observed, figures.OKABE_ITO[0], "s",
                 f"model, held-out {held_out.start.iloc[0]} backtest ({len(held_out)})")
            )  # fmt: skip
        for i, (p, y, colour, marker, label) in enumerate(series):
            _reliability_points(ax, hist, p, y, i - (len(series) - 1) / 2, colour, marker, label)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.05)
        ax.set_ylabel("observed share alive")
        ax.set_title("Reliability: P(channel alive) forecast against outcome")
        ax.legend(fontsize=5, frameon=False, loc="upper left")
        hist.set_yscale("log")
        hist.set_ylim(bottom=0.5)  # a bin of one forecast stays visible
        hist.set_ylabel("forecasts")
        hist.set_xlabel("forecast P(alive) (ten bins; bars: Wilson 95%)")
    return figure


def write_analogue_files(
    backtest: AnalogueBacktest, out: Path, held_out: pd.DataFrame | None = None
) -> list[Path]:
    """Write ``analogue_forecasts.csv``, ``analogue_scores.csv`` and ``reliability.png``."""
    files = {
        "analogue_forecasts.csv": backtest.forecasts.to_csv(index=False, float_format="%.6g"),
        "analogue_scores.csv": backtest.scores.to_csv(index=False, float_format="%.6g"),
    }
    written = []
    for name, text in files.items():
        write_text(out / name, text)
        written.append(out / name)
    figures.save(reliability_figure(backtest, held_out), out / "reliability.png")
    return [*written, out / "reliability.png"]


def report_with_section(out: Path) -> str:
    """The text of ``out/report.md``, checked to hold the analogue section's markers.

    Raises:
        UserError: The report is missing or lacks the markers (run the full
            ``alliance-sim calibrate`` first).
    """
    report = out / "report.md"
    text = report.read_text(encoding="utf-8") if report.is_file() else ""
    if BEGIN not in text or END not in text:
        raise UserError(
            f"{report} has no analogue backtest section to refresh: run `alliance-sim "
            "calibrate` (the full calibration) once to write it"
        )
    return text


def refresh_analogue_backtest(backtest: AnalogueBacktest, out: Path) -> list[Path]:
    """Rewrite the analogue files in ``out`` and the analogue section of its ``report.md``.

    The held-out backtest's forecasts, when ``out/backtest.csv`` exists, join the
    reliability diagram.

    Raises:
        UserError: See :func:`report_with_section`.
    """
    report = out / "report.md"
    text = report_with_section(out)
    before, rest = text.split(BEGIN, 1)
    after = "\n" + rest.split(END, 1)[1].lstrip("\n")  # the blank line before the next heading
    held = out / "backtest.csv"
    held_out = pd.read_csv(held) if held.is_file() else None
    written = write_analogue_files(backtest, out, held_out)
    write_text(report, before + "\n".join(analogue_section(backtest)) + after)
    return [*written, report]
