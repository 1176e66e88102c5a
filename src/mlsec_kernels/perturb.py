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
