"""Numba port of cpp/random_start.hpp / .cpp (word mapping in docs/rng.md)."""

import numba
import numpy as np
from numba import prange

from ._util import flat2, jit_pair, parts, per_row
from .fmath import exp_f32, log_f32
from .philox import block, converter, copy_emit, key, normals, scratch_for, uniform_co, uniform_oc, visit, words
from .reduce import row_sum

_EXTRA = np.uint64(1 << 63)
_TWO, _ONE, _ZERO = np.float32(2.0), np.float32(1.0), np.float32(0.0)
_1 = np.uint64(1)
_PIECE = 4096  # elements per draws buffer (16 KiB: stays in L1)
NORMAL, UNIFORM = 0, 1  # _spans's draw kinds: standard normal, uniform in [-1, 1)


@numba.njit(inline="always")
def _pm1(w0, w1, w2, w3):
    return (
        uniform_co(w0) * _TWO - _ONE,
        uniform_co(w1) * _TWO - _ONE,
        uniform_co(w2) * _TWO - _ONE,
        uniform_co(w3) * _TWO - _ONE,
    )


_uniform_pm1 = converter(_pm1)


@numba.njit(inline="always")
def _exp1(w):
    e = _ZERO - log_f32(uniform_oc(w))
    return -e if w & _1 else e


@numba.njit(inline="always")
def _sq_term(draws, j):
    v = np.float64(draws[j])
    return (v * v,)


@numba.njit(inline="always")
def _abs_term(draws, j):
    return (abs(np.float64(draws[j])),)


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
def _clip_add(src, dst, draws, scale, lo, hi):
    # T(draw) * scale: float32 draws widen exactly when x is float64
    for j in range(dst.shape[0]):
        y = src[j] + draws[j] * scale
        dst[j] = lo if y < lo else (hi if y > hi else y)


@numba.njit(inline="always")
def _write(xs, os, draws, scale, lo, hi):
    """os = clip(xs + draws * scale). In place, the loop reads out alone: given two names
    of one array, LLVM's overlap check sends the loop to its scalar path."""
    if xs.ctypes.data == os.ctypes.data:
        _clip_add(os, os, draws, scale, lo, hi)
    else:
        _clip_add(xs, os, draws, scale, lo, hi)


def _spans(x, out, kind, scale, lo, hi, k0, k1, s0, s1, b0, lane0, nparts):
    # out = x + scale * draw, elementwise, the draw a NORMAL or UNIFORM (an int code: a
    # function argument would key the on-disk cache to this process, see
    # philox.converter); stream element 4*b0 + lane0 + i feeds flat element i; a one-row x
    # is broadcast over the rows (noise.py's smoothing batches). Draws go a piece at a time
    # into a buffer, then the writes: two simple loops vectorise where one fused through
    # visit does not
    n, d = out.shape
    total = n * d
    bc = x.shape[0] != n
    for p in prange(nparts):
        scratch = scratch_for(np.float32)
        draws = np.empty(_PIECE, np.float32)
        i, end = total * p // nparts, total * (p + 1) // nparts
        while i < end:
            r = i // d
            j0 = i - r * d
            j1 = min(d, j0 + end - i, j0 + _PIECE)
            t = lane0 + i
            b, lane, m = b0 + np.uint64(t >> 2), t & 3, j1 - j0
            if kind == NORMAL:
                visit(normals, copy_emit, draws, k0, k1, s0, s1, b, lane, m, scratch)
            else:
                visit(_uniform_pm1, copy_emit, draws, k0, k1, s0, s1, b, lane, m, scratch)
            _write(x[0 if bc else r, j0:j1], out[r, j0:j1], draws[: j1 - j0], scale[r], lo, hi)
            i += j1 - j0


@numba.njit(cache=True, nogil=True)
def _normals_row(f, draws, k0, k1, s0, s1):
    """The normals of stream elements f .. f+d-1 into draws (d of them). Its own function
    with its own scratch: inlined into _rows next to the sum and the writes, LLVM left
    the conversions scalar (4x slower)."""
    visit(normals, copy_emit, draws, k0, k1, s0, s1, np.uint64(f >> 2), f & 3, draws.shape[0], scratch_for(np.float32))


@numba.njit(cache=True, nogil=True)
def _exp_row(f, draws, raw, k0, k1, s0, s1):
    """The signed exponentials of stream elements f .. f+d-1 into draws, as _normals_row.
    Raw words first: with the sign taken from the same word, LLVM leaves a fused loop
    scalar, and vectorises this one."""
    visit(words, copy_emit, raw, k0, k1, s0, s1, np.uint64(f >> 2), f & 3, draws.shape[0], scratch_for(np.uint32))
    for j in range(draws.shape[0]):
        draws[j] = _exp1(raw[j])


def _rows(x, out, norm, eps, scales, lo, hi, k0, k1, s0, s1, first, nparts):
    # Row r is global sample first + r (sample_start). scales (n values in x's dtype)
    # rounds each row's double scale to the data's dtype.
    # Rows cost the same, so a static round-robin split is balanced. As
    # cpp/random_start.cpp: the row's draws once into the part's buffer, then the sum and
    # the writes read them
    n, d = x.shape
    for p in prange(nparts):
        draws = np.empty(d, np.float32)
        raw = np.empty(d if norm == 1 else 0, np.uint32)
        for r in range(p, n, nparts):
            g = first + r
            if norm == 2:
                _normals_row(g * d, draws, k0, k1, s0, s1)
                total = row_sum(_sq_term, draws, d)
            else:
                _exp_row(g * d, draws, raw, k0, k1, s0, s1)
                total = row_sum(_abs_term, draws, d)
            scales[r] = _scale(norm, g, d, total, eps[r], k0, k1, s0, s1)
            _write(x[r], out[r], draws, scales[r], lo, hi)


_spans_serial, _spans_parallel = jit_pair(_spans)
_rows_serial, _rows_parallel = jit_pair(_rows)


def random_start(x0, eps, norm, seed, substream, sample_start, lo, hi, out):
    if x0.size == 0:
        return
    x2, o2 = flat2(x0), flat2(out)
    t = x0.dtype.type
    k0, k1, s0, s1 = key(seed, substream)
    nparts = parts(x0.size)
    code = norm
    f0 = sample_start * x2.shape[1]  # the stream element of x0's first element
    if code == 0:
        e = per_row(eps, x2.shape[0], x0.dtype)
        (_spans_serial if nparts == 1 else _spans_parallel)(
            x2, o2, UNIFORM, e, t(lo), t(hi), k0, k1, s0, s1, np.uint64(f0 >> 2), np.int64(f0 & 3), nparts
        )
    else:
        e = per_row(eps, x2.shape[0], np.float64)
        scales = np.empty(x2.shape[0], x0.dtype)
        (_rows_serial if nparts == 1 else _rows_parallel)(
            x2, o2, code, e, scales, t(lo), t(hi), k0, k1, s0, s1, np.int64(sample_start), min(nparts, x2.shape[0])
        )
