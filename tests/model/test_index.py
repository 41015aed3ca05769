"""Linear indices: the one-term shortcut gives the matrix product's values to the last bit."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from sim.model.accelerate import load_kernels
from sim.model.index import LinearIndex
from sim.model.parameters import DTYPE


@pytest.mark.parametrize("compiled", [False, True])
def test_one_fixed_term_per_output_is_the_matrix_product_bit_for_bit(compiled):
    kernels = load_kernels() if compiled else None
    if compiled and kernels is None:
        pytest.skip("the kernels are off (numba not installed, or ALLIANCE_SIM_KERNELS=numpy)")
    rng = np.random.default_rng(11)
    replications = 2000
    state = rng.normal(size=(6, replications)).astype(DTYPE)
    state[:, :100] = 0  # zero rows times a negative weight give -0, which a sum makes +0
    state[:, 100:200] = -0.0
    state[5] = 1  # the constant row
    fixed = np.zeros((4, 6), dtype=DTYPE)
    fixed[0, 5], fixed[1, 2], fixed[3, 0] = 0.3, -1.7, -2.5  # output 2 has none
    index = LinearIndex(4, 6, replications, kernels)
    for output, row in zip(*np.nonzero(fixed), strict=True):
        index.add(int(output), int(row), fixed[output, row])
    drawn = rng.normal(size=(2, replications)).astype(DTYPE)
    index.add(2, 1, drawn[0])
    index.add(1, 4, drawn[1])
    with threadpool_limits(limits=1):
        values = index.compute(state).copy()
        expected = np.matmul(fixed, state)
    expected[2] += drawn[0] * state[1]
    expected[1] += drawn[1] * state[4]
    assert index._scaled is not None, "the shortcut was not taken"
    np.testing.assert_array_equal(values.view(np.uint32), expected.view(np.uint32))


def test_outputs_with_several_fixed_terms_use_the_matrix_product():
    index = LinearIndex(1, 3, 10)
    index.add(0, 0, DTYPE(1.5))
    index.add(0, 1, DTYPE(2.5))
    state = np.arange(30, dtype=DTYPE).reshape(3, 10)
    np.testing.assert_array_equal(index.compute(state)[0], 1.5 * state[0] + 2.5 * state[1])
    assert index._scaled is None
