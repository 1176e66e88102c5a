"""Feature squeezing (Xu, Evans & Qi, "Feature Squeezing: Detecting Adversarial Examples in
Deep Neural Networks", NDSS 2018): squeezers that shrink the input space an attacker can
use, and the detector that compares a model's predictions on raw and squeezed inputs.

The image ops take a batch (N, C, H, W) or (N, H, W, C) (``layout``), or video
(N, T, C, H, W) / (N, T, H, W, C), and work per channel. Like every op they take host or
device arrays, ``backend=`` and ``out=``, and keep the input's dtype (except
``bit_depth``, which gives float64 for integer data). ``median_filter`` and
``non_local_means`` read neighbouring pixels, so their ``out`` must not overlap ``x``.
What each op computes is written down in :mod:`mlsec_kernels.reference`.
"""

from __future__ import annotations

import math
import struct

import numpy as np

from ._arrays import (
    REALS,
    Arr,
    Call,
    _float_or_inf,
    _to_host_values,
    check_int,
    check_writable,
    describe,
    dtype_words,
    float_result,
    is_real,
    real_pair,
    shown_pair,
)
from ._backend import GENERAL, fast
from ._constants import MAX_WINDOW_PIXELS

_U8 = np.dtype(np.uint8)
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


def _float(v, name):
    if not is_real(v):
        raise TypeError(f"{name} must be a number, got {describe(v)}")
    return _float_or_inf(v)


def _range(clip, dtype):
    """bit_depth's (lo, hi): clip, or by default (0, 1) for float data and the dtype's whole
    range for integers (0..255 for uint8 images, 0..65535 for 16-bit ones)."""
    if clip is None:
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            return float(info.min), float(info.max)
        return 0.0, 1.0
    lo, hi = real_pair(clip, "clip")
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):  # as floats: the binding's words
        raise ValueError(f"clip must be finite (low, high) with low < high, got {shown_pair(clip, lo, hi)}")
    if dtype.kind == "f" and dtype.itemsize == 4 and not _f32_span(lo, hi):  # ART's order normalises in float32
        raise ValueError(f"clip must span a finite range in float32 for float32 x, got {shown_pair(clip, lo, hi)}")
    return lo, hi


def _f32_span(lo, hi):
    """Whether lo, hi and hi - lo are finite in float32 (the binding's test, exactly: a
    float32 difference is finite iff the double one is below 2**128 - 2**103)."""
    try:
        lo32, hi32 = struct.unpack("ff", struct.pack("ff", lo, hi))
    except OverflowError:
        return False
    return abs(hi32 - lo32) < 2.0**128 - 2.0**103


def bit_depth(x, bits, *, clip=None, out=None, backend="auto"):
    """Bit-depth reduction to ``bits`` bits per value (Xu et al. 2018), ART's FeatureSqueezing.

    ``out = lo + (hi-lo) * rint((x-lo)/(hi-lo) * m) / m`` with ``m = 2**bits - 1`` and
    ``rint`` rounding half to even, exactly as ART 1.20 computes it on NumPy 2, operation
    for operation: ``t = (x - lo) / span`` with ``span = hi - lo``, then
    ``((rint(t * m) / m) * span) + lo`` in float64 (ART's ``m`` is a NumPy float64, which
    promotes). ``t`` is computed in x's float dtype (``lo`` and ``span`` rounded to it, as
    NumPy 2 treats clip values given as Python numbers, ``clip_values=(0, 1)``), in float64
    for integer data.
    Float32 data returns that float64 result rounded once to float32, float64 data the
    result itself, integer data float64 (as NumPy's true division, and ART, do). Values
    outside ``clip`` are not clipped first (as in ART). ``m`` is ``2**bits - 1`` rounded
    to float64 (``2**bits`` from 54 bits on), as in ART.

    Differences from ART, which needs clip values: ``clip`` defaults to (0, 1) for float
    data and to the dtype's whole range for integers; integers are converted to float64
    before ``x - lo`` (ART subtracts integer clip values in x's integer dtype, which wraps
    around in narrow dtypes: int8 data with clip (-128, 127)); ART given NumPy scalars as
    clip values normalises in their dtype (float64: float32 data in float64; float32: the
    span too in float32).

    Parameters
    ----------
    x : array of float32, float64 or any integer dtype, any shape (N, ...).
    bits : int in 1..64.
    clip : (lo, hi) with lo < hi, both finite.
    out : float32 for float32 x, float64 otherwise, x's shape; may be x itself when the
        dtypes agree.

    Reference: :func:`mlsec_kernels.reference.bit_depth`.
    """
    if type(x) is np.ndarray and type(bits) is int:  # the default clip depends on x's dtype
        o = fast(backend, x, "bit_depth", bits, *_range(clip, x.dtype), out=out, dtype=float_result(x.dtype))
        if o is not GENERAL:
            return o
    bits = check_int(bits, "bits")
    if not 1 <= bits <= 64:
        raise ValueError(f"bits must be an integer in 1..64, got {bits}")
    c = Call(backend, dtypes=REALS, x=x)
    lo, hi = _range(clip, c.dtype)
    o = c.output(out, dtype=float_result(c.dtype))  # checked before views copies x
    c.kernel("bit_depth")(c.views[0], bits, lo, hi, o)
    return c.result()


def _window(size):
    if isinstance(size, (tuple, list)):
        if len(size) != 2:
            raise ValueError(f"size must be an int or a pair (h, w), got {describe(size)}")
        return check_int(size[0], "size"), check_int(size[1], "size")
    s = check_int(size, "size")
    return s, s


def _image_call(backend, x, out, layout, dtypes):
    """Call + the image checks of python/checks.hpp, for the general path, in the binding's
    order: x's and out's own rules (as each array is taken), the layout, x's axes, its
    dtype, then out's overlap with x."""
    c = Call(backend, dtypes=None, x=x)
    o = None if out is None else Arr(out, "out")
    if o is not None:
        if len(o.shape) < 1:
            raise ValueError("out must have at least one axis (samples first), got a 0-d array")
        check_writable(o)
    if not isinstance(layout, str) or layout not in ("NCHW", "NHWC"):
        raise ValueError(f"layout must be 'NCHW' or 'NHWC', got {describe(layout)}")
    if len(c.shape) not in (4, 5):
        raise ValueError(f"x must be 4-D (N, C, H, W) / (N, H, W, C) or 5-D (N, T, ...) video, got {len(c.shape)}-D")
    if c.dtype not in dtypes:
        raise TypeError(f"x must be {dtype_words(dtypes)}, got {c.dtype}")
    if o is not None and not c.first.device and np.may_share_memory(o.view, c.first.view):
        raise ValueError("out must not overlap x (this op reads neighbouring pixels)")
    hw = c.shape[-3:-1] if layout == "NHWC" else c.shape[-2:]
    return c, hw


def median_filter(x, size, *, layout="NCHW", mode="reflect", out=None, backend="auto"):
    """Median smoothing per channel over a ``size`` window (Xu et al. 2018; ART's SpatialSmoothing).

    Equals ``scipy.ndimage.median_filter(x, size=(1, 1, h, w), mode=mode)`` (NCHW; for NHWC
    ``size=(1, h, w, 1)``) exactly, for any dtype and window: output (i, j) is the element of
    rank ``h*w // 2`` (0-based) of the window over rows ``i - h//2 .. i - h//2 + h - 1`` and
    columns likewise, so even windows take the upper median and are anchored as SciPy
    anchors them (origin 0). ``mode="reflect"`` extends the image by repeating the edge
    sample (d c b a | a b c d), ``mode="mirror"`` without it (d c b | a b c d, PyTorch's
    reflect padding); a window larger than the image folds the extension again as often as
    it needs (SciPy's reflect mode reads outside the image instead once a window reaches 4n
    or more before the start of an axis of length n; this op keeps folding).

    NaN: a window holding a NaN gives NaN (``np.median``'s rule; SciPy returns an element of
    the window that depends on its selection order). -0.0 and 0.0 are equal to the median,
    as to SciPy: where they meet, either may be returned.

    How (C++; the choice measured per window and dtype): small windows (up to 7x7, others
    up to 32 to 64 pixels) by sorting networks across rows of pixels in vector registers;
    larger ones on uint8/int8 by histograms in constant time per pixel (Perreault & Hebert,
    "Median filtering in constant time", 2007), on other dtypes by sorting each tile of the
    image once and sliding the window over the ranks (Suomela, "Median filtering is
    equivalent to sorting", 2014), O(h + w) per pixel. The Numba port has the networks and
    the ranks; the GPU selects per pixel.

    Parameters
    ----------
    x : 4-D or 5-D array of float32, float64, or any integer dtype (int8 .. int64,
        uint8 .. uint64); the result keeps it. bool, float16 and complex are refused.
    size : int or (h, w), each at least 1, with h * w at most 2**20; larger than the image
        is allowed.
    layout : "NCHW" (also (N, T, C, H, W)) or "NHWC" (also (N, T, H, W, C)).
    mode : "reflect" (SciPy's default) or "mirror".

    Reference: :func:`mlsec_kernels.reference.median_filter`.
    """
    h, w = _window(size)
    if type(layout) is str and type(mode) is str:  # the binding would take bytes too
        o = fast(backend, x, "median_filter", h, w, layout, mode, out=out)
        if o is not GENERAL:
            return o
    c, _ = _image_call(backend, x, out, layout, REALS)
    if not (h >= 1 and w >= 1 and h * w <= MAX_WINDOW_PIXELS):
        raise ValueError(
            f"size must be at least 1 along each axis and at most {MAX_WINDOW_PIXELS} pixels in all, got ({h}, {w})"
        )
    if not isinstance(mode, str) or mode not in ("reflect", "mirror"):
        raise ValueError(f"mode must be 'reflect' or 'mirror', got {describe(mode)}")
    o = c.output(out)  # checked before views copies x
    c.kernel("median_filter")(c.views[0], h, w, layout, mode, o)
    return c.result()


def non_local_means(x, *, h, template_size=3, search_size=13, layout="NCHW", out=None, backend="auto"):
    """Non-local means denoising per channel (Buades, Coll & Morel, CVPR 2005), the third
    squeezer of Xu et al. 2018 ("non_local_means_color_13_3_2": search 13, template 3, h 2).

    OpenCV's weight form (fastNlMeansDenoising), in float32::

        d2(p, o) = mean over the template u of (I(p+u) - I(p+o+u))**2
        out(p)   = sum_o exp(-d2(p, o) / h**2) I(p+o) / sum_o exp(-d2(p, o) / h**2)

    with o over the search window and I mirrored at the edges (d c b | a b c d). uint8
    results are rounded half to even. OpenCV computes the same formula with fixed-point
    weights from a table, drops weights below 0.001 and works per colour image (Lab) in
    fastNlMeansDenoisingColored; this op works per channel of the given data.

    Parameters
    ----------
    x : 4-D or 5-D array of float32 or uint8 (h on the data's scale, e.g. 2 for 0..255).
    h : filter strength, > 0.
    template_size, search_size : odd window sizes (1..15 and 1..45).

    Reference: :func:`mlsec_kernels.reference.non_local_means`.
    """
    h = _float(h, "h")
    if type(template_size) is int and type(search_size) is int and type(layout) is str:
        o = fast(backend, x, "non_local_means", h, template_size, search_size, layout, out=out)
        if o is not GENERAL:
            return o
    c, _ = _image_call(backend, x, out, layout, (_F32, _U8))
    if not (h > 0) or math.isinf(h):
        raise ValueError(f"h must be finite and > 0, got {h!r}")
    t, s = check_int(template_size, "template_size"), check_int(search_size, "search_size")
    if not (1 <= t <= 15 and t % 2):
        raise ValueError(f"template_size must be odd, in 1..15, got {t}")
    if not (1 <= s <= 45 and s % 2):
        raise ValueError(f"search_size must be odd, in 1..45, got {s}")
    o = c.output(out)
    if o.size:  # an empty batch or image has no pixel to filter: the empty result as it is
        c.kernel("non_local_means")(c.views[0], h, t, s, layout, o)
    return c.result()


def _host(a, name):
    """Probabilities from any framework as a float64 (N, K) NumPy array."""
    a = _to_host_values(a, name)
    return a.reshape(len(a), -1) if a.ndim != 2 else a


def squeeze_score(p, *squeezed):
    """Xu et al.'s detection score: per sample, the largest L1 distance between the
    prediction ``p`` (N, K) on the raw input and each prediction on a squeezed input.

    ``score[n] = max_s sum_k |p[n, k] - squeezed[s][n, k]|``, float64 of shape (N,).
    """
    if not squeezed:
        raise ValueError("squeeze_score needs at least one squeezed prediction")
    p = _host(p, "p")
    score = np.zeros(len(p))
    for i, q in enumerate(squeezed):
        q = _host(q, f"squeezed[{i}]")
        if q.shape != p.shape:
            raise ValueError(f"squeezed[{i}] must have the shape of p: {q.shape} vs {p.shape}")
        score = np.maximum(score, np.abs(p - q).sum(axis=1))
    return score


SQUEEZERS = {"bit_depth": bit_depth, "median_filter": median_filter, "non_local_means": non_local_means}


class SqueezeDetector:
    """The feature-squeezing detector (Xu, Evans & Qi, NDSS 2018).

    ``squeezers`` lists (name, parameters) pairs, e.g.
    ``[("bit_depth", {"bits": 5}), ("median_filter", {"size": 2})]`` (names from
    ``SQUEEZERS``; a callable may stand for a name). ``model`` is any callable mapping a
    batch to probabilities (N, K). An input is flagged when its :func:`squeeze_score`
    exceeds ``threshold``, which ``fit`` sets from legitimate inputs as Xu et al. do:
    ``sorted(scores)[ceil(N * (1 - fpr)) - 1]``, so at most a fraction ``fpr`` of them is
    flagged.
    """

    def __init__(self, squeezers, threshold=None):
        self.squeezers = []
        for item in squeezers:
            try:
                fn, params = item
            except (TypeError, ValueError):
                raise TypeError(f"each squeezer must be a (name, parameters) pair, got {describe(item)}") from None
            if not callable(fn):
                if fn not in SQUEEZERS:
                    raise ValueError(f"unknown squeezer {fn!r}; expected one of {sorted(SQUEEZERS)} or a callable")
                fn = SQUEEZERS[fn]
            self.squeezers.append((fn, dict(params or {})))
        if not self.squeezers:
            raise ValueError("squeezers must list at least one squeezer")
        self.threshold = None if threshold is None else float(threshold)

    def squeeze(self, x):
        """The squeezed versions of x, one per squeezer."""
        return [fn(x, **params) for fn, params in self.squeezers]

    def score(self, model, x):
        """Per-sample scores (N,) of x under model."""
        return squeeze_score(model(x), *(model(s) for s in self.squeeze(x)))

    def fit(self, model, x_legit, fpr=0.05):
        """Sets the threshold from legitimate inputs to a false-positive rate of at most fpr."""
        fpr = float(fpr)
        if not 0.0 <= fpr < 1.0:
            raise ValueError(f"fpr must be in [0, 1), got {fpr}")
        d = np.sort(self.score(model, x_legit))
        if len(d) == 0:
            raise ValueError("x_legit must hold at least one sample")
        self.threshold = float(d[max(math.ceil(len(d) * (1.0 - fpr)) - 1, 0)])
        return self

    def detect(self, model, x):
        """Boolean array (N,): True where the score exceeds the threshold (adversarial)."""
        if self.threshold is None:
            raise RuntimeError("SqueezeDetector has no threshold: call fit() or pass threshold=")
        return self.score(model, x) > self.threshold
