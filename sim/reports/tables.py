"""Tables of a run: the headline survival table in the terminal, CSV, Markdown and LaTeX.

Rows are domains; columns are the report horizons, shown as dates, with cells like
``0.83 [0.82, 0.84]`` (P(alive) and its Wilson 95% interval; more decimals where two would
hide the interval's width), then the median survival in months with its interval
(``NR``: not reached within the horizon). A table built with ``intensity=True`` has,
beside each P(alive), the expected intensity of the domain at that horizon. Every table
carries a provenance line: scenario, hash, seed, replications, version.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from sim.months import month_label, parse_month
from sim.results.rundir import safe_name
from sim.stats.intensity import horizon_intensity
from sim.stats.survival import horizon_estimates, median_survival, restricted_mean

if TYPE_CHECKING:  # annotations only: sweeps and base rates use this module without a run
    from sim.results import RunResult
    from sim.scenario import Scenario


def domain_label(scenario: Scenario, domain: str) -> str:
    """A domain's display name: its channel's or treaty's ``label``, or its name with spaces."""
    found = scenario.channels.get(domain) or scenario.treaties.get(domain)
    label = found.label if found is not None else None
    return label or domain.replace("_", " ").capitalize()


def _number(value: float, digits: int, signed: bool = False) -> str:
    rounded = round(float(value), digits) + 0.0  # no "-0.00"
    return f"{rounded:{'+' if signed else ''}.{digits}f}"


EXTRA_DIGITS = 3
"""Decimals :func:`interval_cell` may add to show an interval's width (p = 0.996 of 50,000)."""


def _reached(value) -> bool:
    return value is not None and not pd.isna(value)


def interval_cell(value, low, high, digits: int = 2, signed: bool = False) -> str:
    """``value [low, high]`` rounded to ``digits``; NR for a value or bound not reached.

    An interval of some width that would round to none (``1.00 [1.00, 1.00]`` for
    p = 0.996 [0.995, 0.997]) is given as many more decimals as it takes to show, at most
    :data:`EXTRA_DIGITS` more (``0.996 [0.995, 0.997]``); value and bounds always share
    their decimals, in every format. A value not reached (None or NaN, as a median beyond
    the horizon) is the cell ``NR`` alone; ``signed`` marks a gain with ``+`` (differences).
    """
    if not _reached(value):
        return "NR"
    shown = interval_digits(low, high, digits)
    bounds = [_number(b, shown) if _reached(b) else "NR" for b in (low, high)]
    return f"{_number(value, shown, signed)} [{bounds[0]}, {bounds[1]}]"


def interval_digits(low, high, digits: int = 2) -> int:
    """The decimals that show an interval's width: ``digits``, or up to three more."""
    shown = digits
    if _reached(low) and _reached(high) and low < high:
        while shown < digits + EXTRA_DIGITS and _number(low, shown) == _number(high, shown):
            shown += 1
    return shown


_ALIGN = {"l": ":---", "r": "---:", "-": "---"}


def markdown_grid(
    header: list[str], rows: list[list[str]], title: str | None = None, align: str | None = None
) -> str:
    """A Markdown (GitHub) table, under its title in bold if there is one.

    Args:
        header: One heading per column.
        rows: The cells, already formatted.
        title: A bold line above the table, with a blank line between.
        align: One letter per column: ``l`` left, ``r`` right, ``-`` unset (default: the
            first column left, the others right).

    Returns:
        The lines, without a final newline.
    """
    align = align or "l" + "r" * (len(header) - 1)
    lines = [f"**{title}**", ""] if title is not None else []
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(_ALIGN[a] for a in align) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


INTENSITY_DIGITS = 6
"""Decimals kept of intensity means: sums of floats depend in their last bits on the order
in which chunks finished, and a run must give the same bytes however its chunks ran."""


def word_list(items: list[str]) -> str:
    """Items as a sentence lists them: ``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def headline_table(result: RunResult, intensity: bool = False) -> pd.DataFrame:
    """The numbers of the headline table, one row per domain.

    Args:
        result: A finished run.
        intensity: Add the expected intensity at each report horizon (the run must have
            kept its intensity tally, as every run of the engine does).

    Returns:
        Indexed by domain: ``p_<h>``, ``low_<h>``, ``high_<h>``, ``se_<h>`` for each report
        horizon h (Wilson 95% intervals); ``median``, ``median_low``, ``median_high``
        (months, NaN where not reached); ``rmst`` and ``rmst_se`` (mean months alive
        within the horizon); with ``intensity``, ``intensity_<h>`` and
        ``intensity_se_<h>`` (mean intensity over replications at h and its Monte Carlo
        standard error) after the median and RMST columns.
    """
    scenario = result.scenario
    horizons = scenario.report_horizons
    at_horizons = horizon_estimates(result.summary, horizons).set_index(["domain", "horizon"])
    # The run's Kaplan–Meier curves, computed once (the survival figure draws them too).
    curves = dict(list(result.survival.groupby("domain", sort=False)))
    rows = {}
    for domain, table in result.summary.life_tables.items():
        row: dict[str, float] = {}
        for h in horizons:
            estimate = at_horizons.loc[(domain, h)]
            row[f"p_{h}"] = estimate.p_survive
            row[f"low_{h}"] = estimate.ci_low
            row[f"high_{h}"] = estimate.ci_high
            row[f"se_{h}"] = estimate.se
        median = median_survival(curves[domain])
        # NaN for not reached, so the columns are floats even where no domain reaches one.
        for column, months in (
            ("median", median.estimate),
            ("median_low", median.low),
            ("median_high", median.high),
        ):
            row[column] = float("nan") if months is None else float(months)
        row["rmst"], row["rmst_se"] = restricted_mean(table, scenario.horizon, curves[domain])
        rows[domain] = row
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("domain")
    if intensity:
        if result.summary.intensity is None:
            raise ValueError("the run kept no intensity tally")
        expected = horizon_intensity(
            result.summary.intensity, list(result.summary.life_tables), horizons
        ).set_index(["domain", "horizon"])
        for h in horizons:
            table[f"intensity_{h}"] = [
                round(expected.loc[(d, h), "mean"], INTENSITY_DIGITS) for d in table.index
            ]
            table[f"intensity_se_{h}"] = [
                round(expected.loc[(d, h), "se"], INTENSITY_DIGITS) for d in table.index
            ]
    return table


def has_intensity(table: pd.DataFrame, horizons: list[int]) -> bool:
    """Whether a headline table carries the expected intensity (built with ``intensity``)."""
    return all(f"intensity_{h}" in table for h in horizons)


def provenance_line(result: RunResult) -> str:
    """Scenario, hash, seed, replications and version, in one line."""
    manifest = result.manifest
    version = manifest["packages"].get("alliance-sim") or "unknown"
    return (
        f"Scenario {manifest['scenario_name']} (sha256 {manifest['scenario_sha256'][:12]}), "
        f"seed {manifest['seed']}, {manifest['replications']:,} replications, "
        f"alliance-sim {version}."
    )


INTENSITY_HEADING = "intensity"
"""The heading of a column of expected intensity, beside its horizon's P(alive)."""


def _cells(result: RunResult, table: pd.DataFrame | None) -> tuple[list[str], list[list[str]]]:
    scenario = result.scenario
    start = parse_month(scenario.start)
    horizons = scenario.report_horizons
    table = headline_table(result) if table is None else table
    intensity = has_intensity(table, horizons)
    header = ["Domain"]
    for h in horizons:
        header += [month_label(start + h), *([INTENSITY_HEADING] if intensity else [])]
    header.append("Median (months)")
    rows = []
    for domain, row in table.iterrows():
        cells = [domain_label(scenario, str(domain))]
        for h in horizons:
            cells.append(interval_cell(row[f"p_{h}"], row[f"low_{h}"], row[f"high_{h}"]))
            if intensity:
                cells.append(_number(row[f"intensity_{h}"], 2))
        cells.append(interval_cell(row["median"], row["median_low"], row["median_high"], digits=0))
        rows.append(cells)
    return header, rows


def _title(result: RunResult, intensity: bool = False) -> str:
    start = month_label(parse_month(result.scenario.start))
    beside = "; beside each, the mean intensity of the domain" if intensity else ""
    return (
        f"P(channel alive) from {start} under scenario {result.scenario.name}, "
        f"with Wilson 95% intervals{beside}; median survival in months (NR: not reached)"
    )


def _table_title(result: RunResult, table: pd.DataFrame | None) -> str:
    intensity = table is not None and has_intensity(table, result.scenario.report_horizons)
    return _title(result, intensity)


def terminal_table(result: RunResult, table: pd.DataFrame | None = None) -> str:
    """The headline table as aligned plain text."""
    header, rows = _cells(result, table)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def render(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest])

    rule = "-" * len(render(header))
    lines = [_table_title(result, table), rule, render(header), rule, *map(render, rows), rule]
    return "\n".join([*lines, provenance_line(result)])


def markdown_table(result: RunResult, table: pd.DataFrame | None = None) -> str:
    """The headline table as a Markdown (GitHub) table with its title and provenance."""
    header, rows = _cells(result, table)
    grid = markdown_grid(header, rows, title=_table_title(result, table))
    return f"{grid}\n\n_{provenance_line(result)}_\n"


_LATEX_SPECIAL = {
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "\\": r"\textbackslash{}",
    # Symbols pdflatex's default input encoding cannot typeset as text.
    "Δ": r"$\Delta$",
    "−": r"$-$",
    "±": r"$\pm$",
    "×": r"$\times$",
    "·": r"$\cdot$",
    "≤": r"$\leq$",
    "≥": r"$\geq$",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters, and symbols pdflatex lacks, in plain text."""
    return "".join(_LATEX_SPECIAL.get(char, char) for char in text)


def _latex_heading(text: str, width: int = 14) -> str:
    """A header cell, broken after ``_`` or at spaces into lines of about ``width`` characters."""
    lines: list[str] = []
    for word in re.split(r"(?<=_)|(?<= )", text):
        if lines and len(lines[-1]) + len(word) <= width:
            lines[-1] += word
        else:
            lines.append(word)
    lines = [latex_escape(line.strip()) for line in lines if line.strip()]
    if len(lines) == 1:
        return lines[0]
    return r"\begin{tabular}[b]{@{}c@{}}" + r"\\".join(lines) + r"\end{tabular}"


_SMALLER = {
    r"\normalsize": r"\small",
    r"\small": r"\footnotesize",
    r"\footnotesize": r"\scriptsize",
    r"\scriptsize": r"\tiny",
}


def latex_float(
    caption: str,
    label: str,
    header: list[str],
    rows: list[list[str]],
    note: str | None = None,
    groups: list[tuple[str, int]] | None = None,
    size: str = r"\small",
    beneath: list[list[str]] | None = None,
) -> str:
    """A ``table`` float with booktabs rules; each ``estimate [low, high]`` cell is stacked.

    The interval goes on a line of its own beneath the estimate, in smaller type, as
    regression tables set standard errors: a table of several horizons then fits a single
    text column.

    Args:
        caption: Plain text; escaped here.
        label: The key that references the table.
        header: One heading per column.
        rows: Cells, ``estimate [low, high]`` or plain text.
        note: A line set beneath the table (the provenance).
        groups: Headings above ``header``, each spanning a number of columns, with a rule
            beneath each one that has text.
        size: The type size of the table; intervals are set one size smaller.
        beneath: Per row, cells set in italics on a third line, beneath the intervals
            (empty strings leave a cell blank).
    """
    below = smaller(size)

    def stacked(row: list[str], third: list[str] | None) -> list[str]:
        estimates = [latex_escape(cell.split(" [")[0]) for cell in row]
        intervals = [
            "{" + below + " [" + latex_escape(cell.split(" [", 1)[1]) + "}" if " [" in cell else ""
            for cell in row
        ]
        lines = [" & ".join(estimates) + r" \\"]
        if any(intervals):
            lines.append(" & ".join(intervals) + (r" \\" if third else r" \\[2pt]"))
        if third:
            cells = [r"{\footnotesize\itshape " + latex_escape(c) + "}" if c else "" for c in third]
            lines.append(" & ".join(cells) + r" \\[2pt]")
        return lines

    thirds = beneath or [None] * len(rows)
    body = [line for row, third in zip(rows, thirds, strict=True) for line in stacked(row, third)]
    heading = [" & ".join(map(_latex_heading, header)) + r" \\"]
    if groups:
        spans, rules, first = [], [], 1
        for text, span in groups:
            cell = _latex_heading(text, width=14 * span)
            spans.append(cell if span == 1 else rf"\multicolumn{{{span}}}{{c}}{{{cell}}}")
            if text:
                rules.append(rf"\cmidrule(lr){{{first}-{first + span - 1}}}")
            first += span
        heading = [" & ".join(spans) + r" \\", "".join(rules), *heading]
    ending = [r"\par\smallskip\footnotesize " + latex_escape(note)] if note else []
    return "\n".join(
        [
            r"\begin{table}[htbp]",
            r"\centering",
            size + r"\setlength{\tabcolsep}{3pt}",
            rf"\caption{{{latex_escape(caption)}}}",
            rf"\label{{{label}}}",
            r"\begin{tabular}{l" + "c" * (len(header) - 1) + "}",
            r"\toprule",
            *heading,
            r"\midrule",
            *body,
            r"\bottomrule",
            r"\end{tabular}",
            *ending,
            r"\end{table}",
            "",
        ]
    )


def latex_table(result: RunResult, table: pd.DataFrame | None = None) -> str:
    """The headline table as a LaTeX ``table`` with booktabs rules, caption and label.

    Needs the booktabs package in the document's preamble.
    """
    header, rows = _cells(result, table)
    header[-1] = "Median"  # the caption gives the unit; a short header keeps the table narrow
    label = "tab:" + safe_name(result.scenario.name).replace("_", "-")
    caption = (
        _table_title(result, table).replace(
            "P(channel alive)", "Probability that each channel is alive"
        )
        + f". {result.manifest['replications']:,} replications."
    )
    horizons = result.scenario.report_horizons
    table = headline_table(result) if table is None else table
    bounds = [(row[f"low_{h}"], row[f"high_{h}"]) for _, row in table.iterrows()
              for h in horizons]  # fmt: skip
    size = smaller_if_widened(r"\small", bounds)
    if not has_intensity(table, horizons):
        return latex_float(caption, label, header, rows, provenance_line(result), size=size)
    # A column of intensity beside each horizon would not fit a text column: the mean
    # intensity goes on a third line of the P(alive) cell, in italics.
    keep = [0, *range(1, len(header) - 1, 2), len(header) - 1]
    header = [header[i] for i in keep]
    beneath = [["", *row[2:-1:2], ""] for row in rows]
    rows = [[row[i] for i in keep] for row in rows]
    caption = caption.replace("beside each", "beneath each, in italics")
    return latex_float(
        caption, label, header, rows, provenance_line(result), size=size, beneath=beneath
    )


def smaller_if_widened(size: str, bounds, digits: int = 2) -> str:
    """``size``, or one size smaller if any interval needs more than ``digits`` decimals.

    Cells with extra decimals (see :func:`interval_cell`) are wider: a table of them is set
    a size smaller, so that it still fits a text column.
    """
    widened = any(interval_digits(low, high, digits) > digits for low, high in bounds)
    return smaller(size) if widened else size


def smaller(size: str) -> str:
    r"""The LaTeX type size one step below ``size`` (``\tiny`` at the smallest)."""
    return _SMALLER.get(size, r"\tiny")


def csv_table(result: RunResult, table: pd.DataFrame | None = None) -> str:
    """The headline table's numbers as CSV, with the provenance as a leading comment line."""
    table = (headline_table(result) if table is None else table).copy()
    table.insert(0, "label", [domain_label(result.scenario, str(d)) for d in table.index])
    return f"# {provenance_line(result)}\n" + table.to_csv()
