"""Results of runs: what a finished run holds, and the directory that keeps it on disk.

Below the engine, so that statistics and reports read results without importing the
runner: :mod:`.result` holds :class:`RunResult` and :func:`load_run`; :mod:`.settings`
:class:`RunSettings`; :mod:`.rundir` the layout of run and study directories (create or
refuse, resume, manifest, chunks); :mod:`.store` the columnar store,
``replications.parquet``; :mod:`.display` results as HTML in Jupyter.

The names below are imported when first asked for, so that a local worker, which
unpickles settings with every chunk, loads :mod:`.settings` alone and not pyarrow.
"""

from sim.lazy import lazy_exports

_HOMES = {
    "RunDirectory": "sim.results.rundir",
    "RunResult": "sim.results.result",
    "RunSettings": "sim.results.settings",
    "load_run": "sim.results.result",
}

__all__ = sorted(_HOMES)

__getattr__ = lazy_exports(__name__, _HOMES)
