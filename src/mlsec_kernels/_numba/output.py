"""Numba port of cpp/output.hpp: the output post-processors' step program, row by row.

Every constant reaches the kernels in the data's dtype (``consts``) so that float32 rows
stay float32; float32 log and exp are the project's own (fmath), float64 use libm.
"""

import numba
import numpy as np
from numba import prange, types
from numba.extending import overload

from .._constants import GAUSSIAN_NOISE, HIGH_CONFIDENCE, RENORM_ALWAYS, RENORM_AUTO, REVERSE_SIGMOID, ROUND, TOP_K
from ._util import jit_pair, parts
from .fmath import exp_f32, f64_bits, log_f32
from .philox import block, box_muller, key
from .reduce import row_sum

SMALL_K = 32
_U1 = np.uint64(1)
_SIGN = np.uint64(1) << np.uint64(63)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)


def log_t(x):
    """log in the dtype of x (float32: the project's fixed-operation log)."""


def exp_t(x):
    """exp in the dtype of x (float32: the project's fixed-operation exp)."""


@overload(log_t)
def _log_t(x):
    if x == types.float32:
        inf, zero = np.float32(np.inf), np.float32(0)
        return lambda x: -inf if x == zero else (log_f32(x) if x == x else x)
    return lambda x: np.log(x)


@overload(exp_t)
def _exp_t(x):
    if x == types.float32:
        return lambda x: x if x != x else exp_f32(x)
    return lambda x: np.exp(x)


@numba.njit(inline="always")
def rank_key(v):
    v = np.float64(v)
    if v != v:
        return _ALL
    if v == 0.0:
        v = 0.0
    b = f64_bits(v)
    return ~b if b >> np.uint64(63) else b | _SIGN


@numba.njit(inline="always")
def kth_key(x, k):
    c = x.shape[0]
    if k <= SMALL_K:
        top = np.empty(SMALL_K, dtype=np.uint64)
        have = 0
        for j in range(c):
            v = rank_key(x[j])
            if have == k and v <= top[k - 1]:
                continue
            if have < k:
                i = have
                have += 1
            else:
                i = k - 1
            while i > 0 and top[i - 1] < v:
                top[i] = top[i - 1]
                i -= 1
            top[i] = v
        return top[k - 1]
    lo, hi = np.uint64(0), _ALL
    while lo < hi:
        mid = lo + (hi - lo) // np.uint64(2) + _U1
        cnt = 0
        for j in range(c):
            if rank_key(x[j]) >= mid:
                cnt += 1
        if cnt >= k:
            lo = mid
        else:
            hi = mid - _U1
    return lo


@numba.njit(inline="always")
def top_k_row(x, k, one_hot, one, zero):
    if x.shape[0] < 2:  # P(positive): kept; its one-hot is the label, 1 where p > 1/2
        if x.shape[0] == 1 and one_hot:
            x[0] = one if x[0] > one / (one + one) else zero
        return
    t = kth_key(x, k)
    greater = 0
    for j in range(x.shape[0]):
        if rank_key(x[j]) > t:
            greater += 1
    ties = k - greater
    for j in range(x.shape[0]):
        v = rank_key(x[j])
        keep = v > t
        if not keep and v == t and ties > 0:
            keep = True
            ties -= 1
        x[j] = (one if one_hot else x[j]) if keep else zero


@numba.njit(inline="always")
def _rs_sigmoid(pc, gamma, one):
    return one / (one + exp_t(gamma * log_t((one - pc) / pc)))


@numba.njit(inline="always")
def reverse_sigmoid_binary(p, beta, gamma, lo, hi, one, half, zero):
    """C++'s reverse_sigmoid_binary: the terms of [p, 1 - p], the second clipped as 1 - pc."""
    pc = lo if p < lo else (hi if p > hi else p)
    pc2 = one - pc
    q1 = p - beta * (_rs_sigmoid(pc, gamma, one) - half)
    q1 = zero if q1 < zero else (one if q1 > one else q1)
    s2 = zero if pc2 == zero else _rs_sigmoid(pc2, gamma, one)
    q2 = (one - p) - beta * (s2 - half)
    q2 = zero if q2 < zero else (one if q2 > one else q2)
    total = q1 + q2  # in the data's dtype, as ART sums the two terms
    return q1 * (one / total) if total != zero else half


@numba.njit(inline="always")
def _rs_term(ctx, j):
    x, beta, gamma, lo, hi, one, half, zero = ctx
    p = x[j]
    pc = lo if p < lo else (hi if p > hi else p)
    q = p - beta * (_rs_sigmoid(pc, gamma, one) - half)
    q = zero if q < zero else (one if q > one else q)
    x[j] = q  # written as it is summed: each element is visited once, as in the C++ term
    return (np.float64(q),)


@numba.njit(inline="always")
def _value(ctx, j):
    return (np.float64(ctx[j]),)


@numba.njit(inline="always")
def _outside(ctx, j):
    x, zero, one = ctx
    return (0.0 if x[j] >= zero and x[j] <= one else 1.0,)


@numba.njit(inline="always")
def _normal_at(b, k, k0, k1, s0, s1):
    w0, w1, w2, w3 = block(np.uint64(b), k0, k1, s0, s1)
    if k < 2:
        z0, z1 = box_muller(w0, w1)
        return z0 if k == 0 else z1
    z2, z3 = box_muller(w2, w3)
    return z2 if k == 2 else z3


@numba.njit(inline="always")
def _noisy(x, j, e, scale, zero, key4, clamp):
    # One normal per element: the block is recomputed per word here (Numba keeps it
    # simple); the values are the C++ normals_span's, element e of the stream.
    z = _normal_at(e >> 2, e & 3, key4[0], key4[1], key4[2], key4[3])
    v = x[j] + scale * _as(z, zero)
    return (v if v > zero or v != v else zero) if clamp else v  # NaN kept, as in C++


def _as(z, like):
    """z converted to the type of like (the data's dtype)."""


@overload(_as)
def _as_impl(z, like):
    if like == types.float32:
        return lambda z, like: np.float32(z)
    return lambda z, like: np.float64(z)


@numba.njit(inline="always")
def _noisy_term(ctx, j):
    x, e0, scale, zero, key4 = ctx
    return (np.float64(_noisy(x, j, e0 + np.int64(j), scale, zero, key4, True)),)


@numba.njit(inline="always")
def gaussian_noise_row(x, row, scale, mode, key4, consts):
    c = x.shape[0]
    one, zero = consts[2], consts[4]
    e0 = row * c
    renorm = mode == RENORM_ALWAYS
    if c == 1:  # P(positive): nothing to renormalise; a probability is clipped to [0, 1]
        p = x[0]
        v = _noisy(x, 0, e0, scale, zero, key4, False)
        if renorm or (mode == RENORM_AUTO and p >= zero and p <= one):
            v = zero if v < zero else (one if v > one else v)
        x[0] = v
        return
    if mode == RENORM_AUTO:
        s = row_sum(_value, x, c)
        renorm = row_sum(_outside, (x, zero, one), c) == 0.0 and abs(s - 1.0) <= 1e-3
    if not renorm:
        for j in range(c):
            x[j] = _noisy(x, j, e0 + j, scale, zero, key4, False)
        return
    total = row_sum(_noisy_term, (x, e0, scale, zero, key4), c)
    if total == 0.0:
        return
    inv = 1.0 / total  # scaled in double, as in C++
    for j in range(c):
        x[j] = _as(np.float64(_noisy(x, j, e0 + j, scale, zero, key4, True)) * inv, zero)


@numba.njit(cache=True, nogil=True)
def _row(x, r, kinds, ints, reals, keys, consts):
    """The program on row x (row r of the batch), in place. Its own compiled function: inlined
    into the prange loop of _rows, Numba hoisted the row sums' scratch out of the loop, and
    threads sharing it summed each other's rows."""
    c = x.shape[0]
    lo, hi, one, half, zero = consts[0], consts[1], consts[2], consts[3], consts[4]
    for i in range(kinds.shape[0]):
        kind = kinds[i]
        if kind == REVERSE_SIGMOID and c == 1:
            x[0] = reverse_sigmoid_binary(x[0], reals[i, 0], reals[i, 1], lo, hi, one, half, zero)
        elif kind == REVERSE_SIGMOID:
            total = row_sum(_rs_term, (x, reals[i, 0], reals[i, 1], lo, hi, one, half, zero), c)
            inv = 1.0 / total if total != 0.0 else 0.0  # in double, as in C++
            u = _as(1.0 / c, zero)
            for j in range(c):
                x[j] = _as(np.float64(x[j]) * inv, zero) if total != 0.0 else u
        elif kind == GAUSSIAN_NOISE:
            gaussian_noise_row(x, r + ints[i, 1], reals[i, 0], ints[i, 0], keys[i], consts)
        elif kind == ROUND:
            f = reals[i, 0]
            for j in range(c):
                x[j] = np.rint(x[j] * f) / f
        elif kind == HIGH_CONFIDENCE:
            cut = reals[i, 0]
            for j in range(c):
                if x[j] < cut:
                    x[j] = zero
        elif kind == TOP_K:
            top_k_row(x, ints[i, 0], ints[i, 1] != 0, one, zero)
        else:
            top_k_row(x, 1, True, one, zero)


def _rows(p, out, kinds, ints, reals, keys, consts, nparts):
    n, c = p.shape
    for part in prange(nparts):
        for r in range(part, n, nparts):
            x = out[r]
            for j in range(c):
                x[j] = p[r, j]
            _row(x, r, kinds, ints, reals, keys, consts)


_serial, _parallel = jit_pair(_rows)


def output(p, steps, out):
    """Runs the encoded step program (see mlsec_kernels.output) on every row of p into out."""
    n = len(steps)
    kinds = np.zeros(n, np.int64)
    ints = np.zeros((n, 2), np.int64)
    reals = np.zeros((n, 2), np.float64)
    keys = np.zeros((n, 4), np.uint64)
    for i, s in enumerate(steps):
        kinds[i] = s[0]
        if s[0] == REVERSE_SIGMOID:
            reals[i] = s[1], s[2]
        elif s[0] == GAUSSIAN_NOISE:
            reals[i, 0], ints[i] = s[1], (s[4], s[5])  # ints[i, 1]: sample_start
            keys[i] = key(s[2], s[3])
        elif s[0] == ROUND:
            reals[i, 0] = power_of_ten(s[1])
        elif s[0] == HIGH_CONFIDENCE:
            reals[i, 0] = s[1]
        elif s[0] == TOP_K:
            ints[i] = s[1], int(bool(s[2]))
    if p.size == 0:
        return
    with np.errstate(over="ignore"):
        consts = np.array([1e-9, 1.0 - 1e-9, 1.0, 0.5, 0.0], dtype=p.dtype)
        k = parts(p.size)
        (_serial if k == 1 else _parallel)(p, out, kinds, ints, reals.astype(p.dtype), keys, consts, k)


def power_of_ten(n: int) -> float:
    """NumPy's power_of_ten (np.round): exact table to 1e8, then repeated *10 in double."""
    if n < 9:
        return float(10**n)
    r = 1e9
    while n > 9 and r < float("inf"):
        r *= 10.0
        n -= 1
    return r
