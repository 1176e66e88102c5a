"""References for the feature-squeezing ops (Xu, Evans & Qi, NDSS 2018)."""

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def bit_depth(x, bits, *, clip=None):
    """ART's FeatureSqueezing: ``t = (x - lo) / (hi - lo)``, then
    ``((rint(t * m) / m) * (hi - lo)) + lo`` with ``m = float(2**bits - 1)``, in float64.

    ``t`` is computed in x's float dtype (float32 data: ``lo`` and ``hi - lo`` rounded to
    float32 first, as NumPy 2 evaluates ART's expression), in float64 for integer data.
    ``clip`` defaults to (0, 1), or the dtype's whole range for integers. Returns float64;
    the op rounds it once to float32 for float32 data.
    """
    x = np.asarray(x)
    if clip is None:
        lo, hi = (float(np.iinfo(x.dtype).min), float(np.iinfo(x.dtype).max)) if x.dtype.kind in "iu" else (0.0, 1.0)
    else:
        lo, hi = float(clip[0]), float(clip[1])
    t_type = x.dtype.type if x.dtype.kind == "f" else np.float64
    t = ((x.astype(t_type) - t_type(lo)) / t_type(hi - lo)).astype(np.float64)
    m = float(2**bits - 1)
    return ((np.rint(t * m) / m) * (hi - lo)) + lo


def _planes(x, layout):
    """(P, H, W) planes of a 4-D or 5-D batch, and the inverse."""
    x = np.asarray(x)
    if layout == "NHWC":
        moved = np.moveaxis(x, -1, -3)
        return moved.reshape((-1,) + moved.shape[-2:]), lambda p: np.moveaxis(p.reshape(moved.shape), -3, -1)
    return x.reshape((-1,) + x.shape[-2:]), lambda p: p.reshape(x.shape)


def _extend(n, lo, hi, mode):
    """Indices of positions lo .. hi-1 of an axis of length n extended by SciPy's mode:
    "reflect" has period 2n (d c b a | a b c d), "mirror" period 2n - 2 (d c b | a b c d)."""
    i = np.arange(lo, hi)
    if n == 1:
        return np.zeros_like(i)
    period = 2 * n if mode == "reflect" else 2 * n - 2
    i = i % period
    return np.where(i < n, i, period - 1 - i if mode == "reflect" else period - i)


def median_filter(x, size, *, layout="NCHW", mode="reflect"):
    """Per plane, the element of rank h*w//2 of the window over rows i-h//2 .. i-h//2+h-1
    (and columns likewise) of the image extended by `mode`, as
    scipy.ndimage.median_filter(x, size=(1, 1, h, w), mode=mode). Exact in x's own dtype (a
    median selects, it does not compute); a window holding a NaN gives NaN."""
    h, w = (size, size) if np.isscalar(size) else size
    planes, back = _planes(x, layout)
    _, H, W = planes.shape
    rows, cols = _extend(H, -(h // 2), H + h - 1 - h // 2, mode), _extend(W, -(w // 2), W + w - 1 - w // 2, mode)
    p = planes[:, rows][:, :, cols]
    win = sliding_window_view(p, (h, w), axis=(1, 2)).reshape(planes.shape + (h * w,))
    med = np.sort(win, axis=-1)[..., (h * w) // 2]
    if med.dtype.kind == "f":
        med = np.where(np.isnan(win).any(axis=-1), np.nan, med).astype(med.dtype)
    return back(med)


def non_local_means(x, *, h, template_size=3, search_size=13, layout="NCHW"):
    """Buades, Coll & Morel (2005) per plane, OpenCV's weight form:
    w(p, o) = exp(-mean_u (I(p+u) - I(p+o+u))^2 / h^2), out(p) = sum_o w I(p+o) / sum_o w,
    u over the template, o over the search window, I mirrored at the edges
    (BORDER_REFLECT_101). uint8 results are rounded half to even."""
    u8 = np.asarray(x).dtype == np.uint8
    planes, back = _planes(x, layout)
    rt, rs = template_size // 2, search_size // 2
    m = rt + rs
    p = planes.astype(np.float64)
    for ax in (1, 2):  # a one-pixel axis mirrors onto itself
        p = np.pad(p, [(m, m) if a == ax else (0, 0) for a in range(3)], mode="reflect" if p.shape[ax] > 1 else "edge")
    H, W = planes.shape[1:]
    num = np.zeros(planes.shape)
    den = np.zeros(planes.shape)
    centre = p[:, rs : rs + H + 2 * rt, rs : rs + W + 2 * rt]
    for dy in range(-rs, rs + 1):
        for dx in range(-rs, rs + 1):
            moved = p[:, rs + dy : rs + dy + H + 2 * rt, rs + dx : rs + dx + W + 2 * rt]
            d = sliding_window_view((centre - moved) ** 2, (template_size, template_size), axis=(1, 2))
            ms = d.mean(axis=(-2, -1))
            with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # h*h = 0: the limit (1 at ms = 0)
                wgt = np.where(ms == 0, 1.0, np.exp(-ms / (h * h)))
            num += wgt * p[:, m + dy : m + dy + H, m + dx : m + dx + W]
            den += wgt
    y = back(num / den)
    return np.clip(np.rint(y), 0, 255) if u8 else y


def squeeze_score(p, *squeezed):
    """max over squeezers of sum |p - p_squeezed| (L1 between probability vectors), per sample."""
    p = np.asarray(p, dtype=np.float64).reshape(len(p), -1)
    return np.max([np.abs(p - np.asarray(q, dtype=np.float64).reshape(p.shape)).sum(axis=1) for q in squeezed], axis=0)


def squeeze_threshold(scores, fpr):
    """Xu et al.'s threshold: sorted(scores)[ceil(N * (1 - fpr)) - 1]."""
    d = np.sort(np.asarray(scores, dtype=np.float64))
    return float(d[max(math.ceil(len(d) * (1 - fpr)) - 1, 0)])
