"""The random stream as arrays: raw words, uniforms, normals (Philox4x32-10).

Every randomised kernel of mlsec_kernels draws from one counter-based generator,
Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2,
3", SC 2011), specified in docs/design.md: a (seed, substream) pair names a stream of 2^64
blocks of four 32-bit words, and stream element ``e`` is word ``e % 4`` of block
``e // 4``. The stream is a pure function of (seed, substream, element), so the C++, CUDA
and Numba backends give the same bits whatever the thread count, and an array filled in
one call equals the same array filled in pieces with matching ``offset``.

- ``seed``: an int in [0, 2**64); ``seed=None`` draws an unpredictable one from the
  operating system's CSPRNG (:mod:`secrets`), so that noise meant to defend a model
  cannot be guessed (and cannot be reproduced: keep a seed if you need to).
- ``substream``: an int in [0, 2**64); independent streams under one seed.
  :class:`Generator` hands each call the next one (0, 1, 2, ...).
- ``offset``: the stream element of the output's first element (>= 0).

Conversions (float32; float64 outputs are the float32 numbers widened): uniform in [0, 1)
is ``(w >> 8) * 2**-24``; normals come from Box-Muller pairs with the project's own
float32 log/sin/cos (cpp/fmath.hpp), so they too are bit-identical across backends.
References: :mod:`mlsec_kernels.reference.rng`.
"""

from __future__ import annotations

import math

import numpy as np

from . import _backend
from ._arrays import Arr, check_int, check_writable, describe, empty, stream_of
from ._seeds import Substreams, check_u64, new_seed, seed_and_substream  # noqa: F401 (rng's API too)
from .perturb import random_start as _random_start

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _shape(shape) -> tuple:
    """A shape as ints (not floats, bools or strings, which int() would take)."""
    try:
        s = tuple(check_int(v, "shape") for v in ((shape,) if np.ndim(shape) == 0 else shape))
    except TypeError:
        raise TypeError(f"shape must be an int or a tuple of ints, got {describe(shape)}") from None
    if any(v < 0 for v in s):
        raise ValueError(f"shape must not have negative sizes, got {s}")
    if any(v >= 2**63 for v in s):
        raise ValueError(f"shape must have sizes below 2**63, got {s}")
    return s


def _dtype(dtype, dtypes):
    try:
        dt = np.dtype(np.float32 if dtype is None else dtype)
    except TypeError:
        dt = None
    if dt is None or dt not in dtypes:  # (None == np.dtype("float64"): NumPy reads None as float64)
        raise TypeError(f"dtype must be {' or '.join(d.name for d in dtypes)}, got {dtype if dt is None else dt}")
    return dt


def _fill(op, shape, dtype, seed, substream, offset, backend, out, dtypes):
    seed = new_seed() if seed is None else check_u64(seed, "seed")
    substream = check_u64(substream, "substream")
    if isinstance(offset, (bool, np.bool_)) or not isinstance(offset, (int, np.integer)):
        raise TypeError(f"offset must be an int >= 0, got {type(offset).__name__}")
    offset = int(offset)
    if out is None:
        shape, dtype = _shape(shape), _dtype(dtype, dtypes)
        _check_offset(offset, math.prod(shape))
        b = _backend.resolve(backend, backend == "cuda", "out")
        if b in _backend.FAST:
            res = np.empty(shape, dtype)
            getattr(_backend._cpu, op)(res.reshape(-1), seed, substream, offset)
            return res
        if b == "cuda":
            import cupy

            res = view = cupy.empty(shape, dtype)
        else:
            res = view = np.empty(shape, dtype)
        o = Arr(res, "out")
    else:
        o = Arr(out, "out")
        b = _backend.resolve(backend, o.device, "out")
        if shape is not None and _shape(shape) != o.shape:
            raise ValueError(f"out must have shape {_shape(shape)}, got {o.shape}")
        if o.dtype not in dtypes or (dtype is not None and o.dtype != _dtype(dtype, dtypes)):
            want = _dtype(dtype, dtypes).name if dtype is not None else " or ".join(d.name for d in dtypes)
            raise TypeError(f"out must have dtype {want}, got {o.dtype}")
        _check_offset(offset, math.prod(o.shape))
        check_writable(o)
        res, view = out, o.contiguous()
        if not _same_buffer(view, o.view):
            _, view = empty(o, o.shape, o.dtype)
    k = _backend.kernel(b, op, "rng")
    flat = view.reshape(-1)
    if b == "cuda":
        k(flat, seed, substream, offset, stream_of(o))
    else:
        k(flat, seed, substream, offset)
    if view is not o.view and res is out:
        o.view[...] = view
    return res


def _check_offset(offset, size):
    """The binding's rule (a substream holds 2**66 elements), for every backend."""
    if offset < 0 or offset + size > 2**66:
        raise ValueError(f"offset must be >= 0 with offset + size <= 2**66, got {offset}")


def _same_buffer(c, v) -> bool:
    if c is v:
        return True
    return (
        isinstance(c, np.ndarray)
        and isinstance(v, np.ndarray)
        and c.ctypes.data == v.ctypes.data
        and c.shape == v.shape
    )


def random_raw(n, *, seed, substream=0, offset=0, backend="auto", out=None):
    """Stream elements ``offset .. offset+n-1`` of (seed, substream) as uint32 words.

    ``n`` may be an int or a shape; ``out`` (uint32) receives the words in C order.
    ``backend="cuda"`` returns a CuPy array. Reference: :func:`reference.rng.random_raw`.
    """
    return _fill(
        "random_raw",
        n,
        None if out is not None else np.uint32,
        seed,
        substream,
        offset,
        backend,
        out,
        (np.dtype(np.uint32),),
    )


def uniform(shape, *, seed, substream=0, offset=0, dtype=None, backend="auto", out=None):
    """Uniform numbers in [0, 1): ``(w >> 8) * 2**-24`` of each stream word.

    ``dtype`` is float32 (default, or ``out``'s dtype) or float64 (the float32 numbers
    widened: 24 random bits either way). ``backend="cuda"`` returns a CuPy array.
    """
    return _fill("uniform", shape, dtype, seed, substream, offset, backend, out, _FLOATS)


def normal(shape, *, seed, substream=0, offset=0, dtype=None, backend="auto", out=None):
    """Standard normals by Box-Muller: words (w0, w1) of block b give elements 4b and
    4b+1, (w2, w3) give 4b+2 and 4b+3 (``r = sqrt(-2 log u1)``, ``r cos 2 pi u2``,
    ``r sin 2 pi u2``, u1 in (0, 1], u2 in [0, 1)). Same keywords as :func:`uniform`.
    """
    return _fill("normal", shape, dtype, seed, substream, offset, backend, out, _FLOATS)


class Generator(Substreams):
    """One seed, a fresh substream per call: call i of this object uses substream
    ``start + i``, so a loop of random steps is reproducible from one seed.

    ``Generator(seed=None, *, substream=0)``: ``seed=None`` draws an unpredictable seed
    (:mod:`secrets`); read it back from ``.seed``. Pass the object as ``seed=`` to a
    randomised op (e.g. :func:`mlsec_kernels.random_start`) and it takes the next substream.
    """

    def random_raw(self, n, **kwargs):
        return random_raw(n, seed=self.seed, substream=self.next_substream(), **kwargs)

    def uniform(self, shape, **kwargs):
        return uniform(shape, seed=self.seed, substream=self.next_substream(), **kwargs)

    def normal(self, shape, **kwargs):
        return normal(shape, seed=self.seed, substream=self.next_substream(), **kwargs)

    def random_start(self, x0, eps, **kwargs):
        return _random_start(x0, eps, seed=self, **kwargs)
