"""References for the randomised input transforms, in float64 NumPy, with the word
mappings of docs/rng.md (draws from :mod:`reference.rng`)."""

import numpy as np

from .rng import below, blocks, normal, random_raw, uniform_co


def _rows(v, n, ndim):
    v = np.broadcast_to(np.asarray(v, dtype=np.float64), (n,))
    return v.reshape((n,) + (1,) * (ndim - 1))


def _clip(y, clip):
    return y if clip is None else np.clip(y, clip[0], clip[1])


def _first(x, sample_start):
    """The stream element of sample sample_start's first element."""
    return sample_start * int(np.prod(x.shape[1:], dtype=np.int64))


def gaussian_noise(x, sigma, *, seed, substream=0, sample_start=0, clip=None):
    """clip(x + sigma * z), z the stream's standard normal of each flat element (row r
    counted as sample sample_start + r)."""
    x = np.asarray(x, dtype=np.float64)
    z = normal(x.shape, seed=seed, substream=substream, offset=_first(x, sample_start))
    return _clip(x + _rows(sigma, x.shape[0], x.ndim) * z, clip)


def uniform_noise(x, eps, *, seed, substream=0, sample_start=0, clip=None):
    """clip(x + eps * (2u - 1)), u = U[0, 1) of each flat element's word."""
    x = np.asarray(x, dtype=np.float64)
    w = random_raw(x.size, seed=seed, substream=substream, offset=_first(x, sample_start))
    u = uniform_co(w).reshape(x.shape)
    return _clip(x + _rows(eps, x.shape[0], x.ndim) * (2.0 * u - 1.0), clip)


def resize_pad_params(n, min_size, out_size, *, seed, substream=0, per_sample=True, sample_start=0):
    """(size, top, left) per sample from words 0, 1, 2 of block sample_start + r (block 0
    for all samples when not per_sample)."""
    w = blocks(seed, substream, sample_start if per_sample else 0, n if per_sample else min(n, 1))
    size = min_size + below(w[:, 0], out_size - min_size).astype(np.int64)
    room = out_size - size + 1
    top = np.array([below(a, b) for a, b in zip(w[:, 1], room)], dtype=np.int64).reshape(-1)
    left = np.array([below(a, b) for a, b in zip(w[:, 2], room)], dtype=np.int64).reshape(-1)
    p = np.stack([size, top, left], axis=1)
    return p if per_sample else np.repeat(p, n, axis=0)


def saturate_rint(y, dtype):
    """float64 values to an integer dtype: rint (half to even), then saturated to the
    dtype's range (OpenCV's saturate_cast of a float)."""
    info = np.iinfo(dtype)
    r = np.rint(y)
    top = float(info.max) + 1.0  # 2^k exactly, also where info.max itself does not fit a float64
    out = np.where((r >= info.min) & (r < top), r, 0).astype(dtype)
    out[r >= top] = info.max
    out[r < info.min] = info.min
    return out


def resize_taps(n_in, size, interpolation, edge_weight, integer=False):
    """cv2.resize's taps along one axis of n_in pixels resized to size: source indices
    (i0, i1) and float64 weights (a0, a1) of each output pixel (nearest: a1 = 0).
    ``edge_weight`` (OpenCV's horizontal pass) zeroes the second tap outside the image.
    OpenCV keeps the weights in float32; for integer data ours are (1 - f, f) in float64,
    which sum to 1 exactly."""
    d = np.arange(size)
    if interpolation == "nearest":
        s = np.minimum(np.floor(d * (1.0 / (size / n_in))).astype(np.int64), n_in - 1)
        return s, s, np.ones(size), np.zeros(size)
    g = (d + 0.5) * (1.0 / (size / n_in)) - 0.5
    s = np.floor(g).astype(np.int64)
    f = (g - s).astype(np.float32)
    if edge_weight:
        f = np.where((s < 0) | (s >= n_in - 1), np.float32(0), f)
        s = np.clip(s, 0, n_in - 1)
    a0 = 1.0 - f.astype(np.float64) if integer else (np.float32(1) - f).astype(np.float64)
    return np.clip(s, 0, n_in - 1), np.clip(s + 1, 0, n_in - 1), a0, f.astype(np.float64)


def resize_opencv(img, size, interpolation, integer=False):
    """img (C, H, W) resized to (C, size, size) as cv2.resize does: nearest copies pixels
    (any dtype, exact); bilinear mixes in float64 with resize_taps' weights (float64 result)."""
    _, h, w = img.shape
    x0, x1, ax0, ax1 = resize_taps(w, size, interpolation, True, integer)
    y0, y1, ay0, ay1 = resize_taps(h, size, interpolation, False, integer)
    if interpolation == "nearest":
        return img[:, y0][:, :, x0]
    img = img.astype(np.float64)
    rows = img[:, :, x0] * ax0 + img[:, :, x1] * ax1  # horizontal pass first, as OpenCV
    return rows[:, y0] * ay0[:, None] + rows[:, y1] * ay1[:, None]


def random_resize_pad(
    x,
    out_size,
    *,
    min_size=None,
    seed,
    substream=0,
    interpolation="nearest",
    per_sample=True,
    sample_start=0,
    layout="NCHW",
):
    """Xie et al. 2018: each image resized to size x size, zero-padded to out_size at (top, left).
    Float data gives float64; integer data keeps its dtype, bilinear values rounded half to
    even and saturated (saturate_rint)."""
    x = np.asarray(x)
    ints = x.dtype.kind in "iu"
    x = x if ints else x.astype(np.float64)
    if layout == "NHWC":
        x = x.transpose(0, 3, 1, 2)
    n, c, h, w = x.shape
    p = resize_pad_params(
        n,
        max(h, w) if min_size is None else min_size,
        out_size,
        seed=seed,
        substream=substream,
        per_sample=per_sample,
        sample_start=sample_start,
    )
    out = np.zeros((n, c, out_size, out_size), x.dtype)
    for r, (size, top, left) in enumerate(p):
        img = resize_opencv(x[r], size, interpolation, integer=ints)
        out[r, :, top : top + size, left : left + size] = saturate_rint(img, x.dtype) if img.dtype != x.dtype else img
    return out.transpose(0, 2, 3, 1) if layout == "NHWC" else out


def pixel_deflection(x, deflections, window, *, seed, substream=0, sample_start=0, layout="NCHW"):
    """Prakash et al. 2018's loop: per image, per deflection, per channel, in that order.
    Pixels are copied: float data as float64, integer data in its own dtype."""
    out = np.array(x)
    out = out if out.dtype.kind in "iu" else out.astype(np.float64)
    v = out.transpose(0, 3, 1, 2) if layout == "NHWC" else out
    n, c, h, w = v.shape
    blk = blocks(seed, substream, sample_start * c * deflections, n * c * deflections).reshape(n, c, deflections, 4)
    for r in range(n):
        for k in range(deflections):
            for ch in range(c):
                w0, w1, w2, w3 = (int(t) for t in blk[r, ch, k])
                py, px = int(below(w0, h)), int(below(w1, w))
                ly, hy = max(py - window, 0), min(py + window, h - 1)
                lx, hx = max(px - window, 0), min(px + window, w - 1)
                v[r, ch, py, px] = v[r, ch, ly + int(below(w2, hy - ly + 1)), lx + int(below(w3, hx - lx + 1))]
    return out
