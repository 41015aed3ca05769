"""Model parameters as numbers the model can use: fixed values or per-replication draws.

A parameter written as a distribution is drawn once per replication by inverse
transform: ``value = F⁻¹(u)`` with ``u`` uniform from the parameter's own stream (keyed
by its key path). Two scenarios that give the same parameter different distributions
therefore draw coupled values from the same ``u`` (common random numbers for sweeps).

A documented number with a ``judgement: [low, high]`` range is drawn the same way from
the triangular distribution on its range with its mode at its value, unless the run
fixes parameters (``--fixed-parameters``: the point model). With
``joint_draws`` (``--parameter-uncertainty``) the judged numbers are drawn as a joint
sample of that many rows per chunk instead, each replication using one row (stream
``group:judgement``), so that the spread of results over rows (parameters) can be told
apart from the spread within rows (chance).

The quantile functions of the normal, uniform, beta and triangular distributions are
scipy.special's, combined as scipy.stats' ``ppf`` combines them, so the numbers are
scipy.stats' to the last bit (a test checks it) without importing scipy.stats, which takes
most of a second in every worker process. Only a truncated normal, whose quantile scipy
computes with care in the tails, goes through scipy.stats itself.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
from scipy import special

from sim.model.streams import Source, Streams, sample_rows
from sim.scenario.schema import (
    Beta,
    Documented,
    Empirical,
    Normal,
    ParamValue,
    Triangular,
    Uniform,
    frozen_distribution,
    point_value,
)

DTYPE = np.float32
Drawn = np.float32 | np.ndarray
"""A parameter's value in a chunk: a scalar, or one value per replication."""

JUDGEMENT_GROUP = "judgement"
"""The joint-sample group of the judged numbers when they are drawn as a joint sample."""


def triangular_quantile(u: np.ndarray, low: float, mode: float, high: float) -> np.ndarray:
    """Quantiles of the triangular distribution (scipy.stats.triang's formula)."""
    width = high - low
    c = (mode - low) / width
    return np.where(u < c, np.sqrt(c * u), 1 - np.sqrt((1 - c) * (1 - u))) * width + low


def quantile(param: ParamValue, u: np.ndarray) -> np.ndarray:
    """The distribution's quantile function at ``u``, as ``scipy.stats`` computes it."""
    match param:
        case Normal():
            return special.ndtri(u) * param.sd + param.mean
        case Uniform():
            return u * (param.high - param.low) + param.low
        case Beta():
            return special.betaincinv(param.a, param.b, u) * (param.high - param.low) + param.low
        case Triangular():
            return triangular_quantile(u, param.low, param.mode, param.high)
    return frozen_distribution(param).ppf(u)


def is_uncertain(param: ParamValue) -> bool:
    """Whether the parameter is a distribution, drawn per replication in every run."""
    return not isinstance(param, float | int | Documented)


def is_judged(param: ParamValue) -> bool:
    """Whether the parameter is a documented number with a judgement range."""
    return isinstance(param, Documented) and param.judgement is not None


ChunkDraws = tuple[int, int, int, bool, int | None]
"""What fixes a chunk's draws: seed, chunk index, replications, fixed judged numbers, and
the rows of a joint sample (None: independent draws)."""


class DrawMemo:
    """A chunk's parameter draws, kept for the next chunk that draws the same parameters.

    The points of a study (a sweep, a sensitivity analysis) are the same chunks of
    replications under scenarios that differ in a few values, run with the same seed:
    each point would draw every parameter it shares with the others again, to the same
    numbers (common random numbers). A worker keeps one memo for the chunks it runs and
    takes those numbers from it instead: most of a chunk's set-up, and about a tenth of a
    flagship sweep chunk's CPU time, measured in pairs.

    A draw is kept under its chunk (:data:`ChunkDraws`), its key path (which names its
    stream) and the parameter as written (equal only if every field is), so a parameter
    that a point changes is drawn afresh. Only the latest chunk's draws are kept (11 MiB
    for a flagship chunk of 10,000 replications), so the memo serves points of one chunk
    each (replications per point up to the chunk size, as in the usual study); the chunks
    of a point of several, or of a run, each with an index of its own, reuse nothing. The
    chunks that use the memo's arrays share them; they read them and never write into
    them (``tests/model/test_parameters.py``).
    """

    def __init__(self) -> None:
        self._chunk: ChunkDraws | None = None
        self._draws: dict[tuple, np.ndarray] = {}

    def draws(self, sampler: ParameterSampler, param: ParamValue, key: str) -> np.ndarray:
        """A parameter's draws for the sampler's chunk: kept ones, or drawn now and kept.

        Args:
            sampler: The chunk's sampler, which draws what the memo does not hold.
            param: The parameter as written in the scenario (judged or uncertain).
            key: Its key path, which names its random stream.

        Returns:
            One float32 per replication of the chunk.
        """
        chunk = sampler.chunk
        if chunk != self._chunk:
            self._chunk, self._draws = chunk, {}
        # The chunk is part of the entry too, so that a memo shared by threads that run
        # different chunks (a Dask worker with several) can miss, never mix them up.
        entry = (chunk, key, _identity(param))
        values = self._draws.get(entry)
        if values is None:
            values = sampler.draw(param, key)
            self._draws[entry] = values
        return values


def _identity(param: ParamValue) -> Hashable:
    """A parameter as a dictionary key, equal for parameters that draw alike.

    The scenario's models are frozen and hash their fields, but an empirical sample's
    values are a list, which does not hash.
    """
    if isinstance(param, Empirical):
        return Empirical, tuple(param.values), param.group
    return param


class ParameterSampler:
    """Turns parameters into float32 scalars or per-replication arrays for one chunk.

    Args:
        streams: The chunk's random streams.
        replications: Replications in the chunk.
        fixed: Use judged numbers at their values (the point model).
        joint_draws: Draw judged numbers as a joint sample of this many rows per chunk
            (None: independently per replication).
        kernels: The compiled kernels (:mod:`sim.model.kernels`), or None: numpy. They
            draw the judged numbers (the most numerous draws of a chunk's set-up).
        memo: Take draws an earlier chunk made alike from this memo (None: draw them all).
    """

    def __init__(
        self,
        streams: Streams,
        replications: int,
        *,
        fixed: bool = False,
        joint_draws: int | None = None,
        kernels=None,
        memo: DrawMemo | None = None,
    ) -> None:
        self.streams = streams
        self.kernels = kernels
        self.replications = replications
        self.fixed = fixed
        self.joint_draws = joint_draws
        self.memo = memo
        self.chunk: ChunkDraws = (
            streams.seed, streams.chunk_index, replications, fixed, joint_draws
        )  # fmt: skip
        """What, with a parameter and its key path, fixes its draws."""
        self._rows: np.ndarray | None = None
        self.drawn: dict[str, np.ndarray] = {}
        """Every per-replication draw of the chunk, by key path (for the results store)."""

    def __call__(self, param: ParamValue, key: str) -> Drawn:
        """The parameter's value: a scalar if fixed, an array of draws if uncertain.

        Args:
            param: The parameter as written in the scenario.
            key: Its key path, which names its random stream.
        """
        if is_judged(param) and not self.fixed:
            low, high = param.judgement
            if low == high:
                return DTYPE(param.value)
        elif not is_uncertain(param):
            return DTYPE(point_value(param))
        values = self.draw(param, key) if self.memo is None else self.memo.draws(self, param, key)
        self.drawn[key] = values
        return values

    def draw(self, param: ParamValue, key: str) -> np.ndarray:
        """Draw a judged or uncertain parameter for every replication of the chunk.

        Args:
            param: The parameter as written in the scenario (judged or uncertain).
            key: Its key path, which names its random stream.

        Returns:
            One float32 per replication.
        """
        if is_judged(param) and not self.fixed:
            low, high = param.judgement
            u = self._judged_uniforms(key)
            if self.kernels is None:
                return triangular_quantile(u, low, param.value, high).astype(DTYPE)
            values = np.empty(u.size, dtype=DTYPE)
            bounds = float(low), float(param.value), float(high)  # one compiled signature
            self.kernels.triangular_draws(u, *bounds, values)
            return values
        if isinstance(param, Empirical):
            return empirical_draws(param, self.streams, self.replications, key)
        u = self.streams.uniforms(Source.PARAMETERS, key, self.replications)
        return quantile(param, u).astype(DTYPE)

    def _judged_uniforms(self, key: str) -> np.ndarray:
        if self.joint_draws is None:
            return self.streams.uniforms(Source.PARAMETERS, key, self.replications)
        if self._rows is None:
            self._rows = sample_rows(
                self.streams, self.replications, group_stream(JUDGEMENT_GROUP), self.joint_draws
            )
        return self.streams.uniforms(Source.PARAMETERS, key, self.joint_draws)[self._rows]


def group_stream(group: str) -> str:
    """The random stream a group of jointly drawn parameters shares."""
    return f"group:{group}"


def empirical_draws(param: Empirical, streams: Streams, replications: int, key: str) -> np.ndarray:
    """Per-replication draws from a sample; a group's parameters share each draw's row."""
    rows = sample_rows(streams, replications, group_stream(param.group) if param.group else key,
                       len(param.values))  # fmt: skip
    return np.asarray(param.values, dtype=DTYPE)[rows]
