"""A run of the flagship kept in memory, in several chunks, for the statistics of its outcomes."""

from __future__ import annotations

import pytest

from sim.engine.runner import run


@pytest.fixture(scope="package")
def chunked_run(ceasefire):
    """4,000 replications in four chunks: summaries added up, outcomes joined."""
    return run(ceasefire, replications=4000, chunk_size=1000, seed=4, workers=1)
