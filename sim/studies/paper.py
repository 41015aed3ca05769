"""The paper study: run every library scenario and write its headline tables.

Every scenario runs with its own seed (the library shares one, so scenarios are compared
on common random numbers) and the same number of replications; the tables depend only on
the scenarios, the replications and the code's version, so running this again gives the
same bytes.
"""

from __future__ import annotations

from pathlib import Path

from sim.engine.runner import run
from sim.reports.paper import write_paper_tables
from sim.scenario import load_scenario

PAPER_REPLICATIONS = 50_000


def paper(
    files: list[Path],
    out: Path,
    *,
    replications: int = PAPER_REPLICATIONS,
    workers: int | None = None,
    progress: bool = False,
) -> list[Path]:
    """Run the scenarios and write their headline tables and a summary into ``out``.

    Returns:
        The files written.
    """
    results = [
        run(load_scenario(file), replications=replications, workers=workers, progress=progress)
        for file in files
    ]
    return write_paper_tables(results, out)
