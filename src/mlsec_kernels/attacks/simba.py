"""SimBA (Guo, Gardner, You, Wilson & Weinberger, ICML 2019), batched over images."""

from __future__ import annotations

import functools

import numpy as np

from .._arrays import check_clip
from ._common import AttackResult, Bridge, _host, generator, image_shape, labels, reached, words


@functools.lru_cache(maxsize=16)
def _dct_matrix(n):
    """Orthonormal DCT-II matrix: row u is the u-th cosine basis vector (idct of e_u)."""
    i = np.arange(n)
    m = np.cos(np.pi * (2 * i[None, :] + 1) * i[:, None] / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m


def _order(gen, k, c, h, w, basis, freq_band):
    """Each image's order of basis directions (k, c*h*w), a random permutation from stream
    words. DCT: low frequencies first, in square bands of ``freq_band`` frequencies (the
    authors' block order), random within each band."""
    d = c * h * w
    key = words(gen, k * d).reshape(k, d).astype(np.float64)
    if basis == "dct":
        u, v = np.divmod(np.arange(h * w), w)
        band = np.tile(np.maximum(u, v) // freq_band, c)
        key += band * 2.0**32
    return np.argsort(key, axis=1, kind="stable")


def simba(
    predict, x, y, eps, *, basis="pixel", max_queries=10000, targeted=False, clip=(0.0, 1.0), freq_band=2, seed=None
):
    """Simple Black-box Attack: try ``x -+ eps * q`` along one orthonormal direction ``q``
    at a time (pixels, or 2-D DCT basis images for ``basis="dct"``, low frequencies
    first), keeping a step when the score of the true class drops (rises for the target
    when ``targeted``). Directions are not reused: at most C*H*W iterations.

    Batched: every image has its own random order of directions and is queried only
    while it is not yet adversarial; the minus step costs one query, the plus step a
    second one only for the images where the minus step failed. ``predict(x) -> scores``
    (probabilities as in the paper, or any monotone score). ``max_queries`` is the budget
    per image, the initial query included. ``seed``: int, None or
    :class:`mlsec_kernels.Generator` (the orders are stream words).

    Returns an :class:`AttackResult`: ``x_adv``, ``success``, ``queries`` per image.
    """
    if basis not in ("pixel", "dct"):
        raise ValueError(f"basis must be 'pixel' or 'dct', got {basis!r}")
    b = Bridge(x)
    xp, x0 = b.xp, b.x
    predict = b.wrap(predict)
    shape = x0.shape
    c, h, w = image_shape(shape) if basis == "dct" else (1, 1, int(np.prod(shape[1:])))
    n, d = shape[0], c * h * w
    y = labels(xp, y, n)
    lo, hi = check_clip(clip)
    lo, hi = -np.inf if lo is None else lo, np.inf if hi is None else hi
    eps = float(eps)
    order = _order(generator(seed), n, c, h, w, basis, int(freq_band))
    cur = x0.reshape(n, d).copy()
    scores = predict(cur.reshape(shape))
    rows = xp.arange(n)
    prob = scores[rows, y].copy()
    done = _host(reached(xp, scores, y, targeted))
    queries = np.ones(n, np.int64)
    sign = -1.0 if targeted else 1.0  # the score to lower: s_y, or -s_t when targeted
    prob *= sign
    if basis == "dct":
        mh, mw = xp.asarray(_dct_matrix(h)), xp.asarray(_dct_matrix(w))
    for t in range(min(d, max_queries - 1)):
        idx = np.flatnonzero(~done & (queries < max_queries))
        k = idx.size
        if not k:
            break
        kd = xp.asarray(idx)
        q = order[idx, t]
        if basis == "pixel":
            qv = xp.zeros((k, d), cur.dtype)
            qv[xp.arange(k), xp.asarray(q)] = eps
        else:
            ch, uv = np.divmod(q, h * w)
            u, v = np.divmod(uv, w)
            img = mh[xp.asarray(u)][:, :, None] * mw[xp.asarray(v)][:, None, :] * eps
            qv = xp.zeros((k, c, h * w), cur.dtype)
            qv[xp.arange(k), xp.asarray(ch)] = img.reshape(k, h * w)
            qv = qv.reshape(k, d)
        base = cur[kd]
        improved = np.zeros(k, bool)
        for direction, rows_h in ((-1.0, np.arange(k)), (1.0, None)):
            if rows_h is None:
                rows_h = np.flatnonzero(~improved & (queries[idx] < max_queries))
                if not rows_h.size:
                    break
            rd = xp.asarray(rows_h)
            tr_r = xp.clip(base[rd] + direction * qv[rd], lo, hi)
            sc = predict(tr_r.reshape((rows_h.size,) + shape[1:]))
            queries[idx[rows_h]] += 1
            ps = sign * sc[xp.arange(rows_h.size), y[kd[rd]]]
            ok = _host(ps < prob[kd[rd]])
            if ok.any():
                hit = rd[xp.asarray(np.flatnonzero(ok))]
                cur[kd[hit]] = tr_r[xp.asarray(np.flatnonzero(ok))]
                prob[kd[hit]] = ps[xp.asarray(np.flatnonzero(ok))]
                improved[rows_h[ok]] = True
                done[idx[rows_h[ok]]] = _host(reached(xp, sc[xp.asarray(np.flatnonzero(ok))], y[kd[hit]], targeted))
    return AttackResult(b.out(cur.reshape(shape)), done, queries)
