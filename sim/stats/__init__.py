"""Statistics of outcomes: survival, intervals, medians, restricted means, paired differences.

:mod:`.survival` the survival statistics and the mergeable :class:`~.survival.Summary`;
:mod:`.intensity` intensity from the monthly tallies; :mod:`.spells` spells and endings;
:mod:`.cofailure` joint endings of pairs of domains; :mod:`.events` scenario events.

Works on the model's outcomes (or their sufficient statistics) alone and is checked
against scipy and lifelines in the tests.
"""
