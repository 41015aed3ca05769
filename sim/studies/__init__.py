"""Studies: many runs on common random numbers, through the engine.

:mod:`.compare` (scenarios side by side), :mod:`.sweep` (a design over parameters),
:mod:`.sensitivity` (Sobol' indices) and :mod:`.paper` (the library's headline tables)
all run through the engine and write their outputs with :mod:`sim.reports`.
"""
