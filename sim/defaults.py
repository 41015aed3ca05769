"""Defaults shared by the command line and the API, in a module that imports nothing heavy.

The command line reads them before it starts its worker processes, so this module must
load in no time.
"""

DEFAULT_CHUNK_SIZE = 10_000
"""Replications per chunk: with the seed, the chunk size fixes every random number."""

REPORT_FORMATS = ("md", "tex", "csv", "png", "pdf")
"""Formats of the reports a run directory can hold (see :mod:`sim.reports`)."""
