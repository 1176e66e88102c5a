"""Shared pieces of the Numba ports: the small-call threshold and flat work splits."""

import types

import numba
import numpy as np

from .._constants import PARALLEL_MIN  # below it a kernel runs on the calling thread


def jit_pair(fn):
    """A serial and a parallel compiled copy of `fn` (prange is a plain range in the first).

    The parallel copy compiles a renamed clone: Numba's on-disk cache keys an entry by the
    function's name and signature, not by its options, so with one name the serial copy
    loaded the parallel build from the cache and woke the thread pool on every small call."""
    par = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_parallel", fn.__defaults__, fn.__closure__)
    par.__qualname__ = fn.__qualname__ + "_parallel"
    return numba.njit(cache=True, nogil=True)(fn), numba.njit(cache=True, nogil=True, parallel=True)(par)


def parts(work: int) -> int:
    return 1 if work < PARALLEL_MIN else numba.get_num_threads()


def flat2(a):
    """The (n, d) view of a contiguous array."""
    if a.ndim == 2:
        return a
    d = 1
    for s in a.shape[1:]:
        d *= s
    return a.reshape(a.shape[0], d)


def per_row(value, n, dtype):
    """A per-sample parameter as an array of n values in the data's dtype."""
    if isinstance(value, float):
        return np.full(n, value, dtype=dtype)
    return np.asarray(value, dtype=dtype)
