"""An exploration page: move a scenario's assumptions and watch survival change.

:mod:`.controls` generates the controls from a scenario and applies edits through the
scenario language; :mod:`.session` runs an edited scenario against its baseline on
common random numbers; :mod:`.plots` draws survival in Bokeh; :mod:`.app` is the live
Panel page and :mod:`.export` the self-contained page over a precomputed grid. Panel
(with Bokeh) is an optional extra (``pip install alliance-sim[explore]``); only
:mod:`.plots`, :mod:`.app` and :mod:`.export` need it. docs/explore.md describes the page.
"""
