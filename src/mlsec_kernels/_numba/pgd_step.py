"""Numba port of cpp/pgd_step.hpp and cpp/pgd_step.cpp."""
import numpy as np
from numba import njit, prange

from ._util import flat2, jit_pair, parts, per_row
from .project import l1_theta, soft
from .reduce import CHUNK, LANES, fold_into


@njit(cache=True)
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


@njit(cache=True)
def _l2_sums(x, x0, g):
    d = x.shape[0]
    acc, tot = np.zeros((3, LANES)), np.zeros(3)
    for c0 in range(0, d, CHUNK):
        c1 = min(d, c0 + CHUNK)
        for j0 in range(c0, c1, LANES):
            for l in range(min(LANES, c1 - j0)):
                e = np.float64(x[j0 + l]) - np.float64(x0[j0 + l])
                gd = np.float64(g[j0 + l])
                acc[0, l] += e * e
                acc[1, l] += e * gd
                acc[2, l] += gd * gd
        fold_into(acc, tot)
    return tot


@njit(cache=True)
def _delta(x, x0, g, c, thr):
    """cpp/pgd_step.hpp's pgd_l1_delta (NaN |g| counts as selected)."""
    return (x + c * np.sign(g) if not abs(g) < thr else x) - x0


@njit(cache=True)
def _l1_sums_into(x, x0, g, c, thr, a):
    d = x.shape[0]
    acc, tot = np.zeros((1, LANES)), np.zeros(1)
    for c0 in range(0, d, CHUNK):
        c1 = min(d, c0 + CHUNK)
        for j0 in range(c0, c1, LANES):
            for l in range(min(LANES, c1 - j0)):
                j = j0 + l
                v = abs(_delta(x[j], x0[j], g[j], c, thr))
                a[j] = v
                acc[0, l] += np.float64(v)
        fold_into(acc, tot)
    return tot[0]


@njit(cache=True)
def _l1_direction(g, q, s, a):
    """(c, thr) of the sparse direction (cpp/pgd_step.cpp's l1_direction)."""
    d = g.shape[0]
    for j in range(d):
        a[j] = abs(g[j])
        if g[j] != g[j]:
            return g.dtype.type(np.nan), g.dtype.type(0.0)
    pos = q * (d - 1)
    k = min(int(pos), d - 1)
    part = np.partition(a[:d], k)
    t = part[k]
    if pos - k != 0.0:
        nxt = part[k + 1:].min()
        if nxt != t:
            t = nxt
    m = 0
    for j in range(d):
        if a[j] >= t and a[j] != 0:
            m += 1
    return g.dtype.type(s / m if m > 0 else 0.0), t


def _samples(x, x0, g, s, eps, norm, q, lo, hi, out, nparts):
    n, d = x.shape
    for p in prange(nparts):
        a = np.empty(d, x.dtype)
        buf = np.empty(3 * d, x.dtype)
        for r in range(p, n, nparts):
            e = eps[r]
            if norm == 2:
                sums = _l2_sums(x[r], x0[r], g[r])
                gn = np.sqrt(sums[2])
                av = x.dtype.type(0.0 if gn == 0.0 else s[r] / gn)
                ad = np.float64(av)
                ss = sums[0] + 2.0 * ad * sums[1] + ad * ad * sums[2]
                nrm = np.sqrt(ss)
                sc = x.dtype.type(e / nrm if np.isfinite(nrm) and nrm > e else 1.0)
                for j in range(d):
                    out[r, j] = _clip(x0[r, j] + ((x[r, j] + av * g[r, j]) - x0[r, j]) * sc, lo, hi)
            else:
                c, thr = _l1_direction(g[r], q, s[r], a)
                l1 = _l1_sums_into(x[r], x0[r], g[r], c, thr, a)
                th = x.dtype.type(l1_theta(a, e, l1, buf) if np.isfinite(l1) and l1 > e else 0.0)
                for j in range(d):
                    out[r, j] = _clip(x0[r, j] + soft(_delta(x[r, j], x0[r, j], g[r, j], c, thr), th), lo, hi)


_inf_serial, _inf_parallel = jit_pair(_inf)
_serial, _parallel = jit_pair(_samples)


def pgd_step(x, x0, grad, step, eps, norm, targeted, l1_sparsity, lo, hi, out):
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
    (_serial if k == 1 else _parallel)(x2, x02, g2, s, e, norm, float(l1_sparsity), t(lo), t(hi), o2, min(k, n))
