"""Numba port of cpp/random_start.hpp / .cpp (word mapping in docs/rng.md)."""
import numba
import numpy as np
from numba import prange

from ._util import flat2, jit_pair, parts, per_row
from .fmath import exp_f32, log_f32
from .philox import block, copy_emit, key, normals4, scratch_for, uniform_co, uniform_oc, visit, words4
from .reduce import row_sum

_EXTRA = np.uint64(1 << 63)
_TWO, _ONE, _ZERO = np.float32(2.0), np.float32(1.0), np.float32(0.0)
_1 = np.uint64(1)
_PIECE = 4096  # elements per draws buffer (16 KiB: stays in L1)


@numba.njit(cache=True, inline="always")
def _inf(w0, w1, w2, w3):
    return uniform_co(w0) * _TWO - _ONE, uniform_co(w1) * _TWO - _ONE, uniform_co(w2) * _TWO - _ONE, uniform_co(w3) * _TWO - _ONE


@numba.njit(inline="always")
def _exp1(w):
    e = _ZERO - log_f32(uniform_oc(w))
    return -e if w & _1 else e




@numba.njit(inline="always")
def _term(ctx, j):
    draws, norm = ctx
    v = np.float64(draws[j])
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
def _write(ctx, i0, draws, f0, count):
    # T(draw) * scale: float32 draws widen exactly when x is float64
    # Two loops through ys (count values of x's dtype), so that neither reads x while
    # writing out: with x and out the same array (in place) LLVM's aliasing check would
    # fall back to scalar code. Same arithmetic as one fused loop.
    xs, os, ys, scale, lo, hi = ctx
    for j in range(count):
        ys[j] = xs[i0 + j] + draws[f0 + j] * scale
    for j in range(count):
        y = ys[j]
        os[i0 + j] = lo if y < lo else (hi if y > hi else y)


def _spans(x, out, conv, scale, lo, hi, k0, k1, s0, s1, b0, lane0, nparts):
    # out = x + scale * draw, elementwise; stream element 4*b0 + lane0 + i feeds flat element
    # i; a one-row x is broadcast over the rows (noise.py's smoothing batches). Draws go a
    # piece at a time into a buffer, then the writes: two simple loops vectorise where one
    # fused through visit does not
    n, d = out.shape
    total = n * d
    bc = x.shape[0] != n
    for p in prange(nparts):
        scratch = scratch_for(np.float32)
        draws = np.empty(_PIECE, np.float32)
        ys = np.empty(_PIECE, out.dtype)
        i, end = total * p // nparts, total * (p + 1) // nparts
        while i < end:
            r = i // d
            j0 = i - r * d
            j1 = min(d, j0 + end - i, j0 + _PIECE)
            t = lane0 + i
            visit(conv, copy_emit, draws, k0, k1, s0, s1, b0 + np.uint64(t >> 2), t & 3, j1 - j0, scratch)
            _write((x[0 if bc else r, j0:j1], out[r, j0:j1], ys, scale[r], lo, hi), 0, draws, 0, j1 - j0)
            i += j1 - j0


def _rows(x, out, norm, eps, scales, lo, hi, k0, k1, s0, s1, normals, words_of):
    # scales (n values in x's dtype) rounds each row's double scale to the data's dtype;
    # normals and words_of are philox's normals4 and words4 (first-class function
    # values must come in as arguments for the compiled code to be cacheable)
    n, d = x.shape
    for r in prange(n):
        draws = np.empty(d, np.float32)
        f = r * d
        if norm == 2:
            visit(normals, copy_emit, draws, k0, k1, s0, s1, np.uint64(f >> 2), f & 3, d, scratch_for(np.float32))
        else:
            # raw words first: with the sign taken from the same word, LLVM leaves a fused
            # loop scalar, and vectorises this one
            words = np.empty(d, np.uint32)
            visit(words_of, copy_emit, words, k0, k1, s0, s1, np.uint64(f >> 2), f & 3, d, scratch_for(np.uint32))
            for j in range(d):
                draws[j] = _exp1(words[j])
        total = row_sum(_term, (draws, norm), d)
        scales[r] = _scale(norm, r, d, total, eps[r], k0, k1, s0, s1)
        _write((x[r], out[r], np.empty(d, x.dtype), scales[r], lo, hi), 0, draws, 0, d)


_spans_serial, _spans_parallel = jit_pair(_spans)
_rows_serial, _rows_parallel = jit_pair(_rows)


def random_start(x0, eps, norm, seed, substream, lo, hi, out):
    if x0.size == 0:
        return
    x2, o2 = flat2(x0), flat2(out)
    t = x0.dtype.type
    k0, k1, s0, s1 = key(seed, substream)
    nparts = parts(x0.size)
    code = norm
    if code == 0:
        e = per_row(eps, x2.shape[0], x0.dtype)
        (_spans_serial if nparts == 1 else _spans_parallel)(x2, o2, _inf, e, t(lo), t(hi), k0, k1, s0, s1,
                                                            np.uint64(0), np.int64(0), nparts)
    else:
        e = per_row(eps, x2.shape[0], np.float64)
        scales = np.empty(x2.shape[0], x0.dtype)
        (_rows_serial if nparts == 1 else _rows_parallel)(x2, o2, code, e, scales, t(lo), t(hi), k0, k1, s0, s1, normals4, words4)
