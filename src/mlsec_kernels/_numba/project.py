"""Numba port of cpp/project.hpp and cpp/project.cpp (the same estimate of the L1 theta,
then the same canonical fixed point, so the result matches the C++ bits)."""

import numpy as np
from numba import njit, prange

from ._util import flat2, jit_pair, parts, per_row
from .reduce import chunk_sums, lanes, row_sum


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


BOX_ROUNDS = 100  # cpp/project.hpp's kBoxRounds


@njit(inline="always")
def l2_box_term(v, base, lo, hi, t):
    """cpp/project.hpp's l2_box_term (v, base, lo, hi, t in the data's dtype; the terms in it
    too, returned as float64)."""
    y = base + t * v
    a = lo if lo > y else y
    cl = hi if hi < a else a
    if cl == y:
        return 0.0, np.float64(v * v), 0.0
    c = cl - base
    return np.float64(c * c), 0.0, 1.0


@njit(inline="always")
def l1_box_term(v, a, b, t):
    """cpp/project.hpp's l1_box_term (float64 arguments)."""
    av = -v if v < 0.0 else v
    m = av - t
    w = (-m if v < 0.0 else m) if m > 0.0 else 0.0
    c = a if w < a else (b if w > b else w)
    if m > 0.0 and c == w:
        return 0.0, 1.0, av
    return (-c if c < 0.0 else c), 0.0, 0.0


@njit(inline="always")
def box_search(norm, x, lo, hi, term, ctx, d, e, s0, l1):
    """cpp/project.hpp's largest_feasible (with `same` always false: the same result) with
    the step of l2_box_scale (norm 2: x is the scale) or l1_box_threshold (norm 1: x =
    -tau); term(ctx + (t,), j) gives the statistics of element j at t (t converted to the
    data's dtype by the L2 terms)."""
    lo0, hi0 = lo, hi
    lo_seen, hi_seen = False, False
    e2 = e * e
    tot = lanes()[0, :3]
    for _ in range(BOX_ROUNDS):
        t = x if norm == 2 else -x
        tot[:] = 0.0
        chunk_sums(term, ctx + (t,), 0, d, tot)
        if norm == 2:
            ok = tot[0] + t * t * tot[1] <= e2
            if tot[2] == 0.0:
                nxt = s0
            elif tot[1] > 0.0 and tot[0] <= e2:
                nxt = np.sqrt(e2 - tot[0]) / np.sqrt(tot[1])
            else:
                nxt = 1.0 if ok else 0.0
        else:
            ok = tot[0] + (tot[2] - t * tot[1]) <= e
            if tot[1] > 0.0:
                nxt = -((tot[0] + tot[2] - e) / tot[1])
            else:
                nxt = 0.0 if ok else -l1
        if nxt == x or (ok and x == hi0) or (not ok and x == lo0):
            return x
        if ok:
            lo, lo_seen = x, True
        else:
            hi, hi_seen = x, True
        nxt = lo0 if nxt < lo0 else (hi0 if nxt > hi0 else nxt)
        inside = (nxt > lo or (not lo_seen and nxt == lo)) and (nxt < hi or (not hi_seen and nxt == hi))
        if not inside:
            nxt = lo + 0.5 * (hi - lo)
            if not (nxt > lo and nxt < hi):
                return lo
        x = nxt
    return lo


@njit(inline="always")
def l2_box_scale(s0, e, term, ctx, d):
    """cpp/project.hpp's l2_box_scale."""
    return box_search(2, s0, 0.0, 1.0, term, ctx, d, e, s0, 0.0)


@njit(inline="always")
def l1_box_threshold(th0, l1, e, term, ctx, d):
    """cpp/project.hpp's l1_box_threshold."""
    if not e > 0.0:
        return np.inf
    return -box_search(1, -th0, -l1, 0.0, term, ctx, d, e, 0.0, l1)


@njit(inline="always")
def _l2_box(ctx, j):
    s, lo, hi, k, t = ctx  # k: 1 for array bounds, 0 for one value (box_rows)
    return l2_box_term(s[j], s.dtype.type(-0.0), lo[j * k[0]], hi[j * k[1]], s.dtype.type(t))


@njit(inline="always")
def _l1_box(ctx, j):
    s, lo, hi, k, t = ctx
    return l1_box_term(np.float64(s[j]), np.float64(lo[j * k[0]]), np.float64(hi[j * k[1]]), t)


@njit(cache=True, nogil=True)
def _clip(v, lo, hi):
    """cpp/common.hpp's clampv (NaN passes through)."""
    a = lo if lo > v else v
    return hi if hi < a else a


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


def _project_box(s, eps, norm, lo, hi, k, out, nparts):
    """cpp/project.cpp's project_box for every sample; lo and hi from box_rows, k their
    element steps."""
    n, d = s.shape
    for p in prange(nparts):
        buf = np.empty(3 * d, s.dtype)
        for r in range(p, n, nparts):
            e, sr, lr, hr = eps[r], s[r], lo[r * k[0]], hi[r * k[1]]
            if norm == 2:
                ss = sum_abs_pow(sr, 2)
                nrm = np.sqrt(ss)
                sc = e / nrm if np.isfinite(nrm) and nrm > e else 1.0
                if np.isfinite(ss) and sc > 0.0:
                    sc = l2_box_scale(sc, e, _l2_box, (sr, lr, hr, k), d)
                t = s.dtype.type(sc)
                for j in range(d):
                    out[r, j] = _clip(sr[j] * t, lr[j * k[0]], hr[j * k[1]])
            else:
                l1 = sum_abs_pow(sr, 1)
                th = 0.0
                if np.isfinite(l1):
                    th0 = l1_theta(sr, e, l1, buf) if l1 > e else 0.0
                    th = l1_box_threshold(th0, l1, e, _l1_box, (sr, lr, hr, k), d)
                t = s.dtype.type(th)
                for j in range(d):
                    out[r, j] = _clip(soft(sr[j], t), lr[j * k[0]], hr[j * k[1]])


_serial, _parallel = jit_pair(_project)
_box_serial, _box_parallel = jit_pair(_project_box)


def _inf(s, eps, out):
    n, d = s.shape
    for r in prange(n):
        e = s.dtype.type(eps[r])
        for j in range(d):
            v = s[r, j]
            out[r, j] = -e if v < -e else (e if v > e else v)


def _inf_box(s, eps, lo, hi, k, out):
    n, d = s.shape
    for r in prange(n):
        e = s.dtype.type(eps[r])
        lr, hr = lo[r * k[0]], hi[r * k[1]]
        for j in range(d):
            v = s[r, j]
            out[r, j] = _clip(-e if v < -e else (e if v > e else v), lr[j * k[0]], hr[j * k[1]])


_inf_serial, _inf_parallel = jit_pair(_inf)
_inf_box_serial, _inf_box_parallel = jit_pair(_inf_box)


def box_rows(b, like2):
    """A bound (a float or an array like the data) as a C-contiguous 2-D array in the data's
    dtype, and its element step: (n, d) and 1, or one value as (1, 1) and 0 (indexed
    [r * step][j * step]: one compiled kernel for every mix of scalar and array bounds)."""
    if isinstance(b, float):
        return np.full((1, 1), b, like2.dtype), 0
    return flat2(b), 1


def project(delta, eps, norm, lo, hi, out):
    s2, o2 = flat2(delta), flat2(out)
    n, d = s2.shape
    e = per_row(eps, n, np.float64)
    if n * d == 0:
        return
    k = parts(delta.size)
    if isinstance(lo, float) and isinstance(hi, float) and lo == -np.inf and hi == np.inf:
        if norm == 0:
            (_inf_serial if k == 1 else _inf_parallel)(s2, e, o2)
        else:
            (_serial if k == 1 else _parallel)(s2, e, norm, o2, min(k, n))
        return
    (lo2, ls), (hi2, hs) = box_rows(lo, s2), box_rows(hi, s2)
    steps = np.array([ls, hs], np.uint64)
    if norm == 0:
        (_inf_box_serial if k == 1 else _inf_box_parallel)(s2, e, lo2, hi2, steps, o2)
    else:
        (_box_serial if k == 1 else _box_parallel)(s2, e, norm, lo2, hi2, steps, o2, min(k, n))
