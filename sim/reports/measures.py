"""Reports of a run beyond survival: intensity, spells and endings, co-failure, events.

The tables of ``intensity.csv``, ``spells.csv``, ``co_failure.csv`` and ``events.csv``,
the spells section of ``table.md``, and the paragraphs of ``methods.md`` that describe
them, built from a run's :class:`~sim.stats.survival.Summary` alone (so ``alliance-sim
report DIR`` rebuilds them from the saved outcomes, and a run writes them while its
outcomes file is still being assembled). The statistics are in :mod:`sim.stats`.
"""

from __future__ import annotations

import textwrap

import pandas as pd

from sim.months import month_label, parse_month
from sim.reports.tables import INTENSITY_DIGITS, domain_label, markdown_grid
from sim.results import RunResult
from sim.stats.cofailure import co_failure, strongest_pairs
from sim.stats.events import event_table
from sim.stats.intensity import intensity_frame
from sim.stats.spells import spells_table

INTENSITY_FORMAT = f"%.{INTENSITY_DIGITS}f"
"""How intensity.csv writes its numbers (see :data:`sim.reports.tables.INTENSITY_DIGITS`)."""


def run_intensity(result: RunResult) -> pd.DataFrame:
    """The run's ``intensity.csv`` table: per domain and month, the mean and quantiles.

    Raises:
        ValueError: The run kept no intensity tally.
    """
    if result.summary.intensity is None:
        raise ValueError("the run kept no intensity tally")
    frame = intensity_frame(
        result.summary.intensity,
        list(result.summary.life_tables),
        parse_month(result.scenario.start),
    )
    numbers = frame.columns[3:]
    frame[numbers] = frame[numbers].round(INTENSITY_DIGITS)
    return frame


def run_spells(result: RunResult) -> pd.DataFrame:
    """The run's ``spells.csv`` table, with each domain's display name beside its name."""
    table = spells_table(result.summary)
    table.insert(1, "label", [domain_label(result.scenario, d) for d in table.domain])
    return table


def run_co_failure(result: RunResult) -> pd.DataFrame:
    """The run's ``co_failure.csv`` table: joint endings of every pair at every horizon."""
    return co_failure(result.summary, parse_month(result.scenario.start))


def run_events(result: RunResult) -> pd.DataFrame:
    """The run's ``events.csv`` table, with each event's description."""
    table = event_table(result.summary, parse_month(result.scenario.start))
    events = result.scenario.events
    table.insert(1, "description", [events[e].description or "" for e in table.event])
    return table


def _share(value: float) -> str:
    """A probability as a percentage with one decimal."""
    return f"{100 * value:.1f}%"


def spells_markdown(result: RunResult, table: pd.DataFrame) -> str:
    """The spells and endings of every domain as a Markdown section of ``table.md``."""
    end = month_label(parse_month(result.scenario.start) + result.scenario.horizon)
    header = [
        "Domain", "Spells", "Months alive", "Interruptions",
        "Lapsed", "Broken off", "Formally ended", "Not ended",
    ]  # fmt: skip
    rows = []
    for row in table.itertuples():
        shares = (row.p_lapsed, row.p_broken_off, row.p_formally_ended, row.p_not_ended)
        rows.append(
            [
                row.label,
                f"{row.mean_spells:.2f}",
                f"{row.mean_alive_months:.1f}",
                f"{row.mean_interruptions:.2f}",
                *("–" if pd.isna(share) else f"{share:.2f}" for share in shares),
            ]
        )
    note = (
        "Spells, months alive and interruptions: means per replication within the horizon "
        "(interruptions: ruptures undone within the dormancy window). Lapsed, broken off, "
        "formally ended, not ended: how the first spell ended, as shares of the "
        "replications in which the domain was established."
    )
    grid = markdown_grid(header, rows, title=f"Spells and endings to {end}")
    return f"{grid}\n\n_{note}_\n"


def intensity_paragraph(result: RunResult) -> str:
    """The methods paragraph on intensity, spells and endings."""
    return (
        "Besides survival we report the intensity of cooperation in each domain, a number "
        "between 0 and 1 (for a treaty, 1 while it is in force). Its mean over replications "
        "is computed exactly from the monthly sums each chunk of replications keeps; its "
        "quantiles (the median and the 50% and 90% central ranges of intensity.csv and "
        "intensity.png) are read off monthly histograms with bins of width 0.01 by linear "
        "interpolation within a bin, so they are accurate to 0.01. A channel that has ended "
        "keeps counting at its intensity after it ended. spells.csv gives, per domain, the "
        "mean number of spells begun, the mean number of months alive within the horizon, "
        "the mean number of interruptions (ruptures undone within the dormancy window), and "
        "how the first spell ended: lapsed (below its threshold for the dormancy window), "
        "broken off (a rupture not undone), or formally ended (a treaty)."
    )


def co_failure_paragraph(result: RunResult, table: pd.DataFrame) -> str:
    """The methods paragraph on co-failure, naming the pairs that co-fail most."""
    scenario = result.scenario
    horizon = max(scenario.report_horizons)
    date = month_label(parse_month(scenario.start) + horizon)
    text = (
        "For every pair of domains and report horizon, co_failure.csv gives the probability "
        "that both had ended by the horizon, the product of their separate probabilities "
        "(what independent endings would give), their ratio (the lift) and difference, "
        "with a delta-method 95% interval for the difference."
    )
    top = strongest_pairs(table, horizon)
    if top.empty:
        return text + (
            f" By {date} no pair of domains ended together in at least 1% of replications "
            "clearly more often than independence gives."
        )

    def pair(row) -> str:
        a = domain_label(scenario, row.domain_a).lower()
        b = domain_label(scenario, row.domain_b).lower()
        return (
            f"{a} and {b} (both ended in {_share(row.p_both)} of replications, "
            f"{row.lift:.1f} times the {_share(row.p_independent)} of independence)"
        )

    pairs = [pair(row) for row in top.itertuples()]
    listed = pairs[0] if len(pairs) == 1 else "; ".join(pairs[:-1]) + "; and " + pairs[-1]
    here = table[table.horizon == horizon]
    largest = here.loc[here.difference.idxmax()]
    return text + (
        f" By {date}, the pairs that co-fail most (highest lift among pairs that ended "
        f"together in at least 1% of replications, with the difference's interval above 0) "
        f"are {listed}. The largest excess of joint endings over independence is that of "
        f"{domain_label(scenario, largest.domain_a).lower()} and "
        f"{domain_label(scenario, largest.domain_b).lower()}, "
        f"{100 * largest.difference:.1f} percentage points "
        f"[{100 * largest.difference_low:.1f}, {100 * largest.difference_high:.1f}]."
    )


def event_paragraph(result: RunResult, table: pd.DataFrame) -> str | None:
    """The methods paragraph on the scenario's events, a sentence per event (None if none)."""
    if table.empty:
        return None
    start = parse_month(result.scenario.start)
    end = month_label(start + result.scenario.horizon)
    sentences = [
        f"events.csv gives, for each scenario event, the share of replications in which it "
        f"happened by {end} (with a Wilson 95% interval) and its median month among those."
    ]
    for row in table.itertuples():
        what = f"*{row.event}*" + (f", {row.description}," if row.description else "")
        share = f"{_share(row.p_happened)} [{_share(row.ci_low)}, {_share(row.ci_high)}]"
        if row.happened == 0:
            sentences.append(f"The event {what} did not happen in any replication by {end}.")
            continue
        sentences.append(
            f"The event {what} happened in {share} of replications, at a median of month "
            f"{row.median_month} ({month_label(start + int(row.median_month))})."
        )
    return " ".join(sentences)


def measures_methods(
    result: RunResult, co_failures: pd.DataFrame, events: pd.DataFrame
) -> list[str]:
    """The paragraphs of ``methods.md`` on intensity, spells, co-failure and events, wrapped."""
    paragraphs = [intensity_paragraph(result), co_failure_paragraph(result, co_failures)]
    events_text = event_paragraph(result, events)
    if events_text:
        paragraphs.append(events_text)
    return [textwrap.fill(p, 88) for p in paragraphs]
