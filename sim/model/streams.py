"""Random streams: one per chunk of replications and per source of randomness.

Chunk ``k`` of a run with seed ``s`` owns ``SeedSequence(s).spawn(n_chunks)[k]``, which
is ``SeedSequence(s, spawn_key=(k,))`` whatever the number of chunks, so a chunk's
numbers depend on its index and never on the worker that computes it. Inside a chunk,
every source of randomness (parameter draws, event occurrence, event timing, channel
noise, rupture clocks) and every named thing it concerns (a parameter's key path, an
event id, a channel name) has a stream of its own, keyed by a stable hash of the name.
Two scenarios run with the same seed therefore draw the same numbers for everything
they share: common random numbers, so their differences come from the scenario.
"""

from __future__ import annotations

import hashlib
from enum import IntEnum

import numpy as np


class Source(IntEnum):
    """The separate sources of randomness in a replication."""

    PARAMETERS = 0
    EVENT_OCCURRENCE = 1
    EVENT_TIMING = 2
    CHANNEL_NOISE = 3
    RUPTURE = 4
    SHOCK = 5


def name_key(name: str) -> int:
    """A stable 64-bit integer for a name (Python's ``hash`` changes between processes)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def chunk_seed_sequence(seed: int, chunk_index: int) -> np.random.SeedSequence:
    """Chunk ``chunk_index``'s seed sequence, ``SeedSequence(seed).spawn(n)[chunk_index]``."""
    return np.random.SeedSequence(seed, spawn_key=(chunk_index,))


class Streams:
    """The random streams of one chunk."""

    def __init__(self, seed: int, chunk_index: int) -> None:
        self.seed = seed
        self.chunk_index = chunk_index

    def sequence(self, source: Source, name: str) -> np.random.SeedSequence:
        """The seed sequence for ``name`` under ``source``."""
        key = (self.chunk_index, int(source), name_key(name))
        return np.random.SeedSequence(self.seed, spawn_key=key)

    def generator(self, source: Source, name: str) -> np.random.Generator:
        """A generator (PCG64) for ``name`` under ``source``."""
        return np.random.Generator(np.random.PCG64(self.sequence(source, name)))

    def uniforms(self, source: Source, name: str, size: int) -> np.ndarray:
        """``size`` uniforms on [0, 1) for ``name`` under ``source``."""
        return self.generator(source, name).random(size)


def sample_rows(streams: Streams, replications: int, key: str, rows: int) -> np.ndarray:
    """The row of a sample of ``rows`` values that each replication draws.

    ``key`` names the stream: ``group:<name>`` for a group, so that every parameter of the
    group (and anyone reconstructing the draws afterwards) gets the same rows.
    """
    u = streams.uniforms(Source.PARAMETERS, key, replications)
    return np.minimum((u * rows).astype(np.int64), rows - 1)


def chunk_sizes(replications: int, chunk_size: int) -> list[int]:
    """Sizes of the chunks that make up ``replications`` (the last may be smaller)."""
    full, rest = divmod(replications, chunk_size)
    return [chunk_size] * full + ([rest] if rest else [])


class Stream(IntEnum):
    """Random streams of a study outside its chunks, one spawn key each.

    Chunk k of a run is ``SeedSequence(seed, spawn_key=(k,))``; these keys lie above any
    chunk index, so no study stream can coincide with a chunk's.
    """

    BOOTSTRAP = 2**32  # paired bootstrap of median differences (comparisons)
    SENSITIVITY = 2**32 + 1  # Sobol' sample matrices and their bootstrap
    CALIBRATION = 2**32 + 2  # search points and posterior proposals of the fit


def study_sequence(seed: int, stream: Stream, *names: str) -> np.random.SeedSequence:
    """The seed sequence of a study stream, optionally keyed further by names."""
    return np.random.SeedSequence(seed, spawn_key=(int(stream), *map(name_key, names)))
