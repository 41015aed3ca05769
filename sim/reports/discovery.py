"""Scenario discovery: which assumptions and events go with a domain ending (PRIM and CART).

The cases are a run's replications (from ``replications.parquet``: every parameter drawn
and every event's occurrence and month) or a sweep's points (their parameter values, from
``sweep.parquet``). A case is of interest when the domain ended by the horizon (``ended``)
or was alive at it (``alive``); for a sweep point, when the probability of that exceeds a
threshold. PRIM (the Patient Rule Induction Method of Friedman and Fisher, as EMA
Workbench implements it) peels the space of the inputs down to a box where cases of
interest are dense: its *coverage* is the share of all cases of interest inside it, its
*density* the share of cases inside it that are of interest, and each restricted
dimension has a *quasi-p* value (a one-sided binomial test of the density with and
without that restriction; small means the restriction matters). The box reported starts
as the densest on the peeling trajectory whose coverage is at least ``min_coverage``; its
restrictions with a quasi-p above ``max_quasi_p`` are then dropped, the weakest first
(with hundreds of drawn inputs, peeling also trims some that only fit noise). A CART
classification tree (scikit-learn) gives a second view: its leaves as rules, with the same
two measures.

Both libraries are the optional extra ``discover`` (``pip install 'alliance-sim[discover]'``);
EMA Workbench is BSD-licensed (not the GPL package ``prim``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.errors import UserError, did_you_mean
from sim.reports import figures
from sim.reports.sweep import SWEEP_TABLE
from sim.reports.tables import domain_label, latex_float, markdown_grid
from sim.results.result import manifest_scenario
from sim.results.rundir import MANIFEST, RunDirectory, kind_at
from sim.results.store import (
    EVENT,
    PARAMETER,
    REPLICATIONS,
    event_columns,
    parameter_columns,
    read_replications,
)
from sim.scenario import scenario_from_dict
from sim.storage import refuse_to_replace, write_text

OUTCOMES = ("ended", "alive")
MISSING_EXTRA = (
    "discover needs the optional extra 'discover' (EMA Workbench and scikit-learn): "
    "pip install 'alliance-sim[discover]' (or: pip install ema_workbench scikit-learn)"
)
SCREEN = 40
"""Inputs PRIM peels, at most (see :func:`discover`)."""
MAX_CASES = 20_000
"""Replications PRIM and CART look at, at most: a seeded sample of a larger run."""


@dataclass
class Cases:
    """What discovery looks at: one row of inputs per case, and whether it is of interest.

    Attributes:
        x: The inputs (drawn parameters, event occurrence and month; a sweep's parameters).
        y: True where the case is of interest.
        domain: The domain.
        horizon: Months from the start.
        outcome: ``ended`` or ``alive``.
        label: The domain's display name.
        unit: What a case is (``replication`` or ``sweep point``).
        source: The run or sweep directory, and what it holds (for provenance).
        kinds: The kind of each input (``parameter``, ``event``, ``sweep parameter``).
    """

    x: pd.DataFrame
    y: np.ndarray
    domain: str
    horizon: int
    outcome: str
    label: str
    unit: str
    source: str
    kinds: dict[str, str]

    @property
    def question(self) -> str:
        """What the cases of interest are, in words."""
        verb = "ended" if self.outcome == "ended" else "still alive"
        return f"{self.label} {verb} at {self.horizon} months"


def _check_domain(domain: str, domains: list[str], path: Path) -> None:
    if domain not in domains:
        guess = did_you_mean(domain, domains)
        hint = f"; did you mean {guess}?" if guess else ""
        raise UserError(f"{path}: no domain {domain!r}{hint} (its domains: {', '.join(domains)})")


def _check_outcome(outcome: str) -> None:
    if outcome not in OUTCOMES:
        raise UserError(f"unknown outcome {outcome!r}: expected one of {', '.join(OUTCOMES)}")


def open_cases(
    path: str | Path,
    domain: str,
    horizon: int,
    outcome: str = "ended",
    threshold: float = 0.5,
    max_cases: int = MAX_CASES,
) -> Cases:
    """The cases of a run or sweep directory, for the question (domain, horizon, outcome).

    Args:
        path: A finished run or sweep directory.
        domain: A domain of the run (a channel or treaty).
        horizon: Months from the start (at most the run's horizon; for a sweep, one of the
            horizons it estimated).
        outcome: ``ended`` (the domain ended by the horizon) or ``alive``.
        threshold: For a sweep: a point is of interest where the probability of the
            outcome exceeds this.
        max_cases: Replications to look at, at most (a seeded sample of a larger run).

    Raises:
        UserError: Not a finished run or sweep directory, an unknown domain or outcome, a
            horizon the directory does not reach.
    """
    path = Path(path)
    _check_outcome(outcome)
    kind = kind_at(path) if (path / MANIFEST).is_file() else None
    if kind == "sweep":
        return _sweep_cases(path, domain, horizon, outcome, threshold)
    if kind != "run":
        raise UserError(
            f"{path} is not a run or sweep directory (discover reads the replications.parquet "
            "of a run, or the sweep.parquet of a sweep)"
        )
    manifest = RunDirectory(path).read_manifest()
    if manifest.get("status") != "complete":
        raise UserError(
            f"{path} holds an unfinished run; continue it with: alliance-sim run --resume {path}"
        )
    _check_domain(domain, list(manifest["domains"]), path)
    if not 1 <= horizon <= manifest["horizon"]:
        raise UserError(
            f"horizon {horizon} is beyond the run in {path}, which simulated "
            f"{manifest['horizon']} months: choose a horizon from 1 to {manifest['horizon']}"
        )
    file = path / REPLICATIONS
    if not file.is_file():
        raise UserError(
            f"{path} has no {REPLICATIONS} (made by an older alliance-sim?): run the scenario "
            "again to have one"
        )
    total = manifest["replications"]
    rows = None
    if total > max_cases:
        rows = np.sort(np.random.default_rng(0).choice(total, max_cases, replace=False))
    frame = read_replications(file, rows=rows)
    ended = (frame[f"{domain}__event"] & (frame[f"{domain}__month"] <= horizon)).to_numpy()
    inputs: dict[str, pd.Series] = {}
    kinds: dict[str, str] = {}
    for column in parameter_columns(frame):
        name = column.removeprefix(PARAMETER)
        inputs[name] = frame[column].astype(np.float64)
        kinds[name] = "parameter"
    never = manifest["horizon"] + 1
    for column in event_columns(frame):
        event = column.removeprefix(EVENT).removesuffix("__occurred")
        inputs[f"{event} happened"] = frame[column].astype(bool)
        months = frame[f"{EVENT}{event}__month"]
        inputs[f"{event} month"] = months.fillna(never).astype(np.float64)
        kinds[f"{event} happened"] = kinds[f"{event} month"] = "event"
    x = pd.DataFrame(inputs, index=frame.index)
    scenario = manifest_scenario(manifest)
    source = (
        f"Run {path} (scenario {scenario.name}, sha256 {manifest['scenario_sha256'][:12]}, "
        f"seed {manifest['seed']}, {manifest['replications']:,} replications; "
        f"{len(frame):,} looked at; an event's month is {never} where it did not happen)"
    )
    return Cases(
        x, ended if outcome == "ended" else ~ended, domain, horizon, outcome,
        domain_label(scenario, domain), "replication", source, kinds,
    )  # fmt: skip


def _sweep_cases(path: Path, domain: str, horizon: int, outcome: str, threshold: float) -> Cases:
    directory = RunDirectory.existing(path, "sweep")
    manifest = directory.read_manifest()
    if manifest.get("status") != "complete" or not (path / SWEEP_TABLE).is_file():
        raise UserError(
            f"{path} holds no finished sweep with a {SWEEP_TABLE} (continue an interrupted "
            f"one with: alliance-sim sweep --resume {path})"
        )
    if not 0 < threshold < 1:
        raise UserError(f"the threshold is a probability between 0 and 1, not {threshold}")
    table = pd.read_parquet(path / SWEEP_TABLE)
    parameters = list(manifest["sweep"]["parameters"])
    _check_domain(domain, list(dict.fromkeys(table.domain)), path)
    horizons = sorted(set(table.horizon))
    if horizon not in horizons:
        raise UserError(
            f"the sweep in {path} estimated P(alive) at {', '.join(map(str, horizons))} "
            f"months, not at {horizon}: choose one of those"
        )
    here = table[(table.domain == domain) & (table.horizon == horizon)].sort_values("point")
    alive = here.p_survive.to_numpy()
    chance = 1 - alive if outcome == "ended" else alive
    x = here[parameters].reset_index(drop=True)
    x = x.apply(lambda c: c.astype(np.float64) if c.dtype != object else c.astype("category"))
    base = scenario_from_dict(manifest["scenario"])
    source = (
        f"Sweep {path} ({manifest['sweep']['name']}, {here.point.nunique()} points of "
        f"{manifest['replications']:,} replications, seed {manifest['seed']}); a point counts "
        f"where P({outcome}) > {threshold:g}"
    )
    return Cases(
        x, chance > threshold, domain, horizon, outcome, domain_label(base, domain),
        "sweep point", source, dict.fromkeys(parameters, "sweep parameter"),
    )  # fmt: skip


@dataclass
class Discovery:
    """What PRIM and CART found.

    Attributes:
        cases: The cases looked at.
        trajectory: PRIM's trajectory: ``coverage, density, mass, res_dim, n`` per box;
            the first ``peeled`` rows peel and paste, the others drop restrictions.
        peeled: The boxes found by peeling and pasting.
        chosen: The row of the trajectory reported.
        box: One row per restricted dimension of the chosen box: ``dimension, kind,
            low, high`` (numbers; NaN where not restricted on that side) or ``values``
            (for a yes/no or categorical input), ``data_low, data_high`` (the range in
            the cases), ``qp_low, qp_high`` (quasi-p of each restricted side).
        leaves: The CART tree's leaves: ``rule, cases, density, coverage``, densest first.
        tree: The tree as text (scikit-learn's ``export_text``).
        screened: The inputs PRIM looked at.
    """

    cases: Cases
    trajectory: pd.DataFrame
    peeled: int
    chosen: int
    box: pd.DataFrame
    leaves: pd.DataFrame
    tree: str
    screened: int

    @property
    def stats(self) -> pd.Series:
        """Coverage, density, mass and restricted dimensions of the chosen box."""
        return self.trajectory.iloc[self.chosen]

    @property
    def base_rate(self) -> float:
        """The share of all cases that are of interest."""
        return float(np.mean(self.cases.y))


def _libraries() -> tuple[Any, Any]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # EMA Workbench warns of optional parts missing
            from ema_workbench.analysis import prim
            from sklearn import tree
    except ImportError:
        raise UserError(MISSING_EXTRA) from None
    return prim, tree


def discover(
    cases: Cases,
    min_coverage: float = 0.5,
    max_quasi_p: float = 0.05,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
    max_depth: int = 3,
    screen: int | None = SCREEN,
) -> Discovery:
    """Find the box (PRIM) and the tree (CART) that describe the cases of interest.

    Args:
        cases: The cases (:func:`open_cases`).
        min_coverage: The box starts as the densest on the peeling trajectory with at
            least this coverage.
        max_quasi_p: Restrictions of that box with a larger quasi-p are dropped (the
            weakest first), so that only those that matter remain.
        peel_alpha: The share of cases PRIM peels off at each step.
        mass_min: The smallest share of all cases a box may hold.
        max_depth: The depth of the CART tree (grown on every input).
        screen: PRIM looks at this many inputs at most: those a seeded forest of
            extremely randomised trees finds most important (None: all).

    Raises:
        UserError: The extra is missing; no case, or every case, is of interest; no
            input varies.
    """
    prim, tree = _libraries()
    y = np.asarray(cases.y, dtype=bool)
    if y.all() or not y.any():
        share = "every" if y.all() else "no"
        raise UserError(
            f"nothing to discover: {share} {cases.unit} has {cases.question}"
            + (" (try a longer or shorter --horizon, or the other --outcome)")
        )
    varying = [c for c in cases.x.columns if cases.x[c].nunique() > 1]
    if not varying:
        raise UserError(
            f"nothing to discover: no input varies across the {cases.unit}s (a run with "
            "--fixed-parameters and no uncertain events draws nothing)"
        )
    x = cases.x[varying]
    screened = _screen(x, y, screen) if screen is not None and len(varying) > screen else x
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder = prim.Prim(
            screened, y, peel_alpha=peel_alpha, paste_alpha=peel_alpha, mass_min=mass_min
        )
        found = finder.find_box()
        peeled = len(found.peeling_trajectory)
        densities = found.peeling_trajectory.density.to_numpy()
        eligible = found.peeling_trajectory.coverage.to_numpy() >= min_coverage - 1e-12
        chosen = int(np.where(eligible, densities, -1.0).argmax())
        # Restrictions that do not matter are dropped, the weakest first, each drop adding
        # a box to the trajectory, until every one left has quasi-p at most max_quasi_p.
        while True:
            weakest = {dim: max(sides) for dim, sides in found.p_values[chosen].items()}
            if not weakest or max(weakest.values()) <= max_quasi_p:
                break
            found.drop_restriction(max(weakest, key=weakest.get), chosen)
            chosen = len(found.peeling_trajectory) - 1
    trajectory = found.peeling_trajectory[["coverage", "density", "mass", "res_dim", "n"]]
    trajectory = trajectory.reset_index(drop=True)
    limits = found.box_lims[chosen]
    box = _box_table(screened, finder.box_init, limits, found.p_values[chosen], cases)
    leaves, text = _tree(tree, x, y, max_depth)
    return Discovery(cases, trajectory, peeled, chosen, box, leaves, text, len(screened.columns))


def _screen(x: pd.DataFrame, y: np.ndarray, keep: int) -> pd.DataFrame:
    """The ``keep`` inputs most important to a forest of extremely randomised trees.

    PRIM's peeling tries every input at every step, which with hundreds of drawn inputs
    takes minutes; a seeded forest ranks them in seconds (mean decrease in impurity).
    """
    from sklearn.ensemble import ExtraTreesClassifier

    numbers = x.apply(lambda c: c.cat.codes if c.dtype == "category" else c.astype(np.float64))
    forest = ExtraTreesClassifier(
        n_estimators=100, min_samples_leaf=max(5, len(y) // 200), random_state=0, n_jobs=1
    ).fit(numbers, y)
    order = np.argsort(-forest.feature_importances_, kind="stable")[:keep]
    return x.iloc[:, np.sort(order)]


def _box_table(x, initial, limits, p_values, cases: Cases) -> pd.DataFrame:
    rows = []
    for name in x.columns:
        start, now = initial[name], limits[name]
        numeric = pd.api.types.is_numeric_dtype(x[name]) and x[name].dtype != bool
        if numeric:
            low = now.iloc[0] if now.iloc[0] > start.iloc[0] else np.nan
            high = now.iloc[1] if now.iloc[1] < start.iloc[1] else np.nan
            if np.isnan(low) and np.isnan(high):
                continue
            values = ""
        else:
            if set(now.iloc[0]) == set(start.iloc[0]):
                continue
            low = high = np.nan
            values = ", ".join(sorted(map(str, now.iloc[0])))
        qp = [np.nan if v == -1 else v for v in p_values.get(name, [-1, -1])]
        rows.append({
            "dimension": name, "kind": cases.kinds.get(name, ""), "low": low, "high": high,
            "values": values,
            "data_low": float(x[name].min()) if numeric else np.nan,
            "data_high": float(x[name].max()) if numeric else np.nan,
            "qp_low": qp[0], "qp_high": qp[1],
        })  # fmt: skip
    columns = ["dimension", "kind", "low", "high", "values", "data_low", "data_high"]
    return pd.DataFrame(rows, columns=[*columns, "qp_low", "qp_high"])


def _tree(tree, x: pd.DataFrame, y: np.ndarray, max_depth: int) -> tuple[pd.DataFrame, str]:
    """The leaves of a CART tree as rules, with their cases, density and coverage."""
    numbers = x.apply(lambda c: c.cat.codes if c.dtype == "category" else c.astype(np.float64))
    leaf_size = max(5, len(y) // 100)
    model = tree.DecisionTreeClassifier(
        max_depth=max_depth, min_samples_leaf=leaf_size, random_state=0
    ).fit(numbers, y)
    structure = model.tree_
    leaf_of = model.apply(numbers)
    rows = []

    def walk(node: int, bounds: dict[str, list[float]]) -> None:
        if structure.children_left[node] == -1:
            inside = leaf_of == node
            rule = " and ".join(_condition(name, x[name], *b) for name, b in bounds.items())
            rows.append({
                "rule": rule or "all cases", "cases": int(inside.sum()),
                "density": float(y[inside].mean()),
                "coverage": float(y[inside].sum() / y.sum()),
            })  # fmt: skip
            return
        name = x.columns[structure.feature[node]]
        cut = float(structure.threshold[node])
        low, high = bounds.get(name, [-np.inf, np.inf])
        walk(structure.children_left[node], {**bounds, name: [low, min(high, cut)]})
        walk(structure.children_right[node], {**bounds, name: [max(low, cut), high]})

    walk(0, {})
    leaves = pd.DataFrame(rows).sort_values(["density", "cases"], ascending=False)
    text = tree.export_text(model, feature_names=list(x.columns), show_weights=False)
    return leaves.reset_index(drop=True), text


def _condition(name: str, column: pd.Series, low: float, high: float) -> str:
    """A tree's bounds on one input in words: ``a ≤ 0.3``, ``0.1 < a ≤ 0.3``, ``e: yes``."""
    if column.dtype == bool:
        return f"{name}: {'yes' if low >= 0.5 else 'no'}"
    if column.dtype == "category":
        categories = list(column.cat.categories)
        chosen = [c for i, c in enumerate(categories) if low < i <= high]
        return f"{name} in {{{', '.join(map(str, chosen))}}}"
    if np.isinf(low):
        return f"{name} ≤ {high:.3g}"
    if np.isinf(high):
        return f"{name} > {low:.3g}"
    return f"{low:.3g} < {name} ≤ {high:.3g}"


def _box_cell(row) -> str:
    if row["values"]:
        return row["values"]
    if np.isnan(row.low):
        return f"≤ {row.high:.3g}"
    if np.isnan(row.high):
        return f"≥ {row.low:.3g}"
    return f"{row.low:.3g} to {row.high:.3g}"


def _p_cell(row) -> str:
    values = [v for v in (row.qp_low, row.qp_high) if not np.isnan(v)]
    if not values:
        return "–"
    worst = max(values)
    return "< 0.001" if worst < 0.001 else f"{worst:.3f}"


def _range_cell(row) -> str:
    if np.isnan(row.data_low):
        return ""
    return f"{row.data_low:.3g} to {row.data_high:.3g}"


def _box_rows(found: Discovery) -> list[list[str]]:
    return [
        [row.dimension, row.kind, _box_cell(row), _range_cell(row), _p_cell(row)]
        for _, row in found.box.iterrows()
    ]


def _leaf_rows(found: Discovery) -> list[list[str]]:
    return [
        [row.rule, f"{row.cases:,}", f"{row.density:.2f}", f"{row.coverage:.2f}"]
        for row in found.leaves.itertuples()
    ]


BOX_HEADER = ["Input", "Kind", "Box", "Range in the cases", "Quasi-p"]
LEAF_HEADER = ["Rule (CART leaf)", "Cases", "Density", "Coverage"]


def _titles(found: Discovery) -> tuple[str, str, str]:
    stats = found.stats
    cases = found.cases
    box_title = (
        f"Which assumptions go with {cases.question}: PRIM box (coverage "
        f"{stats.coverage:.2f}, density {stats.density:.2f}, {stats.mass:.1%} of the "
        f"{cases.unit}s; base rate {found.base_rate:.2f})"
    )
    tree_title = f"Which assumptions go with {cases.question}: CART tree's leaves"
    note = (
        "Coverage: share of the cases of interest inside the box; density: share of the "
        "cases inside the box that are of interest. Quasi-p: one-sided binomial test of the "
        "box's density against the box without that restriction (the larger of its two "
        "sides where both are restricted)."
    )
    return box_title, tree_title, note


def _source(found: Discovery) -> str:
    inputs = len(found.cases.x.columns)
    screened = (
        f"; PRIM peeled the {found.screened} of {inputs} inputs an extra-trees forest ranks "
        "highest, CART grew on all"
        if found.screened < inputs
        else ""
    )
    return found.cases.source + screened


def discovery_markdown(found: Discovery) -> str:
    """The box and the tree's leaves as Markdown tables, with a note and the source."""
    box_title, tree_title, note = _titles(found)
    box = markdown_grid(BOX_HEADER, _box_rows(found), title=box_title, align="llllr")
    leaves = markdown_grid(LEAF_HEADER, _leaf_rows(found), title=tree_title, align="lrrr")
    return f"{box}\n\n{note}\n\n{leaves}\n\n_{_source(found)}._\n"


def discovery_latex(found: Discovery, label: str) -> str:
    """The box and the tree's leaves as two LaTeX tables (booktabs)."""
    box_title, tree_title, note = _titles(found)
    return latex_float(
        f"{box_title}. {note}", f"tab:{label}-prim", BOX_HEADER, _box_rows(found),
        _source(found), size=r"\footnotesize",
    ) + latex_float(
        tree_title, f"tab:{label}-cart", LEAF_HEADER, _leaf_rows(found), _source(found),
        size=r"\footnotesize",
    )  # fmt: skip


def peeling_figure(found: Discovery) -> Figure:
    """PRIM's trajectory: coverage against density, coloured by restricted dimensions."""
    trajectory = found.trajectory.iloc[: found.peeled]
    stats = found.stats
    with figures.style():
        figure = Figure(figsize=(figures.SINGLE_COLUMN, 2.8), layout="constrained")
        ax = figure.subplots()
        points = ax.scatter(
            trajectory.coverage, trajectory.density, c=trajectory.res_dim, cmap="viridis",
            s=6, linewidths=0,
        )  # fmt: skip
        ax.plot(trajectory.coverage, trajectory.density, color="0.6", linewidth=0.4, zorder=0)
        ax.scatter([stats.coverage], [stats.density], s=40, facecolors="none", linewidths=0.8,
                   edgecolors=figures.OKABE_ITO[1], label="box reported")  # fmt: skip
        ax.axhline(found.base_rate, color="0.4", linewidth=0.5, linestyle=(0, (3, 2)),
                   label="base rate")  # fmt: skip
        ax.set_xlabel("coverage")
        ax.set_ylabel("density")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        bar = figure.colorbar(points, ax=ax, shrink=0.8)
        bar.set_label("restricted dimensions")
        ax.legend(frameon=False, loc="lower left")
        ax.set_title(f"PRIM peeling trajectory: {found.cases.question}", fontsize=6)
    return figure


def discovery_stem(cases: Cases) -> str:
    """The name the files of a discovery share: ``discover-<domain>-<horizon>-<outcome>``."""
    return f"discover-{cases.domain}-{cases.horizon}-{cases.outcome}"


DISCOVERY_TABLES = (".md", ".tex", "-box.csv", "-trajectory.csv", "-cart.csv", "-cart.txt")
DISCOVERY_FIGURES = ("-peeling.png", "-peeling.pdf")
"""The endings of a discovery's files after its stem: tables, then the figure."""


def discovery_paths(cases: Cases, directory: str | Path) -> list[Path]:
    """The files :func:`write_discovery` writes for these cases in ``directory``."""
    stem = discovery_stem(cases)
    return [Path(directory) / f"{stem}{end}" for end in DISCOVERY_TABLES + DISCOVERY_FIGURES]


def write_discovery(found: Discovery, directory: str | Path, force: bool = False) -> list[Path]:
    """Write the tables (Markdown, LaTeX, CSV), the trajectory and its figure, the tree.

    Files, named by :func:`discovery_stem`: ``.md``, ``.tex``, ``-box.csv``,
    ``-trajectory.csv``, ``-cart.csv``, ``-cart.txt``, ``-peeling.png``/``.pdf``.

    Args:
        found: The discovery.
        directory: Where to write (made if missing).
        force: Replace the files of an earlier discovery of the same question.

    Raises:
        UserError: One of the files exists (without ``force``), checked before any is
            written; or the directory cannot be made.
    """
    directory = Path(directory)
    paths = discovery_paths(found.cases, directory)
    refuse_to_replace(paths, force)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create {directory}: {error.strerror}") from None
    comment = f"# {_source(found)}\n"
    stem = discovery_stem(found.cases)
    texts = {
        ".md": discovery_markdown(found),
        ".tex": discovery_latex(found, stem),
        "-box.csv": comment + found.box.to_csv(index=False),
        "-trajectory.csv": found.trajectory.to_csv(index_label="box"),
        "-cart.csv": comment + found.leaves.to_csv(index=False),
        "-cart.txt": found.tree,
    }
    for end in DISCOVERY_TABLES:
        write_text(directory / f"{stem}{end}", texts[end])
    figure = peeling_figure(found)
    for end in DISCOVERY_FIGURES:
        figures.save(figure, directory / f"{stem}{end}")
    return paths
