"""Square Attack (Andriushchenko, Croce, Flammarion & Hein, ECCV 2020), batched, with the
square positions drawn per image from the shared random stream."""

from __future__ import annotations

import functools
import math

import numpy as np

from .._arrays import check_clip, check_norm
from ._common import AttackResult, Bridge, _host, generator, image_shape, integers, labels, margin, words

# The authors' piecewise-constant schedule: p halves at these fractions (per 10000) of the budget.
_P_STEPS = (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000, 10000)


def p_schedule(p_init, it, n_iters):
    """The fraction of pixels changed at iteration ``it`` of ``n_iters`` (their ``p_selection``)."""
    i = int(it / n_iters * 10000)
    for k in range(1, len(_P_STEPS)):
        if _P_STEPS[k - 1] < i <= _P_STEPS[k]:
            return p_init / 2**k
    return p_init


def _bump(n, m):
    """Their pseudo-Gaussian rectangle: nested centred boxes weighted 1/(r+1)^2, unit L2 norm."""
    d = np.zeros((n, m))
    ci, cj = n // 2, m // 2
    for r in range(max(n // 2 + 1, m // 2 + 1)):
        d[max(ci - r, 0) : min(ci - r + 2 * r + 1, n), max(cj - r, 0) : min(cj - r + 2 * r + 1, m)] += (
            1.0 / (r + 1) ** 2
        )
    nrm = np.sqrt((d**2).sum())
    return d / nrm if nrm > 0 else d


@functools.lru_cache(maxsize=64)
def _meta(s):
    """Their L2 update shape: a bump over the top half, minus one over the bottom half."""
    d = np.zeros((s, s))
    d[: s // 2] = _bump(s // 2, s)
    d[s // 2 :] = -_bump(s - s // 2, s)
    return d / np.sqrt((d**2).sum())


def _signs(gen, shape):
    return np.where(words(gen, int(np.prod(shape))).reshape(shape) >> np.uint32(31), 1.0, -1.0)


def _corners(gen, k, s, h, w, per_sample):
    """Top-left corners (k,) in [0, h - s) x [0, w - s), one per image or one shared."""
    m = k if per_sample else 1
    wd = words(gen, 2 * m)
    r, c = integers(wd[:m], h - s), integers(wd[m:], w - s)
    return (r, c) if per_sample else (np.repeat(r, k), np.repeat(c, k))


def _window(xp, r0, c0, s, h, w):
    """Boolean masks (k, 1, h, w) of the s x s squares at the corners."""
    ah, aw = xp.arange(h), xp.arange(w)
    r0, c0 = xp.asarray(r0)[:, None], xp.asarray(c0)[:, None]
    rm, cm = (ah >= r0) & (ah < r0 + s), (aw >= c0) & (aw < c0 + s)
    return rm[:, None, :, None] & cm[:, None, None, :]


def _l2_init(xp, x, eps, gen, lo, hi):
    n, c, h, w = x.shape
    s = max(h // 5, 1)
    start = (h - s * 5) // 2
    delta = np.zeros(x.shape)
    flips = words(gen, (h // s) * (w // s)) >> np.uint32(31)
    sg = _signs(gen, (n, c, h // s, w // s))
    for i in range(h // s):
        for j in range(w // s):
            m = _meta(s).T if flips[i * (w // s) + j] else _meta(s)
            r0, c0 = start + i * s, start + j * s
            blk = delta[:, :, r0 : r0 + s, c0 : c0 + s]
            blk += m[: blk.shape[2], : blk.shape[3]] * sg[:, :, i, j, None, None]
    delta = xp.asarray(delta / np.sqrt((delta**2).sum(axis=(1, 2, 3), keepdims=True)) * eps, dtype=x.dtype)
    return xp.clip(x + delta, lo, hi)


def _l2_proposal(xp, xc, xbc, eps, s, gen, per_sample):
    """Their L2 step: move mass from a second window into a new bump in the first, keeping
    the perturbation's norm at eps."""
    k, c, h, w = xc.shape
    delta = (xbc - xc).astype(np.float64)
    r1, c1 = _corners(gen, k, s, h, w, per_sample)
    r2, c2 = _corners(gen, k, s, h, w, per_sample)
    m1, m2 = _window(xp, r1, c1, s, h, w), _window(xp, r2, c2, s, h, w)
    nw1 = xp.sqrt(((delta * m1) ** 2).sum(axis=(2, 3), keepdims=True))
    nimg = xp.sqrt((delta**2).sum(axis=(1, 2, 3), keepdims=True))
    nw12 = xp.sqrt(((delta * (m1 | m2)) ** 2).sum(axis=(2, 3), keepdims=True))
    flip = words(gen, k) >> np.uint32(31)
    bump = np.where(flip[:, None, None, None] == 1, _meta(s).T, _meta(s)) * _signs(gen, (k, c, 1, 1))
    ks, cs = xp.arange(k)[:, None, None, None], xp.arange(c)[None, :, None, None]
    rows = xp.asarray(r1)[:, None] + xp.arange(s)
    cols = xp.asarray(c1)[:, None] + xp.arange(s)
    at = (ks, cs, rows[:, None, :, None], cols[:, None, None, :])
    new = xp.asarray(bump) + delta[at] / (1e-10 + nw1)
    new *= xp.sqrt(xp.maximum(eps**2 - nimg**2, 0.0) / c + nw12**2) / xp.sqrt((new**2).sum(axis=(2, 3), keepdims=True))
    delta[m2.repeat(c, axis=1)] = 0.0
    delta[at] = new
    return delta / xp.sqrt((delta**2).sum(axis=(1, 2, 3), keepdims=True)) * eps


def square_attack(
    predict,
    x,
    y,
    eps,
    *,
    norm="inf",
    n_queries=5000,
    p_init=0.8,
    targeted=False,
    clip=(0.0, 1.0),
    seed=None,
    per_sample=True,
):
    """Square Attack: a score-based black-box attack by random search over squares.

    Follows the authors' reference code: the margin loss ``s_y - max_{j != y} s_j`` (its
    targeted mirror with ``targeted=True``) must drop for a proposal to be kept; the
    fraction of pixels changed follows their schedule :func:`p_schedule` from ``p_init``
    (their default for undefended models is 0.05 under inf and 0.1 under L2; 0.8 suits
    small images and robust models); the inf-norm attack starts from vertical stripes of
    +-eps and proposes an s x s square of one +-eps per channel, the L2 attack starts from
    a grid of pseudo-Gaussian bumps and moves mass between two windows. Each image draws
    its own square position (``per_sample=True``; the reference loops over images in
    Python) or the batch shares one (``per_sample=False``, as ART and AutoAttack do).
    Where the inf proposal would leave an image's window unchanged, its signs are flipped
    (the reference redraws until it changes). Samples stop as soon as they are
    adversarial; only the others are queried.

    ``predict(x) -> scores`` (N, K) takes a batch shaped like ``x``, images (N, H, W) or
    (N, C, H, W). ``n_queries`` is the budget per image, the initial query included.
    ``seed``: int, None or :class:`mlsec_kernels.Generator`; positions and signs are
    stream words (docs/design.md), so a seed reproduces the attack exactly.

    Returns an :class:`AttackResult`: ``x_adv``, ``success``, ``queries`` per image.
    """
    b = Bridge(x)
    xp, x0 = b.xp, b.x
    predict = b.wrap(predict)
    shape = x0.shape
    c, h, w = image_shape(shape)
    n = shape[0]
    y = labels(xp, y, n)
    code = check_norm(norm)
    if code == 1:
        raise ValueError("square_attack supports norm='inf' or 2")
    lo, hi = check_clip(clip)
    lo, hi = -np.inf if lo is None else lo, np.inf if hi is None else hi
    eps, n_queries, p_init = float(eps), int(n_queries), float(p_init)
    if not (0 < eps < math.inf):
        raise ValueError(f"eps must be finite and > 0, got {eps!r}")
    if not (0 < p_init <= 1):
        raise ValueError(f"p_init must be in (0, 1], got {p_init!r}")
    if n_queries < 1:
        raise ValueError(f"n_queries must be >= 1, got {n_queries}")
    gen = generator(seed)
    xi = x0.reshape(n, c, h, w)
    if code == 0:
        best = xp.clip(xi + xp.asarray(eps * _signs(gen, (n, c, 1, w)), dtype=xi.dtype), lo, hi)
    else:
        best = _l2_init(xp, xi, eps, gen, lo, hi)
    m = margin(xp, predict(best.reshape(shape)), y, targeted)
    queries = np.ones(n, np.int64)
    new_buf = xp.empty_like(xi)
    cs = xp.arange(c)[None, :, None, None]
    for it in range(n_queries - 1):
        idx = np.flatnonzero(_host(m > 0))
        k = idx.size
        if not k:
            break
        kd = xp.asarray(idx)
        new = new_buf[:k]
        if k == n:
            new[...] = best
        else:
            xp.take(best, kd, axis=0, out=new)
        p = p_schedule(p_init, it, n_queries)
        if code == 0:
            # Only an s x s window per image changes: the proposal is built on the windows.
            s = min(max(int(round(np.sqrt(p * h * w))), 1), h - 1, w - 1)
            r0, c0 = _corners(gen, k, s, h, w, per_sample)
            rows = xp.asarray(r0)[:, None, None, None] + xp.arange(s)[:, None]
            cols = xp.asarray(c0)[:, None, None, None] + xp.arange(s)
            ks = xp.arange(k)[:, None, None, None]
            at_x, at_new = (kd[:, None, None, None], cs, rows, cols), (ks, cs, rows, cols)
            xw, bw = xi[at_x], new[at_new]
            step = xp.asarray(eps * _signs(gen, (k, c, 1, 1)), dtype=xi.dtype)
            nw = xp.clip(xw + step, lo, hi)
            same = (xp.abs(nw - bw) < 1e-7).all(axis=(1, 2, 3))
            if _host(same).any():  # flip those images' signs so that the proposal changes them
                nw = xp.where(same[:, None, None, None], xp.clip(xw - step, lo, hi), nw)
            new[at_new] = nw
        else:
            s = max(int(round(np.sqrt(p * h * w))), 3)
            s += 1 - s % 2
            s = min(s, h - 1, w - 1)
            xc = xi[kd] if k < n else xi
            d = _l2_proposal(xp, xc, new, eps, s, gen, per_sample)
            xp.clip(xc + d.astype(xi.dtype), lo, hi, out=new)
        mn = margin(xp, predict(new.reshape((k,) + shape[1:])), y[kd], targeted)
        queries[idx] += 1
        better = mn < m[kd]
        m[kd] = xp.where(better, mn, m[kd])
        bi = _host(better)
        if bi.any():
            keep = xp.asarray(np.flatnonzero(bi))
            if code == 0:  # best and the proposal differ only in the window
                at_x = (kd[keep][:, None, None, None], cs, rows[keep], cols[keep])
                best[at_x] = nw[keep]
            else:
                best[xp.asarray(idx[bi])] = new[keep]
    return AttackResult(b.out(best.reshape(shape)), _host(m <= 0), queries)
