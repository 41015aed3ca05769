"""Historical evidence for the model's alliance-termination hazards, by survival regression.

The simulation's cooperation channels (the 2024 Russia–DPRK treaty among them) end with
hazards that should rest on how real alliances have ended. This module builds that
evidence from public data and writes it to ``calibration/``:

- :func:`load_panel` joins the ATOP v4.01 alliances (Leeds et al. 2002) with leader exits
  (Archigos), interstate wars (COW), capabilities (COW NMC), strategic rivalries
  (Thompson and Dreyer) and external threat (Leeds and Savun) into a counting-process
  panel: one row per alliance and stretch of its life (calendar years, split where a
  member's leader leaves office), with the age at the row's start and stop in years.
- :func:`fit_hazards` fits a Cox model with time-varying covariates (lifelines'
  ``CoxTimeVaryingFitter``) and returns a :class:`HazardFit`: hazard ratios, their
  covariance (for drawing parameter uncertainty), the baseline cumulative hazard at
  stated reference values, a time-varying concordance and proportional-hazards checks.
- :func:`out_of_sample` fits a forecaster on alliances formed before a split year with the
  information available at formation and scores it on later alliances against a
  Kaplan–Meier base rate (IPCW Brier score, skill score with a bootstrap interval).
- :func:`reference_class` gives Kaplan–Meier survival of reference classes relevant to the
  2024 Russia–DPRK mutual-defence treaty.
- :func:`write_hazards` writes the tables and a Markdown report section; ``python -m
  sim.calibration.hazards --atop DIR --peace-science DIR --out DIR`` regenerates everything.

Conventions (each is restated, with its evidence, in the report :func:`write_hazards`
writes):

- Time is in decimal years. A date given to the month is the middle of that month, so an
  alliance's life in years is its life in whole months (as :mod:`sim.baserates` counts
  it) divided by 12; one that ends in the month it began lasts half a month.
- An alliance ends when its last member leaves (the alliance-level end date of ATOP);
  members leaving, joining or a change of phase are not ends. An end by a new treaty
  replacing the alliance (ATOP termmode 2) is an end for the headline model and censored
  for the simulation's (``simulation``, ``not_replaced``): its cooperation goes on.
- Leader exits come from Archigos, which starts in 1875, so models with leader
  covariates are at risk from 1876 on (a full year of look-back); alliances formed
  earlier and still in force enter then (left truncation).
- The interstate-war data end in 2003 and the threat index in 2007 (its 2008 values are
  all 0, a placeholder): a model is censored at the end of the last year all of its
  covariates are observed, never filled with "no war" or "no change".

The data files are read from the directories given and never copied into the repository.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import UserError

__all__ = [
    "COVARIATES",
    "MODELS",
    "Covariate",
    "HazardFit",
    "ModelSpec",
    "OutOfSample",
    "brier_scores",
    "fit_hazards",
    "integrated_brier",
    "load_panel",
    "main",
    "out_of_sample",
    "reference_class",
    "time_varying_concordance",
    "write_hazards",
]

# --- Files and coverage --------------------------------------------------------------------

ATOP_ALLIANCES = "atop-4.01-alliance-level.csv"
ATOP_MEMBERS = "atop-4.01-member-level.csv"
THREAT_FILE = "leeds-savun-threat.csv"
ARCHIGOS_FILE = "archigos.csv"
MAJORS_FILE = "cow_majors.csv"
WARS_FILE = "cow_war_inter.csv"
NMC_FILE = "cow_nmc.csv"
RIVALRIES_FILE = "td_rivalries.csv"

FIRST_FORMATION_YEAR = 1816
"""Earliest formation year in the panel: the first year of the COW, NMC and threat series."""
LEADERS_FIRST_YEAR = 1876
"""First calendar year with leader covariates: Archigos starts in 1875, plus a year of look-back."""
WARS_LAST_YEAR = 2003
"""Last year of the COW interstate-war dyad-years."""
THREAT_LAST_YEAR = 2007
"""Last year of the Leeds–Savun index with values (2008 is coded 0 for every state)."""
RIVALRY_LAST_YEAR = 2010
"""Last year of the Thompson–Dreyer rivalries; rivalries ending then are still ongoing."""
ATOP_LAST_YEAR = 2016
"""End of ATOP v4.01's coverage: alliances in effect are censored at the end of this year."""
PANEL_LAST_YEAR = THREAT_LAST_YEAR
"""Default last calendar year of :func:`load_panel` (rows after :data:`WARS_LAST_YEAR` have
no war covariates)."""

RUSSIA = 365
"""Correlates of War code of Russia, the USSR and the Russian Federation alike."""
BROKEN_MODE = 3
"""ATOP ``termmode`` of alliances ended by violation or unilateral abrogation (inferred)."""
REPLACED_MODE = 2
"""ATOP ``termmode`` of alliances replaced or renegotiated (inferred): their cooperation goes
on under the next treaty, so the simulation's model does not count them as ends."""
TERMMODE_LABELS = {
    1: "expired at the end of its term",
    2: "replaced or renegotiated",
    3: "violated or abrogated by a member",
    4: "a member lost its independence",
    5: "purpose fulfilled (e.g. the war it was for ended)",
    6: "a member was defeated in war",
}
"""Meanings of ATOP ``termmode`` inferred from the data (no codebook here): see the report."""

GW_TO_COW = ((260, 1990 + (10 - 1 + 2 / 31) / 12, 255), (678, 1990 + (5 - 1 + 21 / 31) / 12, 679))
"""Gleditsch–Ward codes that map to another COW code from a date on: unified Germany
(GW 260 from 3 Oct 1990 is COW 255) and unified Yemen (GW 678 from 22 May 1990 is COW 679)."""
GW_ALWAYS = {340: 345}
"""Gleditsch–Ward codes with another COW code throughout (Serbia, GW 340, is COW 345)."""

REGULAR_EXITS = ("Regular",)
IRREGULAR_EXITS = ("Irregular", "Foreign")
OTHER_EXITS = ("Natural Death", "Retired Due to Ill Health", "Suicide", "Unknown")

HORIZONS = (1, 2, 5, 10)
"""Years at which the reference classes' survival is reported."""
SIG_DIGITS = 4


# --- Covariates and models -------------------------------------------------------------------


@dataclass(frozen=True)
class Covariate:
    """A covariate of the hazard models.

    Attributes:
        name: Column of the panel.
        meaning: Exact definition, as written in the tables.
        binary: Whether it is a 0/1 indicator (exposure counts are reported for these).
        varying: Whether it changes over an alliance's life.
        family: Data set it needs (``atop``, ``cow_majors``, ``archigos``, ``cow_wars``,
            ``threat``, ``nmc``, ``rivalries``).
    """

    name: str
    meaning: str
    binary: bool
    varying: bool
    family: str


COVARIATES: tuple[Covariate, ...] = (
    Covariate(
        "wartime",
        "formed during a war in which a member fought (ATOP wartime)",
        True,
        False,
        "atop",
    ),
    Covariate("bilateral", "two members (ATOP bilat)", True, False, "atop"),
    Covariate("defence", "defence pact (ATOP defense)", True, False, "atop"),
    Covariate("asymmetric", "obligations differ between members (ATOP asymm)", True, False, "atop"),
    Covariate(
        "institutional",
        "high military institutionalisation: integrated command, common defence "
        "policy or bases (ATOP intcom == 1 or milcon == 3 or base >= 1)",
        True,
        False,
        "atop",
    ),
    Covariate(
        "major_minor",
        "founding members include a COW major power and a non-major at formation",
        True,
        False,
        "cow_majors",
    ),
    Covariate(
        "leader_regular",
        "a member's leader left office by regular means in the past 12 months "
        "(Archigos exit 'Regular'; exits before formation never count)",
        True,
        True,
        "archigos",
    ),
    Covariate(
        "leader_irregular",
        "a member's leader was removed irregularly in the past 12 months "
        "(Archigos exit 'Irregular' or 'Foreign')",
        True,
        True,
        "archigos",
    ),
    Covariate(
        "leader_death",
        "a member's leader died or retired ill in office in the past 12 months "
        "(Archigos exit 'Natural Death', 'Retired Due to Ill Health', 'Suicide', "
        "'Unknown')",
        True,
        True,
        "archigos",
    ),
    Covariate(
        "war_ongoing",
        "a member fights an interstate war this calendar year (COW)",
        True,
        True,
        "cow_wars",
    ),
    Covariate(
        "war_ended",
        "a member's participation in an interstate war ended in one of the two "
        "previous calendar years (COW)",
        True,
        True,
        "cow_wars",
    ),
    Covariate(
        "threat",
        "external threat: mean over members of the Leeds–Savun index this year, per 0.1",
        False,
        True,
        "threat",
    ),
    Covariate(
        "threat_change",
        "threat minus its value in the formation year, per 0.1",
        False,
        True,
        "threat",
    ),
    Covariate(
        "capability_shift",
        "shift in the founding members' CINC shares since the formation year "
        "(half the sum of absolute share changes), per 0.1",
        False,
        True,
        "nmc",
    ),
    Covariate(
        "shared_rival",
        "two members share a strategic rival outside the alliance this year (Thompson–Dreyer)",
        True,
        True,
        "rivalries",
    ),
)
"""All covariates, in the order of the tables."""

_BY_NAME = {c.name: c for c in COVARIATES}
LEADER_COVARIATES = ("leader_regular", "leader_irregular", "leader_death")
WAR_COVARIATES = ("war_ongoing", "war_ended")
ALL_NAMES = tuple(c.name for c in COVARIATES)


@dataclass(frozen=True)
class ModelSpec:
    """One hazard model: its window, covariates, event and alliances.

    Attributes:
        name: Short name, the ``model`` column of the tables.
        description: One line for the report.
        first_year: First calendar year at risk.
        last_year: Last calendar year at risk (censored at its end).
        covariates: Panel columns used.
        event: Event column of the panel (``event``, ``event_broken`` or
            ``event_not_replaced``).
        bilateral_only: Keep only bilateral alliances.
        age_interactions: Covariates whose log hazard ratio changes with log(age): each
            gets a column ``<name>_x_log_age`` (the panel is split at every event age so
            that log(age) is exact where the partial likelihood evaluates it).
    """

    name: str
    description: str
    first_year: int
    last_year: int
    covariates: tuple[str, ...]
    event: str = "event"
    bilateral_only: bool = False
    age_interactions: tuple[str, ...] = ()


_NO_BILAT = tuple(c for c in ALL_NAMES if c != "bilateral")
MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "main",
            "all alliances, any end, at risk 1876-2003, all covariates",
            LEADERS_FIRST_YEAR,
            WARS_LAST_YEAR,
            ALL_NAMES,
        ),
        ModelSpec(
            "bilateral",
            "bilateral alliances only, otherwise as main",
            LEADERS_FIRST_YEAR,
            WARS_LAST_YEAR,
            _NO_BILAT,
            bilateral_only=True,
        ),
        ModelSpec(
            "broken",
            "cause-specific: ends by violation or abrogation (termmode 3) are events, "
            "other ends censored; otherwise as main",
            LEADERS_FIRST_YEAR,
            WARS_LAST_YEAR,
            ALL_NAMES,
            event="event_broken",
        ),
        ModelSpec(
            "long",
            "at risk 1876-2007, without the war covariates",
            LEADERS_FIRST_YEAR,
            THREAT_LAST_YEAR,
            tuple(c for c in ALL_NAMES if c not in WAR_COVARIATES),
        ),
        ModelSpec(
            "early",
            "at risk 1816-2003 (formed from 1816), without the leader covariates",
            FIRST_FORMATION_YEAR,
            WARS_LAST_YEAR,
            tuple(c for c in ALL_NAMES if c not in LEADER_COVARIATES),
        ),
        ModelSpec(
            "not_replaced",
            "as main, cause-specific: ends by a new treaty replacing the alliance "
            "(termmode 2) censored, the ends the simulation counts; its proportional-hazards "
            "check is the simulation model's",
            LEADERS_FIRST_YEAR,
            WARS_LAST_YEAR,
            ALL_NAMES,
            event="event_not_replaced",
        ),
        ModelSpec(
            "simulation",
            "as main, with the war effect varying with alliance age (war_ongoing x log age, "
            "the one effect the proportional-hazards check rejects), and cause-specific: "
            "replacements by a new treaty (termmode 2) censored, since the cooperation "
            "goes on under the next treaty: the model the simulation's treaty hazard takes "
            "its baseline and ratios from",
            LEADERS_FIRST_YEAR,
            WARS_LAST_YEAR,
            ALL_NAMES,
            event="event_not_replaced",
            age_interactions=("war_ongoing",),
        ),
    )
}
"""The models fitted by :func:`main`; ``main`` is the headline model."""

PH_CHECKED = ("main", "not_replaced")
"""Models whose effects are checked for proportional hazards: the headline, and the one
with the simulation's ends (the simulation's own model has the war's age interaction the
check asks for, so it is checked through its counterpart without it)."""

PUBLISHED = ("main", "simulation")
"""Models whose covariance and baseline hazard are written (the headline and the one the
simulation uses)."""

AGE_INTERACTION = "_x_log_age"
"""Suffix of a covariate-by-log(age in years) interaction column."""

FORMATION_COVARIATES = (
    "wartime",
    "bilateral",
    "defence",
    "asymmetric",
    "institutional",
    "major_minor",
    "war_ongoing",
    "war_ended",
    "threat",
    "shared_rival",
)
"""Covariates known at formation, used by the out-of-sample forecaster (values in the
formation year for the time-varying ones)."""

SCALED = {"threat": 10.0, "threat_change": 10.0, "capability_shift": 10.0}
"""Continuous covariates are stored per 0.1 of their natural unit (multiplied by 10)."""


# --- Small helpers ---------------------------------------------------------------------------


def _lifelines() -> Any:
    """Import lifelines quietly, or say how to get it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import lifelines
            import lifelines.statistics
            import lifelines.utils
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise UserError(
            "sim.calibration.hazards needs lifelines (pip install 'lifelines>=0.29'; it is in the "
            "project's dev extra)"
        ) from error
    return lifelines


def _month_time(year: Any, month: Any) -> Any:
    """Decimal year of the middle of a month (``year`` and ``month`` may be arrays)."""
    return year + (month - 0.5) / 12


def _date_time(dates: pd.Series) -> np.ndarray:
    """Decimal year of the middle of each day of a date column (ISO strings)."""
    stamp = pd.to_datetime(dates)
    days = np.where(stamp.dt.is_leap_year, 366.0, 365.0)
    return (stamp.dt.year + (stamp.dt.dayofyear - 0.5) / days).to_numpy(dtype=float)


def _round_sig(value: float, digits: int = SIG_DIGITS) -> float:
    """``value`` rounded to ``digits`` significant digits (NaN and 0 unchanged)."""
    if value is None or not np.isfinite(value) or value == 0:
        return value
    return float(f"{value:.{digits - 1}e}")


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` with every float column rounded to 4 significant digits."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].map(_round_sig)
    return out


def _write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a temporary file, then a rename)."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _read(directory: Path, name: str, columns: Sequence[str]) -> pd.DataFrame:
    """Read a CSV of a data directory, checking it exists and has ``columns``."""
    path = Path(directory) / name
    if not path.is_file():
        raise UserError(f"{name} not found in {directory}: see the README of the data folder")
    table = pd.read_csv(path, low_memory=False)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(missing)}")
    return table


# --- Reading the sources ---------------------------------------------------------------------


@dataclass
class _Sources:
    """The raw tables, read once and lightly decoded."""

    alliances: pd.DataFrame
    spells: pd.DataFrame
    threat: pd.DataFrame
    exits: pd.DataFrame
    majors: pd.DataFrame
    war_years: pd.DataFrame
    war_ends: pd.DataFrame
    cinc: pd.DataFrame
    rivalries: pd.DataFrame
    notes: dict[str, Any] = field(default_factory=dict)


def _read_alliances(atop_dir: Path) -> pd.DataFrame:
    columns = (
        "atopid",
        "begyr",
        "begmo",
        "endyr",
        "endmo",
        "ineffect",
        "bilat",
        "wartime",
        "defense",
        "asymm",
        "intcom",
        "milcon",
        "base",
    )
    table = _read(atop_dir, ATOP_ALLIANCES, columns)
    ended = table["ineffect"] == 0
    bad = ~table["begmo"].isin(range(1, 13)) | (ended & ~table["endmo"].isin(range(1, 13)))
    if bad.any():
        ids = ", ".join(str(i) for i in table.loc[bad, "atopid"].head(5))
        raise UserError(f"{atop_dir / ATOP_ALLIANCES}: begin or end month not 1-12 (atopid {ids})")
    out = pd.DataFrame({"id": table["atopid"].astype(int)})
    out["begyr"] = table["begyr"].astype(int)
    out["t0"] = _month_time(table["begyr"], table["begmo"]).astype(float)
    months = np.where(
        ended,
        12 * table["endyr"] + table["endmo"] - 12 * table["begyr"] - table["begmo"],
        np.nan,
    )
    if (months < 0).any():
        raise UserError(f"{atop_dir / ATOP_ALLIANCES}: an alliance ends before it begins")
    # An alliance that ends in the month it began lasts half a month (it cannot last 0).
    life = np.where(months == 0, 0.5, months) / 12
    out["ended"] = ended.to_numpy()
    out["t_end"] = np.where(ended, out["t0"] + life, np.inf)
    out["endyr"] = np.where(ended, table["endyr"], 0).astype(int)
    out["end_index"] = np.where(ended, 12 * table["endyr"] + table["endmo"] - 1, -1).astype(int)
    out["wartime"] = (table["wartime"] == 1).astype(float)
    out["bilateral"] = (table["bilat"] == 1).astype(float)
    out["defence"] = (table["defense"] == 1).astype(float)
    out["asymmetric"] = (table["asymm"] == 1).astype(float)
    out["institutional"] = (
        (table["intcom"] == 1) | (table["milcon"] == 3) | (table["base"] >= 1)
    ).astype(float)
    coded = table[["intcom", "milcon", "base"]].notna().all(axis=1)
    out["institutional_coded"] = coded.to_numpy()
    notes: dict[str, Any] = {"institutional_missing": int((~coded).sum())}
    if "hinst" in table.columns:
        both = coded & table["hinst"].notna()
        notes["hinst_agrees"] = bool(
            (out.loc[both, "institutional"] == table.loc[both, "hinst"]).all()
        )
    out.attrs["notes"] = notes
    return out


def _read_spells(atop_dir: Path, alliances: pd.DataFrame) -> pd.DataFrame:
    columns = ("atopid", "member", "yrent", "moent", "yrexit", "moexit", "termmode")
    table = _read(atop_dir, ATOP_MEMBERS, columns)
    out = pd.DataFrame({"id": table["atopid"].astype(int), "ccode": table["member"].astype(int)})
    out["entry"] = _month_time(table["yrent"], table["moent"]).astype(float)
    has_exit = table["yrexit"] > 0
    out["exit"] = np.where(has_exit, _month_time(table["yrexit"], table["moexit"]), np.inf)
    out["termmode"] = table["termmode"]
    known = set(alliances["id"])
    if not set(out["id"]) <= known:
        raise UserError(f"{atop_dir / ATOP_MEMBERS}: members of alliances not in {ATOP_ALLIANCES}")
    t0 = out["id"].map(alliances.set_index("id")["t0"])
    out["founder"] = np.isclose(out["entry"], t0)
    return out


def _end_modes(alliances: pd.DataFrame, spells: pd.DataFrame) -> pd.Series:
    """ATOP ``termmode`` of each ended alliance: the most common among the last exits."""
    end_month = pd.Series(alliances["end_index"].to_numpy(), index=alliances["id"])
    last = spells[np.isfinite(spells["exit"])].copy()
    exit_month = np.round(last["exit"].to_numpy() * 12 - 0.5).astype(int)
    last = last[exit_month == last["id"].map(end_month).to_numpy()]
    modes = last.groupby("id")["termmode"].agg(
        lambda s: s.dropna().astype(int).mode().max() if s.notna().any() else 0
    )
    return modes.reindex(alliances["id"]).fillna(0).astype(int)


def _read_threat(atop_dir: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    table = _read(atop_dir, THREAT_FILE, ("ccode", "year", "lsthreat"))
    table = table.dropna(subset=["ccode"]).astype({"ccode": int, "year": int})
    zero_share = table.assign(z=table["lsthreat"] == 0).groupby("year")["z"].mean()
    placeholder_years = sorted(int(y) for y in zero_share.index[zero_share == 1])
    table.loc[table["year"].isin(placeholder_years), "lsthreat"] = np.nan
    table = table.sort_values(["ccode", "year"])
    table["lsthreat"] = table.groupby("ccode")["lsthreat"].transform(
        lambda s: s.interpolate(limit_area="inside")
    )
    notes = {"threat_placeholder_years": placeholder_years}
    return table.dropna(subset=["lsthreat"]), notes


def _read_exits(peace_dir: Path) -> pd.DataFrame:
    table = _read(peace_dir, ARCHIGOS_FILE, ("gwcode", "enddate", "exit"))
    table = table[table["exit"] != "Still in Office"].dropna(subset=["gwcode", "enddate"])
    when = _date_time(table["enddate"])
    gw = table["gwcode"].astype(int).to_numpy()
    ccode = np.array([GW_ALWAYS.get(g, g) for g in gw])
    for code, since, new in GW_TO_COW:
        ccode = np.where((gw == code) & (when >= since), new, ccode)
    kind = np.select(
        [
            table["exit"].isin(REGULAR_EXITS),
            table["exit"].isin(IRREGULAR_EXITS),
            table["exit"].isin(OTHER_EXITS),
        ],
        ["leader_regular", "leader_irregular", "leader_death"],
        default="",
    )
    out = pd.DataFrame({"ccode": ccode, "time": when, "kind": kind})
    unknown = sorted(set(table.loc[kind == "", "exit"]))
    if unknown:
        raise UserError(f"{peace_dir / ARCHIGOS_FILE}: unknown exit categories {unknown}")
    return out


def _read_majors(peace_dir: Path) -> pd.DataFrame:
    columns = ("ccode", "styear", "stmonth", "stday", "endyear", "endmonth", "endday")
    table = _read(peace_dir, MAJORS_FILE, columns)
    start = table["styear"] + (table["stmonth"] - 1 + (table["stday"] - 1) / 31) / 12
    end = table["endyear"] + (table["endmonth"] - 1 + table["endday"] / 31) / 12
    return pd.DataFrame({"ccode": table["ccode"].astype(int), "start": start, "end": end})


def _read_wars(peace_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    table = _read(peace_dir, WARS_FILE, ("warnum", "ccode1", "year"))
    years = table[["ccode1", "year", "warnum"]].astype(int).rename(columns={"ccode1": "ccode"})
    war_years = years[["ccode", "year"]].drop_duplicates()
    war_ends = years.groupby(["ccode", "warnum"])["year"].max().rename("end_year").reset_index()
    return war_years, war_ends[["ccode", "end_year"]].drop_duplicates()


def _read_cinc(peace_dir: Path) -> pd.DataFrame:
    table = _read(peace_dir, NMC_FILE, ("ccode", "year", "cinc"))
    table = table.dropna(subset=["ccode", "year", "cinc"])
    return table[["ccode", "year", "cinc"]].astype({"ccode": int, "year": int})


def _read_rivalries(peace_dir: Path, last_year: int) -> pd.DataFrame:
    """Rival pairs by year, both directions; ongoing at the data's end means ongoing after."""
    table = _read(peace_dir, RIVALRIES_FILE, ("ccode1", "ccode2", "styear", "endyear"))
    table = table.dropna(subset=["ccode1", "ccode2", "styear", "endyear"])
    rows = []
    for c1, c2, start, end in table[["ccode1", "ccode2", "styear", "endyear"]].itertuples(
        index=False
    ):
        end = last_year if end >= RIVALRY_LAST_YEAR else end
        years = np.arange(max(int(start), FIRST_FORMATION_YEAR - 1), int(end) + 1)
        for a, b in ((c1, c2), (c2, c1)):
            rows.append(pd.DataFrame({"ccode": int(a), "rival": int(b), "year": years}))
    if not rows:
        return pd.DataFrame({"ccode": [], "rival": [], "year": []}, dtype=int)
    return pd.concat(rows, ignore_index=True).drop_duplicates()


def _wartime_check(
    alliances: pd.DataFrame, spells: pd.DataFrame, war_years: pd.DataFrame
) -> dict[str, int]:
    """Compare ATOP's ``wartime`` with COW wars of the founders in the formation year."""
    covered = alliances[(alliances["begyr"] >= 1823) & (alliances["begyr"] <= WARS_LAST_YEAR)]
    founders = spells[spells["founder"]].merge(covered[["id", "begyr"]], on="id")
    at_war = founders.merge(war_years, left_on=["ccode", "begyr"], right_on=["ccode", "year"])
    at_war_ids = covered["id"].isin(set(at_war["id"]))
    flagged = covered["wartime"] == 1
    return {
        "wartime_checked": len(covered),
        "wartime_not_at_war": int((flagged & ~at_war_ids).sum()),
        "at_war_not_wartime": int((~flagged & at_war_ids).sum()),
    }


def _read_sources(atop_dir: Path, peace_dir: Path) -> _Sources:
    atop_dir, peace_dir = Path(atop_dir), Path(peace_dir)
    for directory in (atop_dir, peace_dir):
        if not directory.is_dir():
            raise UserError(f"data directory {directory} not found")
    alliances = _read_alliances(atop_dir)
    spells = _read_spells(atop_dir, alliances)
    alliances["end_mode"] = _end_modes(alliances, spells).to_numpy()
    threat, notes = _read_threat(atop_dir)
    notes.update(alliances.attrs.get("notes", {}))
    war_years, war_ends = _read_wars(peace_dir)
    notes.update(_wartime_check(alliances, spells, war_years))
    return _Sources(
        alliances=alliances,
        spells=spells,
        threat=threat,
        exits=_read_exits(peace_dir),
        majors=_read_majors(peace_dir),
        war_years=war_years,
        war_ends=war_ends,
        cinc=_read_cinc(peace_dir),
        rivalries=_read_rivalries(peace_dir, ATOP_LAST_YEAR),
        notes=notes,
    )


# --- Alliance traits at formation ------------------------------------------------------------


def _is_major(ccode: pd.Series, when: pd.Series, majors: pd.DataFrame) -> np.ndarray:
    """Whether each state was a COW major power at each time (before 1816: as in 1816)."""
    when = np.maximum(when.to_numpy(dtype=float), FIRST_FORMATION_YEAR)
    out = np.zeros(len(ccode), dtype=bool)
    codes = ccode.to_numpy()
    for row in majors.itertuples(index=False):
        out |= (codes == row.ccode) & (when >= row.start) & (when <= row.end)
    return out


def _shared_rival(member_years: pd.DataFrame, rivalries: pd.DataFrame) -> pd.DataFrame:
    """The rivals outside the alliance that two or more members share, per (id, year).

    Returns one row ``(id, year, rival)`` per shared rival.
    """
    pairs = member_years.merge(rivalries, on=["ccode", "year"])
    inside = member_years.rename(columns={"ccode": "rival"})[["id", "year", "rival"]]
    pairs = pairs.merge(inside.assign(inside=True), on=["id", "year", "rival"], how="left")
    pairs = pairs[pairs["inside"].isna()]
    counts = pairs.groupby(["id", "year", "rival"])["ccode"].nunique().reset_index()
    shared = counts[counts["ccode"] >= 2]
    return shared[["id", "year", "rival"]]


def _formation_traits(src: _Sources) -> pd.DataFrame:
    """Per alliance: founders' major-power mix and shared rivals at formation."""
    founders = src.spells[src.spells["founder"]].copy()
    founders = founders.drop_duplicates(["id", "ccode"])
    alliances = src.alliances.set_index("id")
    founders["t0"] = founders["id"].map(alliances["t0"])
    founders["year"] = founders["id"].map(alliances["begyr"])
    founders["major"] = _is_major(founders["ccode"], founders["t0"], src.majors)
    mix = founders.groupby("id")["major"].agg(["any", "all"])
    out = pd.DataFrame(index=alliances.index)
    out["major_minor"] = (mix["any"] & ~mix["all"]).reindex(out.index).fillna(False).astype(float)
    out["has_major"] = mix["any"].reindex(out.index).fillna(False)
    shared = _shared_rival(founders[["id", "year", "ccode"]], src.rivalries)
    out["shared_rival_at_formation"] = out.index.isin(shared["id"]).astype(float)
    shared = shared.assign(
        major=_is_major(shared["rival"], shared["id"].map(alliances["t0"]), src.majors)
    )
    out["shared_major_rival_at_formation"] = out.index.isin(
        shared.loc[shared["major"], "id"]
    ).astype(float)
    members = src.spells.groupby("id")["ccode"].agg(set)
    out["russia"] = [RUSSIA in members.get(i, set()) for i in out.index]
    out["n_founders"] = founders.groupby("id").size().reindex(out.index).fillna(0).astype(int)
    return out


# --- The panel -------------------------------------------------------------------------------


def _annual_rows(alliances: pd.DataFrame, last_year: int) -> pd.DataFrame:
    """One row per alliance and calendar year of its life up to ``last_year``."""
    chosen = alliances[
        (alliances["begyr"] >= FIRST_FORMATION_YEAR) & (alliances["begyr"] <= last_year)
    ]
    last = np.where(
        chosen["ended"] & (chosen["endyr"] <= last_year), chosen["endyr"], last_year
    ).astype(int)
    counts = last - chosen["begyr"].to_numpy() + 1
    rows = chosen.loc[chosen.index.repeat(counts)].reset_index(drop=True)
    rows["year"] = rows["begyr"] + rows.groupby("id").cumcount()
    rows["cal_start"] = np.maximum(rows["t0"], rows["year"])
    rows["cal_stop"] = np.minimum(rows["t_end"], rows["year"] + 1.0)
    rows["event"] = (rows["t_end"] <= rows["year"] + 1.0).astype(int)
    return rows


def _member_years(spells: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Members present in each alliance-year of ``rows`` (entry year <= year <= exit year)."""
    years = rows[["id", "year"]]
    merged = years.merge(spells[["id", "ccode", "entry", "exit", "founder"]], on="id")
    present = (np.floor(merged["entry"]) <= merged["year"]) & (
        merged["year"] <= np.floor(merged["exit"])
    )
    out = merged.loc[present, ["id", "year", "ccode", "founder"]]
    return out.sort_values("founder", ascending=False).drop_duplicates(["id", "year", "ccode"])


def _add_annual(rows: pd.DataFrame, src: _Sources) -> pd.DataFrame:
    """Add the war, threat, capability and rivalry covariates of each alliance-year."""
    members = _member_years(src.spells, rows)
    keys = ["id", "year"]

    wars = members.merge(src.war_years, on=["ccode", "year"])
    ongoing = wars.groupby(keys).size().rename("war_ongoing")
    ended = pd.concat([src.war_ends.assign(year=src.war_ends["end_year"] + lag) for lag in (1, 2)])[
        ["ccode", "year"]
    ].drop_duplicates()
    ended = members.merge(ended, on=["ccode", "year"]).groupby(keys).size().rename("war_ended")

    threat = members.merge(src.threat, on=["ccode", "year"]).groupby(keys)["lsthreat"].mean()
    threat = threat.rename("threat")

    shared = _shared_rival(members[["id", "year", "ccode"]], src.rivalries)
    shared = shared.drop_duplicates(keys).set_index(keys).assign(shared_rival=1.0)

    out = rows.set_index(keys)
    out = out.join(ongoing).join(ended).join(threat).join(shared["shared_rival"])
    for column in ("war_ongoing", "war_ended", "shared_rival"):
        out[column] = (out[column].fillna(0) > 0).astype(float)
    out = out.reset_index()
    war_unknown = out["year"] > WARS_LAST_YEAR
    out.loc[war_unknown, ["war_ongoing", "war_ended"]] = np.nan
    out.loc[out["year"] > THREAT_LAST_YEAR, "threat"] = np.nan
    out.loc[out["year"] > RIVALRY_LAST_YEAR, "shared_rival"] = np.nan

    first = out.groupby("id")["threat"].transform("first")
    out["threat_change"] = out["threat"] - first
    out["capability_shift"] = _capability_shift(members, src.cinc, out)
    for column, factor in SCALED.items():
        out[column] = out[column] * factor
    return out


def _capability_shift(members: pd.DataFrame, cinc: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """Total-variation distance between founders' CINC shares now and in the formation year.

    Computed over the founding members present in the year that have CINC values in both
    years; 0 when fewer than two such founders remain.
    """
    founders = members[members["founder"]].merge(cinc, on=["ccode", "year"])
    begin = rows.groupby("id")["begyr"].first()
    base = cinc.rename(columns={"cinc": "cinc0", "year": "begyr"})
    founders["begyr"] = founders["id"].map(begin)
    founders = founders.merge(base, on=["ccode", "begyr"])
    keys = ["id", "year"]
    founders = founders[(founders["cinc"] > 0) & (founders["cinc0"] > 0)]
    size = founders.groupby(keys)["ccode"].transform("size")
    founders = founders[size >= 2].copy()
    founders["share"] = founders["cinc"] / founders.groupby(keys)["cinc"].transform("sum")
    founders["share0"] = founders["cinc0"] / founders.groupby(keys)["cinc0"].transform("sum")
    founders["gap"] = (founders["share"] - founders["share0"]).abs()
    shift = 0.5 * founders.groupby(keys)["gap"].sum()
    index = pd.MultiIndex.from_frame(rows[keys])
    return shift.reindex(index).fillna(0.0).to_numpy()


def _leader_exposures(src: _Sources, alliances: pd.DataFrame) -> pd.DataFrame:
    """Leader exits of members while members, after the alliance's formation."""
    merged = src.spells[["id", "ccode", "entry", "exit"]].merge(src.exits, on="ccode")
    merged["t0"] = merged["id"].map(alliances.set_index("id")["t0"])
    keep = (
        (merged["time"] >= merged["entry"])
        & (merged["time"] <= merged["exit"])
        & (merged["time"] > merged["t0"])
    )
    return merged.loc[keep, ["id", "kind", "time"]].drop_duplicates()


def _split_rows(rows: pd.DataFrame, cuts: pd.DataFrame) -> pd.DataFrame:
    """Split rows ``(id, cal_start, cal_stop)`` at the times of ``cuts`` ``(id, time)``."""
    rows = rows.reset_index(drop=True)
    rows["row"] = np.arange(len(rows))
    inner = rows[["row", "id", "cal_start", "cal_stop"]].merge(cuts, on="id")
    inner = inner[(inner["time"] > inner["cal_start"]) & (inner["time"] < inner["cal_stop"])]
    points = (
        pd.concat(
            [
                rows[["row", "cal_start"]].rename(columns={"cal_start": "time"}),
                rows[["row", "cal_stop"]].rename(columns={"cal_stop": "time"}),
                inner[["row", "time"]],
            ]
        )
        .drop_duplicates()
        .sort_values(["row", "time"])
    )
    nxt = points.groupby("row")["time"].shift(-1)
    pieces = points.assign(next=nxt).dropna(subset=["next"])
    out = rows.drop(columns=["cal_start", "cal_stop"]).merge(
        pieces.rename(columns={"time": "cal_start", "next": "cal_stop"}), on="row"
    )
    last = out["cal_stop"] == out["row"].map(rows.set_index("row")["cal_stop"])
    out["event"] = np.where(last, out["event"], 0)
    return out.drop(columns="row")


def _add_leaders(rows: pd.DataFrame, exposures: pd.DataFrame) -> pd.DataFrame:
    """Split rows where exit exposures start and end; mark exits in the past 12 months."""
    cuts = pd.concat(
        [exposures[["id", "time"]], exposures[["id", "time"]].assign(time=exposures["time"] + 1)]
    ).drop_duplicates()
    rows = _split_rows(rows, cuts)
    rows = rows.sort_values(["id", "cal_start"]).reset_index(drop=True)
    middle = 0.5 * (rows["cal_start"] + rows["cal_stop"]).to_numpy()
    ids = rows["id"].to_numpy()
    bounds = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1], True])
    by_key = {key: np.sort(g["time"].to_numpy()) for key, g in exposures.groupby(["id", "kind"])}
    for kind in LEADER_COVARIATES:
        flag = np.zeros(len(rows))
        for lo, hi in itertools.pairwise(bounds):
            times = by_key.get((ids[lo], kind))
            if times is None:
                continue
            m = middle[lo:hi]
            recent = np.searchsorted(times, m, "right") - np.searchsorted(times, m - 1, "right")
            flag[lo:hi] = recent > 0
        rows[kind] = np.where(rows["year"] >= LEADERS_FIRST_YEAR, flag, np.nan)
    return rows


def _panel_from_sources(src: _Sources, last_year: int) -> pd.DataFrame:
    traits = _formation_traits(src)
    alliances = src.alliances.join(traits[["major_minor"]], on="id")
    rows = _annual_rows(alliances, last_year)
    rows = _add_annual(rows, src)
    rows = _add_leaders(rows, _leader_exposures(src, alliances))
    rows["start"] = rows["cal_start"] - rows["t0"]
    rows["stop"] = rows["cal_stop"] - rows["t0"]
    rows["event_broken"] = rows["event"] * (rows["end_mode"] == BROKEN_MODE)
    rows["event_not_replaced"] = rows["event"] * (rows["end_mode"] != REPLACED_MODE)
    life_end = np.where(np.isfinite(rows["t_end"]), rows["t_end"], _month_time(ATOP_LAST_YEAR, 12))
    rows["atop_years"] = life_end - rows["t0"]
    rows["atop_ended"] = rows["ended"].astype(int)
    columns = [
        "id",
        "year",
        "start",
        "stop",
        "event",
        "event_broken",
        "event_not_replaced",
        *ALL_NAMES,
        "formed",
        "end_mode",
        "atop_years",
        "atop_ended",
    ]
    rows = rows.rename(columns={"t0": "formed"})
    rows = rows[columns].sort_values(["id", "start"]).reset_index(drop=True)
    rows.attrs["notes"] = dict(src.notes)
    return rows


def load_panel(atop_dir: Path, peace_dir: Path, last_year: int = PANEL_LAST_YEAR) -> pd.DataFrame:
    """Build the counting-process panel of alliance lives and their covariates.

    Alliances formed from 1816 to ``last_year`` (ATOP v4.01 alliance level) are followed
    from formation; each contributes one row per calendar year of its life, split further
    where a member's leader left office (and 12 months later), so the leader covariates
    are exact to the day. An alliance ends when its last member leaves; alliances still in
    effect after ``last_year`` are censored at its end.

    Args:
        atop_dir: Directory with the ATOP alliance- and member-level files and the
            Leeds–Savun threat file.
        peace_dir: Directory with ``archigos.csv``, ``cow_majors.csv``,
            ``cow_war_inter.csv``, ``cow_nmc.csv`` and ``td_rivalries.csv``.
        last_year: Last calendar year of the panel.

    Returns:
        One row per stretch of an alliance's life, sorted by ``id`` and ``start``:
        ``id`` (ATOP atopid), ``year`` (calendar year), ``start`` and ``stop`` (age in
        years since formation), ``event`` (1 if the alliance ended at ``stop``),
        ``event_broken`` (1 if it ended then by violation or abrogation),
        ``event_not_replaced`` (1 if it ended then other than by a new treaty replacing
        it), the covariates of
        :data:`COVARIATES` (NaN where their data do not reach: leader covariates before
        1876, war covariates after 2003, threat after 2007), ``formed`` (decimal year of
        formation), ``end_mode`` (ATOP termmode of the end, 0 if none by 2016),
        ``atop_years`` and ``atop_ended`` (life in years to its end or to December 2016, and
        whether it ended: the outcome used out of sample). ``attrs["notes"]`` records data
        quirks found.

    Raises:
        UserError: A directory, file or column is missing, or dates are not coded as
            expected.
    """
    return _panel_from_sources(_read_sources(atop_dir, peace_dir), last_year)


# --- Fitting ---------------------------------------------------------------------------------


@dataclass
class HazardFit:
    """A fitted hazard model, read through pandas attributes (lifelines style).

    Attributes:
        model: The :class:`ModelSpec` fitted.
        summary: One row per covariate: ``model, covariate, meaning, coef, se,
            hazard_ratio, hr_low, hr_high, p, n, events``. ``hr_low``/``hr_high`` are the
            95% Wald interval. For indicators, ``n`` is the number of alliances exposed at
            some time and ``events`` the ends while exposed; for continuous covariates, all
            alliances and events of the model.
        concordance: Harrell's C for time-varying covariates (see
            :func:`time_varying_concordance`).
        covariance: Covariance matrix of the coefficients (DataFrame indexed by covariate).
        baseline: ``age_years, cum_hazard, survival``: Breslow cumulative baseline hazard
            at :attr:`reference`, at each event age.
        reference: Covariate values of the baseline (indicators and changes 0, threat at
            its mean over the model's rows).
        ph_checks: Proportional-hazards tests: ``covariate, coef_log_t, se, z, p, p_holm,
            hr_age1, hr_age10, verdict`` (``coef_log_t`` is the coefficient of the
            covariate times log(age in years); ``hr_age1``/``hr_age10`` the hazard ratios
            that model implies at ages 1 and 10), plus a ``global`` row (joint Wald test,
            its chi-squared statistic in ``z``).
        n_alliances: Alliances in the model.
        n_events: Events in the model.
        n_rows: Rows of the panel used.
        penalizer: The L2 penalizer used (0 unless needed).
        log_likelihood: Partial log-likelihood at the estimate.
    """

    model: ModelSpec
    summary: pd.DataFrame
    concordance: float
    covariance: pd.DataFrame
    baseline: pd.DataFrame
    reference: pd.Series
    ph_checks: pd.DataFrame
    n_alliances: int
    n_events: int
    n_rows: int
    penalizer: float
    log_likelihood: float


def _model_rows(panel: pd.DataFrame, spec: ModelSpec) -> pd.DataFrame:
    """The rows of ``panel`` a model uses, checking its covariates are observed there."""
    rows = panel[(panel["year"] >= spec.first_year) & (panel["year"] <= spec.last_year)]
    if spec.bilateral_only:
        rows = rows[rows["bilateral"] == 1]
    columns = ["id", "start", "stop", spec.event, *spec.covariates]
    rows = rows[columns].rename(columns={spec.event: "event"})
    missing = rows[list(spec.covariates)].isna().any(axis=1)
    if missing.any():
        # Members without data in a year (e.g. no threat score for any member): dropped,
        # which leaves a gap in that alliance's time at risk (valid in counting-process form).
        rows = rows[~missing]
    if rows.empty or rows["event"].sum() == 0:
        raise UserError(f"model {spec.name}: no rows or no events in its window")
    return rows.reset_index(drop=True)


def _fit_ctv(rows: pd.DataFrame, covariates: Sequence[str], penalizer: float) -> Any:
    lifelines = _lifelines()
    fitter = lifelines.CoxTimeVaryingFitter(penalizer=penalizer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitter.fit(
            rows[["id", "start", "stop", "event", *covariates]],
            id_col="id",
            event_col="event",
            start_col="start",
            stop_col="stop",
        )
    return fitter


def _covariance(fitter: Any, covariates: Sequence[str]) -> pd.DataFrame:
    """The coefficients' covariance matrix of a lifelines fit, labelled by covariate."""
    names = list(fitter.params_.index)
    matrix = pd.DataFrame(
        np.asarray(fitter.variance_matrix_, dtype=float), index=names, columns=names
    )
    matrix = matrix.loc[list(covariates), list(covariates)]
    matrix.index.name = "covariate"
    return matrix


def time_varying_concordance(
    start: np.ndarray, stop: np.ndarray, event: np.ndarray, ids: np.ndarray, risk: np.ndarray
) -> float:
    """Harrell's C for counting-process data.

    At each event age, the ending alliance's risk score is compared with the scores that
    the other alliances at risk then have (from their rows covering that age); alliances
    ending at the same age are not compared. Ties in score count one half.

    Args:
        start: Row start ages.
        stop: Row stop ages.
        event: 1 where the alliance ends at ``stop``.
        ids: Alliance of each row.
        risk: Linear predictor (or any increasing function of the hazard) of each row.

    Returns:
        The fraction of comparable pairs ordered as the scores predict.
    """
    start, stop, event, ids, risk = (np.asarray(a) for a in (start, stop, event, ids, risk))
    concordant = 0.0
    pairs = 0.0
    for i in np.flatnonzero(event == 1):
        t = stop[i]
        at_risk = (start < t) & (t <= stop) & (ids != ids[i])
        at_risk &= ~((event == 1) & (stop == t))
        others = risk[at_risk]
        concordant += np.sum(others < risk[i]) + 0.5 * np.sum(others == risk[i])
        pairs += others.size
    return float(concordant / pairs) if pairs else math.nan


def _breslow(
    rows: pd.DataFrame, covariates: Sequence[str], beta: np.ndarray, reference: np.ndarray
) -> pd.DataFrame:
    """Breslow cumulative baseline hazard at ``reference`` covariate values."""
    x = rows[list(covariates)].to_numpy(dtype=float) - reference
    score = np.exp(x @ beta)
    start, stop = rows["start"].to_numpy(), rows["stop"].to_numpy()
    event = rows["event"].to_numpy() == 1
    times = np.unique(stop[event])
    increments = np.empty(len(times))
    for k, t in enumerate(times):
        at_risk = (start < t) & (t <= stop)
        increments[k] = np.sum(event & (stop == t)) / score[at_risk].sum()
    cumulative = np.cumsum(increments)
    return pd.DataFrame(
        {"age_years": times, "cum_hazard": cumulative, "survival": np.exp(-cumulative)}
    )


def _split_at(rows: pd.DataFrame, times: np.ndarray) -> pd.DataFrame:
    """Split every row at the ages in ``times`` strictly inside it (events stay last)."""
    start, stop = rows["start"].to_numpy(), rows["stop"].to_numpy()
    lo = np.searchsorted(times, start, "right")
    hi = np.searchsorted(times, stop, "left")
    counts = np.maximum(hi - lo, 0) + 1
    index = np.repeat(np.arange(len(rows)), counts)
    offset = np.arange(len(index)) - np.repeat(np.cumsum(counts) - counts, counts)
    cut_lo = lo[index] + offset - 1
    new_start = np.where(offset == 0, start[index], times[np.clip(cut_lo, 0, None)])
    is_last = offset == counts[index] - 1
    new_stop = np.where(is_last, stop[index], times[np.clip(lo[index] + offset, 0, len(times) - 1)])
    out = rows.iloc[index].reset_index(drop=True)
    out["start"] = new_start
    out["stop"] = new_stop
    out["event"] = np.where(is_last, out["event"], 0)
    return out


def _ph_checks(rows: pd.DataFrame, covariates: Sequence[str], penalizer: float) -> pd.DataFrame:
    """Wald tests of covariate-by-log(age) interactions, evaluated exactly at event ages."""
    times = np.unique(rows.loc[rows["event"] == 1, "stop"].to_numpy())
    split = _split_at(rows, times)
    names = []
    for name in covariates:
        column = f"{name}_x_log_t"
        split[column] = split[name] * np.log(split["stop"])
        names.append(column)
    lifelines = _lifelines()
    try:
        fitter = _fit_ctv(split, [*covariates, *names], penalizer)
    except (lifelines.exceptions.ConvergenceError, np.linalg.LinAlgError):
        return pd.DataFrame(
            {
                "covariate": [*covariates, "global"],
                "coef_log_t": math.nan,
                "se": math.nan,
                "z": math.nan,
                "p": math.nan,
                "p_holm": math.nan,
                "hr_age1": math.nan,
                "hr_age10": math.nan,
                "verdict": "not estimable (the model with interactions did not converge)",
            }
        )
    coef = fitter.params_[names].to_numpy()
    main_effect = fitter.params_[list(covariates)].to_numpy()
    cov = _covariance(fitter, [*covariates, *names]).loc[names, names].to_numpy()
    se = np.sqrt(np.diag(cov))
    z = coef / se
    from scipy import stats

    p = 2 * stats.norm.sf(np.abs(z))
    order = np.argsort(p)
    holm = np.empty_like(p)
    running = 0.0
    for rank, k in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[k]))
        holm[k] = running
    table = pd.DataFrame(
        {
            "covariate": list(covariates),
            "coef_log_t": coef,
            "se": se,
            "z": z,
            "p": p,
            "p_holm": holm,
            "hr_age1": np.exp(main_effect),
            "hr_age10": np.exp(main_effect + coef * math.log(10)),
        }
    )
    table["verdict"] = np.where(
        table["p_holm"] < 0.05,
        "non-proportional",
        np.where(table["p"] < 0.05, "borderline (p < 0.05, not after Holm)", "no evidence"),
    )
    statistic = float(coef @ np.linalg.solve(cov, coef))
    global_p = float(stats.chi2.sf(statistic, len(coef)))
    table.loc[len(table)] = {
        "covariate": "global",
        "coef_log_t": math.nan,
        "se": math.nan,
        "z": statistic,
        "p": global_p,
        "p_holm": global_p,
        "hr_age1": math.nan,
        "hr_age10": math.nan,
        "verdict": "non-proportional" if global_p < 0.05 else "no evidence",
    }
    return table


def _exposure_counts(rows: pd.DataFrame, name: str, binary: bool) -> tuple[int, int]:
    if not binary:
        return int(rows["id"].nunique()), int(rows["event"].sum())
    exposed = rows[rows[name] != 0]
    return int(exposed["id"].nunique()), int(exposed["event"].sum())


def _meaning(name: str) -> str:
    if name.endswith(AGE_INTERACTION):
        base = name.removesuffix(AGE_INTERACTION)
        return f"{base} times ln(age in years): change of its log hazard ratio per unit of ln(age)"
    return _BY_NAME[name].meaning if name in _BY_NAME else name


def fit_hazards(
    panel: pd.DataFrame,
    model: str | ModelSpec = "main",
    *,
    penalizer: float = 0.0,
    ph_checks: bool = True,
) -> HazardFit:
    """Fit a Cox model with time-varying covariates to the panel.

    Args:
        panel: The output of :func:`load_panel` (or a panel with the same columns).
        model: Name of a model of :data:`MODELS`, or a :class:`ModelSpec`.
        penalizer: L2 penalizer of lifelines; 0 (plain partial likelihood) unless a fit
            does not converge, which none of :data:`MODELS` needs.
        ph_checks: Whether to run the proportional-hazards checks (one more fit on the
            panel split at every event age).

    Returns:
        The :class:`HazardFit`.

    Raises:
        UserError: The model has no rows or no events.
    """
    spec = MODELS[model] if isinstance(model, str) else model
    rows = _model_rows(panel, spec)
    covariates = list(spec.covariates)
    if spec.age_interactions:
        times = np.unique(rows.loc[rows["event"] == 1, "stop"].to_numpy())
        rows = _split_at(rows, times)
        for name in spec.age_interactions:
            rows[name + AGE_INTERACTION] = rows[name] * np.log(rows["stop"])
            covariates.append(name + AGE_INTERACTION)
    fitter = _fit_ctv(rows, covariates, penalizer)
    beta = fitter.params_[covariates].to_numpy()
    covariance = _covariance(fitter, covariates)
    se = np.sqrt(np.diag(covariance.to_numpy()))
    from scipy import stats

    p = 2 * stats.norm.sf(np.abs(beta / se))
    records = []
    for k, name in enumerate(covariates):
        n, events = _exposure_counts(
            rows,
            name,
            _BY_NAME[name].binary if name in _BY_NAME else bool(rows[name].isin([0, 1]).all()),
        )
        records.append(
            {
                "model": spec.name,
                "covariate": name,
                "meaning": _meaning(name),
                "coef": beta[k],
                "se": se[k],
                "hazard_ratio": math.exp(beta[k]),
                "hr_low": math.exp(beta[k] - 1.959963984540054 * se[k]),
                "hr_high": math.exp(beta[k] + 1.959963984540054 * se[k]),
                "p": p[k],
                "n": n,
                "events": events,
            }
        )
    summary = pd.DataFrame(records)
    reference = pd.Series(0.0, index=covariates)
    if "threat" in covariates:
        reference["threat"] = float(rows["threat"].mean())
    baseline = _breslow(rows, covariates, beta, reference.to_numpy())
    risk = rows[covariates].to_numpy(dtype=float) @ beta
    concordance = time_varying_concordance(
        rows["start"].to_numpy(),
        rows["stop"].to_numpy(),
        rows["event"].to_numpy(),
        rows["id"].to_numpy(),
        risk,
    )
    checks = _ph_checks(rows, covariates, penalizer) if ph_checks else pd.DataFrame()
    return HazardFit(
        model=spec,
        summary=summary,
        concordance=concordance,
        covariance=covariance,
        baseline=baseline,
        reference=reference,
        ph_checks=checks,
        n_alliances=int(rows["id"].nunique()),
        n_events=int(rows["event"].sum()),
        n_rows=len(rows),
        penalizer=penalizer,
        log_likelihood=float(fitter.log_likelihood_),
    )


# --- Out of sample ---------------------------------------------------------------------------


def _censoring_survival(durations: np.ndarray, events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan–Meier of the censoring times: its jump times and values just after each."""
    censored = np.unique(durations[events == 0])
    at_risk = (durations[None, :] >= censored[:, None]).sum(axis=1)
    dropped = ((durations[None, :] == censored[:, None]) & (events[None, :] == 0)).sum(axis=1)
    return censored, np.cumprod(1.0 - dropped / at_risk)


def _step(times: np.ndarray, values: np.ndarray, at: np.ndarray, *, left: bool) -> np.ndarray:
    """Evaluate a right-continuous step function that is 1 before its first jump.

    Returns its values at ``at``, or its left limits there when ``left``.
    """
    side = "left" if left else "right"
    k = np.searchsorted(times, at, side)
    return np.where(k == 0, 1.0, values[np.clip(k - 1, 0, None)] if len(values) else 1.0)


def brier_scores(
    times: np.ndarray, survival: np.ndarray, durations: np.ndarray, events: np.ndarray
) -> np.ndarray:
    """Time-dependent Brier scores with inverse-probability-of-censoring weights.

    For each time t (Graf et al. 1999): the mean over subjects of ``S_i(t)^2 / G(T_i-)``
    for those who ended by t, ``(1 - S_i(t))^2 / G(t)`` for those still alive after t, and 0
    for those censored by t, where ``G`` is the Kaplan–Meier estimate of the censoring
    distribution from the same subjects (censorings at an event time are taken to follow
    the events).

    Args:
        times: Times at which to score (increasing).
        survival: Predicted survival, one row per subject and one column per time.
        durations: Observed time of each subject (end or censoring).
        events: 1 where the subject's time is an end, 0 where censored.

    Returns:
        The Brier score at each time (NaN where the censoring estimate has reached 0).
    """
    times, durations = np.asarray(times, dtype=float), np.asarray(durations, dtype=float)
    events, survival = np.asarray(events).astype(int), np.asarray(survival, dtype=float)
    jumps, values = _censoring_survival(durations, events)
    g_at_duration = _step(jumps, values, durations, left=True)
    g_at_time = _step(jumps, values, times, left=False)
    ended = (durations[:, None] <= times[None, :]) & (events[:, None] == 1)
    alive = durations[:, None] > times[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(ended, survival**2 / g_at_duration[:, None], 0.0)
        score += np.where(alive, (1.0 - survival) ** 2 / g_at_time[None, :], 0.0)
    result = score.mean(axis=0)
    return np.where(g_at_time > 0, result, np.nan)


def integrated_brier(times: np.ndarray, scores: np.ndarray) -> float:
    """Brier scores averaged over ``[times[0], times[-1]]`` by the trapezoidal rule."""
    times, scores = np.asarray(times, dtype=float), np.asarray(scores, dtype=float)
    return float(np.trapezoid(scores, times) / (times[-1] - times[0]))


@dataclass
class OutOfSample:
    """Out-of-sample skill of a formation-time hazard forecaster against a base rate.

    Attributes:
        split_year: Alliances formed before it train, those formed from it (to 2003) test.
        horizon: ``(first, last)`` years over which the Brier score is integrated.
        train_n: Training alliances; ``train_events`` their ends before ``split_year``.
        train_events: See ``train_n``.
        test_n: Test alliances; ``test_events`` their ends by the end of 2016.
        test_events: See ``test_n``.
        ibs_model: Integrated Brier score of the Cox forecaster.
        ibs_km: Integrated Brier score of the training Kaplan–Meier curve.
        skill: ``1 - ibs_model / ibs_km``.
        skill_low: Lower end of the bootstrap 95% percentile interval of ``skill``.
        skill_high: Upper end of it.
        concordance: Harrell's C of the forecaster's risk scores on the test alliances.
        concordance_low: Lower end of its bootstrap 95% interval.
        concordance_high: Upper end of it.
        brier: ``years, model, km``: the Brier scores over the horizon.
        coefficients: The forecaster's hazard ratios (``covariate, coef, se,
            hazard_ratio, hr_low, hr_high, p``).
        ph_checks: lifelines' scaled-Schoenfeld test (rank time) of the forecaster's fit:
            ``covariate, statistic, p``.
        calibration: ``forecaster, predicted, observed``: mean predicted survival of the
            test alliances at the horizon's end, and their Kaplan–Meier survival then.
        covariate_means: Mean of each formation covariate among training (``train``) and
            test (``test``) alliances, indexed by covariate.
        n_boot: Bootstrap resamples.
        seed: Entropy of the ``numpy.random.SeedSequence`` of the bootstrap.
    """

    split_year: int
    horizon: tuple[float, float]
    train_n: int
    train_events: int
    test_n: int
    test_events: int
    ibs_model: float
    ibs_km: float
    skill: float
    skill_low: float
    skill_high: float
    concordance: float
    concordance_low: float
    concordance_high: float
    brier: pd.DataFrame
    coefficients: pd.DataFrame
    ph_checks: pd.DataFrame
    calibration: pd.DataFrame
    covariate_means: pd.DataFrame
    n_boot: int
    seed: int


BOOTSTRAP_SEED = 20240619
"""Seed of the out-of-sample bootstrap (the date the 2024 Russia–DPRK treaty was signed)."""


def _formation_table(panel: pd.DataFrame) -> pd.DataFrame:
    """One row per alliance: covariates in its formation year and its ATOP outcome."""
    first = panel[panel["start"] == 0].drop_duplicates("id").set_index("id")
    return first[[*FORMATION_COVARIATES, "formed", "atop_years", "atop_ended"]]


def out_of_sample(
    panel: pd.DataFrame,
    split_year: int = 1980,
    *,
    horizon: tuple[float, float] = (1.0, 10.0),
    n_boot: int = 2000,
    seed: int = BOOTSTRAP_SEED,
) -> OutOfSample:
    """Score a formation-time Cox forecaster on later alliances against a base rate.

    The forecaster is a Cox model (lifelines ``CoxPHFitter``) of the covariates known when
    an alliance is formed (:data:`FORMATION_COVARIATES`, the time-varying ones at their
    formation-year values). It is fitted on alliances formed from 1816 to ``split_year - 1``,
    followed only to the end of ``split_year - 1`` (as a forecaster then would have been),
    and scored on alliances formed from ``split_year`` to 2003 (the last year of the war
    data), whose ends are known to the end of 2016. The base rate is the Kaplan–Meier curve
    of the same training alliances. Scores: the IPCW Brier score integrated over
    ``horizon`` (monthly grid), Harrell's concordance, and the skill score
    ``1 - IBS_model / IBS_KM`` with a bootstrap percentile interval (test alliances
    resampled with replacement; the censoring weights re-estimated in each resample; the
    models fixed).

    Args:
        panel: The output of :func:`load_panel`.
        split_year: First formation year of the test alliances.
        horizon: First and last years of the integrated Brier score.
        n_boot: Bootstrap resamples.
        seed: Entropy of the bootstrap's ``numpy.random.SeedSequence``.

    Returns:
        The :class:`OutOfSample` result.

    Raises:
        UserError: The split leaves no training or no test alliances.
    """
    lifelines = _lifelines()
    table = _formation_table(panel).dropna(subset=list(FORMATION_COVARIATES))
    train = table[table["formed"] < split_year].copy()
    test = table[(table["formed"] >= split_year) & (table["formed"] < WARS_LAST_YEAR + 1)].copy()
    if train.empty or test.empty:
        raise UserError(f"split year {split_year} leaves no training or no test alliances")
    follow = split_year - train["formed"]
    train["T"] = np.minimum(train["atop_years"], follow)
    train["E"] = ((train["atop_ended"] == 1) & (train["atop_years"] <= follow)).astype(int)
    test["T"], test["E"] = test["atop_years"], test["atop_ended"].astype(int)

    covariates = list(FORMATION_COVARIATES)
    fitter = lifelines.CoxPHFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitter.fit(train[[*covariates, "T", "E"]], duration_col="T", event_col="E")
        km = lifelines.KaplanMeierFitter().fit(train["T"], train["E"])
        grid = np.arange(round(12 * horizon[0]), round(12 * horizon[1]) + 1) / 12
        model_s = fitter.predict_survival_function(test[covariates], times=grid).T.to_numpy()
        km_s = np.tile(km.survival_function_at_times(grid).to_numpy(), (len(test), 1))
        risk = fitter.predict_log_partial_hazard(test[covariates]).to_numpy()
        ph = lifelines.statistics.proportional_hazard_test(
            fitter, train[[*covariates, "T", "E"]], time_transform="rank"
        ).summary
    durations, events = test["T"].to_numpy(), test["E"].to_numpy()
    concordance_index = lifelines.utils.concordance_index

    def scores(index: np.ndarray) -> tuple[float, float, float]:
        d, e = durations[index], events[index]
        model_ibs = integrated_brier(grid, brier_scores(grid, model_s[index], d, e))
        km_ibs = integrated_brier(grid, brier_scores(grid, km_s[index], d, e))
        return model_ibs, km_ibs, concordance_index(d, -risk[index], e)

    everyone = np.arange(len(test))
    ibs_model, ibs_km, concordance = scores(everyone)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    skills, concordances = np.empty(n_boot), np.empty(n_boot)
    for b in range(n_boot):
        m, k, c = scores(rng.integers(0, len(test), len(test)))
        skills[b], concordances[b] = 1 - m / k, c

    brier = pd.DataFrame(
        {
            "years": grid,
            "model": brier_scores(grid, model_s, durations, events),
            "km": brier_scores(grid, km_s, durations, events),
        }
    )
    ci = fitter.confidence_intervals_
    coefficients = pd.DataFrame(
        {
            "covariate": covariates,
            "coef": fitter.params_[covariates].to_numpy(),
            "se": fitter.standard_errors_[covariates].to_numpy(),
            "hazard_ratio": np.exp(fitter.params_[covariates].to_numpy()),
            "hr_low": np.exp(ci.iloc[:, 0].reindex(covariates).to_numpy()),
            "hr_high": np.exp(ci.iloc[:, 1].reindex(covariates).to_numpy()),
            "p": fitter.summary["p"].reindex(covariates).to_numpy(),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        observed = lifelines.KaplanMeierFitter().fit(durations, events)
        observed_end = float(observed.survival_function_at_times(grid[-1]).iloc[0])
    calibration = pd.DataFrame(
        {
            "forecaster": ["model", "km"],
            "predicted": [float(model_s[:, -1].mean()), float(km_s[0, -1])],
            "observed": [observed_end, observed_end],
        }
    )
    ph_checks = pd.DataFrame(
        {
            "covariate": [str(i) for i in ph.index],
            "statistic": ph["test_statistic"].to_numpy(),
            "p": ph["p"].to_numpy(),
        }
    )
    return OutOfSample(
        split_year=split_year,
        horizon=(float(horizon[0]), float(horizon[1])),
        train_n=len(train),
        train_events=int(train["E"].sum()),
        test_n=len(test),
        test_events=int(test["E"].sum()),
        ibs_model=ibs_model,
        ibs_km=ibs_km,
        skill=1 - ibs_model / ibs_km,
        skill_low=float(np.quantile(skills, 0.025)),
        skill_high=float(np.quantile(skills, 0.975)),
        concordance=float(concordance),
        concordance_low=float(np.quantile(concordances, 0.025)),
        concordance_high=float(np.quantile(concordances, 0.975)),
        brier=brier,
        coefficients=coefficients,
        ph_checks=ph_checks,
        calibration=calibration,
        covariate_means=pd.DataFrame(
            {"train": train[covariates].mean(), "test": test[covariates].mean()}
        ),
        n_boot=n_boot,
        seed=seed,
    )


# --- Reference classes -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceClass:
    """A class of alliances whose survival is reported.

    Attributes:
        name: Short name, the ``class`` column.
        description: Definition in the data's terms.
        columns: Names of the boolean columns of the alliance table that must all hold.
        first_year: Earliest formation year.
        replacements_censored: Count an end by a new treaty replacing the alliance
            (termmode 2) as censored, as the simulation's treaty hazard does.
    """

    name: str
    description: str
    columns: tuple[str, ...]
    first_year: int = 0
    replacements_censored: bool = False


REFERENCE_CLASSES: tuple[ReferenceClass, ...] = (
    ReferenceClass("all", "all ATOP alliances, 1815-2016", ()),
    ReferenceClass(
        "bilateral_defence_postwar",
        "bilateral defence pacts formed 1945 or later",
        ("bilateral", "defence"),
        1945,
    ),
    ReferenceClass("wartime", "formed during a war a member fought (ATOP wartime)", ("wartime",)),
    ReferenceClass(
        "bilateral_defence_wartime",
        "bilateral defence pacts formed in wartime",
        ("bilateral", "defence", "wartime"),
    ),
    ReferenceClass(
        "major_minor_defence",
        "defence pacts of a COW major power with minor power(s) at formation",
        ("defence", "major_minor"),
    ),
    ReferenceClass(
        "major_minor_defence_asymm",
        "as major_minor_defence, with asymmetric obligations (ATOP asymm)",
        ("defence", "major_minor", "asymmetric"),
    ),
    ReferenceClass(
        "shared_rival",
        "founding members share a strategic rival outside the alliance at "
        "formation (Thompson-Dreyer)",
        ("shared_rival",),
    ),
    ReferenceClass(
        "russia_bilateral_defence_postwar",
        "bilateral defence pacts of Russia/the USSR formed 1945 or later",
        ("russia", "bilateral", "defence"),
        1945,
    ),
    ReferenceClass(
        "bilateral_defence_major_minor",
        "bilateral defence pacts of a major power with a minor power",
        ("bilateral", "defence", "major_minor"),
    ),
    ReferenceClass(
        "treaty_class",
        "the 2024 treaty's class: bilateral defence pacts of a major with a minor "
        "power formed in wartime",
        ("bilateral", "defence", "major_minor", "wartime"),
    ),
    ReferenceClass(
        "treaty_class_not_replaced",
        "treaty_class, ends by a new treaty replacing the pact (termmode 2) censored: "
        "ends as the simulation's treaty hazard counts them",
        ("bilateral", "defence", "major_minor", "wartime"),
        replacements_censored=True,
    ),
    ReferenceClass(
        "treaty_class_postwar",
        "treaty_class formed 1945 or later",
        ("bilateral", "defence", "major_minor", "wartime"),
        1945,
    ),
    ReferenceClass(
        "treaty_class_major_rival",
        "treaty_class whose members share a rival that is a major power at formation",
        ("bilateral", "defence", "major_minor", "wartime", "shared_major_rival"),
    ),
)
"""Reference classes for the 2024 Russia–DPRK treaty, in the order of the table."""

CLASS_COLUMNS = [
    "class",
    "description",
    "n",
    "events",
    *(f"s_{t}y{end}" for t in HORIZONS for end in ("", "_low", "_high")),
    "median_years",
    "median_low_years",
    "median_high_years",
]


def _class_table(src: _Sources) -> pd.DataFrame:
    """All alliances with their lives to December 2016 and the classes' flags."""
    traits = _formation_traits(src)
    table = src.alliances.set_index("id").join(traits)
    censor = _month_time(ATOP_LAST_YEAR, 12)
    table["years"] = np.where(table["ended"], table["t_end"], censor) - table["t0"]
    # Ends in the month of formation count at age 0, as in sim.baserates.
    table.loc[table["years"] < 1 / 12, "years"] = 0.0
    table["shared_rival"] = table["shared_rival_at_formation"] == 1
    table["shared_major_rival"] = table["shared_major_rival_at_formation"] == 1
    for column in ("bilateral", "defence", "wartime", "asymmetric", "major_minor"):
        table[column] = table[column] == 1
    return table


def _km_row(years: np.ndarray, ended: np.ndarray) -> dict[str, float]:
    lifelines = _lifelines()
    row: dict[str, float] = {"n": len(years), "events": int(ended.sum())}
    if len(years) == 0:
        return row
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        km = lifelines.KaplanMeierFitter().fit(years, ended)
        bands = km.confidence_interval_survival_function_
        for t in HORIZONS:
            row[f"s_{t}y"] = float(km.survival_function_at_times(t).iloc[0])
            at = bands[bands.index <= t]
            low, high = (at.iloc[-1] if len(at) else pd.Series([1.0, 1.0])).to_numpy()
            row[f"s_{t}y_low"], row[f"s_{t}y_high"] = float(low), float(high)
        median = lifelines.utils.median_survival_times(km)
        limits = lifelines.utils.median_survival_times(bands)
    row["median_years"] = float(median)
    row["median_low_years"] = float(limits.iloc[0, 0])
    row["median_high_years"] = float(limits.iloc[0, 1])
    for key in ("median_years", "median_low_years", "median_high_years"):
        if not np.isfinite(row[key]):
            row[key] = math.nan
    return row


def _lives(table: pd.DataFrame, group: ReferenceClass) -> tuple[np.ndarray, np.ndarray]:
    """Years alive and whether each ended (1) or was censored (0), of a class's members."""
    chosen = table["begyr"] >= group.first_year
    for column in group.columns:
        chosen &= table[column].astype(bool)
    members = table[chosen]
    ended = members["ended"].to_numpy().astype(bool)
    if group.replacements_censored:
        ended &= members["end_mode"].to_numpy() != REPLACED_MODE
    return members["years"].to_numpy(), ended.astype(int)


def _classes_from_sources(src: _Sources) -> pd.DataFrame:
    table = _class_table(src)
    rows = []
    for group in REFERENCE_CLASSES:
        row = _km_row(*_lives(table, group))
        rows.append({"class": group.name, "description": group.description, **row})
    out = pd.DataFrame(rows).reindex(columns=CLASS_COLUMNS)
    return out.astype({"n": "int64", "events": "int64"})


CURVE_CLASSES = ("all", "bilateral_defence_wartime", "treaty_class", "treaty_class_not_replaced")
"""Classes whose whole Kaplan–Meier curve is written (for the reference-class figure)."""


def _class_curves(src: _Sources, years: float = 15.0) -> pd.DataFrame:
    """Kaplan–Meier curves of :data:`CURVE_CLASSES` on a monthly grid, with 95% bands."""
    lifelines = _lifelines()
    table = _class_table(src)
    grid = np.arange(0, round(years * 12) + 1) / 12
    frames = []
    for group in REFERENCE_CLASSES:
        if group.name not in CURVE_CLASSES:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            km = lifelines.KaplanMeierFitter().fit(*_lives(table, group))
        bands = km.confidence_interval_survival_function_
        at = np.searchsorted(bands.index.to_numpy(), grid, side="right") - 1
        frames.append(
            pd.DataFrame(
                {
                    "class": group.name,
                    "years": grid,
                    "survival": km.survival_function_at_times(grid).to_numpy(),
                    "low": bands.iloc[np.maximum(at, 0), 0].to_numpy(),
                    "high": bands.iloc[np.maximum(at, 0), 1].to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def reference_class(atop_dir: Path, peace_dir: Path) -> pd.DataFrame:
    """Kaplan–Meier survival of the reference classes of :data:`REFERENCE_CLASSES`.

    All ATOP v4.01 alliances (formed 1815-2016) are used, alive from their begin month to
    their end month, those still in effect censored at December 2016 (as in
    :mod:`sim.baserates`). Major powers are COW majors among the founding members at
    formation (for 1815, as in 1816); shared rivals are Thompson–Dreyer rivals of two
    founding members in the formation year (rivalries still running at the data's end in
    2010 taken to continue).

    Args:
        atop_dir: Directory with the ATOP files.
        peace_dir: Directory with the peace-science files.

    Returns:
        Columns ``class, description, n, events``, survival past 1, 2, 5 and 10 years with
        95% log-log intervals (``s_1y, s_1y_low, s_1y_high``, ...) and the median survival
        in years with its interval (NaN where not reached).

    Raises:
        UserError: The data cannot be read.
    """
    return _classes_from_sources(_read_sources(atop_dir, peace_dir))


# --- Writing ---------------------------------------------------------------------------------

CITATIONS = (
    "Leeds, Brett Ashley, Jeffrey M. Ritter, Sara McLaughlin Mitchell and Andrew G. Long "
    '(2002), "Alliance Treaty Obligations and Provisions, 1815-1944", *International '
    "Interactions* 28: 237-260 (ATOP v4.01, atopdata.org).",
    'Goemans, Henk E., Kristian Skrede Gleditsch and Giacomo Chiozza (2009), "Introducing '
    'Archigos: A Dataset of Political Leaders", *Journal of Peace Research* 46(2): 269-283 '
    "(Archigos 4.1).",
    "Sarkees, Meredith Reid and Frank Whelon Wayman (2010), *Resort to War: 1816-2007*, CQ "
    "Press (COW Inter-State War data v4.0, dyad-years as built by the peacesciencer R "
    "package).",
    'Singer, J. David, Stuart Bremer and John Stuckey (1972), "Capability Distribution, '
    'Uncertainty, and Major Power War, 1820-1965", in Bruce Russett (ed.), *Peace, War, and '
    "Numbers*, Sage (COW National Material Capabilities v6.0).",
    "Thompson, William R. and David R. Dreyer (2011), *Handbook of International Rivalries, "
    "1494-2010*, CQ Press.",
    'Leeds, Brett Ashley and Burcu Savun (2007), "Terminating Alliances: Why Do States '
    'Abrogate Agreements?", *Journal of Politics* 69(4): 1118-1132 (external-threat index).',
    "Correlates of War Project, State System Membership v2016 (major powers).",
)


def _fmt(value: float, digits: int = 2) -> str:
    if value is None or not np.isfinite(value):
        return "NR"
    return f"{value:.{digits}f}"


def _p(value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _interval(value: float, low: float, high: float, digits: int = 2) -> str:
    return f"{_fmt(value, digits)} [{_fmt(low, digits)}, {_fmt(high, digits)}]"


def _grid(header: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> str:
    """A Markdown table; ``align`` has one letter per column, ``-`` left and ``r`` right."""
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _hr_table(fit: HazardFit) -> str:
    rows = [
        [
            f"`{r.covariate}`",
            r.meaning,
            _interval(r.hazard_ratio, r.hr_low, r.hr_high),
            _p(r.p),
            str(r.n),
            str(r.events),
        ]
        for r in fit.summary.itertuples(index=False)
    ]
    header = [
        "Covariate",
        "Definition",
        "HR [95% CI]",
        "p",
        "Alliances exposed",
        "Ends while exposed",
    ]
    return _grid(header, rows, "--rrrr")


def _age_varying_section(fits: Sequence[HazardFit]) -> str:
    """The simulation's model: its age-varying effects at a few ages, with intervals."""
    fit = next((f for f in fits if f.model.age_interactions), None)
    if fit is None:
        return ""
    coef = fit.summary.set_index("covariate")["coef"]
    lines = []
    for name in fit.model.age_interactions:
        pair = [name, name + AGE_INTERACTION]
        matrix = fit.covariance.loc[pair, pair].to_numpy()
        cells = []
        for age in (0.5, 1, 2, 5, 10, 20):
            weights = np.array([1.0, math.log(age)])
            value = float(weights @ coef[pair].to_numpy())
            se = float(np.sqrt(weights @ matrix @ weights))
            cells.append(
                _interval(math.exp(value), math.exp(value - 1.96 * se), math.exp(value + 1.96 * se))
            )
        lines.append([f"`{name}`", *cells])
    table = _grid(
        ["Covariate", *(f"age {a:g} y" for a in (0.5, 1, 2, 5, 10, 20))], lines, "-rrrrrr"
    )
    return (
        f"## The simulation's model (`{fit.model.name}`)\n\n"
        f"The `{fit.model.name}` model is {fit.model.description}. Its other ratios are in "
        "the table of other models (formation in wartime loses part of its effect to the "
        "war's, which is largest in an alliance's first years); the age-varying effects, with "
        "95% intervals from the coefficients' covariance, are:\n\n"
        f"{table}\n\n"
        f"Concordance {_fmt(fit.concordance, 3)}; {fit.n_alliances} alliances, {fit.n_events} "
        "ends. Its coefficients' covariance and baseline cumulative hazard are in "
        f"`hazard_covariance.csv` and `baseline_hazard.csv` (rows of model `{fit.model.name}`); "
        "`alliance-sim calibrate` maps them onto the treaty's hazard "
        "(`calibration/treaty_hazard.yaml`, docs/calibration.md).\n" + _counterpart_check(fits, fit)
    )


def _counterpart_check(fits: Sequence[HazardFit], fit: HazardFit) -> str:
    """The proportional-hazards check of the model with the same ends, without interactions."""
    counterpart = next(
        (
            f
            for f in fits
            if f is not fit
            and not f.model.age_interactions
            and f.model.event == fit.model.event
            and not f.ph_checks.empty
        ),
        None,
    )
    if counterpart is None:
        return ""
    return (
        f"\nThe proportional-hazards check on the ends this model counts (model "
        f"`{counterpart.model.name}`, the same without the age interaction): "
        f"{_ph_reading(counterpart)}\n"
    )


def _models_table(fits: Sequence[HazardFit]) -> str:
    names = list(dict.fromkeys(n for fit in fits for n in fit.summary["covariate"]))
    header = ["Covariate", *(f"`{fit.model.name}`" for fit in fits)]
    rows = []
    for name in names:
        cells = [f"`{name}`"]
        for fit in fits:
            row = fit.summary[fit.summary["covariate"] == name]
            cells.append(
                "-"
                if row.empty
                else _interval(
                    row["hazard_ratio"].iloc[0], row["hr_low"].iloc[0], row["hr_high"].iloc[0]
                )
            )
        rows.append(cells)
    rows.append(["alliances / ends", *(f"{f.n_alliances} / {f.n_events}" for f in fits)])
    rows.append(["concordance", *(_fmt(f.concordance, 3) for f in fits)])
    return _grid(header, rows, "-" + "r" * len(fits))


def _threat_contrast(fit: HazardFit) -> str:
    names = list(fit.covariance.index)
    if not {"threat", "threat_change"} <= set(names):
        return ""
    weights = np.array([1.0 if n in ("threat", "threat_change") else 0.0 for n in names])
    beta = fit.summary.set_index("covariate")["coef"].reindex(names).to_numpy()
    value = float(weights @ beta)
    se = float(np.sqrt(weights @ fit.covariance.to_numpy() @ weights))
    low, high = math.exp(value - 1.96 * se), math.exp(value + 1.96 * se)
    return (
        "Because `threat` is the current level and `threat_change` its change since "
        "formation, the `threat` ratio compares alliances formed under different threat "
        "(with the same change since), and a rise of 0.1 in threat during an alliance's "
        "life multiplies its hazard by the product of the two ratios: "
        f"{_interval(math.exp(value), low, high)} (from the coefficients' covariance)."
    )


def _ph_table(fit: HazardFit) -> str:
    rows = [
        [
            f"`{r.covariate}`",
            _fmt(r.coef_log_t, 3),
            _fmt(r.z, 2),
            _p(r.p),
            _p(r.p_holm),
            _fmt(r.hr_age1),
            _fmt(r.hr_age10),
            r.verdict,
        ]
        for r in fit.ph_checks.itertuples(index=False)
    ]
    header = [
        "Covariate",
        "coef on x·log(age)",
        "z (global: Wald chi2)",
        "p",
        "p (Holm)",
        "HR at 1 y",
        "HR at 10 y",
        "Verdict",
    ]
    return _grid(header, rows, "-rrrrrr-")


def _ph_reading(fit: HazardFit) -> str:
    checks = fit.ph_checks[fit.ph_checks["covariate"] != "global"]
    if checks.empty or checks["p"].isna().all():
        return "The interaction model did not converge; no verdict."
    flagged = checks[checks["p"] < 0.05]
    if flagged.empty:
        return "No covariate's effect changes detectably with alliance age (all p >= 0.05)."
    parts = [
        f"`{r.covariate}` (hazard ratio {_fmt(r.hr_age1)} at age 1 and {_fmt(r.hr_age10)} at "
        f"age 10; Holm p {_p(r.p_holm)})"
        for r in flagged.itertuples(index=False)
    ]
    strong = checks[checks["p_holm"] < 0.05]["covariate"].tolist()
    verdict = (
        "Only " + ", ".join(f"`{c}`" for c in strong) + " survives Holm's correction: "
        "its hazard ratio in the table is an average over ages, and a simulation that "
        "applies it should make it depend on the channel's age (the interaction model's "
        "values at ages 1 and 10 are in the table)."
        if strong
        else "None survives Holm's correction."
    )
    return (
        "Effects whose hazard ratio drifts with alliance age at the 5% level (uncorrected): "
        + "; ".join(parts)
        + ". "
        + verdict
    )


def _classes_table(classes: pd.DataFrame) -> str:
    rows = []
    for r in classes.itertuples(index=False):
        cells = [f"`{getattr(r, '_0', r[0])}`", str(r.n), str(r.events)]
        for t in HORIZONS:
            cells.append(
                _interval(
                    getattr(r, f"s_{t}y"), getattr(r, f"s_{t}y_low"), getattr(r, f"s_{t}y_high")
                )
            )
        cells.append(_interval(r.median_years, r.median_low_years, r.median_high_years, 1))
        rows.append(cells)
    header = ["Class", "n", "Ended", *(f"S({t} y)" for t in HORIZONS), "Median (years)"]
    return _grid(header, rows, "-rr" + "r" * len(HORIZONS) + "r")


def _end_mode_table(panel: pd.DataFrame, spec: ModelSpec) -> str:
    rows = panel[
        (panel["event"] == 1)
        & (panel["year"] >= spec.first_year)
        & (panel["year"] <= spec.last_year)
    ]
    counts = rows["end_mode"].value_counts()
    lines = [
        [str(mode), TERMMODE_LABELS.get(mode, "not coded"), str(int(counts.get(mode, 0)))]
        for mode in sorted(counts.index)
    ]
    return _grid(["termmode", "Inferred meaning", f"Ends in `{spec.name}`"], lines, "--r")


def _war_end_modes(panel: pd.DataFrame, fit: HazardFit) -> str:
    """How the ends of a model that happened while a member was at war came about."""
    spec = fit.model
    if "war_ongoing" not in spec.covariates:
        return ""
    ends = panel[
        (panel[spec.event] == 1)
        & (panel["year"] >= spec.first_year)
        & (panel["year"] <= spec.last_year)
        & (panel["war_ongoing"] == 1)
    ]
    if spec.bilateral_only:
        ends = ends[ends["bilateral"] == 1]
    counts = ends["end_mode"].value_counts()
    parts = [
        f"{int(counts[mode])} {TERMMODE_LABELS.get(mode, 'not coded')}"
        for mode in sorted(counts.index, key=lambda m: (-counts[m], m))
    ]
    return (
        f"Of the {len(ends)} ends with `war_ongoing` = 1 in `{spec.name}`, by ATOP's "
        f"termmode: {', '.join(parts)}. The hazard ratio so mixes wars that break alliances "
        "(violation, defeat, loss of independence) with wartime coalitions that end with "
        "their war."
    )


def _document(
    fits: Sequence[HazardFit], oos: OutOfSample, classes: pd.DataFrame, panel: pd.DataFrame | None
) -> str:
    main_fit = fits[0]
    spec = main_fit.model
    covariate_lines = "\n".join(
        f"- `{c.name}` ({'time-varying' if c.varying else 'fixed at formation'}): {c.meaning}."
        for c in COVARIATES
    )
    model_lines = "\n".join(f"- `{f.model.name}`: {f.model.description}." for f in fits)
    reference = ", ".join(
        f"`{k}` = {v:.3g} (per 0.1: an index of {v / SCALED.get(k, 1.0):.3g})"
        for k, v in main_fit.reference.items()
        if v != 0
    )
    notes = panel.attrs.get("notes", {}) if panel is not None else {}
    threat_missing = (
        int(
            panel.loc[panel["threat"].isna() & (panel["year"] <= THREAT_LAST_YEAR)][["id", "year"]]
            .drop_duplicates()
            .shape[0]
        )
        if panel is not None
        else "few"
    )
    hinst_sentence = (
        "the file's own `hinst` column equals `intcom == 1 or milcon == 3 or base >= 1` for "
        "every alliance coded, so these are"
        if notes.get("hinst_agrees")
        else "`intcom == 1 or milcon == 3 or base >= 1` are taken as"
    )
    placeholder = ", ".join(str(y) for y in notes.get("threat_placeholder_years", []))
    modes = _end_mode_table(panel, spec) if panel is not None else ""
    citations = "\n".join(f"- {c}" for c in CITATIONS)
    oos_rows = [
        [
            "Cox forecaster (formation covariates)",
            _fmt(oos.ibs_model, 4),
            _interval(oos.concordance, oos.concordance_low, oos.concordance_high, 3),
        ],
        ["Kaplan-Meier base rate (training alliances)", _fmt(oos.ibs_km, 4), "0.5"],
    ]
    oos_table = _grid(
        ["Forecaster", f"IBS {oos.horizon[0]:g}-{oos.horizon[1]:g} y", "Concordance [95% CI]"],
        oos_rows,
        "-rr",
    )
    means = oos.covariate_means
    calibration = oos.calibration.set_index("forecaster")
    observed_end = calibration.loc["model", "observed"]
    km_end = calibration.loc["km", "predicted"]
    model_end = calibration.loc["model", "predicted"]
    war_modes = _war_end_modes(panel, main_fit) if panel is not None else ""
    schoenfeld = (
        ", ".join(
            f"`{r.covariate}` p {_p(r.p)}"
            for r in oos.ph_checks.itertuples(index=False)
            if r.p < 0.05
        )
        or "none at p < 0.05"
    )
    return f"""# Alliance termination hazards: survival regression on ATOP v4.01

Historical evidence for the model's termination hazards: how leader exits, wars, external
threat, shifts in capabilities, shared rivals and treaty design have changed the hazard that
an alliance ends, estimated with a Cox model with time-varying covariates; how well such a
model forecasts out of sample; and Kaplan-Meier survival of the reference classes of the
2024 Russia-DPRK treaty. Generated by `sim.calibration.hazards` (see the end); the figures are
in the CSV files beside this one (4 significant digits): `hazards.csv` (hazard ratios of every
model), `hazard_models.csv`, `hazard_checks.csv` and `hazard_skill.csv` (each model's size
and concordance, the proportional-hazards tests, the out-of-sample test),
`hazard_covariance.csv` (covariance of the coefficients of `{spec.name}` and of
the simulation's model), `baseline_hazard.csv` (their baseline cumulative hazards, at the
covariate values in `hazard_reference.csv`), `reference_classes.csv` and
`reference_curves.csv` (whole Kaplan–Meier curves of a few classes).

## Sources

{citations}

The ATOP files are those redistributed with the replication files of joshuaalley/arms-allies;
the peace-science files are CSV copies of the data bundled with the peacesciencer R package.
None of them is in this repository.

## Data and method

**Unit and events.** One alliance of the ATOP alliance-level file is followed from its
begin month to its end month, the month its last member left; a member leaving or joining,
or a change of phase, is not an end. Dates given to the month are taken at the middle of the
month, so lives in years are whole months / 12 as in `base_rates.md`; the two alliances that
ended in the month they began last half a month here.

**Panel.** For each alliance formed 1816-{PANEL_LAST_YEAR} there is one row per calendar
year of its life (start and stop are ages in years since formation), split further at the
day a member's leader left office and 12 months later. Annual covariates (wars, threat,
capabilities, rivalries) take the values of the row's calendar year, for the members in the
alliance that year (member-level entry and exit years).

**Windows and censoring.** Each series is used only where it exists: Archigos starts in
1875, so models with leader covariates are at risk from 1 January 1876 (a full year of
look-back), and alliances formed earlier that were still in force then enter at their age
then (left truncation); the war data end in 2003, the threat index in {THREAT_LAST_YEAR}
(its values for {placeholder} are 0 for every state, placeholders: those of 1919-1920 are
interpolated within each state between 1918 and 1921, 2008 is outside every window). Each
model is censored at the end of the last year all its covariates are observed:

{model_lines}

The headline model is `{spec.name}`: {main_fit.n_alliances} alliances, {main_fit.n_events}
ends, {main_fit.n_rows} rows.

**Covariates.** Continuous ones are per 0.1 of their natural unit (the threat index and
capability shares run from 0 to 1).

{covariate_lines}

"Members" of an alliance-year are the states whose ATOP membership spans that year; the
founding members are those that entered in the alliance's begin month. Leader exits count
only while the state is a member and only after the alliance's formation date, so a change
of leader that preceded (and often enabled) the alliance is never counted; this is how the
formation year is handled, by date rather than by dropping the year. Archigos codes
Gleditsch-Ward states; they are mapped to COW codes (unified Germany GW 260 from October 1990
is COW 255, unified Yemen GW 678 from May 1990 is COW 679, Serbia GW 340 is COW 345); states
absent from Archigos (mostly pre-1875 German and Italian states and microstates) have no
recorded exits. The threat of an alliance-year is the mean over the members with a score;
the {threat_missing} alliance-years without any are dropped from the models that use
threat.

**Estimation.** lifelines `CoxTimeVaryingFitter` (Efron ties), no penalty (every model
converges without one). Hazard-ratio intervals are 95% Wald intervals. The baseline
cumulative hazard (Breslow) in `baseline_hazard.csv` is at the reference values: every
indicator and every change 0; {reference or "no other covariate"}, its mean over the
model's rows. Concordance is Harrell's C for time-varying covariates: at each end, the ending
alliance's linear predictor against those of the alliances then at risk.

**Codings inferred from the data** (no codebook is bundled):

- `wartime` (formed during a war a member fought): of the {notes.get("wartime_checked")}
  alliances formed 1823-2003, {notes.get("wartime_not_at_war")} with `wartime == 1` lack a
  founding member in a COW interstate war in the formation year, and
  {notes.get("at_war_not_wartime")} with `wartime == 0` have one, mostly because the war began
  later in that year (e.g. the Sino-Soviet treaty of February 1950 and the Korean War). ATOP's
  dated coding is used.
- Institutionalisation: {hinst_sentence} the ATOP components of Leeds and Anac's high
  military institutionalisation (integrated command, common defence policy, bases). The
  {notes.get("institutional_missing")} alliances with a missing component are coded 0.
- `termmode` of the end (the members leaving in the end month): the meanings below are read
  off known cases (1 = the Unkiar Skelessi and Reinsurance treaties expiring; 2 = the 1937
  and 1945 Sino-Soviet treaties replaced by the next; 3 = Russia leaving the Entente in 1917;
  4 = Poland's and the Baltic states' pacts in 1939-1940; 5 = the 1942 Declaration by United
  Nations ending with the war; 6 = the Central Powers' pacts in 1918). The `broken` model
  takes 3 as "violated or abrogated", Leeds and Savun's outcome.

{modes}

## Hazard ratios (`{spec.name}`)

{_hr_table(main_fit)}

Concordance {_fmt(main_fit.concordance, 3)}. {_threat_contrast(main_fit)}

Exposure counts: for indicators, the alliances exposed at some time in the window and the
ends that happened while exposed; for continuous covariates, every alliance and end.

`war_ongoing` is measured by calendar year (the war file has no dates), so it is 1 in the
year an alliance ends if a member fought in any part of that year. {war_modes}

## Other models

{_models_table(fits)}

## Proportional hazards

Each covariate x gets an interaction x·log(age); the panel is split at every event age so
that log(age) is exact where the partial likelihood evaluates it, and the interactions are
tested by Wald tests (individually, with Holm's correction over the {len(main_fit.ph_checks) - 1}
covariates, and jointly). A nonzero interaction means the hazard ratio drifts with alliance
age; the hazard ratios above are then averages over the ages at which ends happen.

{_ph_table(main_fit)}

{_ph_reading(main_fit)}

{_age_varying_section(fits)}
## Out-of-sample skill

A Cox model of what is known at formation ({", ".join(f"`{c}`" for c in FORMATION_COVARIATES)};
time-varying ones at their formation-year values, leader exits left out) was fitted on the
{oos.train_n} alliances formed 1816-{oos.split_year - 1}, followed only to the end of
{oos.split_year - 1} ({oos.train_events} ends), and scored on the {oos.test_n} alliances formed
{oos.split_year}-{WARS_LAST_YEAR}, followed to December 2016 ({oos.test_events} ends). The
time-varying model is not used to forecast because its covariates' future paths are
unknown at formation. The base rate is the training alliances' Kaplan-Meier curve. Brier
scores use inverse-probability-of-censoring weights (Graf et al. 1999; the censoring
distribution estimated on the test alliances) and are integrated over
{oos.horizon[0]:g}-{oos.horizon[1]:g} years on a monthly grid.

{oos_table}

Skill score 1 - IBS(model) / IBS(base rate) = **{_fmt(oos.skill, 3)}**, 95% bootstrap
interval [{_fmt(oos.skill_low, 3)}, {_fmt(oos.skill_high, 3)}] ({oos.n_boot} resamples of the
test alliances, seed {oos.seed} via `numpy.random.SeedSequence`). Scaled-Schoenfeld tests of
the forecaster's fit (lifelines, rank time): {schoenfeld}.

Much of the skill is calibration across eras rather than ranking within one: the test
alliances' Kaplan-Meier survival at {oos.horizon[1]:g} years is {_fmt(observed_end, 2)}, the
base rate from earlier alliances predicts {_fmt(km_end, 2)} and the forecaster
{_fmt(model_end, 2)} on average. The later alliances were formed under lower threat (mean
`threat` {_fmt(means.loc["threat", "test"], 2)} against {_fmt(means.loc["threat", "train"], 2)},
per 0.1), less often in wartime ({_fmt(100 * means.loc["wartime", "test"], 0)}% against
{_fmt(100 * means.loc["wartime", "train"], 0)}%) or while a member was at war
({_fmt(100 * means.loc["war_ongoing", "test"], 0)}% against
{_fmt(100 * means.loc["war_ongoing", "train"], 0)}%), and were less often defence pacts
({_fmt(100 * means.loc["defence", "test"], 0)}% against
{_fmt(100 * means.loc["defence", "train"], 0)}%), all of which the forecaster knows. Its
concordance on the test alliances, which measures ranking alone, is given above.

## Reference classes

Kaplan-Meier survival of all ATOP alliances (1815-2016, censored at December 2016) in
classes relevant to the 2024 Russia-DPRK Treaty on Comprehensive Strategic Partnership, whose
mutual-defence article binds both parties alike (so ATOP's `asymm` would be 0) and which
Russia signed while fighting Ukraine. The treaty is argued to belong to `treaty_class`:
bilateral defence pacts of a COW major power with a minor power formed while a member was at
war. Its members are not coded as sharing a rival by Thompson and Dreyer (who code Russia's
rivalry with the United States but none between North Korea and the United States), so the
"rival of the same great power" reading (`treaty_class_major_rival`) is the analyst's, not the
data's. Cells are S(t) [95% log-log interval]; NR = not reached.

{_classes_table(classes)}

Class definitions:

{chr(10).join(f"- `{c.name}`: {c.description}." for c in REFERENCE_CLASSES)}

## Regenerating

```
python -m sim.calibration.hazards --atop ../shared/data/atop \\
    --peace-science ../shared/data/peace-science --out calibration
```

(with lifelines installed; under a minute on two cores). `tests/test_hazards.py` checks that
the committed CSV files are what this produces.
"""


def write_hazards(
    fit: HazardFit | Sequence[HazardFit],
    oos: OutOfSample,
    classes: pd.DataFrame,
    out_dir: Path,
    panel: pd.DataFrame | None = None,
    curves: pd.DataFrame | None = None,
) -> list[Path]:
    """Write the hazard tables and the report section.

    Args:
        fit: The headline fit, or a sequence of fits whose first is the headline (all go
            into ``hazards.csv``; the covariances and baselines are those of the models
            in :data:`PUBLISHED`).
        oos: The output of :func:`out_of_sample`.
        classes: The output of :func:`reference_class`.
        out_dir: Existing directory to write into (the project's ``calibration/``).
        panel: The panel, for the report's table of how alliances ended (optional).
        curves: Kaplan–Meier curves of some classes (``class, years, survival, low,
            high``), for the reference-class figure (optional).

    Returns:
        The paths written: ``hazards.csv``, ``hazard_models.csv`` (size and
        concordance of each model), ``hazard_checks.csv`` (the headline model's
        proportional-hazards tests), ``hazard_skill.csv`` (the out-of-sample test),
        ``hazard_covariance.csv``,
        ``baseline_hazard.csv``, ``hazard_reference.csv`` (the covariate values of the
        baselines), ``reference_classes.csv``, ``reference_curves.csv`` (when ``curves``
        is given), ``hazards.md``.
    """
    fits = [fit] if isinstance(fit, HazardFit) else list(fit)
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise UserError(f"output directory {out_dir} not found")
    summary = pd.concat([f.summary for f in fits], ignore_index=True)
    published = [f for f in fits if f.model.name in PUBLISHED]
    covariance = pd.concat(
        [f.covariance.reset_index().assign(model=f.model.name) for f in published],
        ignore_index=True,
    )
    covariance = covariance[["model", *(c for c in covariance.columns if c != "model")]]
    baseline = pd.concat(
        [f.baseline.assign(model=f.model.name) for f in published], ignore_index=True
    )
    baseline = baseline[["model", "age_years", "cum_hazard", "survival"]]
    reference = pd.concat(
        [
            f.reference.rename("value")
            .rename_axis("covariate")
            .reset_index()
            .assign(model=f.model.name)
            for f in published
        ],
        ignore_index=True,
    )[["model", "covariate", "value"]]
    models = pd.DataFrame(
        [
            {
                "model": f.model.name,
                "description": f.model.description,
                "alliances": f.n_alliances,
                "ends": f.n_events,
                "rows": f.n_rows,
                "concordance": f.concordance,
                "log_likelihood": f.log_likelihood,
            }
            for f in fits
        ]
    )
    checks = pd.concat(
        [f.ph_checks.assign(model=f.model.name) for f in fits if not f.ph_checks.empty],
        ignore_index=True,
    )
    checks = checks[["model", *(c for c in checks.columns if c != "model")]]
    skill = pd.DataFrame(
        [
            {
                "split_year": oos.split_year,
                "first_year": oos.horizon[0],
                "last_year": oos.horizon[1],
                "train_alliances": oos.train_n,
                "train_ends": oos.train_events,
                "test_alliances": oos.test_n,
                "test_ends": oos.test_events,
                "ibs_model": oos.ibs_model,
                "ibs_base_rate": oos.ibs_km,
                "skill": oos.skill,
                "skill_low": oos.skill_low,
                "skill_high": oos.skill_high,
                "concordance": oos.concordance,
                "concordance_low": oos.concordance_low,
                "concordance_high": oos.concordance_high,
            }
        ]
    )
    paths = {
        "hazards.csv": _rounded(summary),
        "hazard_models.csv": _rounded(models),
        "hazard_checks.csv": _rounded(checks),
        "hazard_skill.csv": _rounded(skill),
        "hazard_covariance.csv": _rounded(covariance),
        "baseline_hazard.csv": _rounded(baseline),
        "hazard_reference.csv": _rounded(reference),
        "reference_classes.csv": _rounded(classes),
    }
    if curves is not None:
        paths["reference_curves.csv"] = _rounded(curves)
    written = []
    for name, table in paths.items():
        path = out_dir / name
        _write_text(path, table.to_csv(index=False, lineterminator="\n"))
        written.append(path)
    path = out_dir / "hazards.md"
    _write_text(path, _document(fits, oos, classes, panel))
    written.append(path)
    return written


# --- Command line ----------------------------------------------------------------------------


def run(atop_dir: Path, peace_dir: Path, out_dir: Path) -> list[Path]:
    """Read the data once, fit every model of :data:`MODELS`, and write the outputs.

    Args:
        atop_dir: Directory with the ATOP files.
        peace_dir: Directory with the peace-science files.
        out_dir: Directory to write into.

    Returns:
        The paths written.
    """
    src = _read_sources(atop_dir, peace_dir)
    panel = _panel_from_sources(src, PANEL_LAST_YEAR)
    fits = [fit_hazards(panel, name, ph_checks=name in PH_CHECKED) for name in MODELS]
    oos = out_of_sample(panel)
    classes = _classes_from_sources(src)
    curves = _class_curves(src)
    return write_hazards(fits, oos, classes, out_dir, panel=panel, curves=curves)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: regenerate the hazard evidence in ``--out``."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.calibration.hazards", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--atop", type=Path, required=True, help="ATOP data directory")
    parser.add_argument(
        "--peace-science", type=Path, required=True, help="peace-science data directory"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("calibration"),
        help="output directory (default: calibration)",
    )
    args = parser.parse_args(argv)
    began = time.perf_counter()
    try:
        paths = run(args.atop, args.peace_science, args.out)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    print(f"done in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
