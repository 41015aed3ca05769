"""Compiled kernels (numba) for the model's hottest monthly work, an optional accelerator.

The numpy code in :mod:`sim.model.actors`, :mod:`sim.model.channels`,
:mod:`sim.model.index`, :mod:`sim.model.parameters` and :mod:`sim.model.model` is the
reference. Where numba is installed (the ``fast`` extra), the same arithmetic runs here
in a few passes over a chunk's replications instead of a pass per operation: an actor's
plans, a channel's desire, its month (target, growth or wind-down, noise, shocks, rupture
clock) and its life history, a linear index, the monthly intensity histogram, and the
triangular draws of judged numbers. Every operation but one is the reference's, in the
same order and precision (float32 in the monthly work; numba does not contract
``a * b + c`` into a fused multiply-add without ``fastmath``, which is off), and every
random number is numpy's: drawn by numpy outside the kernels, or, for the channels' noise
(the most numerous draws), by :func:`pcg64_normals`, which replicates numpy's ``PCG64``
normals bit for bit at half their cost. The one is the rupture hazard's power, in both a
float64 power rounded to float32 (:mod:`sim.model.power`): numpy's ``power`` in the
reference, :func:`unit_power`'s arithmetic here; they give the same float32 but about once
in 10^8 powers. So both paths give the same outcomes bit for bit
(tests/model/test_kernels.py), unless such a power moves a rupture clock across its
threshold, which it could do only from within its last bit. The passes are laid out so
that the compiler can vectorise them: per-replication branches that would often be
mispredicted become selects or passes of their own.

A parameter that is one number for every replication is passed repeated, one value per
replication (:func:`vector`), so that every kernel reads ``x[i]``.

Compiled code is cached on disk (numba's ``cache=True``) and the kernels are compiled
(or loaded) when this module is imported, which local workers do once, in the server
they are forked from.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

# numpy's ziggurat tables for float32 normals, as numba carries them for its own port of
# numpy's generators (tests/model/test_kernels.py checks the draws against numpy's).
from numba.np.random._constants import (
    fi_float,
    ki_float,
    wi_float,
    ziggurat_nor_inv_r_f,
    ziggurat_nor_r_f,
)

F1 = np.float32(1)
F0 = np.float32(0)
HUNDREDTH = np.float32(0.01)
TWO = np.float32(2)
NEVER = np.int32(2**30)
LAPSED, BROKEN = np.int8(1), np.int8(2)


def vector(value, size: int) -> np.ndarray:
    """A parameter as a contiguous float32 array with one value per replication.

    A number is repeated ``size`` times, so that every kernel reads ``x[i]`` and its
    loops stay simple enough for the compiler to vectorise.
    """
    array = np.asarray(value, dtype=np.float32)
    if array.shape != (size,):
        array = np.full(size, array, dtype=np.float32)
    return np.ascontiguousarray(array)


# The rupture hazard's power in float64 arithmetic, with the reductions of fdlibm's log and
# exp: x = m · 2^e with m in [√½, √2) by exact scalings; ln m = 2 atanh(s) with
# s = (m − 1)/(m + 1), summed to s^17; t = y ln x, kept in [−120, 100] (beyond, the float32
# power is 0 or inf alike); e^t = 2^n e^r with n the integer nearest t / ln 2 and
# r = t − n ln 2 in [−0.35, 0.35] (ln 2 split in two, so that the rounding of n ln 2 does
# not reach r), e^r by its Taylor series to r^12, and 2^n by exact scalings, one per bit of
# |n|. The float64 value's relative error is about 1e-15, and at most about 2e-14 where
# |t| nears 100 (the rounding of y ln x).
LN2_HIGH = 6.93147180369123816490e-01  # ln 2's leading 32 bits: n · LN2_HIGH is exact
LN2_LOW = 1.90821492927058770002e-10  # ln 2 − LN2_HIGH
INVERSE_LN2 = 1.44269504088896338700e00
SQRT_HALF = 0.70710678118654752440
SMALLEST_EXPONENT, LARGEST_EXPONENT = -120.0, 100.0  # e^-120 → float32 0; e^100 → inf
RANGE_STEPS = (8.0, 4.0, 2.0, 1.0)  # scalings by 2^8 … 2: any x in [2^-16, 1] to [½, 1]
LOG_SERIES = tuple(1.0 / odd for odd in range(17, 0, -2))  # atanh(s)/s in s², highest first
EXP_SERIES = tuple(1.0 / math.factorial(k) for k in range(12, -1, -1))  # e^r, highest first
SCALE_BITS = tuple((1 << b, 2.0 ** (1 << b), 2.0 ** -(1 << b)) for b in range(8))  # |n| ≤ 174


@numba.njit(inline="always")
def unit_power(x, y):
    """``x ** y`` rounded to float32 from float64, for a float32 ``x`` in [2^-16, 1].

    What :func:`sim.model.power.unit_power` computes with numpy's float64 ``power``, here
    in arithmetic alone (no call, so the loop that holds it vectorises): the same float32
    but where the power lies within about 1e-15 of a float32 rounding boundary. Any ``y``
    gives the reference's value, infinities included (``1 ** inf`` is 1), but NaN, which
    gives 0 here.
    """
    x = np.float64(x)
    exponent = 0.0
    for step in RANGE_STEPS:
        low = x < 2.0**-step
        x = x * 2.0**step if low else x
        exponent = exponent - step if low else exponent
    low = x < SQRT_HALF
    x = x * 2.0 if low else x
    exponent = exponent - 1.0 if low else exponent
    s = (x - 1.0) / (x + 1.0)
    z = s * s
    series = LOG_SERIES[0]
    for coefficient in LOG_SERIES[1:]:
        series = series * z + coefficient
    log_x = exponent * LN2_HIGH + (exponent * LN2_LOW + 2.0 * s * series)
    # Selects, not min and max: they keep t finite even for y = ±inf (or NaN), so that the
    # conversion of n to an integer is defined in every lane.
    t = np.float64(y) * log_x if log_x < 0.0 else 0.0
    t = t if t > SMALLEST_EXPONENT else SMALLEST_EXPONENT
    t = t if t < LARGEST_EXPONENT else LARGEST_EXPONENT
    n = np.rint(t * INVERSE_LN2)
    r = (t - n * LN2_HIGH) - n * LN2_LOW
    value = EXP_SERIES[0]
    for coefficient in EXP_SERIES[1:]:
        value = value * r + coefficient
    size = np.int64(abs(n))
    for bit, up, down in SCALE_BITS:  # exact: powers of 2
        factor = up if n > 0.0 else down
        value = value * (factor if size & bit else 1.0)
    return np.float32(value)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def channel_step(
    desire_min, drop, cap, ceiling, intensity, lock_in, slowdown, wind_down_rate, growth,
    epsilon, noise, hit, protection, floor, decision, steepness, in_spell, clock, rupture_at,
    following, ruptured, broken,
):  # fmt: skip
    """A channel's intensity of month t + 1 and its rupture clock (ChannelAgent.step).

    ``epsilon`` (standard normals) is empty when the channel has no noise, ``hit`` when
    no shock reaches it. Returns how many replications broke off; ``following`` is 0
    there, they are listed at the head of ``broken`` (scratch space otherwise), and
    ``rupture_at`` is left for the caller to renew from its stream
    (:func:`renew_clocks`).

    One pass computes everything, with per-replication choices (growth or wind-down,
    discontented or not, broken off or not) made as selects, so that it vectorises: a
    branch would be mispredicted about half the time. The decided hazard's power is
    computed for every replication, on a base of 1 where the party is not discontented
    (its value is then not used), which costs less than listing the discontented. Only
    if some replication broke off does a second pass list them.
    """
    noisy = epsilon.size > 0
    shocked = hit.size > 0
    size = intensity.size
    broke_off = 0
    for i in range(size):
        level = intensity[i]
        locked = lock_in[i]
        target = desire_min[i] - drop[i]
        target = min(target, cap[i])
        target = min(target, ceiling[i])
        target = max(target, F0)
        gap = target - level
        down = wind_down_rate[i] / (slowdown[i] * locked + F1)
        rate = growth[i] if gap > 0 else down
        value = rate * gap + level
        if noisy:
            spread = np.sqrt((F1 - level) * level) * epsilon[i]
            value += spread * (TWO * noise[i])
        if shocked:
            value *= F1 - hit[i]
        value = min(max(value, F0), F1)
        guard = F1 - protection[i] * locked
        unwanted = level - min(desire_min[i], cap[i])
        # Out of a spell the hazard is 0; a party that wants at least 99% of what there
        # is (and an ended treaty's cap allows) does not decide to break off.
        decided = in_spell[i] and unwanted > HUNDREDTH * level
        share = unwanted / level if decided else F1
        decided_hazard = decision[i] * unit_power(share, steepness[i]) * guard
        hazard = guard * floor[i] + (decided_hazard if decided else F0)
        clock[i] += hazard if in_spell[i] else F0
        broke = in_spell[i] and clock[i] >= rupture_at[i] and level > 0
        ruptured[i] = broke
        following[i] = F0 if broke else value
        broke_off += broke
    if broke_off:
        count = 0
        for i in range(size):
            broken[count] = i
            count += ruptured[i]
    return broke_off


@numba.njit(cache=True, nogil=True)
def renew_clocks(rupture_at, clock, broken, fresh):
    """New rupture thresholds where a channel broke off: its clock plus a fresh Exp(1).

    ``broken`` lists the replications in order (as :func:`channel_step` leaves them),
    ``fresh`` holds one draw for each, rounded to float32 as the reference rounds it.
    """
    for k in range(fresh.size):
        i = broken[k]
        rupture_at[i] = clock[i] + np.float32(fresh[k])


@numba.njit(cache=True, nogil=True)
def channel_advance(
    intensity, following, threshold, emergence, accrual, accrues, lock_in_max, lock_in_base,
    ruptured, any_ruptured, in_spell, below, below_since, broken_run, interruptions,
    end_month, ending, alive_months, spell_start, emerged, revival, spells, month, horizon,
    dormancy,
):  # fmt: skip
    """Commit month t + 1: intensity, lock-in and life history (ChannelAgent.advance).

    Lock-in accrues (from month t's intensity and spell) and the intensity is committed
    in passes of their own, which vectorise; the life history then skips, in one
    well-predicted test, the replications where nothing happens: in a spell, above the
    threshold this month and last, not broken off.
    """
    within = month <= horizon
    size = intensity.size
    if accrues:
        for i in range(size):
            grown = accrual[i] * intensity[i] * np.float32(in_spell[i])
            lock_in_base[i] = min(lock_in_base[i] + grown, lock_in_max[i])
    intensity[:] = following
    for i in range(size):
        value = following[i]
        low = value < threshold[i]
        previous = below[i]
        if not low and previous == 0 and in_spell[i] and not any_ruptured and dormancy > 0:
            continue
        if low and previous == 0:
            below_since[i] = month
            broken_run[i] = False
        if any_ruptured:
            if ruptured[i] and low:
                broken_run[i] = True
            if ruptured[i]:
                lock_in_base[i] = F0
        if not low and previous > 0 and in_spell[i] and broken_run[i]:
            interruptions[i] += 1
        below[i] = previous + 1 if low else 0
        if in_spell[i] and below[i] >= dormancy:
            if end_month[i] == NEVER:
                end_month[i] = below_since[i]
                ending[i] = BROKEN if broken_run[i] else LAPSED
            ended_at = min(below_since[i], horizon)
            alive_months[i] += max(ended_at - spell_start[i], 0)
            in_spell[i] = False
        if not in_spell[i] and value >= emergence[i]:
            if within:
                if emerged[i] == NEVER:
                    emerged[i] = month
                elif revival[i] == NEVER:
                    revival[i] = month
                spells[i] += 1
            in_spell[i] = True
            spell_start[i] = month
            below[i] = 0


PCG64_MULTIPLIER = (2549297995355413924 << 64) | 4865540595714422341
"""PCG64's 128-bit LCG multiplier (O'Neill 2014; numpy's ``PCG64``)."""
U64 = (1 << 64) - 1


@intrinsic
def _pcg64_advance(typingctx, state_high, state_low, increment_high, increment_low):
    """PCG64's state step, ``state · multiplier + increment`` modulo 2**128.

    numba has no 128-bit integer type; in LLVM's IR the step is one multiplication.
    """
    u64 = types.uint64
    signature = types.UniTuple(u64, 2)(u64, u64, u64, u64)

    def codegen(context, builder, sig, args):
        wide = ir.IntType(128)

        def join(high, low):
            high = builder.shl(builder.zext(high, wide), ir.Constant(wide, 64))
            return builder.or_(high, builder.zext(low, wide))

        state = builder.add(
            builder.mul(join(args[0], args[1]), ir.Constant(wide, PCG64_MULTIPLIER)),
            join(args[2], args[3]),
        )
        high = builder.trunc(builder.lshr(state, ir.Constant(wide, 64)), ir.IntType(64))
        low = builder.trunc(state, ir.IntType(64))
        return context.make_tuple(builder, sig.return_type, [high, low])

    return signature, codegen


@numba.njit(inline="always")
def _next_uint32(high, low, increment_high, increment_low, has_half, half):
    """A 32-bit draw as numpy's ``PCG64`` makes it, and the generator's new state.

    The low half of a new 64-bit XSL-RR output, or the high half kept from the last one.
    """
    if has_half:
        return np.uint32(half), high, low, np.uint64(0), half
    high, low = _pcg64_advance(high, low, increment_high, increment_low)
    mixed = high ^ low
    turn = high >> np.uint64(58)
    draw = (mixed >> turn) | (mixed << ((np.uint64(64) - turn) & np.uint64(63)))
    return np.uint32(draw & np.uint64(0xFFFFFFFF)), high, low, np.uint64(1), draw >> np.uint64(32)


@numba.njit(inline="always")
def _uniform(bits):
    """A float32 uniform on [0, 1) from a 32-bit draw, as numpy's ``next_float``."""
    return np.float32(np.float32(bits >> 8) * np.float32(1.0) / np.float32(16777216.0))


@numba.njit(cache=True, nogil=True)
def pcg64_normals(state, out):
    """Fill ``out`` with float32 standard normals, as numpy's ``PCG64`` generator draws them.

    ``state`` holds the generator's state as six uint64s (:class:`NormalStream`) and is
    advanced. The draws are numpy's ``Generator.standard_normal(dtype=np.float32)`` bit
    for bit: PCG64's XSL-RR output, its 32-bit draws taken low half first with the high
    half kept for the next, and numpy's float32 ziggurat (Marsaglia and Tsang 2000)
    with its wedge and tail rejections. numpy reaches each 32-bit draw through a
    function pointer; inlined here, a normal costs about half as much.
    """
    h, lo, ih, il, has, half = state[0], state[1], state[2], state[3], state[4], state[5]
    for k in range(out.size):
        while True:
            r, h, lo, has, half = _next_uint32(h, lo, ih, il, has, half)
            index = r & 0xFF
            rabs = (r >> 9) & 0x007FFFFF
            x = np.float32(np.float32(rabs) * wi_float[index])
            if (r >> 8) & 0x1:
                x = -x
            if rabs < ki_float[index]:
                break  # about 99% of draws
            if index == 0:  # the tail beyond the base strip, by Marsaglia's method
                while True:
                    bits, h, lo, has, half = _next_uint32(h, lo, ih, il, has, half)
                    xx = np.float32(-ziggurat_nor_inv_r_f * np.log1p(np.float32(-_uniform(bits))))
                    bits, h, lo, has, half = _next_uint32(h, lo, ih, il, has, half)
                    yy = np.float32(-np.log1p(np.float32(-_uniform(bits))))
                    if np.float32(yy + yy) > np.float32(xx * xx):
                        break
                beyond = np.float32(ziggurat_nor_r_f + xx)
                x = -beyond if (rabs >> 8) & 0x1 else beyond
                break
            bits, h, lo, has, half = _next_uint32(h, lo, ih, il, has, half)
            wedge = (fi_float[index - 1] - fi_float[index]) * _uniform(bits) + fi_float[index]
            # numpy's C compares with the exponential of a double: in float32 (as numba's
            # own port of this draw does) about one draw in a million would differ.
            if np.float64(wedge) < np.exp(-0.5 * np.float64(x) * np.float64(x)):
                break
        out[k] = x
    state[0], state[1], state[4], state[5] = h, lo, has, half


class NormalStream:
    """A ``PCG64`` generator's float32 standard normals, drawn by :func:`pcg64_normals`.

    The stream takes over the generator's state: draw from one or the other, not both.

    Args:
        generator: A numpy generator on ``PCG64``.
    """

    def __init__(self, generator: np.random.Generator) -> None:
        state = generator.bit_generator.state
        if state["bit_generator"] != "PCG64":
            raise ValueError(f"expected a PCG64 generator, not {state['bit_generator']}")
        value, increment = state["state"]["state"], state["state"]["inc"]
        self._state = np.array(
            [value >> 64, value & U64, increment >> 64, increment & U64,
             state["has_uint32"], state["uinteger"]],
            dtype=np.uint64,
        )  # fmt: skip

    def standard_normal(self, size: int, out: np.ndarray | None = None) -> np.ndarray:
        """``size`` draws, as ``generator.standard_normal(size, dtype=np.float32)``."""
        out = np.empty(size, dtype=np.float32) if out is None else out
        pcg64_normals(self._state, out)
        return out


@numba.njit(cache=True, nogil=True)
def linear_index(state, scaled_rows, scaled_weights, weights, rows, outputs, firsts, lasts,
                 total, values):  # fmt: skip
    """A linear index's outputs (:meth:`LinearIndex.compute`), in place in ``values``.

    Where ``scaled_rows`` is not empty, output o starts as its one fixed term,
    ``state[scaled_rows[o]] · scaled_weights[o] + 0`` (otherwise ``values`` holds the
    fixed part already); then each output's per-replication terms ``Σ w·state[row]``,
    summed in term order, are added to it. ``total`` is scratch space of a row; the loops
    over replications are innermost, so that they vectorise.
    """
    replications = state.shape[1]
    for output in range(scaled_rows.size):
        row, weight = scaled_rows[output], scaled_weights[output]
        for i in range(replications):
            values[output, i] = state[row, i] * weight + F0
    for run in range(outputs.size):
        output, first, last = outputs[run], firsts[run], lasts[run]
        row = rows[first]
        for i in range(replications):
            total[i] = weights[first, i] * state[row, i]
        for term in range(first + 1, last):
            row = rows[term]
            for i in range(replications):
                total[i] += weights[term, i] * state[row, i]
        for i in range(replications):
            values[output, i] += total[i]


@numba.njit(cache=True, nogil=True)
def approach(value, responses, low, high, speed, jump, current, out):
    """An actor variable's value for month t + 1 (ActorAgent.plan).

    Its target is the events' value plus its responses, kept in ``[low, high]``; it moves
    ``speed`` of the way there from ``current``, or all the way if ``jump``.
    """
    for i in range(out.size):
        target = min(max(value[i] + responses[i], low), high)
        out[i] = target if jump else current[i] + (target - current[i]) * speed[i]


@numba.njit(cache=True, nogil=True)
def lesser_desire(first, second, shared, out):
    """``clip(min(first, second) + shared, 0, 1)``: a channel's desire (ChannelAgent.decide)."""
    for i in range(out.size):
        out[i] = min(max(min(first[i], second[i]) + shared[i], F0), F1)


@numba.njit(cache=True, nogil=True)
def triangular_draws(u, low, mode, high, out):
    """Triangular quantiles of ``u`` in float32, as ``triangular_quantile(u, ...)`` rounds them.

    The same double-precision operations, in the same order, per draw in one pass
    (numpy makes six passes over the draws and a float32 copy). Both branches are
    computed and one is kept, so that the loop vectorises.
    """
    width = high - low
    c = (mode - low) / width
    for i in range(u.size):
        below = np.sqrt(c * u[i])
        above = 1 - np.sqrt((1 - c) * (1 - u[i]))
        value = below if u[i] < c else above
        out[i] = np.float32(value * width + low)


@numba.njit(cache=True, nogil=True)
def desire_drop(until, month, drop, extent):
    """Where a shock's desire drop still holds, raise the channel's drop to it."""
    for i in range(until.size):
        drop[i] = max(drop[i], extent[i] if until[i] > month else F0)


@numba.njit(cache=True, nogil=True)
def histogram(state, rows, bins, counts):
    """``counts[d, b]`` += replications whose row ``rows[d]`` lies in bin b of [0, 1].

    Neighbouring replications often fall in the same bin; counted into one array, each
    increment would wait for the last to be stored. Four interleaved tallies, added up
    at the end, keep the increments independent.
    """
    scale = np.float32(bins)
    lanes = np.zeros((4, bins), dtype=np.int32)
    for d in range(rows.size):
        values = state[rows[d]]
        lanes[:] = 0
        for i in range(values.size):
            lanes[i & 3, min(int(values[i] * scale), bins - 1)] += 1
        for b in range(bins):
            counts[d, b] += lanes[0, b] + lanes[1, b] + lanes[2, b] + lanes[3, b]


def _warm() -> None:
    """Compile (or load from the cache) every kernel with the types the model passes."""
    f, b = np.zeros(2, np.float32), np.zeros(2, np.bool_)
    i16, i32 = np.zeros(2, np.int16), np.zeros(2, np.int32)
    channel_step(f, f, f, f, f, f, f, f, f, f, f, f, f, f, f, f, b, f, f, f, b,
                 np.zeros(2, np.intp))  # fmt: skip
    channel_advance(
        f, f, f, f, f, False, f, f, b, False, b, i16, i32, b, i16, i32, np.zeros(2, np.int8),
        i32, i32, i32, i32, i16, 1, 1, 1,
    )  # fmt: skip
    renew_clocks(f, f, np.zeros(2, np.intp), np.zeros(2, np.float64))
    pcg64_normals(np.zeros(6, np.uint64), f)
    rows = np.zeros(1, np.intp)
    state = np.zeros((1, 2), np.float32)
    linear_index(state, rows, f[:1], state, rows, rows, rows, rows + 1, f, state.copy())
    desire_drop(i32, 1, f, f)
    lesser_desire(f, f, f, f)
    approach(f, f, F0, F1, f, False, f, f)
    triangular_draws(np.zeros(2), 0.0, 0.5, 1.0, f)
    histogram(state, rows, 100, np.zeros((1, 2, 100), np.int32)[:, 0])  # a month of counts


_warm()
