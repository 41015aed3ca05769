"""The rupture hazard's power ``f ** k``, rounded to float32 from a float64 power.

A channel's decided rupture hazard raises the share of it that the less willing party no
longer wants, ``f`` in (0, 1] (above 1% where it counts), to its steepness ``k`` (drawn
per replication). The model's arithmetic is float32, but a float32 power is not the same
number everywhere: numpy's float32 ``power`` dispatches by processor (with AVX-512, to a
routine whose result differs in the last bit from the correctly rounded one in about a
fifth of this model's draws), and the C library's ``powf``, which compiled code would
call, differs from both. The power here is computed in float64 and rounded to float32. A
float64 power with a relative error of about 1e-15 rounds to the correctly rounded
float32 unless the true power lies that close to a float32 rounding boundary, about once
in 10^8 powers. So the numpy reference (:func:`unit_power`, numpy's float64 ``power``)
and the compiled kernels (:func:`sim.model.kernels.unit_power`, float64 arithmetic that
vectorises) give the same float32 powers but for that rare case, on any processor
(tests/model/test_power.py, tests/model/test_kernels.py).
"""

from __future__ import annotations

import numpy as np


def unit_power(x: np.ndarray, y: np.ndarray | np.float32) -> np.ndarray:
    """``x ** y`` rounded to float32 from float64, for ``x`` in (0, 1].

    Args:
        x: The bases (float32).
        y: The exponents (float32; non-negative in the model): one per base, or one for all.
    """
    power = np.power(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return power.astype(np.float32)
