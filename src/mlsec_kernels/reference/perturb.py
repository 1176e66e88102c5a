"""References for the perturbation ops (FGSM, PGD steps, Lp projections)."""

import numpy as np


def norm_code(norm):
    """0 for L-infinity ("inf", "linf", np.inf), 1 or 2 (int, float or str, "l1", "l2"):
    written here, not imported from the package, so the reference checks its parsing too."""
    if isinstance(norm, str):
        key = norm.strip().lower()
        key = key[1:] if key in ("linf", "l1", "l2") else key
        code = {"inf": 0, "1": 1, "2": 2}.get(key)
    elif isinstance(norm, (int, float, np.integer, np.floating)) and not isinstance(norm, (bool, np.bool_)):
        code = {np.inf: 0, 1.0: 1, 2.0: 2}.get(float(norm))
    else:
        code = None
    if code is None:
        raise ValueError(f"norm must be 'inf', 1 or 2 (also np.inf, 'l1', 'l2'), got {norm!r}")
    return code


def _per_sample(v, x):
    """A scalar or (N,) parameter shaped to broadcast over the sample axes of x."""
    v = np.asarray(v, dtype=np.float64)
    return v.reshape((-1,) + (1,) * (x.ndim - 1)) if v.ndim else v


def fgsm(x, grad, eps, *, targeted=False, clip=(0.0, 1.0)):
    """clip(x + eps * sign(grad)); a targeted step subtracts (Goodfellow et al. 2015)."""
    x = np.asarray(x, dtype=np.float64)
    s = -1.0 if targeted else 1.0
    y = x + s * _per_sample(eps, x) * np.sign(np.asarray(grad, dtype=np.float64))
    return y if clip is None else np.clip(y, clip[0], clip[1])


def _rows(a):
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(a.shape[0], -1)


def _l1_ball(v, eps):
    """Exact projection of one sample onto {||v||_1 <= eps}: sort-based (Duchi et al. 2008)."""
    a = np.abs(v)
    l1 = a.sum()
    if not (np.isfinite(l1) and l1 > eps):
        return v.copy()
    if eps == 0:
        return np.zeros_like(v)
    u = np.sort(a)[::-1]
    css = np.cumsum(u)
    j = np.arange(1, u.size + 1)
    active = np.nonzero(u * j > css - eps)[0]
    rho = active[-1] if active.size else 0  # j = 1 always qualifies, unless eps is below u's ulp
    theta = (css[rho] - eps) / (rho + 1)
    return np.sign(v) * np.maximum(a - theta, 0.0)


def _l2_box(v, eps, a, b):
    """argmin ||p - v|| over ||p||_2 <= eps, a <= p <= b: p = clip(s v, a, b) with s in [0, 1]
    the largest whose norm stays within eps (KKT; s = 1 / (1 + lambda)). N(s) = ||clip(s v)||^2
    is nondecreasing and piecewise quadratic between the scales where an element meets a
    bound; bisect over those breakpoints, then solve C + s^2 F = eps^2 on the piece."""
    if not np.isfinite(np.sum(v * v)):
        return np.clip(v, a, b)

    def sq(s):
        return np.sum(np.clip(s * v, a, b) ** 2)

    if sq(1.0) <= eps * eps:
        return np.clip(v, a, b)
    if sq(0.0) > eps * eps:  # no point of the box in the ball: the limit s -> 0
        return np.clip(0.0 * v, a, b)
    nz = v != 0
    with np.errstate(divide="ignore", invalid="ignore"):
        br = np.concatenate([a[nz] / v[nz], b[nz] / v[nz]])
    br = np.unique(np.concatenate([[0.0, 1.0], br[(br > 0) & (br < 1)]]))
    i, j = 0, br.size - 1  # sq(br[i]) <= eps^2 < sq(br[j])
    while j - i > 1:
        k = (i + j) // 2
        i, j = (k, j) if sq(br[k]) <= eps * eps else (i, k)
    w = 0.5 * (br[i] + br[j]) * v  # the piece's state: free where clip leaves w alone
    free = (w >= a) & (w <= b)
    c = np.clip(w, a, b)
    s = np.sqrt((eps * eps - np.sum(c[~free] ** 2)) / np.sum(v[free] ** 2))
    return np.clip(s * v, a, b)


def _l1_box(v, eps, a, b):
    """argmin ||p - v|| over ||p||_1 <= eps, a <= p <= b: p = clip(soft(v, tau), a, b) with
    tau >= 0 the smallest whose L1 norm stays within eps (KKT). M(tau) is nonincreasing and
    piecewise linear between the thresholds where an element meets a bound or 0; bisect
    over those breakpoints, then interpolate on the piece."""
    if not np.isfinite(np.sum(np.abs(v))):
        return np.clip(v, a, b)

    def p(t):
        return np.clip(np.sign(v) * np.maximum(np.abs(v) - t, 0.0), a, b)

    def m(t):
        return np.sum(np.abs(p(t)))

    if m(0.0) <= eps:
        return p(0.0)
    top = np.abs(v).max()
    if eps == 0 or m(top) > eps:  # tau = inf: the box's point nearest 0 (0 when it holds 0)
        return p(np.inf)
    av, sg = np.abs(v), np.sign(v)
    br = np.concatenate([av, av - sg * a, av - sg * b])
    br = np.unique(np.concatenate([[0.0, top], br[(br > 0) & (br < top)]]))
    i, j = 0, br.size - 1  # m(br[i]) > eps >= m(br[j])
    while j - i > 1:
        k = (i + j) // 2
        i, j = (k, j) if m(br[k]) > eps else (i, k)
    mi, mj = m(br[i]), m(br[j])
    return p(br[i] + (mi - eps) / (mi - mj) * (br[j] - br[i]))


def _project_rows(d, eps, code, lo=None, hi=None):
    """Rows of d (float64, (N, D)) projected onto their eps-balls; eps has one value per row.
    lo and hi (None, or (N, D) float64): the box the result must also lie in."""
    out = np.empty_like(d)
    for i, (v, e) in enumerate(zip(d, eps)):
        if code == 0:
            out[i] = np.clip(v, -e, e)
            if lo is not None:
                out[i] = np.clip(out[i], lo[i], hi[i])
        elif lo is not None:
            out[i] = (_l2_box if code == 2 else _l1_box)(v, e, lo[i], hi[i])
        elif code == 2:
            n2 = np.sqrt(np.sum(v * v))
            out[i] = v * (e / n2) if np.isfinite(n2) and n2 > e else v
        else:
            out[i] = _l1_ball(v, e)
    return out


def project(delta, eps, *, norm="inf", lo=None, hi=None):
    """Euclidean projection of each sample of delta onto {||d||_p <= eps}.

    inf: clip to [-eps, eps]; 2: scale by eps/||d||_2 when ||d||_2 > eps; 1: soft
    threshold sign(d) * max(|d| - theta, 0) with theta such that the result's L1 norm is eps
    (Duchi et al. 2008; Condat 2016). A sample whose norm is not finite (NaN or inf in it)
    is returned unchanged by the L1 and L2 projections.

    lo, hi (None, scalars or arrays like delta): the projection onto the ball intersected
    with the box [lo, hi] (_l2_box, _l1_box; a non-finite sample is only clipped).
    """
    d = _rows(delta)
    eps = np.broadcast_to(np.asarray(eps, dtype=np.float64), (d.shape[0],))
    if lo is None and hi is None:
        return _project_rows(d, eps, norm_code(norm)).reshape(np.shape(delta))
    lo = np.broadcast_to(np.asarray(-np.inf if lo is None else lo, np.float64).reshape(-1), (d.size,))
    hi = np.broadcast_to(np.asarray(np.inf if hi is None else hi, np.float64).reshape(-1), (d.size,))
    lo, hi = lo.reshape(d.shape), hi.reshape(d.shape)
    return _project_rows(d, eps, norm_code(norm), lo, hi).reshape(np.shape(delta))


def l1_quantile_mask(g, q):
    """The coordinates of the sparse L1 direction (Tramer & Boneh 2019) for one sample.

    |g| sorted ascending is a_0 <= ... <= a_{D-1}; the position is pos = q * (D - 1) in
    double, k = floor(pos), frac = pos - k (NumPy's linear quantile). The quantile lies at
    a_k when frac == 0 or a_{k+1} == a_k, else strictly between a_k and a_{k+1}; so the
    selected coordinates are |g| >= a_k in the first case and |g| > a_k in the second.
    """
    a = np.abs(g)
    s = np.sort(a)
    pos = q * (a.size - 1)
    k = int(np.floor(pos))
    frac = pos - k
    if frac == 0 or s[k + 1] == s[k]:
        return a >= s[k]
    return a > s[k]


def pgd_step(
    x, x0, grad, step, eps, *, norm="inf", targeted=False, clip=(0.0, 1.0), l1_sparsity=0.99, projection="exact"
):
    """One projected gradient step (Madry et al. 2018): x0 + P(x + step * dir(grad) - x0).

    dir: sign(g) for inf; g / ||g||_2 for 2; for 1, sign(g) on the coordinates selected
    by :func:`l1_quantile_mask`, divided by their count of nonzero g (unit L1 norm;
    Tramer & Boneh 2019). A zero gradient gives a zero step. targeted subtracts the step.
    NaN in a sample's grad makes that sample's L1/L2 direction NaN.

    P: "exact" projects onto the eps-ball intersected with the box [clip - x0]
    (:func:`project` with bounds), "ball_then_clip" onto the ball and then clips.
    """
    code = norm_code(norm)
    if projection not in ("exact", "ball_then_clip"):
        raise ValueError(f"projection must be 'exact' or 'ball_then_clip', got {projection!r}")
    if not 0.0 <= l1_sparsity <= 1.0:
        raise ValueError(f"l1_sparsity must be in [0, 1], got {l1_sparsity!r}")
    shape = np.shape(x)
    xr, x0r, g = _rows(x), _rows(x0), _rows(grad)
    n = xr.shape[0]
    step = np.broadcast_to(np.asarray(step, dtype=np.float64), (n,))
    eps = np.broadcast_to(np.asarray(eps, dtype=np.float64), (n,))
    sgn = -1.0 if targeted else 1.0
    direction = np.zeros_like(g)
    for i, gi in enumerate(g):
        if code == 0:
            direction[i] = np.sign(gi)
        elif np.isnan(gi).any():
            direction[i] = np.nan
        elif code == 2:
            n2 = np.sqrt(np.sum(gi * gi))
            direction[i] = gi / n2 if n2 > 0 else 0.0
        else:
            sel = l1_quantile_mask(gi, l1_sparsity) & (gi != 0)
            m = np.count_nonzero(sel)
            direction[i] = np.where(sel, np.sign(gi), 0.0) / max(m, 1)
    xn = xr + sgn * step[:, None] * direction
    # For inf the ball is a box too: clipping to it and then to [clip] is the projection onto
    # their intersection wherever it is not empty, and stays defined at a non-finite x0.
    if projection == "exact" and clip is not None and code != 0:
        y = x0r + _project_rows(xn - x0r, eps, code, clip[0] - x0r, clip[1] - x0r)
    else:
        y = x0r + _project_rows(xn - x0r, eps, code)
    if clip is not None:
        y = np.clip(y, clip[0], clip[1])
    return y.reshape(shape)
