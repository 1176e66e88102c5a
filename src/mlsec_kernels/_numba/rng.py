"""Numba port of cpp/rng.hpp / cpp/rng.cpp: random_raw, uniform, normal into `out`."""

import numba
import numpy as np
from numba import prange

from ._util import jit_pair, parts
from .philox import converter, copy_emit, key, normals, scratch_for, uniform_co, visit, words

RAW, UNIFORM, NORMAL = 0, 1, 2  # what _fill draws: an int code, not a function (philox.converter)


def _fill(out, kind, k0, k1, s0, s1, b0, lane0, nparts):
    # out[i] is stream element 4*b0 + lane0 + i; each part starts its own walk there.
    n = out.shape[0]
    for p in prange(nparts):
        i, end = n * p // nparts, n * (p + 1) // nparts
        t = lane0 + i
        o, b, lane = out[i:end], b0 + np.uint64(t >> 2), t & 3
        if kind == RAW:
            visit(words, copy_emit, o, k0, k1, s0, s1, b, lane, end - i, scratch_for(np.uint32))
        elif kind == UNIFORM:
            visit(_uniforms, copy_emit, o, k0, k1, s0, s1, b, lane, end - i, scratch_for(np.float32))
        else:
            visit(normals, copy_emit, o, k0, k1, s0, s1, b, lane, end - i, scratch_for(np.float32))


@numba.njit(inline="always")
def _uniform(w0, w1, w2, w3):
    return uniform_co(w0), uniform_co(w1), uniform_co(w2), uniform_co(w3)


_uniforms = converter(_uniform)
_serial, _parallel = jit_pair(_fill)


def _run(kind, out, seed, substream, offset):
    o = out.reshape(-1)
    if o.size == 0:
        return
    k0, k1, s0, s1 = key(seed, substream)
    b0, lane0 = np.uint64((offset >> 2) % 2**64), np.int64(offset & 3)
    k = parts(o.size)
    (_serial if k == 1 else _parallel)(o, kind, k0, k1, s0, s1, b0, lane0, k)


def random_raw(out, seed, substream, offset):
    _run(RAW, out, seed, substream, offset)


def uniform(out, seed, substream, offset):
    _run(UNIFORM, out, seed, substream, offset)


def normal(out, seed, substream, offset):
    _run(NORMAL, out, seed, substream, offset)
