"""The compiled kernels (numba, optional) give the numpy reference's outcomes bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.accelerate import VARIABLE, load_kernels
from sim.model.outcomes import FIELDS
from sim.scenario import load_scenario, with_horizon
from tests.helpers import SCENARIOS, chunk_outcomes, power_draws

pytest.importorskip("numba", reason="the kernels need numba (the 'fast' extra)")


def test_the_environment_switches_the_kernels_off(monkeypatch):
    monkeypatch.delenv(VARIABLE, raising=False)  # the suite may run with it set
    assert load_kernels() is not None
    monkeypatch.setenv(VARIABLE, "numpy")
    assert load_kernels() is None


def assert_same_outcomes(scenario, size: int, monkeypatch) -> None:
    # With ALLIANCE_SIM_KERNELS=numpy left set, both runs would be numpy's.
    monkeypatch.delenv(VARIABLE, raising=False)
    assert load_kernels() is not None
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


def compiled_powers(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The kernel's rupture hazard power of each pair, one at a time in a compiled loop."""
    import numba

    from sim.model.kernels import unit_power

    @numba.njit
    def powers(x, y, out):
        for i in range(x.size):
            out[i] = unit_power(x[i], y[i])

    out = np.empty_like(x)
    powers(x, y, out)
    return out


def test_the_compiled_power_is_the_references():
    """The compiled rupture hazard's power is the reference's float32, within an ulp always.

    The kernel computes it with float64 arithmetic, the reference with numpy's float64
    power; both round to float32. The two float64 values lie within about 1e-15 of the
    true power, so they round to different float32 only where it lies that close to a
    rounding boundary: about 0.01 times expected in these draws (none was seen in
    2,000,000 draws either).
    """
    from sim.model.power import unit_power as reference

    x, y = power_draws(1_000_000, 3)
    x[:6], y[:6] = [1.0, 2.0**-16, 0.5, 0.01, 0.3, 2.0**-16], [0.0, 12.0, 1.0, 40.0, 0.0, 1.0]
    out = compiled_powers(x, y)
    expected = reference(x, y)
    np.testing.assert_array_equal(out[:6], expected[:6])
    assert np.count_nonzero(out != expected) <= 1
    ulps = np.abs(out.view(np.int32).astype(np.int64) - expected.view(np.int32))
    assert ulps.max() <= 1


def test_the_compiled_power_outside_the_models_range_is_the_references():
    """Exponents out of the model's range give the reference's float32 too.

    The channel holds a steepness at 0 or more (``ChannelAgent.parameters_at``), but
    effects can make it huge or infinite, and the power does not rely on that hold: it is
    0 or inf where it under- or overflows, 1 for ``1 ** inf``, for negative exponents too.
    """
    from sim.model.power import unit_power as reference

    bases = np.array([1.0, 0.5, 0.01, 2.0**-16, 0.3, 0.99], np.float32)
    exponents = np.array([0, np.inf, -np.inf, -1, -30, 40, 2.5, 1e30, -1e30, 7], np.float32)
    x, y = (grid.ravel().copy() for grid in np.meshgrid(bases, exponents))
    out = compiled_powers(x, y)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(out, reference(x, y))
    assert np.isinf(out).any()
    assert (out == 0).any()


def test_the_compiled_channel_step_breaks_off_where_the_reference_does():
    """A channel's month breaks off in the kernel where the reference does.

    On the edges of the rupture rule (``ChannelAgent._ruptures`` is the reference): no
    intensity, the least one, all of it; no desire, more desire than intensity, a
    discontent just above and below 1%; an ended treaty's cap (0, or below the desire);
    out of a spell; a steepness of 0. The clocks, the
    thresholds renewed and the replications that broke off are the same.
    """
    from types import SimpleNamespace

    from sim.model.channels import ChannelAgent
    from sim.model.kernels import channel_step, renew_clocks

    f32, size = np.float32, 200_000
    rng = np.random.default_rng(11)

    def pick(*options):
        which = rng.integers(0, len(options), size)
        return np.choose(which, [np.broadcast_to(o, size) for o in options]).astype(f32)

    def uniform(low=0.0, high=1.0):
        return rng.uniform(low, high, size).astype(f32)

    intensity = pick(0, f32(1e-45) * rng.integers(1, 200, size), uniform(), 1)
    desire = pick(0, uniform(), np.minimum(intensity * f32(0.99), 1),
                  np.minimum(intensity + uniform(0, 0.2), 1),
                  intensity * uniform(0.985, 0.995))  # fmt: skip
    cap = pick(1, 1, 0, uniform())  # mostly no treaty's end, as in the model
    lock_in, in_spell = pick(0, uniform()), rng.random(size) < 0.7
    protection, floor, decision = uniform(), uniform(0, 0.01), uniform(0, 0.2)
    steepness = pick(uniform(0, 6), 0, 3)
    clock = uniform()
    threshold = clock + uniform(0, 0.1)

    kernel_clock, kernel_threshold = clock.copy(), threshold.copy()
    following, ruptured = np.empty(size, f32), np.zeros(size, bool)
    broken = np.empty(size, np.intp)
    count = channel_step(
        desire, uniform(0, 0.1), cap, np.ones(size, f32), intensity, lock_in,
        uniform(0, 3), uniform(0.01, 0.5), uniform(0, 0.3), rng.standard_normal(size).astype(f32),
        uniform(0, 0.1), uniform(0, 0.2), protection, floor, decision, steepness, in_spell,
        kernel_clock, kernel_threshold, following, ruptured, broken,
    )  # fmt: skip
    renew_clocks(
        kernel_threshold, kernel_clock, broken, np.random.default_rng(1).standard_exponential(count)
    )

    agent = SimpleNamespace(
        _buffers=[np.empty(size, f32) for _ in range(3)], desire_min=desire, cap=cap,
        in_spell=in_spell,
        _clock=clock.copy(), _rupture_at=threshold.copy(), _rupture_stream=np.random.default_rng(1),
    )  # fmt: skip
    parameters = {"lock_in_protection": protection, "rupture_floor": floor,
                  "rupture_steepness": steepness, "rupture_decision": decision}  # fmt: skip
    expected = ChannelAgent._ruptures(agent, intensity, lock_in, parameters)

    assert 1000 < count < size // 2
    np.testing.assert_array_equal(ruptured, expected)
    np.testing.assert_array_equal(broken[:count], np.flatnonzero(expected))
    np.testing.assert_array_equal(following[ruptured], 0)
    np.testing.assert_array_equal(kernel_clock, agent._clock)
    np.testing.assert_array_equal(kernel_threshold, agent._rupture_at)
