"""Model parameters as numbers the model can use: fixed values or per-replication draws.

A parameter written as a distribution is drawn once per replication by inverse
transform: ``value = F⁻¹(u)`` with ``u`` uniform from the parameter's own stream (keyed
by its key path). Two scenarios that give the same parameter different distributions
therefore draw coupled values from the same ``u`` (common random numbers for sweeps).

The quantile functions of the normal, uniform, beta and triangular distributions are
scipy.special's, combined as scipy.stats' ``ppf`` combines them, so the numbers are
scipy.stats' to the last bit (a test checks it) without importing scipy.stats, which takes
most of a second in every worker process. Only a truncated normal, whose quantile scipy
computes with care in the tails, goes through scipy.stats itself.
"""

from __future__ import annotations

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
    TruncatedNormal,
    Uniform,
)

DTYPE = np.float32
Value = np.float32 | np.ndarray


def frozen_distribution(param: ParamValue):
    """The scipy.stats frozen distribution of a distribution parameter."""
    from scipy import stats

    match param:
        case Normal():
            return stats.norm(loc=param.mean, scale=param.sd)
        case TruncatedNormal():
            a = (param.low - param.mean) / param.sd
            b = (param.high - param.mean) / param.sd
            return stats.truncnorm(a, b, loc=param.mean, scale=param.sd)
        case Uniform():
            return stats.uniform(loc=param.low, scale=param.high - param.low)
        case Beta():
            return stats.beta(param.a, param.b, loc=param.low, scale=param.high - param.low)
        case Triangular():
            width = param.high - param.low
            return stats.triang((param.mode - param.low) / width, loc=param.low, scale=width)
    raise TypeError(f"not a distribution: {param!r}")


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
    """Whether the parameter is drawn per replication."""
    return not isinstance(param, float | int | Documented)


def point_value(param: ParamValue) -> float:
    """A number's value, a documented number's value, or a distribution's mean."""
    if isinstance(param, Documented):
        return param.value
    if isinstance(param, float | int):
        return float(param)
    match param:
        case Empirical():
            return float(np.mean(param.values))
        case Normal():
            return param.mean
        case Uniform():
            return (param.low + param.high) / 2
        case Beta():
            return param.low + (param.high - param.low) * param.a / (param.a + param.b)
        case Triangular():
            return (param.low + param.mode + param.high) / 3
    return float(frozen_distribution(param).mean())


class ParameterSampler:
    """Turns parameters into float32 scalars or per-replication arrays for one chunk."""

    def __init__(self, streams: Streams, replications: int) -> None:
        self.streams = streams
        self.replications = replications

    def __call__(self, param: ParamValue, key: str) -> Value:
        """The parameter's value: a scalar if fixed, an array of draws if uncertain.

        Args:
            param: The parameter as written in the scenario.
            key: Its key path, which names its random stream.
        """
        if not is_uncertain(param):
            return DTYPE(point_value(param))
        if isinstance(param, Empirical):
            return empirical_draws(param, self.streams, self.replications, key)
        u = self.streams.uniforms(Source.PARAMETERS, key, self.replications)
        return quantile(param, u).astype(DTYPE)


def group_stream(group: str) -> str:
    """The random stream a group of jointly drawn parameters shares."""
    return f"group:{group}"


def empirical_draws(param: Empirical, streams: Streams, replications: int, key: str) -> np.ndarray:
    """Per-replication draws from a sample; a group's parameters share each draw's row."""
    rows = sample_rows(streams, replications, group_stream(param.group) if param.group else key,
                       len(param.values))  # fmt: skip
    return np.asarray(param.values, dtype=DTYPE)[rows]
