"""Perturbation kernels for adversarial attacks and adversarial training.

Every op takes a batch ``x`` of shape (N, ...) (per-sample reductions run over all axes
but the first), float32 or float64, on the host (NumPy, CPU torch, anything with
``__array__``) or on a device (CuPy, CUDA torch, ``__cuda_array_interface__``), and
returns an array of the caller's type and dtype. ``eps`` and ``step`` are scalars or
per-sample arrays of shape (N,). ``out=`` may alias an input exactly (in-place updates);
partial overlaps are refused. Non-contiguous inputs are copied to contiguous ones.
"""

from __future__ import annotations

import math

import numpy as np

from . import _constants as C
from ._arrays import Call, _float_or_inf, check_clip, check_norm, describe, is_real
from ._backend import GENERAL, fast
from ._seeds import check_sample_start, seed_and_substream

# Norms the fast path recognises without parsing (check_norm handles every accepted form).
_NORMS = {"inf": C.NORM_INF, np.inf: C.NORM_INF, 2: C.NORM_L2, "2": C.NORM_L2, 1: C.NORM_L1, "1": C.NORM_L1}
_PAIRS = (tuple, list)


def _bool(v, name):
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(v).__name__}")
    return bool(v)


def _fast_norm(norm):
    return _NORMS.get(norm) if type(norm) in (str, int, float) else None


def _pair(clip):
    """Whether the fast path can hand clip's two bounds to the binding (which checks
    them); no clipping (None) and malformed clips are the general path's (the binding
    would take bools as numbers)."""
    return type(clip) in _PAIRS and len(clip) == 2 and type(clip[0]) is not bool and type(clip[1]) is not bool


def fgsm(x, grad, eps, *, targeted=False, clip=(0.0, 1.0), out=None, backend="auto"):
    """Fast Gradient Sign Method (Goodfellow, Shlens & Szegedy, ICLR 2015).

    ``out = clip(x + eps * sign(grad), *clip)``; ``targeted=True`` subtracts the step
    (moves towards the target class). ``sign(0) = 0``; NaN in ``x`` or ``grad``
    propagates. ``clip=None`` leaves the result unclipped.

    Reference: :func:`mlsec_kernels.reference.fgsm`.
    """
    if _pair(clip) and type(targeted) is bool:
        o = fast(backend, x, "fgsm", grad, eps, targeted, clip[0], clip[1], out=out)
        if o is not GENERAL:
            return o
    lo, hi = check_clip(clip)
    c = Call(backend, x=x, grad=grad)
    eps = c.per_sample(eps, "eps")
    targeted, o = _bool(targeted, "targeted"), c.output(out)  # checked before views copies x
    c.kernel("fgsm")(*c.views, eps, targeted, lo, hi, o)
    return c.result()


def random_start(x0, eps, *, norm="inf", seed=None, sample_start=0, clip=(0.0, 1.0), out=None, backend="auto"):
    """A random start for PGD (Madry et al., ICLR 2018): ``clip(x0 + u)`` with ``u``
    uniform in volume over the eps-ball of the norm, one ball per sample.

    - ``norm="inf"``: each coordinate uniform in [-eps, eps).
    - ``norm=2``: ``u = eps * U**(1/d) * z / ||z||``, z standard normal, U uniform.
    - ``norm=1``: ``u_j = +-eps * E_j / (E_1 + ... + E_{d+1})``, E exponential, random
      signs (a Dirichlet(1, ..., 1) point of the simplex, reflected into the L1 ball).

    ``d`` is the size of one sample; ``eps`` a scalar or one value per sample. ``seed``:
    an int (substream 0), None (unpredictable, from :mod:`secrets`) or a
    :class:`mlsec_kernels.rng.Generator` (its next substream). The draws come from the
    stream of docs/design.md with the word mapping of docs/rng.md, in float32 (widened for
    float64 data), so every backend gives the same bits. ``clip=None`` leaves the result
    unclipped; ``out`` may be ``x0`` (in place).

    ``sample_start``: the index in a larger batch of x0's first sample (an int >= 0,
    default 0), for a batch run in pieces: ``random_start(x[a:b], ..., seed=k,
    sample_start=a)`` is ``random_start(x, ..., seed=k)[a:b]`` bit for bit, sample ``r`` of
    the piece drawing as sample ``a + r`` (docs/rng.md). ``(sample_start + N) * d`` must
    stay within 2**63.

    Reference: :func:`mlsec_kernels.reference.rng.random_start`.
    """
    seed, substream = seed_and_substream(seed)
    nm = _fast_norm(norm)
    if nm is not None and _pair(clip):
        o = fast(backend, x0, "random_start", eps, nm, seed, substream, sample_start, clip[0], clip[1], out=out)
        if o is not GENERAL:
            return o
    nm = check_norm(norm)
    lo, hi = check_clip(clip)
    c = Call(backend, x0=x0)
    eps = c.per_sample(eps, "eps")
    # out checked before views copies x0, and before sample_start (the binding's order)
    o, s0 = c.output_after(out, lambda: check_sample_start(sample_start, c.shape[0], math.prod(c.shape[1:]), 63))
    c.kernel("random_start")(*c.views, eps, nm, seed, substream, s0, lo, hi, o)
    return c.result()


_BOX_ORDER = "lo must be <= hi everywhere, and neither may be NaN"


def _bound(v, name):
    """A box bound of project: None (unbounded) and numbers as floats; arrays as they are
    (Call checks them against delta)."""
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name} must be None, a number or an array like delta, got bool")
    if isinstance(v, (int, float, np.integer, np.floating)):
        return _float_or_inf(v)  # (an int beyond float's range is +-inf, as the binding reads it)
    return v


def project(delta, eps, *, norm="inf", lo=None, hi=None, out=None, backend="auto"):
    """Euclidean projection of each sample onto its Lp ball ``{d : ||d||_p <= eps}``,
    intersected with the box ``lo <= d <= hi`` when bounds are given.

    Per sample (all axes but the first), without bounds: ``norm="inf"`` clips to
    ``[-eps, eps]``; ``norm=2`` scales by ``eps / ||d||_2`` when ``||d||_2 > eps``;
    ``norm=1`` is the exact projection ``sign(d) * max(|d| - theta, 0)`` with ``theta``
    such that the result's L1 norm is ``eps`` (Duchi et al., ICML 2008; Condat, Math.
    Program. 2016), not a rescaling. Samples already inside their ball are unchanged, as
    are samples whose norm is not finite (NaN or inf in them) under ``norm=1`` and ``2``.

    ``lo`` and ``hi`` (None, a number taken in delta's dtype, or an array of delta's shape
    and dtype; ``out`` may be one of them) make it the projection onto the ball intersected
    with the box, ``argmin ||p - d||_2`` subject to
    ``||p||_p <= eps`` and ``lo <= p <= hi``. By the KKT conditions the box separates per
    element once the ball's multiplier is known: ``p = clip(d / (1 + lam), lo, hi)`` for
    ``norm=2`` and ``p = clip(sign(d) * max(|d| - tau, 0), lo, hi)`` for ``norm=1``, with
    ``lam >= 0`` (``tau >= 0``) the smallest that brings ``||p||`` within ``eps``;
    ``norm="inf"`` is ``clip(d, max(lo, -eps), min(hi, eps))``. A box that excludes 0 so far
    that no point of it lies in the ball gives the limit ``clip(0, lo, hi)``; a sample
    whose norm is not finite is only clipped. AutoAttack's L1 projection (Croce & Hein, "Mind
    the box", ICML 2021) solves the same problem with the box [0, 1] around x. docs/projections.md
    gives the derivation and the search. ``norm`` accepts ``"inf"``, ``np.inf``, ``1``,
    ``2``, ``"1"``, ``"2"``.

    Reference: :func:`mlsec_kernels.reference.project`.
    """
    code = _fast_norm(norm)
    if code is not None:
        o = fast(backend, delta, "project", eps, code, lo, hi, out=out)
        if o is not GENERAL:
            return o
    code = check_norm(norm)
    lo, hi = _bound(lo, "lo"), _bound(hi, "hi")
    arrays = {k: v for k, v in (("lo", lo), ("hi", hi)) if v is not None and not isinstance(v, float)}
    c = Call(backend, delta=delta, **arrays)
    eps = c.per_sample(eps, "eps")
    nan_scalar = any(isinstance(v, float) and math.isnan(v) for v in (lo, hi))  # (whatever delta's size)
    if nan_scalar or (not arrays and not (-math.inf if lo is None else lo) <= (math.inf if hi is None else hi)):
        raise ValueError(_BOX_ORDER)  # before out is made (delta may declare terabytes)
    o = c.output(out)  # checked before views copies delta
    views = dict(zip(c.names, c.views))
    lo_v = views.get("lo", -math.inf if lo is None else lo)
    hi_v = views.get("hi", math.inf if hi is None else hi)
    if arrays and not bool((lo_v <= hi_v).all()):
        raise ValueError(_BOX_ORDER)
    c.kernel("project")(views["delta"], eps, code, lo_v, hi_v, o)
    return c.result()


_PROJECTIONS = {"exact": C.PROJECTION_EXACT, "ball_then_clip": C.PROJECTION_BALL_THEN_CLIP}


def _projection(p):
    code = _PROJECTIONS.get(p) if type(p) is str else None
    if code is None:
        raise ValueError(f"projection must be 'exact' or 'ball_then_clip', got {p!r}")
    return code


def pgd_step(
    x,
    x0,
    grad,
    step,
    eps,
    *,
    norm="inf",
    targeted=False,
    clip=(0.0, 1.0),
    l1_sparsity=0.99,
    projection="exact",
    out=None,
    backend="auto",
):
    """One projected gradient descent step (Madry et al., ICLR 2018), fused per sample.

    ``out = x0 + P(x + step * dir(grad) - x0)`` with ``dir`` the steepest-ascent direction
    of the norm: ``sign(g)`` (inf), ``g / ||g||_2`` (2), or for ``norm=1`` the sparse
    direction of Tramer & Boneh (NeurIPS 2019): ``sign(g)`` on the coordinates whose ``|g|``
    is at or above the ``l1_sparsity`` quantile of the sample's ``|g|``, divided by their
    number of nonzero ``g`` (unit L1 norm). The quantile is NumPy's linear one at position
    ``q * (D - 1)``: with ``k = floor``, ``frac`` its fraction and ``a`` the ascending
    ``|g|``, the selection is ``|g| >= a[k]`` when ``frac == 0`` or ``a[k+1] == a[k]``, else
    ``|g| > a[k]`` (exact, so ties move together). A zero gradient gives a zero step.

    ``P`` projects onto the set of feasible perturbations, the ``eps`` ball intersected
    with the box ``[clip[0] - x0, clip[1] - x0]``:

    - ``projection="exact"`` (default): the Euclidean projection onto that intersection
      (:func:`project` with ``lo``/``hi``): ``delta = clip(v / (1 + lam))`` (2) or
      ``clip(sign(v) * max(|v| - tau, 0))`` (1), with the smallest multiplier ``lam``
      (``tau``) >= 0 that keeps ``||delta|| <= eps`` after the clip. The iterate ends on
      the sphere whenever the step reaches it, also where pixels saturate.
    - ``projection="ball_then_clip"``: ``clip(x0 + P_ball(v))``, the order of earlier
      releases: where the clip moves pixels the iterate ends strictly inside the ball.
      (ART 1.20 clips first and then rescales; neither is the projection.)

    For ``norm="inf"`` both are ``clip(x0 + clip(v, -eps, eps))``, already exact.
    ``targeted=True`` subtracts the step. ``step`` and ``eps`` are scalars or one value per
    sample; ``clip=None`` leaves the result unclipped (no box: both projections agree);
    ``out`` may alias ``x``. docs/projections.md derives the projection.

    Reference: :func:`mlsec_kernels.reference.pgd_step`.
    """
    code = _fast_norm(norm)
    pcode = _PROJECTIONS.get(projection) if type(projection) is str else None
    if code is not None and pcode is not None and _pair(clip) and type(targeted) is bool and is_real(l1_sparsity):
        o = fast(
            backend, x, "pgd_step", x0, grad, step, eps, code, targeted, l1_sparsity, clip[0], clip[1], pcode, out=out
        )
        if o is not GENERAL:
            return o
    code = check_norm(norm)
    targeted = _bool(targeted, "targeted")  # before out is made (x may declare terabytes)
    if not is_real(l1_sparsity):  # float() would take "0.5" and True
        raise TypeError(f"l1_sparsity must be a number in [0, 1], got {describe(l1_sparsity)}")
    q = float(l1_sparsity)
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"l1_sparsity must be in [0, 1], got {q!r}")
    lo, hi = check_clip(clip)
    pcode = _projection(projection)
    c = Call(backend, x=x, x0=x0, grad=grad)
    step, eps = c.per_sample(step, "step"), c.per_sample(eps, "eps")
    o = c.output(out)  # checked before views copies the inputs (a zero-stride view may declare terabytes)
    c.kernel("pgd_step")(*c.views, step, eps, code, targeted, q, lo, hi, pcode, o)
    return c.result()
