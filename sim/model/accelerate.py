"""Which implementation runs the model's hot loops: numba kernels if installed, else numpy.

The numpy code is the reference; :mod:`sim.model.kernels` computes the same numbers bit
for bit in fewer passes over memory. It needs numba (``pip install 'alliance-sim[fast]'``);
without it, or with ``ALLIANCE_SIM_KERNELS=numpy`` in the environment, the model runs the
reference.
"""

from __future__ import annotations

import os
from types import ModuleType

VARIABLE = "ALLIANCE_SIM_KERNELS"


def load_kernels() -> ModuleType | None:
    """The compiled kernels, or None where the model should run the numpy reference."""
    if os.environ.get(VARIABLE, "numba") == "numpy":
        return None
    try:
        from sim.model import kernels
    except ImportError:  # numba is not installed: the reference path runs
        return None
    return kernels
