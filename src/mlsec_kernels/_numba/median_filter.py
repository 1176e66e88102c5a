"""Numba port of cpp/median_filter.hpp: per pixel, the window's element of rank (h*w)/2
(the C++ driver's networks and this selection return the same element)."""
import numpy as np
from numba import njit, prange

from ._util import jit_pair, parts


@njit(cache=True)
def edge_index(i, n, mirror):
    if n == 1:
        return 0
    while i < 0 or i >= n:
        if i < 0:
            i = -i if mirror else -i - 1
        else:
            i = 2 * n - 2 - i if mirror else 2 * n - 1 - i
    return i


@njit(cache=True)
def _select_kth(v, n, k):
    lo, hi = 0, n - 1
    while lo < hi:
        pivot = v[(lo + hi) // 2]
        i, j = lo, hi
        while i <= j:
            while v[i] < pivot:
                i += 1
            while pivot < v[j]:
                j -= 1
            if i <= j:
                v[i], v[j] = v[j], v[i]
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    return v[k]


def _median(x, h, w, cols, mirror, out, nparts):
    # x, out: (planes, H, W, C) views; cols[j + c]: the input column of window column c at j
    P, H, W, C = x.shape
    rows = P * C * H
    for part in prange(nparts):
        v = np.empty(h * w, dtype=x.dtype)
        ri = np.empty(h, dtype=np.int64)
        for q in range(rows * part // nparts, rows * (part + 1) // nparts):
            pc, i = q // H, q % H
            p, c = pc // C, pc % C
            for r in range(h):
                ri[r] = edge_index(i - h // 2 + r, H, mirror)
            for j in range(W):
                for r in range(h):
                    for s in range(w):
                        v[r * w + s] = x[p, ri[r], cols[j + s], c]
                out[p, i, j, c] = _select_kth(v, h * w, (h * w) // 2)


_serial, _parallel = jit_pair(_median)


def planes4(a, layout):
    """(planes, H, W, C) view of a contiguous 4-D or 5-D batch (C = 1 for NCHW)."""
    if layout == "NHWC":
        return a.reshape((-1,) + a.shape[-3:])
    return a.reshape((-1,) + a.shape[-2:] + (1,))


def median_filter(x, h, w, layout, mode, out):
    x4, mirror = planes4(x, layout), mode == "mirror"
    cols = np.array([edge_index(j - w // 2, x4.shape[2], mirror) for j in range(x4.shape[2] + w - 1)], dtype=np.int64)
    k = parts(x.size * h)
    (_serial if k == 1 else _parallel)(x4, h, w, cols, mirror, planes4(out, layout), k)
