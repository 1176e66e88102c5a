"""Numba port of cpp/project.hpp and cpp/project.cpp (the same estimate of the L1 theta,
then the same canonical fixed point, so the result matches the C++ bits)."""

import numpy as np
from numba import njit, prange

from ._util import flat2, jit_pair, parts, per_row
from .reduce import chunk_sums, row_sum


@njit(inline="always")
def _abs_pow_term(ctx, j):
    s, p = ctx
    v = np.float64(abs(s[j]))
    return (v * v if p == 2 else v,)


@njit(cache=True, nogil=True)
def sum_abs_pow(s, p):
    """The canonical sum of |s|**p, p in {1, 2}."""
    return row_sum(_abs_pow_term, (s, p), s.shape[0])


@njit(inline="always")
def _active_term(ctx, j):
    a, t = ctx
    v = np.float64(abs(a[j]))
    k = 1.0 if v > t else 0.0
    return k, v * k


@njit(cache=True, nogil=True)
def _active(a, t):
    """(count, sum) of |a| over |a| > t, canonically summed."""
    tot = np.zeros(2)
    chunk_sums(_active_term, (a, t), 0, a.shape[0], tot)
    return tot[0], tot[1]


@njit(cache=True, nogil=True)
def _condat(a, eps, buf):
    d = a.shape[0]
    vb, ve = 0, 1
    buf[0] = a[0]
    rho = np.float64(a[0]) - eps
    for j in range(1, d):
        y = np.float64(a[j])
        if y <= rho:
            continue
        rho += (y - rho) / (ve - vb + 1)
        if rho > y - eps:
            buf[ve] = a[j]
        else:
            vb = ve
            buf[ve] = a[j]
            rho = y - eps
        ve += 1
    for i in range(vb):
        y = np.float64(buf[i])
        if y > rho:
            buf[ve] = buf[i]
            ve += 1
            rho += (y - rho) / (ve - vb)
    changed = True
    while changed:
        changed = False
        w, cnt = vb, ve - vb
        for i in range(vb, ve):
            y = np.float64(buf[i])
            if y <= rho:
                cnt -= 1
                if cnt > 0:
                    rho += (rho - y) / cnt
                changed = True
            else:
                buf[w] = buf[i]
                w += 1
        ve = w
    return rho


@njit(cache=True, nogil=True)
def _compact_above(src, n, rho, dst):
    """|src[:n]| above rho into dst (may be src), branch-free; (count, sum)."""
    r = src.dtype.type(rho)
    w, s = 0, 0.0
    for j in range(n):
        y = abs(src[j])
        keep = y > r
        dst[w] = y
        w += keep
        s += np.float64(y) * keep
    return w, s


@njit(cache=True, nogil=True)
def _block_maxima(a, dst):
    d = a.shape[0]
    nb, s = 0, 0.0
    for j0 in range(0, d, 32):
        m = abs(a[j0])
        for j in range(j0 + 1, min(d, j0 + 32)):
            m = max(m, abs(a[j]))
        dst[nb] = m
        nb += 1
        s += np.float64(m)
    return nb, s


@njit(cache=True, nogil=True)
def _sweeps(buf, n, s, eps, count):
    """cpp/project.cpp's sweeps: (rho, survivors, settled)."""
    rho = (s - eps) / n
    for _ in range(count):
        m, s = _compact_above(buf, n, rho, buf)
        if m == n or m == 0:
            return rho, n, True
        n = m
        rho = (s - eps) / m
    return rho, n, False


STEPS = 4  # cpp/project.cpp's kSteps


@njit(cache=True, nogil=True)
def l1_theta(a, eps, l1, buf):
    """theta of the L1 projection of a (its |a| is used; sum |a| = l1 > eps): cpp/project.cpp's
    l1_estimate, then cpp/project.hpp's l1_refine."""
    if not eps > 0.0:
        return np.inf
    d = a.shape[0]
    t = (l1 - eps) / d
    nb, s = _block_maxima(a, buf)
    if s > eps:
        t = max(t, _sweeps(buf, nb, s, eps, 64)[0])
    settled = False
    for _ in range(STEPS):
        cnt, s = _active(a, t)
        if cnt == 0.0:
            settled = True
            break
        nxt = (s - eps) / cnt
        if not nxt > t:
            if nxt == t:
                return t
            settled = True
            break
        t = nxt
    if not settled:
        n, s = _compact_above(a, d, t, buf)
        if n > 0:
            t, n, settled = _sweeps(buf, n, s, eps, STEPS)
            if not settled:
                t = _condat(buf[:n], eps, buf[n:])
    theta, prev = t, -1.0
    for _ in range(100):
        cnt, s = _active(a, t)
        if cnt == 0.0 and prev < 0.0:
            t, prev = 0.0, 0.0
            continue
        if cnt == prev or cnt == 0.0:
            break
        prev = cnt
        theta = (s - eps) / cnt
        t = theta
    return theta


@njit(cache=True, nogil=True)
def soft(d, th):
    """cpp/project.hpp's soft_elem (th = 0 passes every value, NaN included, through)."""
    a = abs(d) - th
    if not a <= 0:
        return -a if d < 0 else a
    return d - d  # +0 in d's type: d is finite here


def _project(s, eps, norm, out, nparts):
    n, d = s.shape
    for p in prange(nparts):
        buf = np.empty(3 * d, s.dtype)
        for r in range(p, n, nparts):
            e = eps[r]
            if norm == 2:
                ss = sum_abs_pow(s[r], 2)
                nrm = np.sqrt(ss)
                sc = s.dtype.type(e / nrm if np.isfinite(nrm) and nrm > e else 1.0)
                for j in range(d):
                    out[r, j] = s[r, j] * sc
            else:
                l1 = sum_abs_pow(s[r], 1)
                th = s.dtype.type(l1_theta(s[r], e, l1, buf) if np.isfinite(l1) and l1 > e else 0.0)
                for j in range(d):
                    out[r, j] = soft(s[r, j], th)


_serial, _parallel = jit_pair(_project)


def _inf(s, eps, out):
    n, d = s.shape
    for r in prange(n):
        e = s.dtype.type(eps[r])
        for j in range(d):
            v = s[r, j]
            out[r, j] = -e if v < -e else (e if v > e else v)


_inf_serial, _inf_parallel = jit_pair(_inf)


def project(delta, eps, norm, out):
    s2, o2 = flat2(delta), flat2(out)
    n, d = s2.shape
    e = per_row(eps, n, np.float64)
    if n * d == 0:
        return
    k = parts(delta.size)
    if norm == 0:
        (_inf_serial if k == 1 else _inf_parallel)(s2, e, o2)
        return
    (_serial if k == 1 else _parallel)(s2, e, norm, o2, min(k, n))
