"""Reports: survival statistics turned into tables people read."""

from __future__ import annotations

import pandas as pd

from sim.engine import RunResult
from sim.months import month_label, parse_month
from sim.survival import median_survival


def horizon_table(result: RunResult) -> pd.DataFrame:
    """Survival at the report horizons and median survival, one row per domain.

    Returns:
        Indexed by domain, with ``p_<h>``, ``low_<h>``, ``high_<h>`` per horizon h and
        ``median``, ``median_low``, ``median_high`` (months; NaN where not reached).
    """
    survival = result.survival
    rows = {}
    for domain, curve in survival.groupby("domain", sort=False):
        curve = curve.reset_index(drop=True)
        row: dict[str, float | None] = {}
        for h in result.scenario.report_horizons:
            point = curve.loc[h]
            row[f"p_{h}"] = point["p_survive"]
            row[f"low_{h}"] = point["ci_low"]
            row[f"high_{h}"] = point["ci_high"]
        median = median_survival(curve)
        row["median"] = median.estimate
        row["median_low"] = median.low
        row["median_high"] = median.high
        rows[domain] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("domain")


def _months(value: float | None) -> str:
    return "NR" if value is None or pd.isna(value) else f"{int(value)}"


def terminal_table(result: RunResult) -> str:
    """The per-domain survival table as aligned plain text."""
    scenario = result.scenario
    start = parse_month(scenario.start)
    table = horizon_table(result)
    horizons = scenario.report_horizons
    header = ["domain"] + [f"{h} mo ({month_label(start + h)})" for h in horizons]
    header.append("median months [95% CI]")
    lines = []
    for domain, row in table.iterrows():
        cells = [str(domain)]
        for h in horizons:
            cells.append(f"{row[f'p_{h}']:.2f} [{row[f'low_{h}']:.2f}, {row[f'high_{h}']:.2f}]")
        median = _months(row["median"])
        if median != "NR":
            median += f" [{_months(row['median_low'])}, {_months(row['median_high'])}]"
        cells.append(median)
        lines.append(cells)
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]

    def render(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        return "  ".join([first] + [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)])

    title = (
        f"{scenario.name}: P(channel alive) from {month_label(start)}, "
        f"{scenario.replications:,} replications, seed {scenario.seed}, "
        "95% log-log intervals"
    )
    rule = "-" * len(render(header))
    return "\n".join([title, rule, render(header), rule, *map(render, lines), rule])
