"""Numba port of cpp/random_resize_pad.hpp / .cpp (OpenCV's resize conventions; see there).

NHWC batches are indexed through an (N, C, H, W) view, so one loop serves both layouts."""

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


def _resize(x, out, params, bilinear):
    n, c, h, w = x.shape
    side = out.shape[2]
    for r in prange(n):
        size, top, left = params[r, 0], params[r, 1], params[r, 2]
        step_x, step_y = 1.0 / (size / w), 1.0 / (size / h)
        c0 = np.empty(size, np.int64)
        c1 = np.empty(size, np.int64)
        a0 = np.empty(size, x.dtype)  # float32 weights, as T (cpp lerp2)
        a1 = np.empty(size, x.dtype)
        b = np.empty(2, x.dtype)
        for j in range(size):
            c0[j], c1[j], a0[j], a1[j] = _taps(j, step_x, w, True, bilinear)
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
                for j in range(size):
                    h0 = x[r, ch, s0, c0[j]] * a0[j] + x[r, ch, s0, c1[j]] * a1[j]
                    h1 = x[r, ch, s1, c0[j]] * a0[j] + x[r, ch, s1, c1[j]] * a1[j]
                    out[r, ch, y, left + j] = h0 * b[0] + h1 * b[1]


_serial, _parallel = jit_pair(_resize)


def random_resize_pad(x, params, out_size, layout, interpolation, out):
    if layout == "NHWC":
        x, out = x.transpose(0, 3, 1, 2), out.transpose(0, 3, 1, 2)
    if out.size == 0:
        return
    big = out.size >= PARALLEL_MIN
    (_parallel if big else _serial)(x, out, params, interpolation == "bilinear")
