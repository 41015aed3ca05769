"""The headline tables of a set of runs, for a paper: one file per scenario and a summary.

Writes ``<name>.md``, ``.tex`` and ``.csv`` per run and a ``README.md`` comparing them at
two horizons. The files depend only on the runs, so the same runs give the same bytes.
"""

from __future__ import annotations

from pathlib import Path

from sim.months import month_label, parse_month
from sim.reports.tables import (
    csv_table,
    domain_label,
    headline_table,
    latex_table,
    markdown_grid,
    markdown_table,
    provenance_line,
)
from sim.results import RunResult
from sim.results.rundir import safe_name
from sim.stats.survival import horizon_estimates
from sim.storage import write_text

PAPER_HORIZONS_SUMMARY = (60, 120)


def write_paper_tables(results: list[RunResult], out: Path) -> list[Path]:
    """Write every run's headline table (md, tex, csv) and the summary into ``out``.

    Returns:
        The files written.
    """
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for result in results:
        name = safe_name(result.scenario.name)
        headline = headline_table(result)
        for suffix, render in (("md", markdown_table), ("tex", latex_table), ("csv", csv_table)):
            write_text(out / f"{name}.{suffix}", render(result, headline))
            written.append(out / f"{name}.{suffix}")
    write_text(out / "README.md", _paper_summary(results))
    written.append(out / "README.md")
    return written


def _paper_summary(results: list[RunResult]) -> str:
    lines = [
        "# Headline tables of the scenario library",
        "",
        "Regenerate with `make paper` (byte for byte). One file per scenario in Markdown, "
        "LaTeX (booktabs) and CSV; below, P(channel alive) by scenario at two horizons "
        "(Wilson 95% intervals in the per-scenario tables).",
        "",
    ]
    first = results[0]
    start = parse_month(first.scenario.start)
    for horizon in PAPER_HORIZONS_SUMMARY:
        names = [r.scenario.name for r in results]
        lines += [f"## P(alive) at {horizon} months ({month_label(start + horizon)})", ""]
        estimates = [
            horizon_estimates(r.summary, [horizon]).set_index("domain").p_survive for r in results
        ]
        rows = [
            [domain_label(first.scenario, domain), *(f"{e[domain]:.2f}" for e in estimates)]
            for domain in first.summary.life_tables
        ]
        lines += [markdown_grid(["Domain", *(f"`{n}`" for n in names)], rows), ""]
    lines.append("Provenance:")
    lines.append("")
    lines += [f"- {provenance_line(r)}" for r in results]
    return "\n".join(lines) + "\n"
