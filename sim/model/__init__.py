"""The Mesa model: actors and channels over a batch of replications, stepped a month at a time.

:mod:`.model` holds :class:`AllianceModel`; :mod:`.actors` and :mod:`.channels` its
agents; :mod:`.events` when scenario events happen and what they do; :mod:`.parameters`
numbers as fixed values or per-replication draws; :mod:`.streams` the random streams of
each chunk; :mod:`.outcomes` what the model returns.

The names below are imported when first asked for: what needs only the outcomes (the
statistics, the reports, a run's own process while its workers simulate) does not load
Mesa.
"""

from sim.lazy import lazy_exports

_HOMES = {
    "ActorAgent": "sim.model.actors",
    "AllianceModel": "sim.model.model",
    "ChannelAgent": "sim.model.channels",
    "Outcomes": "sim.model.outcomes",
}

__all__ = sorted(_HOMES)

__getattr__ = lazy_exports(__name__, _HOMES)
