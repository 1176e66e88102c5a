"""Numba port of cpp/pixel_deflection.hpp / .cpp (word mapping there and in docs/rng.md).
NHWC batches are indexed through an (N, C, H, W) view."""

import numba
import numpy as np
from numba import prange

from ._util import PARALLEL_MIN, jit_pair
from .philox import block, key

_32 = np.uint64(32)


@numba.njit(inline="always")
def _below(w, n):
    return np.int64((w * np.uint64(n)) >> _32)


def _deflect(out, deflections, window, k0, k1, s0, s1, first):
    # plane t of the call is plane first + t of the whole batch (first = sample_start * C)
    n, c, h, w = out.shape
    for t in prange(n * c):
        r, ch = t // c, t % c
        b0 = (first + t) * deflections
        for k in range(deflections):
            w0, w1, w2, w3 = block(np.uint64(b0 + k), k0, k1, s0, s1)
            py, px = _below(w0, h), _below(w1, w)
            ly, hy = max(py - window, 0), min(py + window, h - 1)
            lx, hx = max(px - window, 0), min(px + window, w - 1)
            out[r, ch, py, px] = out[r, ch, ly + _below(w2, hy - ly + 1), lx + _below(w3, hx - lx + 1)]


_serial, _parallel = jit_pair(_deflect)


def pixel_deflection(x, deflections, window, layout, seed, substream, sample_start, out):
    if out is not x:
        out[...] = x
    if deflections == 0 or out.size == 0:
        return
    if layout == "NHWC":
        out = out.transpose(0, 3, 1, 2)
    k0, k1, s0, s1 = key(seed, substream)
    big = out.size + 16 * deflections * out.shape[1] >= PARALLEL_MIN
    first = np.int64(sample_start * out.shape[1])
    (_parallel if big else _serial)(out, deflections, window, k0, k1, s0, s1, first)
