"""Randomised input transforms: defences that make a precise perturbation hard to aim.

- :func:`gaussian_noise`, :func:`uniform_noise`: additive noise (the sampling step of
  randomized smoothing, Cohen et al. 2019; Gaussian augmentation).
- :func:`random_resize_pad`: Xie et al. 2018's random resizing and padding.
- :func:`pixel_deflection`: Prakash et al. 2018's pixel deflection (the denoising step
  stays with the user).

Every draw comes from the project's Philox stream (docs/design.md) with the word mappings of
docs/rng.md, so a seed gives the same bits on every backend and thread count. ``seed``
is an int (substream 0), None (unpredictable, from :mod:`secrets`) or a
:class:`mlsec_kernels.rng.Generator` (its next substream). Images are batches in
``layout="NCHW"`` or ``"NHWC"``, host or device; the result comes back in the caller's
array type. Every op takes float32, float64 and every integer dtype: the noise ops return
float64 for integers (NumPy's ``x + noise``), the image ops keep the dtype.
References: :mod:`mlsec_kernels.reference.transforms`.
"""

from __future__ import annotations

import math

import numpy as np

from . import _arrays
from . import rng as _rng
from ._arrays import REALS, Call, check_clip, check_flag, check_int, float_result
from ._backend import GENERAL, fast
from ._seeds import check_sample_start

_LAYOUTS = ("NCHW", "NHWC")
_INTERPOLATIONS = ("nearest", "bilinear")


def _first_element(sample_start, shape):
    """The stream element of sample ``sample_start``'s first element, ``sample_start * d``
    (docs/rng.md), with the batch inside the stream's 2**66 elements."""
    if type(sample_start) is int and sample_start == 0:  # the default, on the fast path
        return 0
    n, d = (shape[0], math.prod(shape[1:])) if shape else (1, 1)
    return check_sample_start(sample_start, n, d, 66) * d


def _noise(kind, name, x, scale, seed, sample_start, clip, out, backend):
    seed, substream = _rng.seed_and_substream(seed)
    lo, hi = check_clip(clip)
    if type(x) is np.ndarray:
        f0 = _first_element(sample_start, x.shape)
        o = fast(backend, x, "noise", scale, kind, seed, substream, f0, lo, hi, out=out, dtype=float_result(x.dtype))
        if o is not GENERAL:
            return o
    c = Call(backend, dtypes=REALS, x=x)
    scale = c.per_sample(scale, name)
    # out checked before views copies x, and before sample_start (the binding's order)
    o, f0 = c.output_after(out, lambda: _first_element(sample_start, c.shape), dtype=float_result(c.dtype))
    c.kernel("noise")(*c.views, scale, kind, seed, substream, f0, lo, hi, o)
    return c.result()


def gaussian_noise(x, sigma, *, seed=None, sample_start=0, clip=None, out=None, backend="auto"):
    """Additive Gaussian noise: ``clip(x + sigma * z)``, ``z`` standard normal.

    ``sigma``: a scalar or one value per sample, finite and >= 0. ``clip=(low, high)``
    clips the result (None: no clipping). ``z`` is the stream's standard normal of the
    element's flat index (Box-Muller pairs of docs/design.md, float32, widened for float64
    data), so ``gaussian_noise(x, s, seed=k) == x + s * rng.normal(x.shape, seed=k)``
    bit for bit. Integer x gives float64: ``float64(x) + float64(z) * sigma``, as NumPy's
    ``x + noise`` (ART's GaussianAugmentation returns float32 for every input). ``out``
    has the result's dtype and may be ``x`` (in place) when the dtypes agree. Gaussian
    data augmentation (Zantedeschi et al. 2017); the sampling step of randomized
    smoothing (Cohen et al. 2019).

    ``sample_start``: the index in a larger batch of x's first sample (an int >= 0,
    default 0), for a batch run in pieces: ``gaussian_noise(x[a:b], s[a:b], seed=k,
    sample_start=a)`` is ``gaussian_noise(x, s, seed=k)[a:b]`` bit for bit (element (r, j)
    draws stream element ``(a + r)*d + j``; ``(sample_start + N) * d <= 2**66``).

    Not to be confused with :func:`mlsec_kernels.output.gaussian_noise`, which noises a
    model's output probabilities. Reference: :func:`reference.transforms.gaussian_noise`.
    """
    return _noise("normal", "sigma", x, sigma, seed, sample_start, clip, out, backend)


def uniform_noise(x, eps, *, seed=None, sample_start=0, clip=None, out=None, backend="auto"):
    """Additive uniform noise: ``clip(x + eps * (2u - 1))``, ``u`` uniform in [0, 1) from
    the element's stream word, i.e. uniform in [-eps, eps). Same draws as
    ``random_start(x, eps, norm="inf")``; arguments (``sample_start`` included) and dtypes
    as :func:`gaussian_noise`.
    Reference: :func:`reference.transforms.uniform_noise`.
    """
    return _noise("uniform", "eps", x, eps, seed, sample_start, clip, out, backend)


def _choice(value, allowed, name):
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {_arrays.describe(value)}")
    return value


def _images(c, layout):
    if len(c.shape) != 4:
        raise ValueError(f"x must be a batch of images with 4 axes ({layout}), got shape {c.shape}")
    n, a, b, d = c.shape
    n, ch, h, w = (n, a, b, d) if layout == "NCHW" else (n, d, a, b)
    if h < 1 or w < 1:
        raise ValueError("x must have images of at least 1 x 1 pixels")
    return n, ch, h, w


def resize_pad_params(n, min_size, out_size, seed, substream, per_sample=True, sample_start=0):
    """The (size, top, left) of each sample, int32 (n, 3), from block sample_start + r of
    the stream for sample r (block 0 for every sample when not per_sample, whatever
    sample_start): size = min_size + below(w0, out_size - min_size), top = below(w1,
    room), left = below(w2, room), room = out_size - size + 1 (docs/rng.md)."""
    first = check_sample_start(sample_start, n, 1, 64)  # checked also where it has no effect
    first = first if per_sample else 0
    m = n if per_sample else min(n, 1)
    w = _rng.random_raw(4 * m, seed=seed, substream=substream, offset=4 * first).reshape(m, 4).astype(np.uint64)
    size = min_size + ((w[:, 0] * np.uint64(out_size - min_size)) >> np.uint64(32)).astype(np.int64)
    room = (out_size - size + 1).astype(np.uint64)
    top, left = ((w[:, 1:3] * room[:, None]) >> np.uint64(32)).astype(np.int64).T
    p = np.stack([size, top, left], axis=1).astype(np.int32)
    return p if per_sample else np.repeat(p, n, axis=0)


def random_resize_pad(
    x,
    out_size,
    *,
    min_size=None,
    seed=None,
    interpolation="nearest",
    per_sample=True,
    sample_start=0,
    layout="NCHW",
    return_params=False,
    out=None,
    backend="auto",
):
    """Random resizing and padding (Xie, Wang, Zhang, Ren & Yuille, ICLR 2018).

    Each image is resized to ``size x size``, ``size`` uniform in [min_size, out_size)
    (``min_size``, default the input's larger side; ``size = out_size`` when
    ``min_size == out_size``), and written at a random offset ``(top, left)``, each
    uniform in [0, out_size - size], of a zero ``out_size x out_size`` canvas.
    ``per_sample=False`` draws one (size, top, left) for the whole batch, as the
    original code does. The result is (N, C, out_size, out_size) in NCHW or
    (N, out_size, out_size, C) in NHWC.

    ``interpolation``: ``"nearest"`` is OpenCV's INTER_NEAREST (source index
    ``floor(dst * in / size)``, top-left convention, as in the original TensorFlow
    code's nearest neighbour); ``"bilinear"`` is OpenCV's INTER_LINEAR (pixel centres:
    ``src = (dst + 0.5) * in / size - 0.5``, edges clamped); both match ``cv2.resize``
    within float rounding. Integer images keep their dtype: nearest copies pixels
    exactly; bilinear mixes in float64 with weights ``(1 - f, f)`` (summing to 1), then
    rounds half to even and saturates to the dtype's range (``cv2.resize`` on uint8 and
    uint16: within one level). ``return_params=True`` also returns the draws, an int32
    (N, 3) array of (size, top, left). ``out`` must not be ``x``.

    ``sample_start``: the index in a larger batch of x's first image (an int >= 0, default
    0), for a batch run in pieces: image r of x draws as image ``sample_start + r`` (block
    ``sample_start + r`` of the stream), so ``random_resize_pad(x[a:b], ..., seed=k,
    sample_start=a)`` is ``random_resize_pad(x, ..., seed=k)[a:b]`` bit for bit. With
    ``per_sample=False`` every image uses block 0 and sample_start changes nothing. Reference:
    :func:`reference.transforms.random_resize_pad`.
    """
    layout = _choice(layout, _LAYOUTS, "layout")
    interpolation = _choice(interpolation, _INTERPOLATIONS, "interpolation")
    per_sample, return_params = check_flag(per_sample, "per_sample"), check_flag(return_params, "return_params")
    if out is not None and out is x:
        raise ValueError("out must not be x (random_resize_pad writes a new canvas)")
    out_size = check_int(out_size, "out_size")
    if not 1 <= out_size < 2**31:  # the draws are int32 (the kernels' params)
        raise ValueError(f"out_size must be in [1, 2**31), got {out_size}")
    c = Call(backend, dtypes=REALS, x=x)
    n, ch, h, w = _images(c, layout)
    if out_size < max(h, w):
        raise ValueError(f"out_size must be >= the input's sides ({h}, {w}), got {out_size}")
    min_size = max(h, w) if min_size is None else check_int(min_size, "min_size")
    if not 1 <= min_size <= out_size:
        raise ValueError(f"min_size must be in [1, out_size={out_size}], got {min_size}")
    seed, substream = _rng.seed_and_substream(seed)
    params = resize_pad_params(n, min_size, out_size, seed, substream, per_sample, sample_start)
    shape = (n, ch, out_size, out_size) if layout == "NCHW" else (n, out_size, out_size, ch)
    if out is not None and _starts_at_x(out, c.first, shape):
        raise ValueError("out must not be x (random_resize_pad writes a new canvas)")
    o = c.output(out, shape)  # checked before views copies x
    c.kernel("random_resize_pad")(c.views[0], _arrays.params_like(params, c.first), out_size, layout, interpolation, o)
    return (c.result(), params) if return_params else c.result()


def _starts_at_x(out, x, shape):
    """The binding's test for an out that is x: of the result's shape, starting where a
    non-empty host x starts (another view of x's memory, not only x itself)."""
    o = _arrays.Arr(out, "out")
    if o.device or x.device or o.shape != tuple(shape) or 0 in x.shape:
        return False
    return o.view.ctypes.data == x.view.ctypes.data


def pixel_deflection(x, deflections, window, *, seed=None, sample_start=0, layout="NCHW", out=None, backend="auto"):
    """Pixel deflection (Prakash, Moran, Garber, DiLillo & Storer, CVPR 2018).

    ``deflections`` times per image and, within each, for every channel in turn: a
    random pixel takes the value of a random pixel of the same channel within ``window``
    (>= 1) rows and columns of it, the window clipped to the image. Deflections apply in
    order, so later ones read earlier ones' results, as in the authors' loop. Two
    documented differences from that loop: the neighbour is drawn uniformly from the
    clipped window directly (the distribution their rejection loop samples) and row and
    column 0 may be sources (their ``> 0`` test excluded them). The denoising step (soft
    wavelet thresholding) is left to the user. Pixels are copied, so every dtype (floats
    and integers) comes out exact. ``out`` may be ``x`` (in place).

    ``sample_start``: the index in a larger batch of x's first image (an int >= 0, default
    0), for a batch run in pieces: deflection k of channel ch of image r draws block
    ``((sample_start + r)*C + ch)*deflections + k``, so ``pixel_deflection(x[a:b], ...,
    seed=s, sample_start=a)`` is ``pixel_deflection(x, ..., seed=s)[a:b]`` bit for bit;
    ``(sample_start + N) * C * deflections`` must stay within 2**63.
    Reference: :func:`reference.transforms.pixel_deflection`.
    """
    layout = _choice(layout, _LAYOUTS, "layout")
    deflections, window = check_int(deflections, "deflections"), check_int(window, "window")
    if deflections < 0:
        raise ValueError(f"deflections must be >= 0, got {deflections}")
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    for name, v in (("deflections", deflections), ("window", window)):
        if v >= 2**63:  # the kernels count in int64
            raise ValueError(f"{name} must be below 2**63, got {v}")
    seed, substream = _rng.seed_and_substream(seed)
    c = Call(backend, dtypes=REALS, x=x)
    n, ch, _, _ = _images(c, layout)
    if deflections > 0 and n * ch > 0 and deflections * n * ch > 2**63:  # the stream's block counter
        raise ValueError(f"deflections * N * C must be <= 2**63, got {deflections} * {n} * {ch}")
    # out checked before views copies x, and before sample_start (the binding's order)
    o, s0 = c.output_after(out, lambda: check_sample_start(sample_start, n, ch * deflections, 63))
    c.kernel("pixel_deflection")(c.views[0], deflections, window, layout, seed, substream, s0, o)
    return c.result()
