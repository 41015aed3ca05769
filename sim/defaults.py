"""Defaults and limits the command line shows in its help, in a module that imports nothing.

The CLI builds its parser before it knows which command runs; were these numbers read from
the modules that use them, building the parser would load pandas, scipy and Mesa (four
seconds on a 2-core machine) before a run could start its workers. The modules that use
them import them from here.
"""

DEFAULT_CHUNK_SIZE = 10_000
"""Replications per chunk: with the seed, the chunk size fixes every random number."""

MAX_POINTS = 10_000
"""Design points a sweep runs unless told it may run more (``max_points``)."""

REPORT_FORMATS = ("md", "tex", "csv", "png", "pdf")
"""Formats of the reports a run directory can hold."""
