"""Perturbation kernels for adversarial attacks and adversarial training.

Every op takes a batch ``x`` of shape (N, ...) (per-sample reductions run over all axes
but the first), float32 or float64, on the host (NumPy, CPU torch, anything with
``__array__``) or on a device (CuPy, CUDA torch, ``__cuda_array_interface__``), and
returns an array of the caller's type and dtype. ``eps`` and ``step`` are scalars or
per-sample arrays of shape (N,). ``out=`` may alias an input exactly (in-place updates);
partial overlaps are refused. Non-contiguous inputs are copied to contiguous ones.
"""
from __future__ import annotations

import numpy as np

from . import _backend
from . import rng as _rng
from ._arrays import Call, check_clip

_cpu = _backend._cpu
_Fallback = _cpu.Fallback if _cpu is not None else ()
_FAST = _backend.FAST


def fgsm(x, grad, eps, *, targeted=False, clip=(0.0, 1.0), out=None, backend="auto"):
    """Fast Gradient Sign Method (Goodfellow, Shlens & Szegedy, ICLR 2015).

    ``out = clip(x + eps * sign(grad), *clip)``; ``targeted=True`` subtracts the step
    (moves towards the target class). ``sign(0) = 0``; NaN in ``x`` or ``grad``
    propagates. ``clip=None`` leaves the result unclipped.

    Reference: :func:`mlsec_kernels.reference.fgsm`.
    """
    if _FAST and backend == "auto" and type(x) is np.ndarray and clip is not None:
        try:
            o = np.empty_like(x) if out is None else out
            _cpu.fgsm(x, grad, eps, targeted, clip[0], clip[1], o)
            return o
        except _Fallback:
            pass
    lo, hi = check_clip(clip)
    c = Call(backend, x=x, grad=grad)
    eps = c.per_sample(eps, "eps")
    c.kernel("fgsm")(*c.views, eps, bool(targeted), lo, hi, c.output(out))
    return c.result()


_NORMS = {"inf": "inf", "linf": "inf", "1": "1", "l1": "1", "2": "2", "l2": "2"}


def _norm(norm) -> str:
    key = str(norm).lower() if isinstance(norm, str) else ("inf" if norm == float("inf") else str(norm))
    if key not in _NORMS or isinstance(norm, bool):
        raise ValueError(f"norm must be 'inf', 1 or 2, got {norm!r}")
    return _NORMS[key]


def random_start(x0, eps, *, norm="inf", seed=None, clip=(0.0, 1.0), out=None, backend="auto"):
    """A random start for PGD (Madry et al., ICLR 2018): ``clip(x0 + u)`` with ``u``
    uniform in volume over the eps-ball of the norm, one ball per sample.

    - ``norm="inf"``: each coordinate uniform in [-eps, eps).
    - ``norm=2``: ``u = eps * U**(1/d) * z / ||z||``, z standard normal, U uniform.
    - ``norm=1``: ``u_j = +-eps * E_j / (E_1 + ... + E_{d+1})``, E exponential, random
      signs (a Dirichlet(1, ..., 1) point of the simplex, reflected into the L1 ball).

    ``d`` is the size of one sample; ``eps`` a scalar or one value per sample. ``seed``:
    an int (substream 0), None (unpredictable, from :mod:`secrets`) or a
    :class:`mlsec_kernels.rng.Generator` (its next substream). The draws come from the
    stream of spec/rng.md with the word mapping of docs/rng.md, in float32 (widened for
    float64 data), so every backend gives the same bits. ``clip=None`` leaves the result
    unclipped; ``out`` may be ``x0`` (in place).

    Reference: :func:`mlsec_kernels.reference.rng.random_start`.
    """
    nm = _norm(norm)
    seed, substream = _rng.seed_and_substream(seed)
    if _FAST and backend == "auto" and type(x0) is np.ndarray and clip is not None:
        try:
            o = np.empty_like(x0) if out is None else out
            _cpu.random_start(x0, eps, nm, seed, substream, clip[0], clip[1], o)
            return o
        except _Fallback:
            pass
    lo, hi = check_clip(clip)
    c = Call(backend, x0=x0)
    eps = c.per_sample(eps, "eps")
    c.kernel("random_start")(*c.views, eps, nm, seed, substream, lo, hi, c.output(out))
    return c.result()
