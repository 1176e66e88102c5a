"""Numba port of cpp/random_resize_pad.hpp / .cpp (OpenCV's resize conventions; see there).

NHWC batches are indexed through an (N, C, H, W) view, so one loop serves both layouts.
Integer data mixes in float64 with weights (1 - f, f), then rounds half to even and
saturates (cpp mix2, resize_store)."""

import numba
import numpy as np
from numba import prange

from ._util import PARALLEL_MIN, jit_pair

f32 = np.float32


@numba.njit(inline="always")
def _taps(dst, step, n_in, edge_weight, bilinear):
    """(s0, s1, a0, a1) of one output coordinate (cpp nearest_src / linear_taps)."""
    if not bilinear:
        s = min(np.int64(np.floor(np.float64(dst) * step)), n_in - 1)
        return s, s, f32(1.0), f32(0.0)
    g = (np.float64(dst) + 0.5) * step - 0.5
    s = np.int64(np.floor(g))
    f = f32(g - s)
    if edge_weight:
        if s < 0:
            s, f = 0, f32(0.0)
        if s >= n_in - 1:
            s, f = n_in - 1, f32(0.0)
    return min(max(s, 0), n_in - 1), min(max(s + 1, 0), n_in - 1), f32(1.0) - f, f


@numba.njit(inline="always")
def _store(out, r, ch, y, q, v, rounds, flo, ftop, tmin, tmax):
    """out[r, ch, y, q] = v; for integer out (rounds), rint(v) saturated to [tmin, tmax] (flo,
    ftop: tmin and tmax + 1 as float64). Three separate stores: one expression would unify
    tmax with the float and lose uint64's max."""
    if not rounds:
        out[r, ch, y, q] = v
        return
    v = np.rint(v)
    if v >= ftop:
        out[r, ch, y, q] = tmax
    elif v >= flo:
        out[r, ch, y, q] = v
    else:
        out[r, ch, y, q] = tmin


def _resize(x, out, params, bilinear, calc, rounds, flo, ftop, tmin, tmax):
    # calc: a zero of the mixing type (x's float type, float64 for integer x)
    n, c, h, w = x.shape
    side = out.shape[2]
    for r in prange(n):
        size, top, left = params[r, 0], params[r, 1], params[r, 2]
        step_x, step_y = 1.0 / (size / w), 1.0 / (size / h)
        c0 = np.empty(size, np.int64)
        c1 = np.empty(size, np.int64)
        a0 = np.full(size, calc)  # float32 weights, widened to the mixing type (cpp mix2)
        a1 = np.full(size, calc)
        b = np.full(2, calc)
        for j in range(size):
            c0[j], c1[j], a0[j], a1[j] = _taps(j, step_x, w, True, bilinear)
            if rounds:  # integer data: (1 - f, f) in float64, summing to 1
                a0[j] = 1.0 - a1[j]
        for ch in range(c):
            for y in range(side):
                iy = y - top
                if iy < 0 or iy >= size:
                    out[r, ch, y, :] = 0
                    continue
                s0, s1, b0f, b1f = _taps(iy, step_y, h, False, bilinear)
                out[r, ch, y, :left] = 0
                out[r, ch, y, left + size :] = 0
                if not bilinear:
                    for j in range(size):
                        out[r, ch, y, left + j] = x[r, ch, s0, c0[j]]
                    continue
                b[0], b[1] = b0f, b1f
                if rounds:
                    b[0] = 1.0 - b[1]
                for j in range(size):
                    h0 = x[r, ch, s0, c0[j]] * a0[j] + x[r, ch, s0, c1[j]] * a1[j]
                    h1 = x[r, ch, s1, c0[j]] * a0[j] + x[r, ch, s1, c1[j]] * a1[j]
                    _store(out, r, ch, y, left + j, h0 * b[0] + h1 * b[1], rounds, flo, ftop, tmin, tmax)


_serial, _parallel = jit_pair(_resize)


def random_resize_pad(x, params, out_size, layout, interpolation, out):
    if layout == "NHWC":
        x, out = x.transpose(0, 3, 1, 2), out.transpose(0, 3, 1, 2)
    if out.size == 0:
        return
    big = out.size >= PARALLEL_MIN
    t = out.dtype
    if t.kind == "f":
        args = (t.type(0), False, 0.0, 0.0, t.type(0), t.type(0))
    else:
        info = np.iinfo(t)
        args = (0.0, True, float(info.min), float(info.max) + 1.0, t.type(info.min), t.type(info.max))
    (_parallel if big else _serial)(x, out, params, interpolation == "bilinear", *args)
