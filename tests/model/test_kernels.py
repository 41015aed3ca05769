"""The compiled kernels (numba, optional) give the numpy reference's outcomes bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.accelerate import VARIABLE, load_kernels
from sim.model.outcomes import FIELDS
from sim.scenario import load_scenario, with_horizon
from tests.helpers import SCENARIOS, chunk_outcomes

pytest.importorskip("numba", reason="the kernels need numba (the 'fast' extra)")


def test_the_environment_switches_the_kernels_off(monkeypatch):
    monkeypatch.delenv(VARIABLE, raising=False)  # the suite may run with it set
    assert load_kernels() is not None
    monkeypatch.setenv(VARIABLE, "numpy")
    assert load_kernels() is None


def assert_same_outcomes(scenario, size: int, monkeypatch) -> None:
    compiled = chunk_outcomes(scenario, 77, 2, size)
    monkeypatch.setenv(VARIABLE, "numpy")
    reference = chunk_outcomes(scenario, 77, 2, size)
    for field in [*FIELDS, "intensity_at", "event_months"]:
        np.testing.assert_array_equal(getattr(compiled, field), getattr(reference, field), field)
    np.testing.assert_array_equal(compiled.tally.counts, reference.tally.counts)
    np.testing.assert_array_equal(compiled.tally.sums, reference.tally.sums)


def test_kernels_agree_with_the_reference_on_a_short_flagship_run(monkeypatch):
    scenario = with_horizon(load_scenario(SCENARIOS / "ukraine_ceasefire.yaml"), 36)
    assert_same_outcomes(scenario, 2000, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize(
    "path",
    ["ukraine_ceasefire.yaml", "putin_exit.yaml", "us_russia_talks_collapse.yaml",
     "examples/china_dprk.yaml"],
)  # fmt: skip
def test_kernels_and_numpy_reference_agree_bit_for_bit(path, monkeypatch):
    assert_same_outcomes(load_scenario(SCENARIOS / path), 1500, monkeypatch)


@pytest.mark.parametrize("seed", [12345, 77])
def test_the_compiled_normals_are_numpys_bit_for_bit(seed):
    """A channel's noise stream, drawn by the kernel, gives numpy's float32 normals.

    Twelve million draws per seed reach the ziggurat's rare branches thousands of times:
    the wedge (about 1.2% of draws) and the tail beyond 3.65 (about 1 in 4,000); a wedge
    test done in float32 instead of numpy's double already differs within the first
    million draws of some streams.
    """
    from sim.model.kernels import NormalStream
    from sim.model.streams import Source, Streams

    streams = Streams(seed, 3)
    for name in ("military", "labour", "science"):
        compiled = NormalStream(streams.generator(Source.CHANNEL_NOISE, name))
        reference = streams.generator(Source.CHANNEL_NOISE, name)
        out = np.empty(4000, dtype=np.float32)
        tails = 0
        for _ in range(1000):
            drawn = compiled.standard_normal(4000, out=out)
            expected = reference.standard_normal(4000, dtype=np.float32)
            np.testing.assert_array_equal(drawn, expected)
            tails += int(np.count_nonzero(np.abs(expected) > 3.6541529))
        assert tails > 500  # the tail branch ran


def test_the_compiled_normals_continue_a_generator_half_way_through_a_64_bit_draw():
    from sim.model.kernels import NormalStream

    compiled, reference = np.random.default_rng(5), np.random.default_rng(5)
    compiled.integers(0, 2**32, dtype=np.uint32)  # leaves a 32-bit half for the next draw
    reference.integers(0, 2**32, dtype=np.uint32)
    stream = NormalStream(compiled)
    for size in (1, 2, 3, 1001):
        np.testing.assert_array_equal(
            stream.standard_normal(size), reference.standard_normal(size, dtype=np.float32)
        )


def test_the_compiled_normals_refuse_another_bit_generator():
    from sim.model.kernels import NormalStream

    with pytest.raises(ValueError, match="expected a PCG64 generator, not Philox"):
        NormalStream(np.random.Generator(np.random.Philox(1)))


@pytest.mark.parametrize(
    ("low", "mode", "high"), [(0.0, 0.3, 1.0), (0.1, 0.1, 0.5), (-2.0, 3.0, 3.0), (0, 1, 4)]
)
def test_the_compiled_triangular_draws_are_numpys_bit_for_bit(low, mode, high):
    """Judged numbers drawn by the kernel: the reference's quantiles rounded to float32.

    Both branches of the quantile and the switch between them (u at the mode's share of
    the range), with modes at either end and integer bounds.
    """
    from sim.model.kernels import triangular_draws
    from sim.model.parameters import DTYPE, triangular_quantile

    u = np.random.default_rng(8).random(200_000)
    u[:3] = [0.0, (mode - low) / (high - low), np.nextafter(1.0, 0.0)]
    expected = triangular_quantile(u, low, mode, high).astype(DTYPE)
    drawn = np.empty(u.size, dtype=DTYPE)
    triangular_draws(u, float(low), float(mode), float(high), drawn)
    np.testing.assert_array_equal(drawn.view(np.uint32), expected.view(np.uint32))


def test_the_compiled_power_is_the_references():
    """The compiled rupture hazard's power is the reference's float32, within an ulp always.

    The kernel computes it with float64 arithmetic, the reference with numpy's float64
    power; both round to float32. The two float64 values lie within about 1e-15 of the
    true power, so they round to different float32 only where it lies that close to a
    rounding boundary: about 0.01 times expected in these draws (none was seen in
    2,000,000 draws either).
    """
    import numba

    from sim.model.kernels import unit_power
    from sim.model.power import unit_power as reference
    from tests.model.test_power import draws

    @numba.njit
    def powers(x, y, out):
        for i in range(x.size):
            out[i] = unit_power(x[i], y[i])

    x, y = draws(1_000_000, 3)
    x[:6], y[:6] = [1.0, 2.0**-16, 0.5, 0.01, 0.3, 2.0**-16], [0.0, 12.0, 1.0, 40.0, 0.0, 1.0]
    out = np.empty_like(x)
    powers(x, y, out)
    expected = reference(x, y)
    np.testing.assert_array_equal(out[:6], expected[:6])
    assert np.count_nonzero(out != expected) <= 1
    ulps = np.abs(out.view(np.int32).astype(np.int64) - expected.view(np.int32))
    assert ulps.max() <= 1
