"""Pinned outcomes: speed work on the model must not change a single result.

The hashes were taken before the hot path was optimised and must hold after every
change that is meant to be a pure optimisation. A change that is meant to alter results
(a new mechanism, a recalibration) updates them in the same commit, saying why.
Integer outcomes are pinned, so the hashes hold on any x86-64 machine with the same
package versions, short of a last-bit difference in a floating-point library function.
"""

from __future__ import annotations

import hashlib

import pytest

from sim.model.outcomes import FIELDS
from sim.scenario import load_scenario
from tests.helpers import SCENARIOS, chunk_outcomes

PINNED = {
    "ukraine_ceasefire": "4377c5dcfcf062e2",
    "ceasefire_plus_deal": "b9a9cb285a2bd9ec",
    "us_aid_pause": "86a0a646999d5694",
}


@pytest.mark.parametrize(("name", "digest"), PINNED.items())
def test_outcomes_of_a_fixed_seed_are_pinned(name, digest):
    outcomes = chunk_outcomes(load_scenario(SCENARIOS / f"{name}.yaml"), 12345, 3, 4000)
    data = b"".join(getattr(outcomes, field).tobytes() for field in FIELDS)
    assert hashlib.sha256(data).hexdigest()[:16] == digest
