"""References for the output post-processors (defences against model extraction).

Each takes p of shape (N, C). One column (C = 1) is a binary model's P(positive), as in
ART: reverse_sigmoid works on the two-class row [p, 1 - p], gaussian_noise clips a
probability to [0, 1], top_k keeps the column, and one-hot labels are 1 where p > 1/2.
Parameters and ART's clip bounds are first rounded to the
dtype of p, as the kernels (and NumPy, for a Python float against a float32 array) do;
then everything runs in float64, except `round`, which is specified as NumPy's np.round
in the data's own dtype (it is exact there, and float64 would round other halves).
"""

import numpy as np


def _t(p):
    p = np.asarray(p)
    return p.dtype.type if p.dtype.kind == "f" and p.dtype.itemsize in (4, 8) else np.float64  # (">f4" too)


def _renormalise(q, fallback):
    s = q.sum(axis=1, keepdims=True)
    ok = s != 0
    return np.where(ok, q / np.where(ok, s, 1.0), fallback)


def reverse_sigmoid(p, *, beta=1.0, gamma=0.1):
    """Lee et al. 2019 as ART computes it: r = beta*(sigmoid(-gamma*log((1-pc)/pc)) - 1/2),
    pc = clip(p, 1e-9, 1-1e-9), q = clip(p - r, 0, 1) / row sum; a row with no mass left
    comes out uniform (1/C) instead of NaN."""
    t = _t(p)
    x = np.asarray(p, dtype=np.float64)
    beta, gamma = float(t(beta)), float(t(gamma))
    pc = np.clip(x, float(t(1e-9)), float(t(1.0 - 1e-9)))

    def q(v, vc):  # ART's term on values v clipped to vc
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            s = 1.0 / (1.0 + np.exp(gamma * np.log((1.0 - vc) / vc)))
        return np.clip(v - beta * (np.where(vc == 0.0, 0.0, s) - 0.5), 0.0, 1.0)

    if x.shape[1] == 1:  # ART's binary form: [p, 1 - p], the second clipped as 1 - pc, both
        # formed in p's dtype as ART forms them (float32 1 - 1e-9 is 1: the odds ratio is 0)
        x2, pc2 = (np.asarray(1.0 - v).astype(t).astype(np.float64) for v in (x, pc))
        both = np.concatenate([q(x, pc), q(x2, pc2)], axis=1)
        return _renormalise(both, 0.5)[:, :1]
    return _renormalise(q(x, pc), 1.0 / x.shape[1])


def is_probability_row(x):
    """The renormalize="auto" test, per row: entries in [0, 1] and |sum - 1| <= 1e-3 (ART's
    is_probability, with its relative tolerance at 1); one column: the entry in [0, 1]."""
    x = np.asarray(x, dtype=np.float64)
    inside = np.all((x >= 0) & (x <= 1), axis=1)
    return inside if x.shape[1] == 1 else inside & (np.abs(x.sum(axis=1) - 1.0) <= 1e-3)


def gaussian_noise(p, noise, *, renormalize="auto"):
    """p + noise (noise: scale times the stream's standard normals, as float64); rows to
    renormalise have negatives zeroed and are divided by their sum, and a row summing to
    zero keeps its noiseless values. One column is clipped to [0, 1] instead."""
    x = np.asarray(p, dtype=np.float64)
    y = x + np.asarray(noise, dtype=np.float64)
    if renormalize == "auto":
        rows = is_probability_row(x)
    else:
        rows = np.full(x.shape[0], bool(renormalize))
    q = np.maximum(y, 0.0)
    rn = np.minimum(q, 1.0) if x.shape[1] == 1 else _renormalise(q, x)
    return np.where(rows[:, None], rn, y)


def round(p, *, decimals=3):
    """np.round(p, decimals), in the dtype of p: x * 10**decimals, rint (half to even), divide."""
    return np.round(np.asarray(p), decimals)


def high_confidence(p, *, cutoff=0.25):
    """Entries below cutoff set to 0 (ART's HighConfidence)."""
    x = np.asarray(p, dtype=np.float64)
    return np.where(x < float(_t(p)(cutoff)), 0.0, x)


def _top_mask(x, k):
    # Rank: NaN first, then larger values, ties to the lower index (np.argmax's order).
    n, c = x.shape
    idx = np.broadcast_to(np.arange(c), x.shape)
    nan = np.isnan(x)
    order = np.lexsort((idx, -np.where(nan, 0.0, x), ~nan), axis=-1)
    mask = np.zeros(x.shape, dtype=bool)
    np.put_along_axis(mask, order[:, :k], True, axis=1)
    return mask


def top_k(p, k, *, one_hot=False):
    """The k largest entries of each row kept (1 with one_hot), the others 0; one column
    is kept, and its one-hot is :func:`class_labels`'s."""
    x = np.asarray(p, dtype=np.float64)
    if x.shape[1] == 1:
        return class_labels(x) if one_hot else x.copy()
    mask = _top_mask(x, k)
    return mask.astype(np.float64) if one_hot else np.where(mask, x, 0.0)


def class_labels(p):
    """One-hot of each row's np.argmax (ART's ClassLabels, right for batches); one column:
    1 where p > 1/2 (ART's rule: 1/2 and NaN give 0)."""
    x = np.asarray(p, dtype=np.float64)
    if x.shape[1] == 1:
        return (x > 0.5).astype(np.float64)
    out = np.zeros_like(x)
    out[np.arange(x.shape[0]), np.argmax(x, axis=1)] = 1.0
    return out
