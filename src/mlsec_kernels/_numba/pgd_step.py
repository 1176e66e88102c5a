"""Numba port of cpp/pgd_step.hpp and cpp/pgd_step.cpp."""

import numpy as np
from numba import njit, prange

from .._constants import PROJECTION_EXACT
from ._util import flat2, jit_pair, parts, per_row
from .project import l1_box_term, l1_box_threshold, l1_theta, l2_box_scale, l2_box_term, soft
from .reduce import chunk_sums, row_sum


@njit(cache=True, nogil=True)
def _clip(v, lo, hi):
    return lo if v < lo else (hi if v > hi else v)


def _inf(x, x0, g, s, eps, lo, hi, out):
    n, d = x.shape
    for r in prange(n):
        sr, e = x.dtype.type(s[r]), x.dtype.type(eps[r])
        for j in range(d):
            dl = (x[r, j] + sr * np.sign(g[r, j])) - x0[r, j]
            dl = -e if dl < -e else (e if dl > e else dl)
            out[r, j] = _clip(x0[r, j] + dl, lo, hi)


@njit(inline="always")
def _l2_term(ctx, j):
    x, x0, g = ctx
    e = np.float64(x[j]) - np.float64(x0[j])
    gd = np.float64(g[j])
    return e * e, e * gd, gd * gd


@njit(cache=True, nogil=True)
def _l2_sums(x, x0, g):
    tot = np.zeros(3)
    chunk_sums(_l2_term, (x, x0, g), 0, x.shape[0], tot)
    return tot


@njit(cache=True, nogil=True)
def _delta(x, x0, g, c, thr):
    """cpp/pgd_step.hpp's pgd_l1_delta (NaN |g| counts as selected)."""
    return (x + c * np.sign(g) if not abs(g) < thr else x) - x0


@njit(inline="always")
def _l2_box(ctx, j):
    x, x0, g, a, lo, hi, t = ctx
    return l2_box_term((x[j] + a * g[j]) - x0[j], x0[j], lo, hi, x.dtype.type(t))


@njit(inline="always")
def _l1_term(ctx, j):
    x, x0, g, c, thr, a = ctx
    a[j] = _delta(x[j], x0[j], g[j], c, thr)
    return (np.float64(abs(a[j])),)


@njit(cache=True, nogil=True)
def _l1_sums_into(x, x0, g, c, thr, a):
    """delta into a, and its canonical L1 norm."""
    return row_sum(_l1_term, (x, x0, g, c, thr, a), x.shape[0])


@njit(inline="always")
def _l1_box(ctx, j):
    v, x0, lo, hi, t = ctx
    x0d = np.float64(x0[j])
    return l1_box_term(np.float64(v[j]), np.float64(lo) - x0d, np.float64(hi) - x0d, t)


@njit(cache=True, nogil=True)
def _abs_order_stat(g, gb, kbits, kinf, k, idx):
    """cpp/pgd_step.cpp's abs_order_stat: the k-th smallest |g| by radix select over the
    bits gb (g viewed as signed integers, sign masked off), compacting candidate indices
    into idx. Returns (value, has_nan)."""
    d = g.shape[0]
    absmask = (np.int64(1) << kbits) - 1
    hist = np.empty(1 << 11, np.int64)
    n, hi, first = d, kbits, True
    while True:
        lo = hi - 11 if hi > 11 else 0
        mask = (np.int64(1) << (hi - lo)) - 1
        hist[: mask + 1] = 0
        for i in range(n):
            j = i if first else idx[i]
            u = np.int64(gb[j]) & absmask
            if first and u > kinf:
                return g[j], True
            hist[(u >> lo) & mask] += 1
        b = 0
        while hist[b] <= k:
            k -= hist[b]
            b += 1
        w = 0
        for i in range(n):
            j = i if first else idx[i]
            if ((np.int64(gb[j]) & absmask) >> lo) & mask == b:
                idx[w] = j
                w += 1
        if lo == 0:
            return abs(g[idx[0]]), False
        n, hi, first = w, lo, False


@njit(cache=True, nogil=True)
def _l1_direction(g, gb, kbits, kinf, q, s, idx):
    """(c, thr) of the sparse direction (cpp/pgd_step.cpp's l1_direction)."""
    d = g.shape[0]
    pos = q * (d - 1)
    k = min(int(pos), d - 1)
    t, nan = _abs_order_stat(g, gb, kbits, kinf, k, idx)
    if nan:
        return g.dtype.type(np.nan), g.dtype.type(0.0)
    if pos - k != 0.0:
        le, nxt = 0, g.dtype.type(np.inf)
        for j in range(d):
            y = abs(g[j])
            le += y <= t
            if y > t and y < nxt:
                nxt = y
        if le < k + 2:
            t = nxt
    m = 0
    for j in range(d):
        if abs(g[j]) >= t and g[j] != 0:
            m += 1
    return g.dtype.type(s / m if m > 0 else 0.0), t


def _samples(x, x0, g, gb, kbits, kinf, s, eps, norm, q, lo, hi, boxed, out, nparts):
    n, d = x.shape
    for p in prange(nparts):
        a = np.empty(d, x.dtype)
        idx = np.empty(d, np.int64)
        buf = np.empty(3 * d, x.dtype)
        for r in range(p, n, nparts):
            e = eps[r]
            if norm == 2:
                sums = _l2_sums(x[r], x0[r], g[r])
                gn = np.sqrt(sums[2])
                av = x.dtype.type(0.0 if gn == 0.0 else s[r] / gn)
                ad = np.float64(av)
                ag = ad * gn  # a^2 gg as (a ||g||)^2, as in C++: a^2 overflows for a tiny g
                ss = sums[0] + 2.0 * ad * sums[1] + ag * ag
                nrm = np.sqrt(ss)
                scd = e / nrm if np.isfinite(nrm) and nrm > e else 1.0
                if boxed and np.isfinite(ss) and scd > 0.0:
                    scd = l2_box_scale(scd, e, _l2_box, (x[r], x0[r], g[r], av, lo, hi), d)
                sc = x.dtype.type(scd)
                for j in range(d):
                    out[r, j] = _clip(x0[r, j] + ((x[r, j] + av * g[r, j]) - x0[r, j]) * sc, lo, hi)
            else:
                c, thr = _l1_direction(g[r], gb[r], kbits, kinf, q, s[r], idx)
                l1 = _l1_sums_into(x[r], x0[r], g[r], c, thr, a)
                thd = l1_theta(a, e, l1, buf) if np.isfinite(l1) and l1 > e else 0.0
                if boxed and np.isfinite(l1):
                    thd = l1_box_threshold(thd, l1, e, _l1_box, (a, x0[r], lo, hi), d)
                th = x.dtype.type(thd)
                for j in range(d):
                    out[r, j] = _clip(x0[r, j] + soft(_delta(x[r, j], x0[r, j], g[r, j], c, thr), th), lo, hi)


_inf_serial, _inf_parallel = jit_pair(_inf)
_serial, _parallel = jit_pair(_samples)


def pgd_step(x, x0, grad, step, eps, norm, targeted, l1_sparsity, lo, hi, projection, out):
    x2, x02, g2, o2 = flat2(x), flat2(x0), flat2(grad), flat2(out)
    n, d = x2.shape
    if n * d == 0:
        return
    s = per_row(step, n, np.float64) * (-1.0 if targeted else 1.0)
    e = per_row(eps, n, np.float64)
    t = x.dtype.type
    k = parts(x.size)
    if norm == 0:
        (_inf_serial if k == 1 else _inf_parallel)(x2, x02, g2, s, e, t(lo), t(hi), o2)
        return
    # |g| as ordered integers for the radix select (cpp/pgd_step.cpp's AbsBits)
    single = x.dtype == np.float32
    gb = g2.view(np.int32 if single else np.int64)
    kbits, kinf = (31, 0x7F800000) if single else (63, 0x7FF0000000000000)
    # cpp/pgd_step.hpp's pgd_boxed: the exact projection, with a box to search
    boxed = projection == PROJECTION_EXACT and not (t(lo) == -np.inf and t(hi) == np.inf)
    (_serial if k == 1 else _parallel)(
        x2, x02, g2, gb, kbits, kinf, s, e, norm, float(l1_sparsity), t(lo), t(hi), boxed, o2, min(k, n)
    )
