"""The ``alliance-sim`` command: a thin shell over the Python API.

Every command parses its arguments, calls :mod:`sim`, and prints. Errors in what the
user asked for are printed without a traceback and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sim.engine import DEFAULT_CHUNK_SIZE, run
from sim.errors import UserError
from sim.reports import terminal_table
from sim.scenario import load_scenario

EXIT_USAGE = 2


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"expected a seed in [0, 2**63), got {value}")
    return value


def _command_run(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    result = run(
        scenario,
        replications=args.replications,
        seed=args.seed,
        horizon=args.horizon,
        chunk_size=args.chunk_size,
    )
    print(terminal_table(result))
    return 0


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
        "domain, P(alive) at the report horizons with 95%% intervals and the median "
        "survival.",
    )
    run_parser.add_argument("scenario", help="scenario YAML file")
    run_parser.add_argument(
        "--replications", type=_positive, help="number of replications (default: scenario's)"
    )
    run_parser.add_argument("--seed", type=_seed, help="run seed (default: scenario's)")
    run_parser.add_argument("--horizon", type=_positive, help="months to simulate")
    run_parser.add_argument(
        "--chunk-size",
        type=_positive,
        default=DEFAULT_CHUNK_SIZE,
        help=f"replications per chunk (default {DEFAULT_CHUNK_SIZE})",
    )
    run_parser.set_defaults(handler=_command_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except UserError as error:
        print(f"alliance-sim: error:\n{error}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
