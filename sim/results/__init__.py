"""Results of runs: what a finished run holds, and the directory that keeps it on disk.

Below the engine, so that statistics and reports read results without importing the
runner: :mod:`.result` holds :class:`RunResult` and :func:`load_run`; :mod:`.rundir` the
layout of run and study directories (create or refuse, resume, manifest, chunks);
:mod:`.store` the columnar store, ``replications.parquet``; :mod:`.display` results as
HTML in Jupyter.
"""

from sim.results.result import RunResult, load_run
from sim.results.rundir import RunDirectory

__all__ = ["RunDirectory", "RunResult", "load_run"]
