"""Numba port of cpp/rng.hpp / cpp/rng.cpp: random_raw, uniform, normal into `out`."""

import numba
import numpy as np
from numba import prange

from ._util import jit_pair, parts
from .philox import copy_emit, key, normals4, scratch_for, uniform_co, visit, words4


def _fill(out, conv, dtype, k0, k1, s0, s1, b0, lane0, nparts):
    # out[i] is stream element 4*b0 + lane0 + i; each part starts its own walk there.
    n = out.shape[0]
    for p in prange(nparts):
        i, end = n * p // nparts, n * (p + 1) // nparts
        t = lane0 + i
        visit(conv, copy_emit, out[i:end], k0, k1, s0, s1, b0 + np.uint64(t >> 2), t & 3, end - i, scratch_for(dtype))


_serial, _parallel = jit_pair(_fill)


@numba.njit(cache=True, nogil=True, inline="always")
def _uniform(w0, w1, w2, w3):
    return uniform_co(w0), uniform_co(w1), uniform_co(w2), uniform_co(w3)


def _run(conv, dtype, out, seed, substream, offset):
    o = out.reshape(-1)
    if o.size == 0:
        return
    k0, k1, s0, s1 = key(seed, substream)
    b0, lane0 = np.uint64((offset >> 2) % 2**64), np.int64(offset & 3)
    k = parts(o.size)
    (_serial if k == 1 else _parallel)(o, conv, dtype, k0, k1, s0, s1, b0, lane0, k)


def random_raw(out, seed, substream, offset):
    _run(words4, np.uint32, out, seed, substream, offset)


def uniform(out, seed, substream, offset):
    _run(_uniform, np.float32, out, seed, substream, offset)


def normal(out, seed, substream, offset):
    _run(normals4, np.float32, out, seed, substream, offset)
