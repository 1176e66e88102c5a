"""Numba port of cpp/median_filter.cpp: small windows by the networks of
cpp/median_filter_networks.hpp (its table path: per output row, the window's columns sorted
by Batcher's network, then the pruned selection network run across the row), every other
window, and rows whose windows hold a NaN, by ranks within tiles as in
cpp/median_filter_ranks.hpp. Every path selects the same element, so the results are equal."""

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
    column_sort() and selection() build them in cpp/median_filter_networks.hpp."""
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


def use_networks(h, w, itemsize):
    """use_networks() of cpp/median_filter.cpp: square windows up to 7, others up to 64, 50
    or 32 pixels for one-, two- or four-, and eight-byte dtypes."""
    return (h == w and h <= 7) or (h <= 15 and w <= 15 and h * w <= {1: 64, 8: 32}.get(itemsize, 50))


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


@njit(cache=True, nogil=True)
def _flip(rank, inw, at, add, m, below, nan_from, nan_in):
    q = rank[at]
    d = 1 if add else -1
    inw[q] = 1 if add else 0
    if q < m:
        below += d
    if q >= nan_from:
        nan_in += d
    return below, nan_in


@njit(cache=True, nogil=True)
def _tile(x, out, p, ch, i0, R, j0, C, h, w, mirror, tv, rank, inw):
    """The outputs [i0, i0 + R) x [j0, j0 + C) of plane (p, ch) by ranks (RankTiles::tile);
    a stable sort of the values, NaN last, as NumPy sorts."""
    H, W = x.shape[1], x.shape[2]
    TW, TH = C + w - 1, R + h - 1
    B = TH * TW
    for t in range(TH):
        ii = edge_index(i0 - h // 2 + t, H, mirror)
        for s in range(TW):
            jj = edge_index(j0 - w // 2 + s, W, mirror)
            tv[t * TW + s] = x[p, ii, jj, ch]
    order = np.argsort(tv[:B], kind="mergesort")
    for r in range(B):
        rank[order[r]] = r
    nan_from = B
    while nan_from > 0 and tv[order[nan_from - 1]] != tv[order[nan_from - 1]]:  # NaN
        nan_from -= 1
    inw[:B] = 0
    m, below, nan_in, k = 0, 0, 0, (h * w) // 2
    for t in range(h):
        for s in range(w):
            below, nan_in = _flip(rank, inw, t * TW + s, True, m, below, nan_from, nan_in)
    c = 0
    for r in range(R):
        if r > 0:
            for s in range(c, c + w):
                below, nan_in = _flip(rank, inw, (r - 1) * TW + s, False, m, below, nan_from, nan_in)
                below, nan_in = _flip(rank, inw, (r + h - 1) * TW + s, True, m, below, nan_from, nan_in)
        step = -1 if r % 2 else 1
        for n in range(C):
            if n > 0:
                gone, come = (c - 1, c + w - 1) if step > 0 else (c + w, c)
                for t in range(r, r + h):
                    below, nan_in = _flip(rank, inw, t * TW + gone, False, m, below, nan_from, nan_in)
                    below, nan_in = _flip(rank, inw, t * TW + come, True, m, below, nan_from, nan_in)
            while below > k:  # the median: the set rank m with k set ranks below it
                m -= 1
                while inw[m] == 0:
                    m -= 1
                below -= 1
            while True:
                while inw[m] == 0:
                    m += 1
                if below == k:
                    break
                below += 1
                m += 1
            if nan_in > 0:
                out[p, i0 + r, j0 + c, ch] = np.nan
            else:
                out[p, i0 + r, j0 + c, ch] = tv[order[m]]
            if n + 1 < C:
                c += step


@njit(cache=True, nogil=True)
def _rank_rows(x, out, p, ch, i0, i1, h, w, mirror, TR, TC, tv, rank, inw):
    W = x.shape[2]
    for i in range(i0, i1, TR):
        for j in range(0, W, TC):
            _tile(x, out, p, ch, i, min(TR, i1 - i), j, min(TC, W - j), h, w, mirror, tv, rank, inw)


def _median(x, h, w, nets, cols, col_net, sel_net, target, mirror, TR, TC, out, nparts):
    # x, out: (planes, H, W, C) views; cols[j]: the input column of padded column j
    P, H, W, C = x.shape
    Wp = W + w - 1
    rows = P * C * H
    cap = (TR + h - 1) * (TC + w - 1)
    for part in prange(nparts):
        col = np.empty((h, Wp) if nets else (1, 1), dtype=x.dtype)
        work = np.empty((h * w, W) if nets else (1, 1), dtype=x.dtype)
        tv = np.empty(cap, dtype=x.dtype)
        rank, inw = np.empty(cap, dtype=np.int64), np.empty(cap, dtype=np.uint8)
        q, end = rows * part // nparts, rows * (part + 1) // nparts
        while q < end:
            pc, i = q // H, q % H
            p, c = pc // C, pc % C
            i1 = min(H, i + end - q) if not nets else i + 1
            nan = False
            for r in range(h if nets else 0):
                ii = edge_index(i - h // 2 + r, H, mirror)
                for j in range(Wp):
                    v = x[p, ii, cols[j], c]
                    col[r, j] = v
                    nan = nan or v != v
            if nan or not nets:
                _rank_rows(x, out, p, c, i, i1, h, w, mirror, TR, TC, tv, rank, inw)
            else:
                _run(col, col_net, Wp)
                for r in range(h):
                    for s in range(w):
                        work[r * w + s, :] = col[r, s : s + W]
                _run(work, sel_net, W)
                out[p, i, :, c] = work[target]
            q += i1 - i


_serial, _parallel = jit_pair(_median)


def planes4(a, layout):
    """(planes, H, W, C) view of a contiguous 4-D or 5-D batch (C = 1 for NCHW)."""
    if layout == "NHWC":
        return a.reshape((-1,) + a.shape[-3:])
    return a.reshape((-1,) + a.shape[-2:] + (1,))


def median_filter(x, h, w, layout, mode, out):
    if x.size == 0:  # no pixel to filter (an empty batch, plane or axis)
        return
    x4, mirror = planes4(x, layout), mode == "mirror"
    H, W = x4.shape[1:3]
    nets = use_networks(h, w, x.dtype.itemsize)
    cols = np.array([edge_index(j - w // 2, W, mirror) for j in range(W + w - 1)], dtype=np.int64)
    col_net, sel_net, target = networks(h, w) if nets else networks(1, 1)
    TR, TC = min(H, max(32, 2 * h)), min(W, max(32, 2 * w))
    while (TR + h - 1) * (TC + w - 1) > 1 << 21 and (TR > 1 or TC > 1):
        if TR >= TC:
            TR = (TR + 1) // 2
        else:
            TC = (TC + 1) // 2
    k = parts(x.size * h)
    run = _serial if k == 1 else _parallel
    run(x4, h, w, nets, cols, col_net, sel_net, target, mirror, TR, TC, planes4(out, layout), k)
