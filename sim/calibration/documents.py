"""The calibration's documents: fitted values, posterior sample, targets, report and figure.

``fitted.yaml`` and ``treaty_hazard.yaml`` are scenario fragments that scenarios extend
(the point estimates of the fit and the treaty's hazard mapped from the survival
regression); ``posterior.yaml`` is the joint sample of both that ``run
--parameter-uncertainty`` draws from; ``targets.csv``, ``report.md`` and
``calibration.png`` show the fit, the treaty against its reference class, the backtests and
what backs the world's numbers (the analogue backtest's files:
:mod:`sim.calibration.backtest_documents`).
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure

from sim.calibration.backtest import brier, reliability
from sim.calibration.backtest_documents import (
    ANALOGUE_RUN,
    FULL_RUN,
    analogue_section,
    write_analogue_files,
)
from sim.calibration.census import census, scenario_files
from sim.calibration.fit import Calibration
from sim.calibration.treaty_hazard import (
    posterior_fragment,
    ratio_at,
    reference_comparison,
    treaty_hazard_document,
)
from sim.months import month_label, parse_month
from sim.reports import figures
from sim.reports.tables import word_list
from sim.scenario.merge import merge
from sim.storage import write_text

POSTERIOR_GROUP = "posterior"


def _interval(sample: np.ndarray) -> tuple[float, float]:
    return float(np.quantile(sample, 0.05)), float(np.quantile(sample, 0.95))


def fitted_document(calibration: Calibration) -> str:
    """``calibration/fitted.yaml``: the world's fitted parameters, as a scenario fragment."""
    posterior = calibration.posterior
    estimates = calibration.estimates
    setup = calibration.setup
    paths: dict[str, Any] = {}
    # The base rates are a target only when some parameter is fitted to them.
    fitted_to = f"calibration/{setup.evidence}" + (
        f" and calibration/{setup.base_rates}" if setup.block("base_rate") else ""
    )
    for name, parameter in calibration.setup.free_parameters.items():
        if not parameter.in_world:
            continue
        low, high = _interval(posterior[name])
        entry = {
            "value": round(estimates[name], 6),
            "meaning": parameter.meaning,
            "source": f"calibration/report.md: simulated method of moments fit to {fitted_to}",
            "reason": f"fitted; 90% quasi-posterior interval [{low:.4g}, {high:.4g}]",
        }
        node = paths
        *parents, leaf = parameter.paths[0].split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = entry
    header = (
        "# Fitted parameters of the world, written by `alliance-sim calibrate`: do not\n"
        "# edit by hand, run the command again. Scenarios extend this file after their\n"
        "# world file, so these values replace the world's defaults.\n"
        "# Method, targets and fit quality: calibration/report.md; posterior sample:\n"
        "# calibration/posterior.yaml.\n"
    )
    return header + yaml.safe_dump(paths, sort_keys=False, allow_unicode=True, width=88)


def posterior_document(calibration: Calibration) -> str:
    """``calibration/posterior.yaml``: the posterior sample as joint empirical distributions."""
    posterior = calibration.posterior
    paths: dict[str, Any] = {}
    for name, parameter in calibration.setup.free_parameters.items():
        if not parameter.in_world:
            continue
        node = paths
        *parents, leaf = parameter.paths[0].split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = {
            "dist": "empirical",
            "group": POSTERIOR_GROUP,
            "values": [round(float(v), 6) for v in posterior[name]],
            "reason": "quasi-posterior draws of the calibration (calibration/report.md)",
        }
    if calibration.treaty_hazard is not None:
        paths = merge(paths, posterior_fragment(calibration.treaty_hazard))
    header = (
        "# Posterior sample of the fitted parameters, written by `alliance-sim calibrate`.\n"
        "# Row i of every list is one joint draw: group posterior for the fit to the ledger,\n"
        "# group treaty_hazard for the treaty's hazard (draws from the survival regression's\n"
        "# covariance). Used by `alliance-sim run SCENARIO --parameter-uncertainty`.\n"
    )
    return header + yaml.safe_dump(paths, sort_keys=False, width=88, default_flow_style=None)


def target_table(calibration: Calibration) -> pd.DataFrame:
    """Every target with its simulated value, parameter band and standardised error."""
    rows = []
    for t in calibration.targets:
        simulated = calibration.moments[t.name]
        low, high = calibration.moment_bands[t.name]
        rows.append(
            {
                "target": t.name,
                "block": t.block,
                "observed": t.observed,
                "sigma": t.sigma,
                "simulated": simulated,
                "simulated_low": low,
                "simulated_high": high,
                "z": (simulated - t.observed) / t.sigma,
                "source": t.source,
            }
        )
    return pd.DataFrame(rows)


def hazard_evidence_section(folder: Path) -> list[str]:
    """The survival regression behind the treaty: ratios, fit, PH checks, skill held out."""
    names = ("hazards.csv", "hazard_models.csv", "hazard_checks.csv", "hazard_skill.csv")
    if not all((folder / name).is_file() for name in names):
        return []
    hazards, models, checks, skill = (pd.read_csv(folder / name) for name in names)
    main = hazards[hazards["model"] == "main"]
    lines = [
        "## The evidence on how alliances end",
        "",
        "A Cox regression of the hazard that an ATOP alliance ends, on formation covariates "
        "and on yearly states of its members (wars, leaders' exits from Archigos, threat, "
        "capabilities, rivalries); written by `python -m sim.calibration.hazards --atop DIR "
        "--peace-science DIR` with `calibration/hazards.md`, which defines every covariate. "
        "Model `main` (hazard ratios with 95% intervals):",
        "",
        "| covariate | hazard ratio [95%] | p | alliances ever with it | their ends |",
        "|:---|---:|---:|---:|---:|",
    ]
    for row in main.itertuples(index=False):
        lines.append(
            f"| `{row.covariate}` | {row.hazard_ratio:.2f} [{row.hr_low:.2f}, "
            f"{row.hr_high:.2f}] | {row.p:.2g} | {row.n:,} | {row.events:,} |"
        )
    lines += [
        "",
        "| model | what it is | alliances | ends | concordance |",
        "|:---|:---|---:|---:|---:|",
    ]
    for row in models.itertuples(index=False):
        lines.append(
            f"| `{row.model}` | {row.description} | {row.alliances:,} | {row.ends:,} | "
            f"{row.concordance:.3f} |"
        )
    flagged = checks[(checks["model"] == "main") & (checks["verdict"] != "no evidence")]
    lines += [
        "",
        "Proportional hazards (Schoenfeld residuals against log time, Holm-adjusted): "
        + "; ".join(
            f"`{row.covariate}` {row.verdict}"
            + (
                f" (ratio {row.hr_age1:.2f} at 1 year, {row.hr_age10:.2f} at 10)"
                if pd.notna(row.hr_age1)
                else ""
            )
            for row in flagged.itertuples(index=False)
        )
        + "; no evidence against the others. The treaty uses model `simulation`, `main` "
        "with the war effect fading with the alliance's age, as the check asks, and with "
        "replacements by a new treaty censored (the cooperation goes on under the next "
        "text, where the model's treaty end takes its practice with it).",
        "",
        "Out of sample: a Cox model of what is known at formation, fitted on the alliances "
        "formed before the split year and scored on those formed after, by the integrated "
        "Brier score (censoring-weighted) over the years given, against the Kaplan–Meier "
        "base rate of the training alliances; 95% bootstrap intervals over test alliances. "
        "Much of the skill is calibration across eras (later alliances ended less often), "
        "not ranking within one: `calibration/hazards.md`, Out-of-sample skill.",
        "",
        "| split | test alliances | ends | IBS model | IBS base rate | skill [95%] | "
        "concordance [95%] |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in skill.itertuples(index=False):
        lines.append(
            f"| {row.split_year} (years {row.first_year:g}–{row.last_year:g}) | "
            f"{row.test_alliances:,} | {row.test_ends:,} | {row.ibs_model:.3f} | "
            f"{row.ibs_base_rate:.3f} | {row.skill:+.2f} [{row.skill_low:+.2f}, "
            f"{row.skill_high:+.2f}] | {row.concordance:.2f} [{row.concordance_low:.2f}, "
            f"{row.concordance_high:.2f}] |"
        )
    return [*lines, ""]


def _treaty_sections(calibration: Calibration) -> list[str]:
    """The treaty's mapped hazard, and its survival against its reference class."""
    hazard = calibration.treaty_hazard
    if hazard is None:
        return []
    mapping = hazard.setup
    lines = [
        "## The treaty's hazard, from the history of alliances",
        "",
        f"The formal termination hazard of `{mapping.treaty}` is the survival regression's "
        f"(`calibration/hazards.md`, model `{hazard.regression.model}`), mapped onto the "
        "model's variables by `calibration/setup.yaml` and written to "
        f"`calibration/{mapping.out}`; the 90% ranges are over {mapping.draws} joint draws "
        "from the coefficients' covariance (`posterior.yaml`, group treaty_hazard).",
        "",
        "| world covariate | regression terms | hazard ratio | 90% of draws |",
        "|:---|:---|---:|---:|",
    ]
    fixed = hazard.draws["fixed_ratio"]
    formation = ", ".join(f"{k} = {v.value:g}" for k, v in mapping.formation.items() if v.value)
    lines.append(
        f"| formation (fixed ratio) | {formation} | {hazard.estimate['fixed_ratio']:.2f} | "
        f"[{np.quantile(fixed, 0.05):.2f}, {np.quantile(fixed, 0.95):.2f}] |"
    )
    for key, covariate in mapping.covariates.items():
        terms = ", ".join(covariate.terms) or ", ".join(
            f"{share:g} × {kind}" for kind, share in covariate.mixture.items()
        )
        draws = np.exp(hazard.draws[f"{key}.log_hazard_ratio"])
        if covariate.age_slope is not None:
            ages = (12, 60, 120)
            value = ", ".join(f"{ratio_at(hazard, key, a):.2f} at {a // 12} y" for a in ages)
            # At age 1, ln(age) = 0: the draws of the ratio are those of its intercept.
            spread = f"[{np.quantile(draws, 0.05):.2f}, {np.quantile(draws, 0.95):.2f}] at 1 y"
        else:
            value = f"{ratio_at(hazard, key, 12):.2f}"
            spread = f"[{np.quantile(draws, 0.05):.2f}, {np.quantile(draws, 0.95):.2f}]"
        lines.append(f"| `{key}` | {terms} | {value} | {spread} |")
    lines += [
        "",
        "Baseline (monthly hazard at the reference covariates, by the treaty's age): "
        + "; ".join(
            f"from {int(r.from_month)} months {r.hazard:.5f}"
            for r in hazard.baseline.itertuples(index=False)
        )
        + ".",
        "",
    ]
    if calibration.treaty_survival is None or calibration.reference is None:
        return lines
    table = reference_comparison(calibration.treaty_survival, calibration.reference)
    inside = int(table["inside"].sum())
    start = month_label(parse_month(calibration.forecast_start))
    lines += [
        "## The treaty against its reference class",
        "",
        f"The fitted baseline from {start} ({calibration.settings.treaty_replications:,} "
        f"replications) against the Kaplan–Meier survival of the reference class "
        f"`{mapping.reference_class}` (`calibration/hazards.md`, Reference classes; "
        "docs/calibration.md argues the choice), among the class's alliances that reached "
        "the treaty's age at the start. The baseline keeps Russia at war throughout, the "
        "condition under which the regression puts the hazard highest.",
        "",
        "| years from the start | baseline P(in force) [Wilson 95%] | class [95% band] | "
        "inside the band |",
        "|---:|---:|---:|:---|",
    ]
    for _, row in table.iterrows():
        lines.append(
            f"| {row['years']} | {row['model']:.2f} [{row['model_low']:.2f}, "
            f"{row['model_high']:.2f}] | {row['class']:.2f} [{row['class_low']:.2f}, "
            f"{row['class_high']:.2f}] | {'yes' if row['inside'] else 'no'} |"
        )
    lines += [
        "",
        f"The baseline falls inside the class's band at {inside} of {len(table)} horizons.",
        "",
    ]
    return lines


def _census_section(calibration: Calibration) -> list[str]:
    """How many of the baseline's numbers are fitted, sourced, judged or reasoned."""
    setup = calibration.setup
    table = census(scenario_files(setup.path(setup.baseline), setup.folder))
    lines = [
        "## What backs the world's numbers",
        "",
        "Every number the baseline scenario is built from (world file, start state, fitted "
        "fragments), by mechanism: fitted by this calibration or mapped from the survival "
        "regression; with a dated source; with a judged range (drawn per replication, "
        "`--fixed-parameters` holds it at its value); or documented by a reason alone "
        "(definitions, values solved from the start state, the start state coded from the "
        "ledger). Counted by `sim.calibration.census`.",
        "",
        "| mechanism | fitted | sourced | judged | reasoned | all |",
        "|:---|---:|---:|---:|---:|---:|",
    ]
    for mechanism, row in table.iterrows():
        cells = " | ".join(str(int(row[k])) for k in ("fitted", "sourced", "judged", "reasoned"))
        name = f"**{mechanism}**" if mechanism == "total" else mechanism
        lines.append(f"| {name} | {cells} | {int(row['all'])} |")
    lines.append("")
    return lines


def report_document(calibration: Calibration) -> str:
    """``calibration/report.md``: targets, fit, estimates, backtest, and what they show."""
    table = target_table(calibration)
    settings = calibration.settings
    lines = [
        "# Calibration report",
        "",
        "Written by `alliance-sim calibrate` (see docs/calibration.md "
        f"for the method); regenerate it with the same command ({FULL_RUN}), which also "
        "rewrites every figure and table it shows: `fitted.yaml`, `treaty_hazard.yaml`, "
        "`posterior.yaml`, `targets.csv`, `calibration.png`, `backtest.csv` and the "
        "analogue backtest's files. `alliance-sim calibrate analogues` reruns the analogue "
        f"backtest alone ({ANALOGUE_RUN}) and rewrites its files and its section below. The "
        "survival regression's `hazards.*` come from `python -m sim.calibration.hazards "
        "--atop DIR --peace-science DIR`, the base rates from `alliance-sim calibrate "
        "base-rates --atop DIR` (docs/calibration.md).",
        "",
    ]
    if calibration.analogues is not None:
        lines += analogue_section(calibration.analogues)
    lines += [
        "## Estimates",
        "",
        "| parameter | estimate | 90% quasi-posterior interval | meaning |",
        "|:---|---:|---:|:---|",
    ]
    posterior = calibration.posterior
    free = calibration.setup.free_parameters
    for name, parameter in free.items():
        low, high = _interval(posterior[name])
        lines.append(
            f"| `{name}` | {calibration.estimates[name]:.4g} | "
            f"[{low:.4g}, {high:.4g}] | {parameter.meaning} |"
        )
    for block in calibration.blocks:
        names = ", ".join(block.parameters)
        count = sum(1 for t in calibration.targets if t.block == free[block.parameters[0]].block)
        lines.append("")
        lines.append(
            f"Block ({names}): J = {block.value:.1f} over {count} targets "
            f"({len(block.parameters)} parameters), {block.evaluations} model evaluations, "
            f"effective posterior sample size {block.effective_size:.0f}."
        )
    lines += [
        "",
        "## Targets and fit",
        "",
        "Simulated: value at the estimate; band: 5–95% over posterior draws. "
        "z = (simulated − observed) / sigma.",
        "",
        "| target | observed | sigma | simulated | band | z | source |",
        "|:---|---:|---:|---:|---:|---:|:---|",
    ]
    for row in table.itertuples():
        lines.append(
            f"| {row.target} | {row.observed:.3g} | {row.sigma:.3g} | {row.simulated:.3g} | "
            f"[{row.simulated_low:.3g}, {row.simulated_high:.3g}] | {row.z:+.1f} | {row.source} |"
        )
    worst = table.reindex(table.z.abs().sort_values(ascending=False).index).head(3)
    lines += [
        "",
        "Largest misfits: "
        + "; ".join(f"{r.target} (z = {r.z:+.1f})" for r in worst.itertuples())
        + ". Emergence months are medians over replications; a channel the model establishes"
        " much earlier or later than the ledger records is one whose desire level in the"
        " model does not match how fast the parties actually moved.",
        "",
    ]
    lines += ["![Calibration](calibration.png)", ""]
    lines += hazard_evidence_section(calibration.setup.folder)
    lines += _treaty_sections(calibration)
    backtest = calibration.backtest
    observations = int((~backtest.id.str.endswith(":in_force")).sum())
    start = month_label(parse_month(calibration.forecast_start))
    after = month_label(parse_month(calibration.forecast_start) + 1)
    lines += [f"## Backtest: the {start} forecast against what happened next", ""]
    lines += [
        f"The fitted baseline, started in {start}, gives for each of the {observations} "
        f"observations held out of the fit ({after} onwards, up to "
        f"{calibration.forecast_months} months ahead) the probability that the domain is still "
        "alive in the observation's month; each observation of the treaty's practice also "
        "scores the probability that the treaty is in force, as it was. Brier score of the "
        f"model: {brier(backtest, 'forecast'):.4f}; of the reference forecast (ATOP's "
        f"survival of all alliances at the same age): {brier(backtest, 'reference'):.4f}. "
        + _in_force_rows(backtest),
        "",
        "| forecast bin | forecasts | mean forecast | observed share |",
        "|:---|---:|---:|---:|",
    ]
    for label, row in reliability(backtest).iterrows():
        if row.forecasts:
            share = f"{row.observed_share:.2f}"
            lines.append(f"| {label} | {row.forecasts} | {row.mean_forecast:.3f} | {share} |")
    observed = backtest.observed.mean()
    lines += [
        "",
        "What this shows and does not show: every held-out observation records a channel "
        f"still active (share observed {observed:.2f}), and the model gave each of them a high "
        "probability, so it did not predict terminations that did not happen within the "
        "first months. It cannot show more: no channel ended in the held-out period, the "
        "horizon is short, and observations of the same dyad are not independent, so the "
        "backtest has no power to check the model's terminations, its sharpness, or its "
        "long-range forecasts. It would fail a model that predicted early collapse.",
        "",
    ]
    lines += _census_section(calibration)
    lines += [
        "## Settings",
        "",
        f"Replications per evaluation {settings.replications:,} (treaty: "
        f"{settings.treaty_replications:,}), seed {settings.seed}, Sobol' search "
        f"{settings.search_points} points and posterior proposals {settings.posterior_points} "
        f"per round, per free parameter; {settings.posterior_draws} posterior draws.",
        "",
    ]
    return "\n".join(lines)


def _reference_panel(ax, calibration: Calibration) -> None:
    """The baseline's treaty survival against its reference class, from the same age."""
    model, reference = calibration.treaty_survival, calibration.reference
    years = reference["month"] / 12
    ax.fill_between(years, reference["low"], reference["high"], color="0.85", linewidth=0)
    ax.step(years, reference["survival"], where="post", color=figures.OKABE_ITO[7],
            linewidth=1, label=f"class {calibration.treaty_hazard.setup.reference_class} "
            "(Kaplan–Meier, 95%)")  # fmt: skip
    model_years = model["month"] / 12
    ax.fill_between(model_years, model["ci_low"], model["ci_high"], color=figures.OKABE_ITO[1],
                    alpha=0.3, linewidth=0)  # fmt: skip
    ax.plot(model_years, model["p_survive"], color=figures.OKABE_ITO[1], linewidth=1,
            label="baseline (Wilson 95%)")  # fmt: skip
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"years from {month_label(parse_month(calibration.forecast_start))}")
    ax.set_ylabel("P(treaty in force)")
    ax.set_title("Treaty vs its reference class")
    ax.legend(fontsize=5, frameon=False, loc="lower left")


def calibration_figure(calibration: Calibration) -> Figure:
    """Observed against simulated for every target block, with bands."""
    table = target_table(calibration)
    with figures.style():
        figure = Figure(figsize=(figures.DOUBLE_COLUMN, 4.6), layout="constrained")
        axes = figure.subplots(1, 3)
        panels = [
            (axes[0], "emergence.", "Months to emergence from Sep 2023", "months"),
            (axes[1], "intensity.", "Intensity in Mar 2025", "intensity"),
        ]
        if calibration.treaty_survival is not None:
            _reference_panel(axes[2], calibration)
        else:
            panels.append(
                (axes[2], "alliance_survival.", "Alliance survival, baseline vs ATOP", "P(alive)")
            )
        for ax, prefix, title, unit in panels:
            part = table[table.target.str.startswith(prefix)]
            labels = [t.split(".")[-1].replace("_", " ") for t in part.target]
            y = np.arange(len(part))
            ax.errorbar(
                part.observed,
                y,
                xerr=part.sigma,
                fmt="s",
                color=figures.OKABE_ITO[7],
                markersize=3,
                elinewidth=0.6,
                label="observed ± sigma",
            )
            ax.errorbar(
                part.simulated,
                y + 0.25,
                # The value at the estimate can fall outside the band of a few draws.
                xerr=[
                    (part.simulated - part.simulated_low).clip(lower=0),
                    (part.simulated_high - part.simulated).clip(lower=0),
                ],
                fmt="o",
                color=figures.OKABE_ITO[1],
                markersize=3,
                elinewidth=0.6,
                label="simulated (5–95% over posterior)",
            )
            ax.set_yticks(y, labels)
            ax.invert_yaxis()
            ax.set_xlabel(unit)
            ax.set_title(title)
        handles, labels = axes[0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside upper center", ncols=2, frameon=False)
        flows = table[table.target.str.startswith("counted_intensity.")]
        caption = (
            "Calibration targets (black) and the model at the fitted parameters (vermillion). "
            + f"{calibration.setup.counted_channel.channel}: "
            + "; ".join(
                f"{r.target.split('.')[-1]} observed {r.observed:.2f}, simulated {r.simulated:.2f}"
                for r in flows.itertuples()
            )
            + "."
        )
        figure.supxlabel("\n".join(textwrap.wrap(caption, 150)), fontsize=6, x=0.0, ha="left")
    return figure


def _in_force_rows(backtest: pd.DataFrame) -> str:
    """The treaty's rows of the held-out backtest scored apart, as a sentence."""
    rows = backtest[backtest.id.str.endswith(":in_force")]
    if rows.empty:
        return ""
    model, reference = brier(rows, "forecast"), brier(rows, "reference")
    compared = "worse than" if model > reference else "as well as or better than"
    listed = word_list([f"{f:.3f}" for f in rows.forecast])
    last = rows.iloc[-1]
    return (
        f"On the treaty's {len(rows)} rows alone the model does {compared} the reference: "
        f"it gave {listed} that the treaty was in force (Brier {model:.4f}, against the "
        f"reference's {reference:.4f}), since the hazard of a young alliance whose member "
        f"is at war put its end within {last.months_ahead} months at "
        f"{1 - last.forecast:.0%}; {len(rows)} observations of one young treaty "
        "cannot tell whether that hazard is too high."
    )


def write_calibration(calibration: Calibration, out: Path) -> list[Path]:
    """Write the calibration's files into ``out``.

    They are fitted.yaml, treaty_hazard.yaml (with a treaty mapping), posterior.yaml,
    targets.csv, report.md and calibration.png; with analogue cases, also backtest.csv
    (the held-out backtest's forecasts), analogue_forecasts.csv, analogue_scores.csv and
    reliability.png.
    """
    files = {
        "fitted.yaml": fitted_document(calibration),
        "posterior.yaml": posterior_document(calibration),
        "targets.csv": target_table(calibration).to_csv(index=False),
        "report.md": report_document(calibration),
    }
    if calibration.treaty_hazard is not None:
        files[calibration.treaty_hazard.setup.out] = treaty_hazard_document(
            calibration.treaty_hazard
        )
    written = []
    for name, text in files.items():
        write_text(out / name, text)
        written.append(out / name)
    figures.save(calibration_figure(calibration), out / "calibration.png")
    written.append(out / "calibration.png")
    if calibration.analogues is not None:
        held_out = held_out_table(calibration)
        write_text(out / "backtest.csv", held_out.to_csv(index=False, float_format="%.6g"))
        written.append(out / "backtest.csv")
        written += write_analogue_files(calibration.analogues, out, held_out)
    return written


def held_out_table(calibration: Calibration) -> pd.DataFrame:
    """The held-out backtest's rows with the month its forecast starts (``backtest.csv``)."""
    table = calibration.backtest.copy()
    table.insert(0, "start", calibration.forecast_start)
    return table
