"""The Mesa model: actors and channels over a batch of replications, stepped a month at a time.

:mod:`.model` holds :class:`AllianceModel`; :mod:`.actors` and :mod:`.channels` its
agents; :mod:`.events` when scenario events happen and what they do; :mod:`.parameters`
numbers as fixed values or per-replication draws; :mod:`.streams` the random streams of
each chunk; :mod:`.outcomes` what the model returns.
"""

from sim.model.actors import ActorAgent
from sim.model.channels import ChannelAgent
from sim.model.model import AllianceModel
from sim.model.outcomes import Outcomes

__all__ = ["ActorAgent", "AllianceModel", "ChannelAgent", "Outcomes"]
