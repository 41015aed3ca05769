"""Linear indices of the state: the weighted sums that desires and responses are made of.

An index has outputs (a party's desire for each of its channels, say), each a weighted
sum of rows of the model's state matrix (actor variables, channel intensities and a
constant row for the base). Weights the same in every replication enter one matrix
product; weights drawn per replication (uncertain parameters) are kept as arrays and
summed term by term into their outputs, grouped so that each output is one reduction.

When no output has more than one fixed weight (typically its base, the rest being drawn)
the matrix product is mostly zeros, and each output is computed as its one term instead.
That is the product's value to the last bit: a sum of one rounded product and exact
zeros, from an accumulator that starts at +0 (so a −0 term comes out +0, as ``+ 0``
makes it here).
"""

from __future__ import annotations

import numpy as np

from sim.model.parameters import DTYPE, Drawn

_NO_SCALED = (np.zeros(0, dtype=np.intp), np.zeros(0, dtype=DTYPE))
"""No one-term outputs, as the kernel takes them."""


class LinearIndex:
    """Weighted sums of state rows, one per output, over a chunk's replications.

    Args:
        outputs: The number of sums.
        rows: Rows of the state matrix.
        replications: Replications in the chunk.
        kernels: The compiled kernels (:mod:`sim.model.kernels`), or None: numpy.
        draws: The chunk's per-replication draws by key (``ParameterSampler.drawn``):
            those among the weights are replaced there by their rows of the stacked
            weights, so that each is held once (the same values).
    """

    def __init__(
        self,
        outputs: int,
        rows: int,
        replications: int,
        kernels=None,
        draws: dict[str, np.ndarray] | None = None,
    ) -> None:
        self._fixed = np.zeros((outputs, rows), dtype=DTYPE)
        self._drawn: list[tuple[int, int, np.ndarray]] = []
        self._replications = replications
        self.values = np.zeros((outputs, replications), dtype=DTYPE)
        self._compiled = False
        self._kernels = kernels
        self._draws = draws

    def add(self, output: int, row: int, weight: Drawn) -> None:
        """Add ``weight · state[row]`` to output ``output``."""
        if np.ndim(weight):
            self._drawn.append((output, row, np.asarray(weight, dtype=DTYPE)))
        else:
            self._fixed[output, row] += DTYPE(weight)

    def _compile(self) -> None:
        """Stack the per-replication weights by output, for one reduction per output."""
        self._drawn.sort(key=lambda term: term[0])
        self._outputs = np.array([t[0] for t in self._drawn], dtype=np.intp)
        self._rows = np.array([t[1] for t in self._drawn], dtype=np.intp)
        self._weights = (
            np.stack([t[2] for t in self._drawn])
            if self._drawn
            else np.zeros((0, self._replications), dtype=DTYPE)
        )
        if self._draws:
            # The draws' arrays are freed once nothing else holds them (5 MiB of a flagship
            # chunk of 10,000 replications).
            keys = {id(values): key for key, values in self._draws.items()}
            for term, (_, _, weight) in enumerate(self._drawn):
                if id(weight) in keys:
                    self._draws[keys[id(weight)]] = self._weights[term]
        # (output, first term, last term + 1) of each output's run of drawn terms.
        self._runs: list[tuple[int, int, int]] = []
        if self._drawn:
            starts = np.flatnonzero(np.r_[True, self._outputs[1:] != self._outputs[:-1]])
            ends = [*starts[1:], len(self._outputs)]
            self._runs = [
                (int(self._outputs[a]), int(a), int(b)) for a, b in zip(starts, ends, strict=True)
            ]
        self._run_arrays = tuple(
            np.array([run[k] for run in self._runs], dtype=np.intp) for k in range(3)
        )
        # The numpy reference's products, term by term (the kernels need no such buffer:
        # 5 MiB of a flagship chunk of 10,000).
        self._products = np.empty_like(self._weights) if self._kernels is None else None
        self._sum = np.empty(self._replications, dtype=DTYPE)
        self._any_fixed = bool(np.any(self._fixed))
        self._scaled: tuple[np.ndarray, np.ndarray] | None = None
        if self._any_fixed and np.count_nonzero(self._fixed, axis=1).max() <= 1:
            rows = np.argmax(self._fixed != 0, axis=1)  # row 0, weight 0 where none
            weights = self._fixed[np.arange(len(rows)), rows]
            self._scaled = (rows.astype(np.intp), weights)
        self._drawn.clear()
        self._compiled = True

    def compute(self, state: np.ndarray) -> np.ndarray:
        """The outputs for the state now (written into and returned as ``values``)."""
        if not self._compiled:
            self._compile()
        if self._kernels is not None and (self._scaled is not None or self._runs):
            if self._scaled is None:
                self._fixed_part(state)  # the kernel then adds the drawn terms alone
            scaled_rows, scaled_weights = self._scaled or _NO_SCALED
            self._kernels.linear_index(
                state, scaled_rows, scaled_weights, self._weights, self._rows,
                *self._run_arrays, self._sum, self.values,
            )  # fmt: skip
            return self.values
        self._fixed_part(state)
        if self._runs:
            products = np.multiply(self._weights, state[self._rows], out=self._products)
            # One reduction per output over its contiguous run of terms (faster than
            # np.add.reduceat along the first axis).
            for output, first, last in self._runs:
                np.add.reduce(products[first:last], axis=0, out=self._sum)
                self.values[output] += self._sum
        return self.values

    def _fixed_part(self, state: np.ndarray) -> None:
        """Write the outputs' fixed terms into ``values`` (0 where there are none)."""
        if self._scaled is not None:
            rows, weights = self._scaled
            np.multiply(state[rows], weights[:, None], out=self.values)
            self.values += 0
        elif self._any_fixed:
            np.matmul(self._fixed, state, out=self.values)
        else:
            self.values.fill(0)
