"""What fixes a run's random numbers besides the scenario, as its manifest records them.

A module of its own, light to import: local workers unpickle settings with every chunk,
and the server they are forked from loads neither the result classes nor the columnar
store (see :mod:`sim.engine.preload`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunSettings:
    """What fixes a run's random numbers besides the scenario, as recorded in its manifest.

    Attributes:
        replications: Replications run.
        seed: The run's seed (chunk k draws from ``SeedSequence(seed, spawn_key=(k,))``).
        chunk_size: Replications per chunk.
        fixed_parameters: Judged numbers at their values (the point model) instead of
            drawn from their ranges.
        joint_draws: Judged numbers drawn as a joint sample of this many rows per chunk
            (to tell parameters from chance), instead of per replication.
    """

    replications: int
    seed: int
    chunk_size: int
    fixed_parameters: bool = False
    joint_draws: int | None = None

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> RunSettings:
        """The settings a manifest records."""
        return cls(
            manifest["replications"],
            manifest["seed"],
            manifest["chunk_size"],
            manifest.get("fixed_parameters", False),
            manifest.get("joint_draws"),
        )
