"""The Monte Carlo engine: replications in seeded chunks, on a local pool or Dask, resumable.

:mod:`.runner` runs a scenario (and many, for studies) chunk by chunk; :mod:`.executors`
decide where chunks run; :mod:`.provenance` records what produced a result.
"""
