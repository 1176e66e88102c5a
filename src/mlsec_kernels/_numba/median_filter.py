"""Numba port of cpp/median_filter.cpp: per output row, the window's columns sorted by
Batcher's network, then the pruned selection network run across the row (the same
networks as the C++ driver's table path, so the same element is returned)."""

from functools import cache

import numpy as np
from numba import njit, prange

from ._util import jit_pair, parts


@njit(cache=True, nogil=True)
def edge_index(i, n, mirror):
    if n == 1:
        return 0
    while i < 0 or i >= n:
        if i < 0:
            i = -i if mirror else -i - 1
        else:
            i = 2 * n - 2 - i if mirror else 2 * n - 1 - i
    return i


def _batcher(idx, net):
    """Appends Batcher's odd-even merge sort of the cells idx (ascending) to net."""
    n, p = len(idx), 1
    while p < n:
        k = p
        while k >= 1:
            for j in range(k % p, n - k, 2 * k):
                for i in range(min(k, n - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        net.append((idx[i + j], idx[i + j + k]))
            k //= 2
        p *= 2


@cache
def networks(h, w):
    """(column sort, selection steps (a, b, keep_min, keep_max), target cell), as
    column_sort() and selection() build them in cpp/median_filter.cpp."""
    cols = []
    _batcher(list(range(h)), cols)
    n, k = h * w, (h * w) // 2
    net = []
    for r in range(h):
        _batcher([r * w + c for c in range(w)], net)
    cand, below = [], 0
    for r in range(h):
        for c in range(w):
            if n - (h - r) * (w - c) < k:
                below += 1
            elif (r + 1) * (c + 1) - 1 <= k:
                cand.append(r * w + c)
    _batcher(cand, net)
    target = cand[k - below]
    need = [False] * n
    need[target] = True
    kept = []
    for a, b in reversed(net):
        if need[a] or need[b]:
            kept.append((a, b, need[a], need[b]))
            need[a] = need[b] = True
    sel = np.array(kept[::-1], dtype=np.int64).reshape(-1, 4)
    return np.array(cols, dtype=np.int64).reshape(-1, 2), sel, target


@njit(cache=True, nogil=True)
def _run(v, steps, count):
    for s in range(steps.shape[0]):
        a, b = v[steps[s, 0]], v[steps[s, 1]]
        lo = steps.shape[1] < 4 or steps[s, 2]
        hi = steps.shape[1] < 4 or steps[s, 3]
        for t in range(count):
            x, y = a[t], b[t]
            if lo:
                a[t] = y if y < x else x
            if hi:
                b[t] = y if x < y else x


def _median(x, h, w, cols, col_net, sel_net, target, mirror, out, nparts):
    # x, out: (planes, H, W, C) views; cols[j]: the input column of padded column j
    P, H, W, C = x.shape
    Wp = W + w - 1
    rows = P * C * H
    for part in prange(nparts):
        col = np.empty((h, Wp), dtype=x.dtype)
        work = np.empty((h * w, W), dtype=x.dtype)
        for q in range(rows * part // nparts, rows * (part + 1) // nparts):
            pc, i = q // H, q % H
            p, c = pc // C, pc % C
            for r in range(h):
                ii = edge_index(i - h // 2 + r, H, mirror)
                for j in range(Wp):
                    col[r, j] = x[p, ii, cols[j], c]
            _run(col, col_net, Wp)
            for r in range(h):
                for s in range(w):
                    work[r * w + s, :] = col[r, s : s + W]
            _run(work, sel_net, W)
            out[p, i, :, c] = work[target]


_serial, _parallel = jit_pair(_median)


def planes4(a, layout):
    """(planes, H, W, C) view of a contiguous 4-D or 5-D batch (C = 1 for NCHW)."""
    if layout == "NHWC":
        return a.reshape((-1,) + a.shape[-3:])
    return a.reshape((-1,) + a.shape[-2:] + (1,))


def median_filter(x, h, w, layout, mode, out):
    x4, mirror = planes4(x, layout), mode == "mirror"
    cols = np.array([edge_index(j - w // 2, x4.shape[2], mirror) for j in range(x4.shape[2] + w - 1)], dtype=np.int64)
    col_net, sel_net, target = networks(h, w)
    k = parts(x.size * h)
    (_serial if k == 1 else _parallel)(x4, h, w, cols, col_net, sel_net, target, mirror, planes4(out, layout), k)
