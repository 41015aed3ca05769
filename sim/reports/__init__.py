"""Reports of results: tables (terminal, Markdown, LaTeX, CSV), figures and documents.

Reads :class:`sim.results.RunResult` objects and never runs a simulation: :mod:`.tables`
the headline table, :mod:`.figures` the house style and run figures, :mod:`.report` the
files of a run directory, :mod:`.uncertainty` chance against parameter uncertainty,
:mod:`.forecasts` fan charts over parameter draws and termination dates by year,
:mod:`.history` one forecast across dated runs, :mod:`.discovery` scenario discovery
(PRIM and CART), :mod:`.comparison`, :mod:`.sweep` and :mod:`.sensitivity` the outputs
of studies.
"""
