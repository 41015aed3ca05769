"""The rupture hazard's power: a float64 power rounded to float32, the same on any processor."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest

from sim.model.power import unit_power
from tests.helpers import power_draws


def to_float32(value: float) -> np.float32:
    """A double rounded to float32 by the struct module (round to nearest, ties to even)."""
    return np.frombuffer(struct.pack("<f", value), dtype=np.float32)[0]


def test_the_power_is_the_c_librarys_double_power_rounded_to_float32():
    """The reference is the C library's double ``pow`` rounded to float32.

    numpy's float64 power (a routine of its own where the processor has AVX-512) agrees
    with it after rounding, bit for bit: two float64 powers within an ulp of the true one
    round apart only where it lies that close to a float32 rounding boundary, about once
    in 10^8 draws.
    """
    x, y = power_draws(20_000, 1)
    ours = unit_power(x, y)
    pairs = zip(x.tolist(), y.tolist(), strict=True)
    theirs = np.array([to_float32(math.pow(a, b)) for a, b in pairs])
    np.testing.assert_array_equal(ours.view(np.uint32), theirs.view(np.uint32))
    assert ours.dtype == np.float32


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [(1.0, 3.7, 1.0), (0.3, 0.0, 1.0), (0.5, 1.0, 0.5), (0.25, 0.5, 0.5),
     (2.0**-16, 1.0, 2.0**-16), (0.01, 40.0, 0.0)],
)  # fmt: skip
def test_the_power_at_the_edges_of_its_domain(x, y, expected):
    assert unit_power(np.array([x], np.float32), np.float32(y))[0] == np.float32(expected)


def test_one_exponent_for_every_base_is_the_same_as_a_repeated_one():
    x, y = power_draws(1000, 2)
    np.testing.assert_array_equal(unit_power(x, y[0]), unit_power(x, np.full_like(y, y[0])))
