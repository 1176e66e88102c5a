"""The predicates of valid.py's tables: what an argument of each kind must be."""

import math
import operator

import numpy as np

from .build import torch

NORMS = {"inf", "linf", "1", "l1", "2", "l2"}


def as_array(v):
    """The NumPy view of an array argument, or None when v is not array-like."""
    if isinstance(v, np.ndarray):
        return v
    if torch is not None and isinstance(v, torch.Tensor):
        return v.detach().numpy()
    if isinstance(v, (list, tuple, memoryview)) or hasattr(v, "__array__") or hasattr(v, "__array_interface__"):
        try:
            return np.asarray(v)
        except Exception:
            return None
    return None


def native(dt):
    return np.dtype(dt).newbyteorder("=")


def real(v):
    """A number that is not a bool: int, float or their NumPy kinds."""
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _float(v):
    """float(v), an int beyond float's range as infinity."""
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def finite_real(v, lo, strict=False):
    if not real(v):
        return False
    try:
        f = float(v)
    except OverflowError:
        return False
    return math.isfinite(f) and (f > lo if strict else f >= lo)


def integer(v, lo=None, hi=None):
    """An int as operator.index takes it (NumPy ints and 0-d int arrays too), not a bool:
    the squeezers' and transforms' integer arguments."""
    if isinstance(v, (bool, np.bool_)):
        return False
    try:
        i = operator.index(v)
    except TypeError:
        return False
    return (lo is None or i >= lo) and (hi is None or i <= hi)


def strict_int(v, lo=None, hi=None):
    """A Python or NumPy int, not a bool: seeds, substreams, offsets and the output
    steps' parameters (documented as ints)."""
    return isinstance(v, (int, np.integer)) and integer(v, lo, hi)


F32_LIMIT = 2.0**128 - 2.0**103  # float64 values from here on round to inf in float32


def per_sample(v, n, strict=False, f32=False):
    """A scalar, or a 1-D array-like of real numbers with one value per sample; finite in
    float32 too for float32 data (f32), which the kernels compute in."""
    limit = F32_LIMIT if f32 else math.inf
    if real(v):
        return finite_real(v, 0.0, strict) and abs(_float(v)) < limit
    a = as_array(v)
    if a is None or a.dtype.kind not in "fiu" or a.ndim != 1 or a.shape[0] != n:
        return False
    a = a.astype(np.float64)
    return bool(np.all(np.isfinite(a) & ((a > 0) if strict else (a >= 0)) & (np.abs(a) < limit)))


def clip_pair(v, strict=False):
    """None, or two real numbers (low, high): low <= high, not NaN (finite, low < high
    when strict: the squeezers' value range)."""
    if v is None:
        return True
    try:
        items = list(v)
    except TypeError:
        return False
    if len(items) != 2 or not all(real(c) for c in items) or isinstance(v, (str, bytes)):
        return False
    lo, hi = (_float(c) for c in items)
    if strict:
        return math.isfinite(lo) and math.isfinite(hi) and lo < hi
    return not (math.isnan(lo) or math.isnan(hi)) and lo <= hi


def seed(v):
    from mlsec_kernels.rng import Generator

    return v is None or isinstance(v, Generator) or strict_int(v, 0, 2**64 - 1)


def norm(v):
    if isinstance(v, str):
        return v.strip().lower() in NORMS
    return real(v) and float(v) in (math.inf, 1.0, 2.0)


def strict_bool(v):
    return isinstance(v, (bool, np.bool_))


def truthy(v):
    try:
        bool(v)
    except Exception:
        return False
    return True


def choice(*allowed):
    return lambda v, c: isinstance(v, str) and v in allowed


def floats(dtypes, ndim=None):
    """An array of one of `dtypes` (any byte order), with ndim in `ndim` (None: >= 1)."""

    def ok(v, c):
        a = as_array(v)
        if a is None or a.dtype.kind == "V" or native(a.dtype) not in [np.dtype(d) for d in dtypes]:
            return False
        return a.ndim >= 1 if ndim is None else a.ndim in ndim

    return ok


def like(first):
    """Same shape and dtype as argument `first` (the error may name either)."""

    def ok(v, c):
        a, b = as_array(v), as_array(c[first])
        return a is not None and b is not None and a.shape == b.shape and native(a.dtype) == native(b.dtype)

    ok.peer = first
    return ok


def bound(v, c):
    """project's lo or hi: None, a real number (not NaN), or an array of delta's shape and
    dtype."""
    if v is None:
        return True
    if real(v):  # (an int beyond float's range is +-inf)
        return not math.isnan(_float(v))  # NaN: "neither may be NaN"
    return like("delta")(v, c)


def n_of(c, name):
    a = as_array(c[name])
    return a.shape[0] if a is not None and a.ndim >= 1 else -1


LAYOUT = choice("NCHW", "NHWC")
CLIP = lambda v, c: clip_pair(v)  # noqa: E731
SEED = lambda v, c: seed(v)  # noqa: E731
NORM = lambda v, c: norm(v)  # noqa: E731


def ps(name, strict=False):
    def ok(v, c):
        a = as_array(c[name])
        f32 = a is not None and a.dtype.kind == "f" and a.itemsize == 4
        return per_sample(v, n_of(c, name), strict, f32)

    return ok


def _same_memory(a, b):
    return (
        a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
        and a.shape == b.shape
        and a.strides == b.strides
    )


def out_bad(ctx, inputs, shape, dtype, rule="alias"):
    """Whether ``out`` is refused, and the pending area it touches (None: none is).

    out: None, or an array the result is written into (NumPy, torch; not a list) of the
    result's shape and dtype (any byte order), writable, aligned for its dtype (the kernels
    store whole elements), and not overlapping an input except (rule "alias") exactly."""
    o = ctx.get("out")
    if o is None:
        return False, None
    if isinstance(o, (list, tuple)):
        return True, None
    a = as_array(o)
    if a is None or a.shape != tuple(shape) or a.dtype.kind == "V" or native(a.dtype) != np.dtype(dtype):
        return True, None
    if not a.flags.writeable or not a.flags.aligned:
        return True, None
    for name in inputs:
        b = as_array(ctx[name])
        if b is None or not np.shares_memory(a, b):
            continue
        # an exact alias of the same dtype is an in-place update; any other overlap is refused
        if rule != "alias" or not _same_memory(a, b) or native(a.dtype) != native(b.dtype):
            return True, None
    return False, None


def nbytes(v):
    a = as_array(v)
    return 0 if a is None else a.size * a.itemsize
