"""Empirical base rates of alliance survival from ATOP v4.01, for calibrating the model.

The model's termination hazards need anchors in how long real alliances last. This module
reads the alliance-level file of the Alliance Treaty Obligations and Provisions data
(ATOP v4.01; Leeds, Ritter, Mitchell and Long 2002) and reports Kaplan–Meier survival at
1, 5 and 10 years and the median survival, with 95% log-log intervals, for a few groups
of alliances (:data:`GROUPS`). The survival statistics are those of :mod:`sim.survival`.

Conventions (evidence for each in ``calibration/base_rates.md`` and the tests):

- One row of the alliance-level file is one alliance; its life runs from its begin
  year/month to its end year/month (the last member's exit).
- Durations are whole calendar months, ``12 * (endyr - begyr) + (endmo - begmo)``; days are
  not used. An alliance that began and ended in the same month lasts 0 months and counts
  as an event at month 0 (so S(0) < 1 in a group that has one).
- Alliances still in effect (``ineffect == 1``, coded with end year and month 0) are
  censored at December 2016, the end of ATOP v4.01's coverage.
- "Formed after 1945" means ``begyr >= 1945`` (the post-war era from 1945 on), which
  reproduces the figures quoted with the data.

The data files are never copied into the repository: they are read from the directory
given, and the figures derived from them are written to ``calibration/``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import UserError
from sim.reports.tables import interval_cell, markdown_grid
from sim.stats.survival import LifeTable, kaplan_meier, median_survival
from sim.storage import write_text

ATOP_FILE = "atop-4.01-alliance-level.csv"
CENSOR_YEAR = 2016
CENSOR_MONTH = 12
RUSSIA = 365
"""Correlates of War country code of Russia, the USSR and the Russian Federation alike."""
POSTWAR_FROM = 1945
HORIZONS = {"1y": 12, "5y": 60, "10y": 120}
"""Months at which survival is reported, by the suffix of their columns."""
REQUIRED_COLUMNS = (
    "atopid",
    "begyr",
    "begmo",
    "endyr",
    "endmo",
    "ineffect",
    "bilat",
    "wartime",
    "defense",
    "mem1",
)
"""Columns the alliance-level file must have (``mem1``: at least one member column)."""

CITATION = (
    "Leeds, Brett Ashley, Jeffrey M. Ritter, Sara McLaughlin Mitchell and Andrew G. Long "
    '(2002), "Alliance Treaty Obligations and Provisions, 1815–1944", *International '
    "Interactions* 28: 237–260. ATOP v4.01 data from atopdata.org, as redistributed in the "
    "replication files (`data/`) of the public repository joshuaalley/arms-allies."
)

README_FIGURES: dict[str, dict[str, float]] = {
    "all": {"median_years": 21, "s_1y": 0.94, "s_5y": 0.79, "s_10y": 0.67},
    "defence": {"median_years": 11},
    "bilateral_defence_postwar": {
        "median_years": 19.6,
        "s_1y": 0.95,
        "s_5y": 0.81,
        "s_10y": 0.67,
    },
    "wartime": {"median_years": 4.0, "s_1y": 0.87, "s_5y": 0.39, "s_10y": 0.28},
}
"""Orientation figures quoted in the data's README, by group, for the comparison."""


@dataclass(frozen=True)
class Group:
    """A group of alliances whose survival is reported.

    Attributes:
        name: Short name, the ``group`` column of the table.
        description: What the group is, with its definition in the data's columns.
        select: Marks the group's rows of the alliance-level table.
    """

    name: str
    description: str
    select: Callable[[pd.DataFrame], pd.Series]


def member_columns(alliances: pd.DataFrame) -> list[str]:
    """The member columns ``mem1``, ``mem2``, ... of the alliance-level table."""
    return [column for column in alliances.columns if column.removeprefix("mem").isdigit()]


def _has_russia(alliances: pd.DataFrame) -> pd.Series:
    return alliances[member_columns(alliances)].eq(RUSSIA).any(axis=1)


GROUPS: tuple[Group, ...] = (
    Group("all", "All alliances", lambda a: pd.Series(True, index=a.index)),
    Group("defence", "Defence pacts (defense == 1)", lambda a: a["defense"] == 1),
    Group(
        "bilateral_defence_postwar",
        f"Bilateral defence pacts formed in {POSTWAR_FROM} or later "
        f"(bilat == 1, defense == 1, begyr >= {POSTWAR_FROM})",
        lambda a: (a["bilat"] == 1) & (a["defense"] == 1) & (a["begyr"] >= POSTWAR_FROM),
    ),
    Group("wartime", "Alliances formed in wartime (wartime == 1)", lambda a: a["wartime"] == 1),
    Group(
        "russia",
        f"Alliances with Russia or the USSR as a member (any mem* == {RUSSIA})",
        _has_russia,
    ),
)

TABLE_COLUMNS = [
    "group",
    "description",
    "n",
    "events",
    *(f"s_{label}{end}" for label in HORIZONS for end in ("", "_low", "_high")),
    "median_years",
    "median_low_years",
    "median_high_years",
]
"""Columns of the table of :func:`base_rates`, in order."""


def _check_codes(alliances: pd.DataFrame, path: Path) -> None:
    """Refuse a file whose dates do not follow the conventions this module relies on."""
    ongoing = alliances["ineffect"] == 1
    problems = {
        "ineffect is not 0 or 1": ~alliances["ineffect"].isin([0, 1]),
        "begmo is not a month 1-12": ~alliances["begmo"].isin(range(1, 13)),
        "an ended alliance (ineffect == 0) has no end year, or no end month 1-12": ~ongoing
        & (~alliances["endmo"].isin(range(1, 13)) | ~(alliances["endyr"] > 0)),
        "an alliance in effect (ineffect == 1) has an end date": ongoing
        & ((alliances["endyr"].fillna(0) != 0) | (alliances["endmo"].fillna(0) != 0)),
        "an alliance has no begin year, or ends before it begins": ~(alliances["months"] >= 0),
    }
    for problem, rows in problems.items():
        if rows.any():
            ids = ", ".join(str(i) for i in alliances.loc[rows, "atopid"].head(5))
            raise UserError(f"{path}: {problem} (atopid {ids}); expected ATOP v4.01 coding")


def load_alliances(atop_dir: Path) -> pd.DataFrame:
    """Read the ATOP alliance-level file and add durations, event flags and group flags.

    Args:
        atop_dir: Directory holding :data:`ATOP_FILE`.

    Returns:
        The alliance-level table with ``months`` (whole months from the begin month to the
        end month, or to December 2016 for alliances still in effect), ``ended`` (True if
        the alliance ended, False if censored) and one bool column ``in_<group>`` per
        group of :data:`GROUPS`.

    Raises:
        UserError: The directory or file is missing, a needed column is absent, or the
            dates are not coded as ATOP v4.01 codes them.
    """
    atop_dir = Path(atop_dir)
    path = atop_dir / ATOP_FILE
    if not atop_dir.is_dir():
        raise UserError(
            f"ATOP data directory {atop_dir} not found: expected a directory holding {ATOP_FILE}"
        )
    if not path.is_file():
        raise UserError(
            f"{ATOP_FILE} not found in {atop_dir}: expected the ATOP v4.01 alliance-level file"
        )
    alliances = pd.read_csv(path)
    missing = [column for column in REQUIRED_COLUMNS if column not in alliances.columns]
    if missing:
        raise UserError(
            f"{path}: missing column(s) {', '.join(missing)}; expected the ATOP v4.01 "
            f"alliance-level columns {', '.join(REQUIRED_COLUMNS)}, ..."
        )
    ended = alliances["ineffect"] == 0
    end_month = np.where(
        ended,
        12 * alliances["endyr"] + alliances["endmo"],
        12 * CENSOR_YEAR + CENSOR_MONTH,
    )
    alliances["months"] = end_month - (12 * alliances["begyr"] + alliances["begmo"])
    alliances["ended"] = ended
    _check_codes(alliances, path)
    alliances["months"] = alliances["months"].astype("int64")
    for group in GROUPS:
        alliances[f"in_{group.name}"] = group.select(alliances).astype(bool)
    return alliances


def _summarise(months: np.ndarray, ended: np.ndarray) -> dict[str, float]:
    """Counts, survival at the horizons and median survival in years of one group."""
    horizon = max(int(months.max()), *HORIZONS.values())
    curve = kaplan_meier(LifeTable.from_outcomes(months, ended, horizon))
    row: dict[str, float] = {"n": len(months), "events": int(ended.sum())}
    for label, month in HORIZONS.items():
        at = curve.loc[month]
        row[f"s_{label}"] = at["p_survive"]
        row[f"s_{label}_low"] = at["ci_low"]
        row[f"s_{label}_high"] = at["ci_high"]
    median = median_survival(curve)
    for key, value in (("", median.estimate), ("_low", median.low), ("_high", median.high)):
        row[f"median{key}_years"] = math.nan if value is None else value / 12
    return row


def base_rates(atop_dir: Path) -> pd.DataFrame:
    """Kaplan–Meier base rates of alliance survival, one row per group of :data:`GROUPS`.

    Args:
        atop_dir: Directory holding :data:`ATOP_FILE`.

    Returns:
        Columns ``group, description, n, events``, then ``s_1y, s_1y_low, s_1y_high`` and
        the same for 5 and 10 years (survival past 12, 60 and 120 months with 95% log-log
        intervals), then ``median_years, median_low_years, median_high_years`` (NaN where
        not reached).

    Raises:
        UserError: The data cannot be read (see :func:`load_alliances`).
    """
    alliances = load_alliances(atop_dir)
    rows = []
    for group in GROUPS:
        members = alliances[alliances[f"in_{group.name}"]]
        row = _summarise(members["months"].to_numpy(), members["ended"].to_numpy())
        rows.append({"group": group.name, "description": group.description, **row})
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    return table.astype({"n": "int64", "events": "int64"})


def _markdown_table(table: pd.DataFrame) -> str:
    header = ["Group", "n", "Ended", "S(1 y)", "S(5 y)", "S(10 y)", "Median (years)"]
    rows = []
    for row in table.itertuples(index=False):
        cells = [row.group, str(row.n), str(row.events)]
        for label in HORIZONS:
            estimate, low, high = (getattr(row, f"s_{label}{end}") for end in ("", "_low", "_high"))
            cells.append(interval_cell(estimate, low, high))
        cells.append(
            interval_cell(row.median_years, row.median_low_years, row.median_high_years, digits=1)
        )
        rows.append(cells)
    return markdown_grid(header, rows, align="-rrrrrr")


def _comparison(table: pd.DataFrame) -> str:
    """README figure against the recomputed one, for every figure the README quotes."""
    computed = table.set_index("group")
    rows = [
        [group, column, str(quoted), f"{computed.loc[group, column]:.3f}"]
        for group, figures in README_FIGURES.items()
        for column, quoted in figures.items()
    ]
    return markdown_grid(["Group", "Figure", "README", "Here"], rows, align="--rr")


def _document(table: pd.DataFrame) -> str:
    groups = "\n".join(f"- `{g.name}`: {g.description}." for g in GROUPS)
    return f"""# Base rates of alliance survival (ATOP v4.01)

How long real alliances last, as anchors for the termination hazards of the model:
Kaplan–Meier survival of the alliances in the ATOP v4.01 alliance-level file past 1, 5
and 10 years, and the median survival, each with a pointwise 95% log-log (exponential
Greenwood) interval. Alliances still in effect are censored at December 2016. The numbers
are in `base_rates.csv` beside this file (4 decimals; medians and their bounds in years,
blank where not reached). Generated by `sim.baserates` (`base_rates`, `write_base_rates`)
from the ATOP files, which are not part of this repository.

## Source

{CITATION}

## Groups

{groups}

The groups overlap (an alliance can be a wartime defence pact with Russia); each is
estimated on its own.

## Table

Survival S(t) is the probability that an alliance is still in effect t years after the
month it began; cells are `estimate [95% interval]`, NR = not reached.

{_markdown_table(table)}

## Conventions, and the evidence for them

1. **Unit.** One row of the alliance-level file is one alliance (745 rows, unique
   `atopid`), alive from its begin month to its end month. The member-level file agrees:
   every alliance's begin month is its earliest member entry, and every ended alliance's
   end month its latest member exit. Changes of membership or phase within an alliance
   are not counted as ends.
2. **Durations in whole months:** `12 * (endyr - begyr) + (endmo - begmo)`. Days are not
   used (`begday` is blank for 1 alliance, `endday` for 13 ended ones). An alliance from
   January 1950 to January 1951 lasts 12 months. Counting the begin and the end month both
   (one month more for every alliance) would move the wartime median to 49 months (4.1
   years) where the README has 4.0, so it is not used.
3. **Missing months.** `begmo` is 1-12 for every alliance. `endyr`, `endmo` and `endday`
   are 0 exactly for the 334 alliances with `ineffect == 1` and never for the 411 with
   `ineffect == 0`; no date column is blank except the day columns above. So 0 codes "no
   end yet", no ended alliance lacks its end month, and no convention for a missing end
   month is needed: the loader refuses a file with one rather than guess.
4. **Censoring.** Alliances with `ineffect == 1` are censored at December 2016, the end of
   ATOP v4.01's coverage (the latest begin is June 2016, the latest end 2013), by the
   same month arithmetic. Censoring them a month later, in January 2017, moves the survival
   figures of all alliances by less than 0.0001, those of the other groups not at all, and
   no median estimate; only the upper bound of the median of all alliances moves by one
   month (295 to 296).
5. **Survival at t months is P(T > t)** (the convention of `sim.survival`): an alliance
   that ends in the month 12 months after it began has not survived 1 year.
6. **Zero-month alliances.** Two alliances ended in the month they began: atopid 1230
   (Prussia and Russia, 8-28 February 1863) and 2520 (the USSR and Yugoslavia, 5-20 April
   1941). They are kept as events at month 0, so S(0) = 743/745 = 0.997 for all alliances
   and 149/151 = 0.987 for the Russia group rather than 1. Moving them to month 1 would
   change no figure in the table.
7. **"Formed after 1945" is `begyr >= 1945`.** Both readings give the README's median of
   19.6 years (235 months), but `begyr > 1945` (126 pacts) gives a 5-year survival of 0.83
   where the README has 0.81; `begyr >= 1945` (129 pacts) gives 0.81 and reproduces all the
   quoted figures. The three pacts of 1945 are the USSR's with Yugoslavia, Poland and
   China (atopid 3020, 3025, 3030).
8. **Russia.** Correlates of War code {RUSSIA} is Russia, the USSR and the Russian
   Federation alike; an alliance is in the group if {RUSSIA} is in any member column
   (`mem1`, `mem2`, ...; members at any time). The member-level file gives the same 151 alliances.
9. **Intervals and medians** are those of `sim.survival`: log-log intervals with
   Greenwood's variance (as `scipy.stats.ecdf` and lifelines compute them); the median is
   the first month with S(t) <= 0.5, its interval where the lower and upper bands first
   reach 0.5 (lifelines' rule).

## Comparison with the orientation figures of the data's README

The README quotes survival to 2 decimals and medians to a year or a tenth of one; every
recomputed figure rounds to the quoted one.

{_comparison(table)}
"""


def write_base_rates(table: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Write ``base_rates.csv`` and ``base_rates.md`` for a table of :func:`base_rates`.

    Args:
        table: The output of :func:`base_rates`.
        out_dir: Existing directory to write into.

    Returns:
        The paths written: the CSV (rounded to 4 decimals), then the Markdown document.
    """
    out_dir = Path(out_dir)
    csv_path = out_dir / "base_rates.csv"
    md_path = out_dir / "base_rates.md"
    write_text(csv_path, table.round(4).to_csv(index=False, lineterminator="\n"))
    write_text(md_path, _document(table))
    return [csv_path, md_path]
