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


def _project_rows(d, eps, code):
    """Rows of d (float64, (N, D)) projected onto their eps-balls; eps has one value per row."""
    out = np.empty_like(d)
    for i, (v, e) in enumerate(zip(d, eps)):
        if code == 0:
            out[i] = np.clip(v, -e, e)
        elif code == 2:
            n2 = np.sqrt(np.sum(v * v))
            out[i] = v * (e / n2) if np.isfinite(n2) and n2 > e else v
        else:
            out[i] = _l1_ball(v, e)
    return out


def project(delta, eps, *, norm="inf"):
    """Euclidean projection of each sample of delta onto {||d||_p <= eps}.

    inf: clip to [-eps, eps]; 2: scale by eps/||d||_2 when ||d||_2 > eps; 1: soft
    threshold sign(d) * max(|d| - theta, 0) with theta such that the result's L1 norm is eps
    (Duchi et al. 2008; Condat 2016). A sample whose norm is not finite (NaN or inf in it)
    is returned unchanged by the L1 and L2 projections.
    """
    d = _rows(delta)
    eps = np.broadcast_to(np.asarray(eps, dtype=np.float64), (d.shape[0],))
    return _project_rows(d, eps, norm_code(norm)).reshape(np.shape(delta))


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


def pgd_step(x, x0, grad, step, eps, *, norm="inf", targeted=False, clip=(0.0, 1.0), l1_sparsity=0.99):
    """One projected gradient step (Madry et al. 2018):
    clip(x0 + P_eps(x + step * dir(grad) - x0)).

    dir: sign(g) for inf; g / ||g||_2 for 2; for 1, sign(g) on the coordinates selected
    by :func:`l1_quantile_mask`, divided by their count of nonzero g (unit L1 norm;
    Tramer & Boneh 2019). A zero gradient gives a zero step. targeted subtracts the step.
    NaN in a sample's grad makes that sample's L1/L2 direction NaN.
    """
    code = norm_code(norm)
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
    y = x0r + _project_rows(xn - x0r, eps, code)
    if clip is not None:
        y = np.clip(y, clip[0], clip[1])
    return y.reshape(shape)
