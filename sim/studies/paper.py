"""The paper study: run every library scenario and write its headline tables.

Every scenario runs with its own seed (the library shares one, so scenarios are compared
on common random numbers) and the same number of replications; the tables depend only on
the scenarios, the replications and the code's version, so running this again gives the
same bytes. Tables already in the folder that were made with other settings are not
overwritten unless forced: the folder is usually committed (``results/paper/``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sim.engine.options import RunOptions
from sim.engine.runner import run
from sim.errors import UserError
from sim.reports.paper import write_paper_tables
from sim.results.rundir import safe_name
from sim.scenario import load_scenario

PAPER_REPLICATIONS = 50_000
_PROVENANCE = re.compile(r"seed (\d+), ([\d,]+) replications")


def _recorded_settings(table: Path) -> tuple[int, int] | None:
    """Seed and replications of a headline table's CSV, from its provenance line."""
    try:
        first = table.read_text(errors="replace").split("\n", 1)[0]
    except OSError:
        return None
    found = _PROVENANCE.search(first)
    return (int(found[1]), int(found[2].replace(",", ""))) if found else None


def paper(
    files: list[Path],
    out: Path,
    options: RunOptions | None = None,
    *,
    force: bool = False,
    **changes: Any,
) -> list[Path]:
    """Run the scenarios and write their headline tables and a summary into ``out``.

    Args:
        files: Scenario files.
        out: The folder of the tables (created if missing).
        options: How to run; replications default to :data:`PAPER_REPLICATIONS`.
        force: Overwrite tables that were made with other settings.
        **changes: Fields of :class:`~sim.engine.options.RunOptions`.

    Returns:
        The files written.

    Raises:
        UserError: ``out`` is a file, or holds tables of the same scenarios made with
            another seed or number of replications (and ``force`` is false).
    """
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} is a file: give --out a folder for the tables")
    options = RunOptions.of(options, **changes)
    options = options.replace(replications=options.replications or PAPER_REPLICATIONS)
    scenarios = [load_scenario(file) for file in files]
    if not force:
        for scenario in scenarios:
            table = out / f"{safe_name(scenario.name)}.csv"
            recorded = _recorded_settings(table)
            settings = options.settings(scenario.replications, scenario.seed)
            if recorded and recorded != (settings.seed, settings.replications):
                raise UserError(
                    f"{table} was made with seed {recorded[0]} and {recorded[1]:,} replications, "
                    f"not seed {settings.seed} and {settings.replications:,}: give --force to "
                    "overwrite it, or another --out"
                )
    results = [run(scenario, options) for scenario in scenarios]
    return write_paper_tables(results, out)
