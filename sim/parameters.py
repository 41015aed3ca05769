"""Model parameters as numbers the model can use: fixed values or per-replication draws.

A parameter written as a distribution is drawn once per replication by inverse
transform: ``value = F⁻¹(u)`` with ``u`` uniform from the parameter's own stream (keyed
by its key path). Two scenarios that give the same parameter different distributions
therefore draw coupled values from the same ``u`` (common random numbers for sweeps).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from sim.schema import Beta, Documented, Normal, ParamValue, Triangular, TruncatedNormal, Uniform
from sim.streams import Source, Streams

DTYPE = np.float32
Value = np.float32 | np.ndarray


def frozen_distribution(param: ParamValue):
    """The scipy.stats frozen distribution of a distribution parameter."""
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


def is_uncertain(param: ParamValue) -> bool:
    """Whether the parameter is drawn per replication."""
    return not isinstance(param, float | int | Documented)


def point_value(param: ParamValue) -> float:
    """A number's value, a documented number's value, or a distribution's mean."""
    if isinstance(param, Documented):
        return param.value
    if isinstance(param, float | int):
        return float(param)
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
        u = self.streams.uniforms(Source.PARAMETERS, key, self.replications)
        return frozen_distribution(param).ppf(u).astype(DTYPE)
