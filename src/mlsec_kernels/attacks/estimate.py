"""Zeroth-order gradient estimates from loss values only: NES and SPSA, antithetic."""

from __future__ import annotations

import numpy as np

from .. import rng as _rng
from ._common import Bridge, generator


def _antithetic(loss, x, sigma, n_samples, seed, chunk, noise):
    b = Bridge(x)
    xp, x0 = b.xp, b.x
    loss = b.wrap(loss)
    sigma, n_samples = float(sigma), int(n_samples)
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    if n_samples < 2 or n_samples % 2:
        raise ValueError(f"n_samples must be an even number >= 2 (antithetic pairs), got {n_samples}")
    n, d = x0.shape[0], int(np.prod(x0.shape[1:]))
    pairs = n_samples // 2
    chunk = max(1, min(int(chunk), pairs))
    gen = generator(seed)
    sub = gen.next_substream()
    flat = x0.reshape(n, d)
    grad = xp.zeros((n, d), np.float64)
    u = xp.empty((chunk, n, d), x0.dtype)
    batch = xp.empty((2, chunk, n, d), x0.dtype)
    backend = "cuda" if xp is not np else "auto"
    for p0 in range(0, pairs, chunk):
        m = min(chunk, pairs - p0)
        um, bm = u[:m], batch[:, :m]
        # element offsets by pair index: the estimate does not depend on the chunk size
        noise(um, gen.seed, sub, p0 * n * d, backend)
        xp.multiply(um, x0.dtype.type(sigma), out=bm[0])
        xp.subtract(flat, bm[0], out=bm[1])
        xp.add(flat, bm[0], out=bm[0])
        vals = xp.asarray(loss(bm.reshape((2 * m * n,) + x0.shape[1:])), dtype=np.float64).reshape(2, m, n)
        grad += ((vals[0] - vals[1])[:, :, None] * um).sum(axis=0)
    grad /= 2.0 * sigma * pairs
    return b.out(grad.astype(x0.dtype).reshape(x0.shape))


def _normal(out, seed, sub, offset, backend):
    _rng.normal(out.shape, seed=seed, substream=sub, offset=offset, out=out, backend=backend)


def _rademacher(out, seed, sub, offset, backend):
    w = _rng.random_raw(out.size, seed=seed, substream=sub, offset=offset, backend=backend)
    out[...] = ((w >> 31).astype(out.dtype) * 2 - 1).reshape(out.shape)


def nes_gradient(loss, x, *, sigma=1e-3, n_samples=100, seed=None, chunk=64):
    """NES gradient estimate with antithetic Gaussian samples (Wierstra et al. 2014; Ilyas,
    Engstrom, Athalye & Lin, ICML 2018):
    ``g = 1/(2 sigma m) * sum_i (L(x + sigma u_i) - L(x - sigma u_i)) u_i``, ``u_i ~ N(0, I)``,
    ``m = n_samples / 2`` pairs, per sample of the batch.

    ``loss(x) -> (N,)`` per-sample losses of a batch shaped like ``x``; it is called on
    batches of ``2 * chunk * N`` points, so ``chunk`` pairs bound the memory. The noise is
    :func:`mlsec_kernels.rng.normal` of one substream of ``seed`` (int, None or
    :class:`mlsec_kernels.Generator`) at element offsets fixed by the pair index, so the
    estimate does not depend on ``chunk``. Returns the estimate, shaped like ``x``.
    ``n_samples`` counts loss evaluations per sample (even).
    """
    return _antithetic(loss, x, sigma, n_samples, seed, chunk, _normal)


def spsa_gradient(loss, x, *, sigma=1e-3, n_samples=100, seed=None, chunk=64):
    """SPSA gradient estimate (Spall 1992; Uesato et al., ICML 2018): as
    :func:`nes_gradient` with Rademacher +-1 directions (the top bit of each stream word),
    ``g = 1/(2 sigma m) * sum_i (L(x + sigma u_i) - L(x - sigma u_i)) / u_i``
    (``1/u = u`` for +-1).
    """
    return _antithetic(loss, x, sigma, n_samples, seed, chunk, _rademacher)


def estimated_loss_grad(loss, *, method="nes", sigma=1e-3, n_samples=100, seed=None, chunk=64):
    """A ``loss_grad(x, y)`` for :func:`pgd` from a black-box ``loss(x, y) -> (N,)``, with the
    gradient estimated by ``method`` ("nes" or "spsa"); each call uses the next substream
    of one :class:`mlsec_kernels.Generator`."""
    est = {"nes": nes_gradient, "spsa": spsa_gradient}.get(method)
    if est is None:
        raise ValueError(f"method must be 'nes' or 'spsa', got {method!r}")
    gen = generator(seed)

    def loss_grad(x, y):
        g = est(lambda z: loss(z, _tile(y, len(z))), x, sigma=sigma, n_samples=n_samples, seed=gen, chunk=chunk)
        return loss(x, y), g

    return loss_grad


def _tile(y, m):
    """Labels for a stacked batch of ``m`` points made of copies of the N samples in order."""
    return y[np.arange(m) % len(y)]
