"""Independent checks of the projection onto a ball intersected with a box,
argmin ||z - v||_2 subject to ||z||_p <= eps and a <= z <= b (p = 1 or 2), for
tests/test_project.py and tests/test_pgd_step.py: SciPy's SLSQP on small problems, and the
KKT conditions on any size. Neither uses the package's code or its reference."""

import numpy as np
from scipy.optimize import minimize


def brute(v, eps, a, b, p):
    """The projection by SLSQP (small d; about 1e-8 accurate). For p = 1, z = u - w with
    u, w >= 0 makes the L1 constraint linear."""
    d = v.size
    opts = {"ftol": 1e-15, "maxiter": 1000}
    z0 = np.clip(np.zeros(d), a, b)
    if p == 2:
        ball = {"type": "ineq", "fun": lambda z: eps**2 - z @ z, "jac": lambda z: -2 * z}
        r = minimize(
            lambda z: 0.5 * np.sum((z - v) ** 2),
            z0,
            jac=lambda z: z - v,
            bounds=list(zip(a, b)),
            constraints=[ball],
            method="SLSQP",
            options=opts,
        )
        return r.x
    split = np.hstack([np.eye(d), -np.eye(d)])
    cons = [
        {"type": "ineq", "fun": lambda w: eps - w.sum(), "jac": lambda w: -np.ones(2 * d)},
        {"type": "ineq", "fun": lambda w: split @ w - a, "jac": lambda w: split},
        {"type": "ineq", "fun": lambda w: b - split @ w, "jac": lambda w: -split},
    ]
    r = minimize(
        lambda w: 0.5 * np.sum((split @ w - v) ** 2),
        np.concatenate([np.maximum(z0, 0), np.maximum(-z0, 0)]),
        jac=lambda w: split.T @ (split @ w - v),
        bounds=[(0, None)] * (2 * d),
        constraints=cons,
        method="SLSQP",
        options=opts,
    )
    return split @ r.x


def kkt_violation(v, eps, a, b, z, p):
    """How far z is from satisfying the KKT conditions of the projection of v (float64,
    relative to the problem's scale); 0 when it is the projection. Requires 0 in [a, b].

    p = 2: z = clip(s v, a, b) with s = 1 / (1 + lambda) in [0, 1], and s < 1 only if
    ||z|| = eps. p = 1: z = clip(sign(v) max(|v| - tau, 0), a, b) with tau >= 0, and
    tau > 0 only if ||z||_1 = eps. The multiplier is read off the free coordinates (strictly
    inside the box, and nonzero for p = 1), where it must be the same for all of them."""
    v, z, a, b = (np.asarray(t, np.float64) for t in (v, z, a, b))
    scale = max(eps, np.abs(v).max(initial=0.0), 1e-300)
    bad = max(0.0, (a - z).max(initial=0.0), (z - b).max(initial=0.0))
    nrm = np.linalg.norm(z, ord=p)
    bad = max(bad, nrm - eps)
    margin = 1e-6 * scale
    free = (z > a + margin) & (z < b - margin)
    if not (free & (np.abs(z) > margin if p == 1 else np.abs(v) > margin)).any():
        # no free coordinate to read the multiplier from: z is clip(v) (no shrinking), or
        # every coordinate sits at a bound (or 0) with the norm at eps
        return max(bad, min(np.abs(np.clip(v, a, b) - z).max(), abs(nrm - eps))) / scale
    if p == 2:
        free &= np.abs(v) > margin
        mult = z[free] / v[free]
        s = float(np.median(mult))
        bad = max(bad, np.abs(z[free] - s * v[free]).max(), -s, s - 1)
        if s < 1 - 1e-9:
            bad = max(bad, eps - nrm)
        bad = max(bad, np.abs(np.clip(s * v, a, b) - z).max())
    else:
        free &= np.abs(z) > margin
        mult = np.abs(v[free]) - np.abs(z[free])
        tau = float(np.median(mult))
        bad = max(bad, np.abs(mult - tau).max(), -tau)
        if tau > 1e-9 * scale:
            bad = max(bad, eps - nrm)
        soft = np.sign(v) * np.maximum(np.abs(v) - tau, 0.0)
        bad = max(bad, np.abs(np.clip(soft, a, b) - z).max())
    return bad / scale
