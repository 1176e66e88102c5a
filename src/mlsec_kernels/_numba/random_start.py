"""Numba port of cpp/random_start.hpp / .cpp (word mapping in docs/rng.md)."""
import numba
import numpy as np
from numba import prange

from ._util import flat2, jit_pair, parts, per_row
from .fmath import exp_f32, log_f32
from .philox import block, box_muller, key, uniform_co, uniform_oc
from .reduce import row_sum

NORMS = {"inf": 0, "1": 1, "2": 2}
_EXTRA = np.uint64(1 << 63)
_TWO, _ONE, _ZERO = np.float32(2.0), np.float32(1.0), np.float32(0.0)
_1 = np.uint64(1)


@numba.njit(inline="always")
def _draw1(norm, w):
    if norm == 0:
        return uniform_co(w) * _TWO - _ONE
    e = _ZERO - log_f32(uniform_oc(w))
    return -e if w & _1 else e


@numba.njit(inline="always")
def _draws(norm, w0, w1, w2, w3):
    """The four per-element draws of a block (cpp start_draw)."""
    if norm == 2:
        z0, z1 = box_muller(w0, w1)
        z2, z3 = box_muller(w2, w3)
        return z0, z1, z2, z3
    return _draw1(norm, w0), _draw1(norm, w1), _draw1(norm, w2), _draw1(norm, w3)


@numba.njit(inline="always")
def _term(ctx, j):
    norm, f0, k0, k1, s0, s1 = ctx
    f = f0 + j
    w0, w1, w2, w3 = block(np.uint64(f >> 2), k0, k1, s0, s1)
    v = np.float64(_draws(norm, w0, w1, w2, w3)[f & 3])
    return v * v if norm == 2 else abs(v)


@numba.njit(inline="always")
def _scale(norm, row, d, total, eps, k0, k1, s0, s1):
    w = block(_EXTRA + np.uint64(row), k0, k1, s0, s1)[0]
    lu = log_f32(uniform_oc(w))
    if norm == 2:
        r = exp_f32(lu / np.float32(d))
        return eps * np.float64(r) / np.sqrt(total) if total > 0.0 else 0.0
    s = total + np.float64(_ZERO - lu)
    return eps / s if s > 0.0 else 0.0


@numba.njit(inline="always")
def _write(x, out, norm, r, j0, j1, scale, lo, hi, k0, k1, s0, s1):
    """Row r's elements [j0, j1) from their stream elements r*d + j, block by block."""
    f = r * x.shape[1] + j0
    j = j0
    while j < j1:
        w0, w1, w2, w3 = block(np.uint64(f >> 2), k0, k1, s0, s1)
        v = _draws(norm, w0, w1, w2, w3)
        first = f & 3
        last = min(4, first + j1 - j)
        for k in range(first, last):
            # T(draw) * scale: float32 draws widen exactly when x is float64
            y = x[r, j + k - first] + v[k] * scale
            out[r, j + k - first] = lo if y < lo else (hi if y > hi else y)
        j += last - first
        f += last - first


def _spans(x, out, eps, lo, hi, k0, k1, s0, s1, nparts):
    n, d = x.shape
    total = n * d
    for p in prange(nparts):
        i, end = total * p // nparts, total * (p + 1) // nparts
        while i < end:
            r = i // d
            j0 = i - r * d
            j1 = min(d, j0 + end - i)
            _write(x, out, 0, r, j0, j1, eps[r], lo, hi, k0, k1, s0, s1)
            i += j1 - j0


def _rows(x, out, eps, scales, norm, lo, hi, k0, k1, s0, s1):
    # scales (n values in x's dtype) rounds each row's double scale to the data's dtype
    n, d = x.shape
    for r in prange(n):
        total = row_sum(_term, (norm, r * d, k0, k1, s0, s1), d)
        scales[r] = _scale(norm, r, d, total, eps[r], k0, k1, s0, s1)
        _write(x, out, norm, r, 0, d, scales[r], lo, hi, k0, k1, s0, s1)

_spans_serial, _spans_parallel = jit_pair(_spans)
_rows_serial, _rows_parallel = jit_pair(_rows)


def random_start(x0, eps, norm, seed, substream, lo, hi, out):
    x2, o2 = flat2(x0), flat2(out)
    t = x0.dtype.type
    k0, k1, s0, s1 = key(seed, substream)
    nparts = parts(x0.size)
    if NORMS[norm] == 0:
        e = per_row(eps, x2.shape[0], x0.dtype)
        (_spans_serial if nparts == 1 else _spans_parallel)(x2, o2, e, t(lo), t(hi), k0, k1, s0, s1, nparts)
    else:
        e = per_row(eps, x2.shape[0], np.float64)
        scales = np.empty(x2.shape[0], x0.dtype)
        (_rows_serial if nparts == 1 else _rows_parallel)(x2, o2, e, scales, NORMS[norm], t(lo), t(hi), k0, k1, s0, s1)
