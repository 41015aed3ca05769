"""The ``alliance-sim`` command: a thin shell over the Python API.

Every command parses its arguments, calls :mod:`sim`, and prints. Errors in what the
user asked for are printed without a traceback and exit with status 2. Commands import
what they need when they run, inside :func:`main`'s handling of errors and of Ctrl-C (an
interrupt while libraries load ends the command as quietly as one while it simulates),
and simulating commands start their worker pool as soon as their options are read, so
that it loads the model while the command reads its scenario.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from sim.defaults import DEFAULT_CHUNK_SIZE, MAX_POINTS, REPORT_FORMATS
from sim.engine.executors import (
    ctrl_c_counted,
    ctrl_c_deferred,
    return_large_frees_at_once,
    warm_up,
)
from sim.errors import Advisory, RunInterrupted, ScenarioError, UserError, did_you_mean
from sim.paths import CALIBRATION

if TYPE_CHECKING:
    from sim.engine.options import RunOptions
    from sim.scenario import Scenario

JOINT_DRAWS = 200
"""Rows of the joint sample of judged numbers in a run with --parameter-uncertainty."""
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def _port(text: str) -> int:
    value = _positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number up to 65535, got {value}")
    return value


def _place(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty one")
    return text


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"expected a seed in [0, 2**63), got {value}")
    return value


def _command_run(args: argparse.Namespace) -> int:
    return_large_frees_at_once()  # this process takes in every chunk's outcomes
    _warm_up(args)
    if args.scenario is None and args.resume is None:
        taken = args.parameter_uncertainty
        default = (CALIBRATION / "posterior.yaml").resolve()
        if taken and Path(taken).resolve() != default:
            # `run --parameter-uncertainty x.yaml`: the option's optional value took the file.
            raise UserError(
                f"no scenario file: --parameter-uncertainty took {taken} as its POSTERIOR; "
                f"put the scenario first: alliance-sim run {taken} --parameter-uncertainty"
            )
        raise UserError("give a scenario file to run, or --resume DIR")
    # A Ctrl-C raised inside one of importlib's weakref callbacks is reported as ignored,
    # and one raised inside pydantic's serializer becomes a warning: either way it is lost
    # (the run would go on). It is held while the libraries load and the file is read,
    # then raised. The file is read before the runner's libraries load, so that a mistake
    # in it is answered at once.
    with ctrl_c_deferred():
        from sim.scenario import load_scenario

        scenario = load_scenario(args.scenario) if args.scenario else None
    options = _run_options(args)
    with ctrl_c_deferred():
        from sim.engine.runner import run
        from sim.reports.tables import headline_table, terminal_table

    if args.parameter_uncertainty:
        if scenario is None:
            raise UserError("--parameter-uncertainty applies to a scenario, not to --resume")
        scenario = with_posterior(scenario, Path(args.parameter_uncertainty))
        options = options.replace(joint_draws=JOINT_DRAWS)
    if args.fixed_parameters:
        options = options.replace(fixed_parameters=True)
    preparing = threading.Thread(target=_prepare_figures, daemon=True)
    if {"png", "pdf"} & set(args.format):
        # Plotting libraries load in the background while the workers simulate.
        preparing.start()
    result = run(
        scenario,
        options,
        horizon=args.horizon,
        meanwhile=lambda finished: _reports(finished, args.format, args.intensity, preparing),
    )

    print(terminal_table(result, headline_table(result, intensity=args.intensity)))
    print(f"\nwrote {result.directory}")
    return 0


def _reports(
    result, formats: tuple[str, ...], intensity: bool, preparing: threading.Thread
) -> list[Path]:
    from sim.engine.executors import side_process
    from sim.reports.report import write_reports

    # matplotlib's settings are global: a short run must not draw its figures while the
    # background thread still draws its own under the house style.
    if preparing.is_alive():
        preparing.join()
    # The workers are done: a process forked like them draws half the figures.
    helper = side_process()
    try:
        return write_reports(
            result, formats=formats, record=False, intensity=intensity, elsewhere=helper
        )
    finally:
        if helper is not None:
            helper.shutdown(wait=True, cancel_futures=True)


def _prepare_figures() -> None:
    from sim.reports import figures

    figures.prepare()


def _command_report(args: argparse.Namespace) -> int:
    from sim.reports.report import write_reports
    from sim.reports.tables import headline_table, terminal_table
    from sim.results import load_run

    result = load_run(args.directory)
    written = write_reports(result, formats=args.format, intensity=args.intensity)
    print(terminal_table(result, headline_table(result, intensity=args.intensity)))
    print(f"\nwrote {', '.join(p.name for p in written)} in {args.directory}")
    return 0


def _command_paper(args: argparse.Namespace) -> int:
    _warm_up(args)
    with ctrl_c_deferred():  # see _command_run
        from sim.engine.options import RunOptions
        from sim.studies.paper import PAPER_REPLICATIONS, paper

    files = args.scenarios or sorted(Path("scenarios").glob("*.yaml"))
    options = RunOptions.of(
        replications=args.replications or PAPER_REPLICATIONS,
        workers=args.workers,
        progress=not args.quiet,
    )
    written = paper([Path(f) for f in files], Path(args.out), options, force=args.force)
    print(f"wrote {len(written)} files in {args.out}")
    return 0


def _command_calibrate(args: argparse.Namespace) -> int:
    out = Path(args.out)
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create {out}: {error.strerror}") from None
    try:
        return _calibrate(args, out)
    except BaseException:
        # Bad input found after the folder was made (a missing --atop, say) leaves nothing.
        if created and not any(out.iterdir()):
            out.rmdir()
        raise


def _calibrate(args: argparse.Namespace, out: Path) -> int:
    from sim.calibration.baserates import base_rates, write_base_rates
    from sim.calibration.documents import write_calibration
    from sim.calibration.fit import calibrate
    from sim.calibration.moments import Settings

    rates = Path(args.base_rates)
    if args.atop or args.task == "base-rates":
        if not args.atop:
            raise UserError("calibrate base-rates needs --atop DIR (the ATOP v4.01 files)")
        written = write_base_rates(base_rates(Path(args.atop)), out)
        print(f"wrote {', '.join(str(p) for p in written)}")
        rates = written[0]
    if args.task == "base-rates":
        return 0
    if args.task == "analogues":
        from sim.calibration.analogues import AnalogueSettings, analogue_backtest
        from sim.calibration.backtest_documents import (
            refresh_analogue_backtest,
            report_with_section,
        )

        report_with_section(out)  # before a run whose results would have nowhere to go
        chosen = {k: v for k, v in (("replications", args.replications),
                                    ("seed", args.seed)) if v is not None}  # fmt: skip
        setup = Path(args.setup).parent
        backtest = analogue_backtest(
            AnalogueSettings(**chosen), setup / "analogues", setup / "reference_curves.csv"
        )
        written = refresh_analogue_backtest(backtest, out)
        model = backtest.scores.iloc[0]
        print(f"analogue backtest: {model.forecasts} forecasts, {model.endings} endings, "
              f"model Brier {model.brier:.4f} ({backtest.seconds:.0f} s)")  # fmt: skip
        print(f"wrote {', '.join(str(p) for p in written)}")
        return 0
    settings = Settings(**{k: v for k, v in (("replications", args.replications),
                                             ("seed", args.seed)) if v is not None})  # fmt: skip
    result = calibrate(Path(args.setup), settings, base_rates=rates)
    written = write_calibration(result, out)
    for name, value in result.estimates.items():
        print(f"{name} = {value:.4g}")
    print(f"wrote {', '.join(str(p) for p in written)}")
    return 0


def _formats(text: str) -> tuple[str, ...]:
    formats = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [f for f in formats if f not in REPORT_FORMATS]
    if unknown or not formats:
        raise argparse.ArgumentTypeError(
            f"unknown format {', '.join(unknown) or text!r}; choose from {','.join(REPORT_FORMATS)}"
        )
    return formats


def with_posterior(scenario: Scenario, posterior: Path) -> Scenario:
    """The scenario with parameters drawn from a posterior sample file (a scenario fragment)."""
    from sim.scenario import load_yaml, override

    data, _ = load_yaml(posterior)
    if not isinstance(data, dict):
        raise UserError(f"{posterior}: expected a scenario fragment of empirical samples")
    return override(scenario, data)


def _validate_file(file: str) -> str:
    """Check a scenario or sweep file; the line to print when it is valid."""
    from sim.scenario import load_scenario, scenario_hash
    from sim.scenario.sweepfile import design_size, is_sweep_file, load_sweep

    if is_sweep_file(Path(file)):
        sweep_file, base = load_sweep(file)
        size = design_size(sweep_file)
        if size > MAX_POINTS:
            warnings.warn(
                f"{file}: the design has {size:,} points, more than sweep's limit of "
                f"{MAX_POINTS:,}: run it with alliance-sim sweep --max-points {size}",
                Advisory,
                stacklevel=2,
            )
        return (
            f"ok: {file} (sweep {sweep_file.name}: {size:,} points over "
            f"{len(sweep_file.parameters)} parameters of {base.name})"
        )
    scenario = load_scenario(file)
    return (
        f"ok: {file} ({scenario.name}: {len(scenario.channels)} channels, "
        f"{len(scenario.events)} events, sha256 {scenario_hash(scenario)[:12]})"
    )


def _command_validate(args: argparse.Namespace) -> int:
    failed = 0
    for file in args.files:
        try:
            print(_validate_file(file))
        except ScenarioError as error:
            failed += 1
            print(f"error: {file}\n{error}", file=sys.stderr)
            # A part of a world (its numbers in another file) fails only on missing keys.
            if all("missing required key" in p.message for p in error.problems):
                print(
                    "(only required keys are missing: if this file is a part that complete "
                    "scenarios extend, validate those instead)",
                    file=sys.stderr,
                )
    if failed:
        print(f"{failed} of {len(args.files)} files have errors", file=sys.stderr)
        return EXIT_USAGE
    return 0


def _command_schema(args: argparse.Namespace) -> int:
    from sim.scenario.schema import file_schema, resolved_schema
    from sim.scenario.sweepfile import Sweep

    if args.sweep and args.resolved:
        raise UserError("--resolved applies to scenario files; a sweep file has one schema")
    if args.sweep:
        schema = Sweep.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    else:
        schema = resolved_schema() if args.resolved else file_schema()
    print(json.dumps(schema, indent=2))
    return 0


def _command_explore(args: argparse.Namespace) -> int:
    """The exploration page (sim.explore): served on 127.0.0.1, or exported to one file."""
    from sim.scenario import load_scenario

    # A scenario with errors stops here, with its message, before the page's libraries load.
    baseline = load_scenario(args.baseline) if args.baseline else None
    scenario = load_scenario(args.scenario)
    if args.export is None:
        for option in ("grid", "force"):
            if getattr(args, option):
                raise UserError(f"--{option} applies to --export")
    try:
        from sim.explore import app, export
    except ImportError as missing:
        raise UserError(
            f"explore needs the optional extra explore ({missing.name} is not installed): "
            "pip install 'alliance-sim[explore]'"
        ) from None
    from sim.explore.session import Session

    session = Session.of(scenario, baseline, args.replications, args.seed)
    if args.export is None:
        build = app.page_factory(args.scenario, args.baseline, args.replications, args.seed)
        app.serve(build, args.port, show=args.show)
        return 0
    axes = export.grid_axes(session.scenario, args.grid or ())
    size = export.write_page(Path(args.export), session, axes,
                             lambda done, total: print(f"\r{done}/{total} grid points",
                                                       end="", file=sys.stderr),
                             force=args.force, elsewhere="another PAGE.html")  # fmt: skip
    print(f"\nwrote {args.export} ({size / 1e6:.1f} MB)")
    return 0


def _add_explore_parser(commands) -> None:
    from sim.paths import SCENARIOS

    parser = commands.add_parser(
        "explore",
        help="a web page to move a scenario's assumptions and watch survival change",
        description="Serve on 127.0.0.1 a page (Panel) whose controls, generated from the "
        "scenario, change it and re-run it against a baseline on common random numbers; "
        "or, with --export, write a self-contained page over a grid of the main controls.",
    )
    flagship = SCENARIOS / "ukraine_ceasefire.yaml"
    parser.add_argument("scenario", nargs="?", default=str(flagship), help="scenario file")
    parser.add_argument("--baseline", help="scenario compared with (default: as loaded)")
    parser.add_argument("--port", type=_port, default=5006, help="port (default 5006)")
    parser.add_argument("--show", action="store_true", help="open it in a browser")
    parser.add_argument("--replications", type=_positive, help="replications (default 5,000)")
    parser.add_argument("--seed", type=_seed, help="seed (default: file's)")
    parser.add_argument("--export", metavar="PAGE.html", help="write a self-contained page")
    parser.add_argument("--force", action="store_true", help="replace PAGE.html if it exists")
    parser.add_argument(
        "--grid",
        action="append",
        metavar="KEY",
        help="a control of the exported grid, as its key path (repeatable; default: the "
        "probabilities of the first two events the scenario's own file defines)",
    )
    parser.set_defaults(handler=_command_explore)


def _warm_up(args: argparse.Namespace) -> None:
    local = getattr(args, "executor", "local") == "local" and not getattr(args, "scheduler", None)
    if local and args.workers != 1:
        warm_up()


def _add_run_options(
    parser: argparse.ArgumentParser, thing: str, default_out: str, horizon: bool = False
) -> None:
    """The options every simulating command shares, with the same meaning."""
    parser.add_argument("--replications", type=_positive, help="replications (default: file's)")
    parser.add_argument("--seed", type=_seed, help="seed (default: file's)")
    if horizon:
        parser.add_argument(
            "--horizon",
            type=_positive,
            help="months to simulate (report horizons beyond it are dropped; it is reported)",
        )
    parser.add_argument(
        "--chunk-size",
        type=_positive,
        help=f"replications per chunk (default {DEFAULT_CHUNK_SIZE}); part of what fixes the "
        "random numbers",
    )
    parser.add_argument("--workers", type=_positive, help="worker processes (default: all cores)")
    parser.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="local process pool (default) or Dask; dask without --scheduler starts a "
        "local cluster",
    )
    parser.add_argument(
        "--scheduler", metavar="ADDRESS", help="run on an existing Dask cluster (tcp://host:8786)"
    )
    parser.add_argument(
        "--out", type=_place, metavar="DIR", help=f"output directory (default {default_out})"
    )
    parser.add_argument("--resume", metavar="DIR", help=f"continue an interrupted {thing} in DIR")
    parser.add_argument(
        "--force", action="store_true", help=f"replace --out if it is an existing {thing}"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _run_options(args: argparse.Namespace) -> RunOptions:
    """The run options of a simulating command's arguments."""
    from sim.engine.options import RunOptions

    if args.resume and args.out:
        raise UserError("--resume continues in its own directory: drop --out")
    return RunOptions.of(
        replications=args.replications,
        seed=args.seed,
        chunk_size=args.chunk_size,
        workers=args.workers,
        executor=args.executor,
        scheduler=args.scheduler,
        out=None if args.resume else args.out or "default",
        resume=args.resume,
        force=args.force,
        progress=not args.quiet,
    )


def _command_compare(args: argparse.Namespace) -> int:
    _warm_up(args)
    if args.resume is None and len(args.scenarios) + bool(args.baseline) < 2:
        raise UserError("give at least two scenario files to compare")
    with ctrl_c_deferred():  # see _command_run
        from sim.scenario import load_scenario

        scenarios = [load_scenario(f) for f in args.scenarios]
        baseline = load_scenario(args.baseline) if args.baseline else None
        from sim.studies.compare import compare

    comparison = compare(scenarios, baseline, _run_options(args), horizon=args.horizon)
    print((comparison.directory / "comparison.md").read_text())
    print(f"wrote {comparison.directory}")
    return 0


def _command_sweep(args: argparse.Namespace) -> int:
    _warm_up(args)
    _check_sweep_file(args.sweep)
    with ctrl_c_deferred():  # see _command_run
        from sim.studies.sweep import sweep

    result = sweep(args.sweep, _run_options(args), max_points=args.max_points)
    table = result.table
    print(f"{result.sweep.name}: {result.points} points; P(alive) over the points:")
    for output in result.sweep.outputs:
        here = table[(table.domain == output.domain) & (table.horizon == output.horizon)]
        low, high = here.p_survive.min(), here.p_survive.max()
        print(f"  {output.domain} at {output.horizon} months: {low:.2f} to {high:.2f}")
    print(f"wrote {result.directory}")
    return 0


def _check_sweep_file(file: str | None, sensitivity: bool = False) -> None:
    """Check a sweep file before the study's libraries load: a mistake is answered at once.

    The study reads the file again (a fraction of a second, while the workers start).
    """
    if file is not None:
        with ctrl_c_deferred():  # see _command_run
            from sim.scenario.sweepfile import load_sweep

            load_sweep(file, sensitivity=sensitivity)


def _command_sensitivity(args: argparse.Namespace) -> int:
    _warm_up(args)
    _check_sweep_file(args.sweep, sensitivity=True)
    with ctrl_c_deferred():  # see _command_run
        from sim.studies.sensitivity import sensitivity

    result = sensitivity(args.sweep, _run_options(args))
    print((result.directory / "sensitivity.md").read_text())
    print(f"wrote {result.directory}")
    return 0


def _command_discover(args: argparse.Namespace) -> int:
    from sim.reports.discovery import (
        discover,
        discovery_markdown,
        discovery_paths,
        open_cases,
        write_discovery,
    )
    from sim.storage import refuse_to_replace

    cases = open_cases(
        args.directory, args.domain, args.horizon, args.outcome, threshold=args.threshold
    )
    out = Path(args.out or args.directory)
    refuse_to_replace(discovery_paths(cases, out), args.force)  # before PRIM's seconds
    found = discover(cases, min_coverage=args.min_coverage)
    written = write_discovery(found, out, force=args.force)
    print(discovery_markdown(found))
    print(f"wrote {', '.join(p.name for p in written)} in {out}")
    return 0


def _command_history(args: argparse.Namespace) -> int:
    from sim.reports.history import write_history

    stem = args.out or f"results/history-{args.domain}-{args.horizon}"
    written = write_history(args.directories, args.domain, args.horizon, stem, force=args.force)
    print((written[0]).read_text(), end="")
    print(f"wrote {', '.join(str(p) for p in written)}")
    return 0


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {value}")
    return value


def _add_format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        type=_formats,
        default=REPORT_FORMATS,
        help=f"comma-separated report formats to write (default {','.join(REPORT_FORMATS)})",
    )
    parser.add_argument(
        "--intensity",
        action="store_true",
        help="add each domain's expected intensity beside P(alive) at every horizon in the "
        "headline table (terminal, table.md/.tex/.csv)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="alliance-sim",
        description="Monte Carlo forecasts of alliance durability from scenario files.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run_parser = commands.add_parser(
        "run",
        help="run a scenario and print per-domain survival",
        description="Run a scenario's replications and print, for every cooperation "
        "domain, P(alive) at the report horizons with 95% intervals and the median "
        "survival.",
    )
    run_parser.add_argument(
        "scenario", nargs="?", help="scenario YAML file (optional with --resume)"
    )
    _add_run_options(run_parser, "run", "results/<scenario>-<UTC time>", horizon=True)
    run_parser.add_argument(
        "--parameter-uncertainty",
        nargs="?",
        const=str(CALIBRATION / "posterior.yaml"),
        metavar="POSTERIOR",
        help="report parameter uncertainty against chance: draw the judged numbers as a "
        f"joint sample ({JOINT_DRAWS} rows per chunk) and the fitted parameters from the "
        "calibration's posterior sample (default calibration/posterior.yaml)",
    )
    run_parser.add_argument(
        "--fixed-parameters",
        action="store_true",
        help="run the point model: every judged number at its value instead of drawn from "
        "its range",
    )
    _add_format_option(run_parser)
    run_parser.set_defaults(handler=_command_run)

    report_parser = commands.add_parser(
        "report",
        help="rebuild tables and figures of a saved run",
        description="Rebuild the tables, figures and methods.md of a finished run from its "
        "saved outcomes, without simulating again.",
    )
    report_parser.add_argument("directory", metavar="DIR", help="run directory")
    _add_format_option(report_parser)
    report_parser.set_defaults(handler=_command_report)

    compare_parser = commands.add_parser(
        "compare",
        help="compare scenarios on common random numbers",
        description="Run scenarios with the same seed (common random numbers) and report, "
        "per domain and horizon, each one's survival and its paired difference from the "
        "baseline with 95% intervals (Newcombe), and the differences in median survival "
        "and restricted mean survival time.",
    )
    compare_parser.add_argument("scenarios", nargs="*", help="scenario files (first: baseline)")
    compare_parser.add_argument(
        "--baseline",
        help="scenario file the others are compared with (left out of the others if listed)",
    )
    _add_run_options(compare_parser, "comparison", "results/compare-<UTC time>", horizon=True)
    compare_parser.set_defaults(handler=_command_compare)

    sweep_parser = commands.add_parser(
        "sweep",
        help="run a sweep file: a grid, Latin hypercube or Sobol' design",
        description="Run every point of a sweep file's design on common random numbers and "
        "write sweep.csv and figures.",
    )
    sweep_parser.add_argument("sweep", nargs="?", help="sweep YAML file (optional with --resume)")
    _add_run_options(sweep_parser, "sweep", "results/sweep-<name>-<UTC time>")
    sweep_parser.add_argument(
        "--max-points",
        type=_positive,
        default=MAX_POINTS,
        help=f"refuse a design of more points (default {MAX_POINTS:,})",
    )
    sweep_parser.set_defaults(handler=_command_sweep)

    sensitivity_parser = commands.add_parser(
        "sensitivity",
        help="Sobol' indices of a sweep file's output to its parameters",
        description="Global sensitivity of the sweep file's sensitivity output to its "
        "parameters' ranges: Sobol' indices (scipy.stats.sobol_indices) with bootstrap "
        "intervals, as a table and a bar chart.",
    )
    sensitivity_parser.add_argument("sweep", nargs="?", help="sweep YAML file")
    _add_run_options(
        sensitivity_parser, "sensitivity analysis", "results/sensitivity-<name>-<UTC time>"
    )
    sensitivity_parser.set_defaults(handler=_command_sensitivity)

    discover_parser = commands.add_parser(
        "discover",
        help="which assumptions make a domain end: PRIM boxes and a CART tree",
        description="Scenario discovery over a run's replications (the parameters each "
        "drew, the events that happened and when) or a sweep's points: the PRIM box "
        "(EMA Workbench) where the outcome is dense, with coverage, density and the "
        "quasi-p of each restriction, the peeling trajectory, and a CART tree's leaves "
        "(scikit-learn). Needs the extra: pip install 'alliance-sim[discover]'.",
    )
    discover_parser.add_argument("directory", metavar="RUN_OR_SWEEP", help="run or sweep directory")
    discover_parser.add_argument("--domain", required=True, help="the domain (channel or treaty)")
    discover_parser.add_argument(
        "--horizon", required=True, type=_positive, help="months from the start"
    )
    discover_parser.add_argument(
        "--outcome",
        choices=("ended", "alive"),
        default="ended",
        help="the cases of interest: the domain ended by the horizon (default), or alive at it",
    )
    discover_parser.add_argument(
        "--threshold",
        type=_probability,
        default=0.5,
        help="for a sweep: a point counts where P(outcome) exceeds this (default 0.5)",
    )
    discover_parser.add_argument(
        "--min-coverage",
        type=_probability,
        default=0.5,
        help="the box starts as the densest with at least this coverage (default 0.5)",
    )
    discover_parser.add_argument(
        "--out",
        type=_place,
        metavar="DIR",
        help="where to write the tables and figure (default: RUN_OR_SWEEP)",
    )
    discover_parser.add_argument(
        "--force", action="store_true", help="replace the files of an earlier discovery"
    )
    discover_parser.set_defaults(handler=_command_discover)

    history_parser = commands.add_parser(
        "history",
        help="how one forecast moved across dated runs",
        description="Draw P(domain alive at the horizon) with its 95% interval for each "
        "run, against the date the run was made (its manifest's start time), and write "
        "the numbers as CSV.",
    )
    history_parser.add_argument("directories", nargs="+", metavar="DIR", help="run directories")
    history_parser.add_argument("--domain", required=True, help="the domain (channel or treaty)")
    history_parser.add_argument(
        "--horizon", required=True, type=_positive, help="months from each run's start"
    )
    history_parser.add_argument(
        "--out",
        type=_place,
        metavar="STEM",
        help="files to write: STEM.csv, STEM.png, STEM.pdf "
        "(default results/history-<domain>-<horizon>)",
    )
    history_parser.add_argument(
        "--force", action="store_true", help="replace STEM's files if they exist"
    )
    history_parser.set_defaults(handler=_command_history)

    calibrate_parser = commands.add_parser(
        "calibrate",
        help="fit the world's free parameters to the evidence and map the treaty's hazard",
        description="Map the treaty's hazard from the ATOP hazard model "
        "(calibration/hazards.csv) and fit the growth rates and the leaders' pre-summit "
        "commitment by simulated method of moments to the evidence ledger; write "
        "treaty_hazard.yaml, fitted.yaml, posterior.yaml, targets.csv, report.md and "
        "calibration.png, and the analogue backtest's files. `calibrate base-rates --atop "
        "DIR` only recomputes the base rates; `calibrate analogues` only reruns the analogue "
        "backtest (about 15 seconds) and refreshes its files and its section of report.md.",
    )
    calibrate_parser.add_argument(
        "task",
        nargs="?",
        choices=("fit", "base-rates", "analogues"),
        default="fit",
        help="what to do",
    )
    calibrate_parser.add_argument(
        "--atop", metavar="DIR", help="ATOP v4.01 directory: recompute the base rates first"
    )
    calibrate_parser.add_argument(
        "--out",
        type=_place,
        default=str(CALIBRATION),
        help=f"output folder (default {CALIBRATION})",
    )
    calibrate_parser.add_argument(
        "--base-rates",
        default=str(CALIBRATION / "base_rates.csv"),
        help="ATOP base rates: the March 2025 backtest's reference, and targets for a setup "
        "with a base_rate block (default: the committed calibration/base_rates.csv)",
    )
    calibrate_parser.add_argument(
        "--setup",
        default=str(CALIBRATION / "setup.yaml"),
        help="what to fit and to what (default: calibration/setup.yaml)",
    )
    calibrate_parser.add_argument(
        "--replications",
        type=_positive,
        help="replications per evaluation (default 1000; analogues: per case, default 2000)",
    )
    calibrate_parser.add_argument("--seed", type=_seed, help="seed (default 20230913)")
    calibrate_parser.set_defaults(handler=_command_calibrate)

    paper_parser = commands.add_parser(
        "paper",
        help="write the headline table of every library scenario",
        description="Run every scenario (default: scenarios/*.yaml) and write its headline "
        "table in Markdown, LaTeX and CSV, with a summary, into --out. The same code and "
        "settings give the same bytes.",
    )
    paper_parser.add_argument("scenarios", nargs="*", help="scenario files (default: the library)")
    paper_parser.add_argument(
        "--out", type=_place, default="results/paper", help="output folder (default results/paper)"
    )
    paper_parser.add_argument(
        "--replications", type=_positive, help="replications per scenario (default 50,000)"
    )
    paper_parser.add_argument("--workers", type=_positive, help="worker processes")
    paper_parser.add_argument("--quiet", action="store_true", help="no progress bar")
    paper_parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite tables in --out made with other settings (replications, seed)",
    )
    paper_parser.set_defaults(handler=_command_paper)

    validate_parser = commands.add_parser(
        "validate",
        help="check scenario files without running them",
        description="Resolve and validate scenario files; print their problems with file, "
        "line and key path: every structural one (keys, types, ranges), then, once the "
        "structure is right, every broken reference. Exit status 2 if any file has errors.",
    )
    validate_parser.add_argument(
        "files", nargs="+", metavar="FILE", help="scenario or sweep YAML files"
    )
    validate_parser.set_defaults(handler=_command_validate)

    schema_parser = commands.add_parser(
        "schema",
        help="print the JSON Schema of scenario files",
        description="Print the JSON Schema of a scenario file, for editors that check "
        "YAML as it is typed (a file may be partial: it extends others).",
    )
    schema_parser.add_argument(
        "--resolved",
        action="store_true",
        help="the schema of a fully resolved scenario instead (every key required)",
    )
    schema_parser.add_argument(
        "--sweep", action="store_true", help="the schema of sweep files instead"
    )
    schema_parser.set_defaults(handler=_command_schema)
    _add_explore_parser(commands)
    for command_parser in commands.choices.values():
        command_parser.set_defaults(command_parser=command_parser)
    return parser


def _refuse_unknown(command_parser: argparse.ArgumentParser, unknown: list[str]) -> NoReturn:
    """Exit with the command's usage, naming each unknown option and the likely one meant."""
    options = sorted(set(re.findall(r"(?<![\w-])--[a-z][\w-]*", command_parser.format_help())))
    notes = []
    for word in unknown:
        option = word.split("=", 1)[0]
        guess = did_you_mean(option, options) if option.startswith("-") else None
        notes.append(f"{word} (did you mean {guess}?)" if guess else word)
    command_parser.error("unrecognized arguments: " + " ".join(notes))


def _print_advisory(message, category, filename, lineno, file=None, line=None) -> None:
    """Show an :class:`~sim.errors.Advisory` as a note on stderr; other warnings as usual."""
    if issubclass(category, Advisory):
        print(f"alliance-sim: note: {message}", file=sys.stderr)
    else:
        _show_warning(message, category, filename, lineno, file, line)


_show_warning = warnings.showwarning


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    warnings.showwarning = _print_advisory
    warnings.simplefilter("always", Advisory)
    try:
        # Inside the try, so that Ctrl-C while the command's libraries load is an
        # interrupt like any other.
        parser = build_parser()
        args, unknown = parser.parse_known_args(argv)
        if unknown:
            _refuse_unknown(args.command_parser, unknown)
        with ctrl_c_counted():  # a run notices a Ctrl-C that Python printed as ignored
            return args.handler(args)
    except RunInterrupted as stopped:
        print(f"alliance-sim: {stopped}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except UserError as error:
        print(f"alliance-sim: error:\n{error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("alliance-sim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Output piped into a reader that stopped early (`| head`): not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def entry() -> None:
    """The console script: run the command, then leave without tearing the interpreter down.

    Everything the command writes is closed by then; freeing the memory of pandas,
    matplotlib and the run object by object only delays the shell by half a second.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
