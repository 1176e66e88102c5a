"""References for the perturbation ops (FGSM, PGD steps, Lp projections)."""
import numpy as np


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
