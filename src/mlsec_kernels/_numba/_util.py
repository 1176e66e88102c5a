"""Shared pieces of the Numba ports: the small-call threshold and flat work splits."""
import numba
import numpy as np

# Same threshold as cpp/common.hpp: below it a kernel runs on the calling thread.
PARALLEL_MIN = 1 << 16


def jit_pair(fn):
    """A serial and a parallel compiled copy of `fn` (prange is a plain range in the first)."""
    return numba.njit(cache=True)(fn), numba.njit(cache=True, parallel=True)(fn)


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
