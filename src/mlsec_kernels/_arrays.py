"""Array handling for the general (non-fast) path: which library and device an array
belongs to, zero-copy views for the kernels, output allocation in the caller's library.

Rules (docs/design.md, principle 1): host data runs host kernels, device data runs CUDA
kernels, and the result comes back in the caller's array type. Nothing is copied between
host and device and nothing is cast: mixing them, or mixing dtypes, is an error.
Non-contiguous or unaligned inputs are copied to contiguous, aligned ones (the kernels
take contiguous data and load whole elements through typed pointers); a non-contiguous
``out`` receives the result through a contiguous temporary, an unaligned one is refused.
"""

from __future__ import annotations

import math
import operator
import sys

import numpy as np

from . import _backend
from . import _constants as C

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
INTEGERS = tuple(
    np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)
)
REALS = FLOATS + INTEGERS  # what python/checks.hpp's require_real takes, in its words


def dtype_words(dtypes):
    """The dtypes an argument must have, as the messages say them."""
    if dtypes == REALS:
        return "float32, float64 or an integer dtype"
    return " or ".join(d.name for d in dtypes)


def float_result(dtype):
    """The dtype of an op's result computed in floating point (cpp/common.hpp float_result):
    x's own for float data, float64 for integers (as NumPy's true division gives)."""
    return dtype if dtype.kind == "f" else FLOATS[1]


def _torch(a):
    t = sys.modules.get("torch")
    return t is not None and isinstance(a, t.Tensor)


def _cupy():
    import cupy

    return cupy


class Arr:
    """One array argument: the caller's object, the view a kernel takes, where it lives."""

    __slots__ = ("orig", "view", "lib", "device")

    def __init__(self, a, name: str):
        self.orig = a
        if isinstance(a, np.ndarray):
            self.lib, self.device, self.view = "numpy", False, a
        elif _torch(a):
            self.lib, self.device = "torch", a.is_cuda
            dt = str(a.dtype).removeprefix("torch.")
            try:
                np.dtype(dt)
            except TypeError:  # bfloat16, float8, ...: DLPack would fail with a bare RuntimeError
                raise TypeError(f"{name} has dtype {dt}, which NumPy and this library do not take") from None
            t = a.detach()
            self.view = t if a.is_cuda else np.from_dlpack(t)
        elif hasattr(a, "__cuda_array_interface__"):
            self.lib, self.device, self.view = "cuda", True, a
        elif hasattr(a, "__array__") or hasattr(a, "__array_interface__") or isinstance(a, (list, tuple, memoryview)):
            self.lib, self.device, self.view = "numpy", False, np.asarray(a)
        else:
            raise TypeError(f"{name} must be an array (NumPy, CuPy, torch or array-like), got {type(a).__name__}")

    @property
    def dtype(self):
        v = self.view
        if self.lib == "torch" and self.device:
            return np.dtype(str(v.dtype).replace("torch.", ""))
        if self.lib == "cuda" and not hasattr(v, "dtype"):
            return np.dtype(v.__cuda_array_interface__["typestr"])
        dt = np.dtype(v.dtype)
        # byte-swapped data (">f4" here) is float32 all the same: contiguous() converts it
        return dt.newbyteorder("=") if dt.byteorder in "<>" and not dt.isnative else dt

    @property
    def shape(self):
        v = self.view
        if self.lib == "cuda" and not hasattr(v, "shape"):
            return tuple(v.__cuda_array_interface__["shape"])
        return tuple(v.shape)

    def contiguous(self):
        """The array as a kernel takes it: C-contiguous and, on the host, aligned for its
        dtype (np.ascontiguousarray keeps an array at an odd offset of a buffer as it is)."""
        v = self.view
        if not self.device:
            return aligned(np.ascontiguousarray(v, dtype=self.dtype))
        if self.lib == "torch":
            return v.contiguous()
        c = _cupy().ascontiguousarray(v)
        # a view at an odd byte offset stays unaligned; a fresh CuPy buffer is aligned
        return c.copy() if c.data.ptr % max(c.itemsize, 1) else c


def empty(like: Arr, shape, dtype):
    """An uninitialised array in the library and on the device of `like`."""
    if like.lib == "torch":
        import torch

        t = torch.empty(shape, dtype=getattr(torch, np.dtype(dtype).name), device=like.orig.device)
        return t, (t if like.device else np.from_dlpack(t))
    if like.device:
        cp = _cupy()
        with cp.cuda.Device(_device_of(like.view)):
            a = cp.empty(shape, dtype=dtype)
        return a, a
    a = np.empty(shape, dtype=dtype)
    return a, a


def _device_of(v) -> int:
    dev = getattr(v, "device", None)
    return int(getattr(dev, "id", 0) or 0)


def stream_of(like: Arr):
    """The caller's current stream on the array's device, as an integer handle."""
    if like.lib == "torch":
        import torch

        return torch.cuda.current_stream(like.orig.device).cuda_stream
    if like.lib == "cuda" and "cupy" in sys.modules and isinstance(like.view, sys.modules["cupy"].ndarray):
        return sys.modules["cupy"].cuda.get_current_stream().ptr
    s = like.view.__cuda_array_interface__.get("stream")
    return 0 if s is None else int(s)


class Call:
    """The arrays of one op call, checked against each other and made ready for a kernel.

    ``Call(x=x, grad=g)`` checks that every array is on the same side (host or device),
    has the shape and dtype of the first, and picks the backend. ``views`` holds contiguous
    kernel views in argument order; ``output(out)`` returns the kernel's ``out`` view, and
    ``result()`` the array to hand back to the caller.
    """

    def __init__(self, backend, dtypes=FLOATS, same_shape=True, **arrays):
        items = [(k, Arr(v, k)) for k, v in arrays.items()]
        for k, a in items:  # each array's own rules first, in argument order, as the binding
            if len(a.shape) < 1:
                raise ValueError(f"{k} must have at least one axis (samples first), got a 0-d array")
        self.names = [k for k, _ in items]
        first_name, first = items[0]
        self.first = first
        for k, a in items[1:]:
            if a.device != first.device:
                raise ValueError(
                    f"host and device arrays mixed in one call: {first_name} is on the "
                    f"{'device' if first.device else 'host'}, {k} on the {'device' if a.device else 'host'}"
                )
        self.backend = _backend.resolve(backend, first.device, first_name)
        dt = first.dtype
        if dtypes is not None and dt not in dtypes:
            raise TypeError(f"{first_name} must be {dtype_words(dtypes)}, got {dt}")
        for k, a in items[1:]:
            if same_shape and a.shape != first.shape:
                raise ValueError(f"{k} must have the shape of {first_name}: {a.shape} vs {first.shape}")
            if a.dtype != dt:
                raise TypeError(f"{k} must have the dtype of {first_name} ({dt}), got {a.dtype}")
        self.dtype, self.shape, self.n = dt, first.shape, first.shape[0]
        self._items, self._views = items, None
        self._inputs = [(k, a.view) for k, a in items if a.lib == "numpy"]
        self._out = self._out_view = None

    @property
    def views(self):
        """Contiguous kernel views of the arrays, in argument order, made on first use:
        after the op's own checks, since copying a zero-stride view (np.broadcast_to) can
        take terabytes."""
        if self._views is None:
            self._views = [a.contiguous() for _, a in self._items]
        return self._views

    def output_after(self, out, check, shape=None, dtype=None):
        """(output(out), check()): check, a rule the binding applies after out's own, runs
        after a given out is checked and before a missing one is made like x (a call that
        fails allocates nothing)."""
        o = None if out is None else self.output(out, shape, dtype)
        value = check()
        return (self.output(None, shape, dtype) if o is None else o), value

    def output(self, out, shape=None, dtype=None):
        shape = self.shape if shape is None else tuple(shape)
        dtype = self.dtype if dtype is None else np.dtype(dtype)
        if out is None:
            self._out, self._out_view = empty(self.first, shape, dtype)
            self._copy_back = None
            return self._out_view
        o = Arr(out, "out")
        if o.lib == "numpy" and not isinstance(out, np.ndarray) and o.view.base is None:
            # a list, or an array-like whose __array__ copies, would be converted to a new
            # array, written, and lost (a buffer or a view of one is written through)
            raise TypeError(
                f"out must be an array the result is written into (a NumPy array, a torch tensor or a "
                f"device array), got {type(out).__name__}"
            )
        # out's own rules first, then its match with the inputs: the binding's order
        if len(o.shape) < 1:
            raise ValueError("out must have at least one axis (samples first), got a 0-d array")
        check_writable(o)
        if o.device != self.first.device:
            raise ValueError("out must be on the same side (host or device) as the inputs")
        if o.shape != shape:
            raise ValueError(f"out must have shape {shape}, got {o.shape}")
        if o.dtype != dtype:
            raise TypeError(f"out must have dtype {dtype}, got {o.dtype}")
        for k, a in self._inputs if o.lib == "numpy" else ():
            # the kernels read an element before writing it: an exact alias of the same
            # dtype is an in-place update, any other overlap reads elements already written
            # (the raw dtypes: a byte-swapped x may be its own out)
            if np.may_share_memory(o.view, a) and not (_same_memory(o.view, a) and o.view.dtype == a.dtype):
                raise ValueError(f"out overlaps {k} in part; it may only alias it exactly")
        self._out = out
        c = o.contiguous()
        contiguous = c is o.view or (
            o.lib == "numpy" and np.shares_memory(c, o.view) and c.ctypes.data == o.view.ctypes.data
        )
        if contiguous:
            self._copy_back = None
            self._out_view = o.view
        else:
            # Compute into a contiguous buffer, then write through the caller's strides.
            # (Kept apart from the inputs: `out` may alias one of them.)
            self._copy_back = o.view
            _, self._out_view = empty(self.first, shape, dtype)
        return self._out_view

    def result(self):
        if self._copy_back is not None:
            self._copy_back[...] = self._out_view
        return self._out

    def kernel(self, op: str, module: str | None = None):
        k = _backend.kernel(self.backend, op, module)
        if self.backend != "cuda":
            return k
        stream = stream_of(self.first)
        return lambda *args: k(*args, stream)

    def per_sample(self, value, name: str, *, allow_zero: bool = True):
        """A scalar or one value per sample, checked finite and >= 0 (> 0 without
        allow_zero), in the form the backend's kernel takes. For float32 data it must be
        finite in float32 too: the kernels compute in the data's dtype, where a larger value
        is inf (NaN in x + inf * 0), finite in the float64 reference."""
        f32 = self.dtype == FLOATS[0]
        if isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name} must be a number or one per sample, got {type(value).__name__}")
        if isinstance(value, (int, float, np.integer, np.floating)):
            v = _float_or_inf(value)
            if not (v >= 0.0 if allow_zero else v > 0.0) or math.isinf(v):
                raise ValueError(f"{name} must be finite and {'>=' if allow_zero else '>'} 0, got {v!r}")
            if f32 and abs(v) > _F32_LIMIT:
                raise ValueError(f"{name} must be finite in the data's dtype (float32), got {v!r}")
            return v
        host = _to_host_values(value, name, real=True)
        if host.ndim != 1 or host.shape[0] != self.n:
            raise ValueError(f"{name} must be a scalar or have one value per sample ({self.n}), got shape {host.shape}")
        bad = ~np.isfinite(host) | ((host < 0) if allow_zero else (host <= 0))
        if f32:
            bad |= np.abs(host) > _F32_LIMIT
        if bad.any():
            # the sample, not its value: an array's contents never go into a message
            in_f32 = " (in the data's dtype, float32)" if f32 else ""
            raise ValueError(
                f"{name} must be finite and {'>=' if allow_zero else '>'} 0 for every sample{in_f32}; "
                f"sample {int(np.flatnonzero(bad)[0])} is not"
            )
        if self.backend == "cuda":
            return params_like(host, self.first)
        return aligned(np.ascontiguousarray(host, dtype=np.float64))


# The largest float64 that rounds to a finite float32 (to nearest): below 2**128 - 2**103,
# half an ulp above float32's max (C++'s std::isinf(float(v)) draws the same line).
_F32_LIMIT = float(np.nextafter(np.float64(2.0**128 - 2.0**103), 0))


def aligned(a: np.ndarray) -> np.ndarray:
    """a, or an aligned copy of it (np.asarray and np.ascontiguousarray keep an unaligned
    buffer as it is)."""
    return a if a.flags.aligned else a.copy()


def check_writable(o: Arr, name: str = "out"):
    """An out the kernels can write in place: writeable and aligned for its dtype (python/
    array.hpp raises the same words)."""
    if o.device:
        return
    if o.lib == "numpy" and not o.view.flags.writeable:
        raise ValueError(f"{name} is read-only")
    if not o.view.flags.aligned:
        raise ValueError(f"{name} must be aligned for its dtype (flags.aligned), got an unaligned buffer")


def _same_memory(a, b):
    return (
        a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
        and a.shape == b.shape
        and (a.strides == b.strides)
    )


def _float_or_inf(v):
    """float(v), with an int beyond float's range as infinity (float() raises)."""
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def _to_host_values(value, name, real=False):
    """value's numbers as a float64 NumPy array; with real, only arrays of real numbers
    (ints, unsigned, floats: not bools, complex numbers, strings or objects, which NumPy
    would convert, or convert in part, silently)."""
    if _torch(value):
        value = value.detach().cpu().numpy()
    elif hasattr(value, "__cuda_array_interface__") and hasattr(value, "get"):
        value = value.get()
    try:
        a = np.asarray(value)
        if real and a.dtype.kind not in "fiu":
            raise TypeError
        return a.astype(np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number or an array of numbers, got {type(value).__name__}") from None


def params_like(host: np.ndarray, like: Arr):
    """Per-sample parameters (a few values per sample, not data) follow the data to its
    device, in their own dtype; host data keeps them as they are."""
    if not like.device:
        return host
    if like.lib == "torch":
        import torch

        return torch.as_tensor(host, device=like.orig.device)
    cp = _cupy()
    with cp.cuda.Device(_device_of(like.view)):
        return cp.asarray(host)


_SHOWN = (bool, int, float, complex, str, bytes, np.number, np.bool_)


def describe(value) -> str:
    """A bad argument as a message may show it: the value of a scalar, a string or None
    (short ones), only the type and shape of anything else, so that no array's contents
    reach a message (or a log); pairs and short sequences are described item by item."""
    if value is None or isinstance(value, _SHOWN):
        r = repr(value)
        return r if len(r) <= 60 else f"{type(value).__name__} of length {len(value)}"
    if isinstance(value, (tuple, list)) and len(value) <= 4:
        inner = ", ".join(describe(v) for v in value)
        return f"({inner}{',' if len(value) == 1 else ''})" if isinstance(value, tuple) else f"[{inner}]"
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__name__} of shape {tuple(shape)}"
    n = len(value) if hasattr(value, "__len__") else None
    return type(value).__name__ if n is None else f"{type(value).__name__} of length {n}"


def check_clip(clip):
    """(low, high) floats from a clip argument; None means no clipping."""
    if clip is None:
        return -math.inf, math.inf
    lo, hi = real_pair(clip, "clip")
    if math.isnan(lo) or math.isnan(hi) or lo > hi:  # the values as floats: the binding's words
        raise ValueError(f"clip must be (low, high) with low <= high, got {shown_pair(clip, lo, hi)}")
    return lo, hi


def is_real(v):
    """Whether v is a real number: int, float or a NumPy one (not a bool, not a string)."""
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def real_pair(pair, name):
    """Two real numbers (low, high) as floats (an int beyond float's range as infinity)."""
    try:
        lo, hi = pair
    except (TypeError, ValueError):
        lo = hi = None
    if isinstance(pair, (str, bytes)) or not (is_real(lo) and is_real(hi)):
        raise TypeError(f"{name} must be a pair (low, high) or None, got {describe(pair)}")
    return _float_or_inf(lo), _float_or_inf(hi)


def shown_pair(pair, lo, hi):
    """A pair for a message: the floats the binding shows, for a tuple or list; an array is
    described (its values are data, kept out of messages)."""
    return f"({lo!r}, {hi!r})" if isinstance(pair, (tuple, list)) else describe(pair)


NORM_CODES = {"inf": C.NORM_INF, "linf": C.NORM_INF, "2": C.NORM_L2, "l2": C.NORM_L2, "1": C.NORM_L1, "l1": C.NORM_L1}


def check_norm(norm):
    """The kernels' norm code: 0 for L-infinity ("inf", np.inf), 1 or 2 (int, float or str)."""
    code = None
    if isinstance(norm, str):
        code = NORM_CODES.get(norm.strip().lower())
    elif isinstance(norm, (int, float, np.integer, np.floating)) and not isinstance(norm, (bool, np.bool_)):
        code = C.NORM_INF if norm == math.inf else {1.0: C.NORM_L1, 2.0: C.NORM_L2}.get(float(norm))
    if code is None:
        raise ValueError(f"norm must be 'inf', 1 or 2 (also np.inf, 'l1', 'l2'), got {describe(norm)}")
    return code


def check_int(value, name):
    """An integer argument (Python or NumPy int, not bool), as a Python int."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got {describe(value)}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {describe(value)}") from None


def check_flag(value, name):
    """A yes/no argument as Python's truth value (NumPy arrays of several elements have
    none: an error naming the argument rather than NumPy's "truth value ... ambiguous")."""
    try:
        return bool(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}") from None
