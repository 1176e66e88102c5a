"""Numba port of cpp/rng.hpp / cpp/rng.cpp: random_raw, uniform, normal into `out`."""
import numba
import numpy as np
from numba import prange

from ._util import jit_pair, parts
from .philox import block, box_muller, key, uniform_co


def _fill(out, conv, k0, k1, s0, s1, b0, lane0, nparts):
    # Stream element of out[i] is 4*b0 + lane0 + i; each part walks its range block by block.
    n = out.shape[0]
    for p in prange(nparts):
        i, end = n * p // nparts, n * (p + 1) // nparts
        while i < end:
            t = lane0 + i
            w0, w1, w2, w3 = block(b0 + np.uint64(t >> 2), k0, k1, s0, s1)
            v = conv(w0, w1, w2, w3)
            first = t & 3
            last = min(4, first + end - i)
            for k in range(first, last):
                out[i + k - first] = v[k]
            i += last - first


_serial, _parallel = jit_pair(_fill)


@numba.njit(cache=True, inline="always")
def _raw(w0, w1, w2, w3):
    return np.uint32(w0), np.uint32(w1), np.uint32(w2), np.uint32(w3)


@numba.njit(cache=True, inline="always")
def _uniform(w0, w1, w2, w3):
    return uniform_co(w0), uniform_co(w1), uniform_co(w2), uniform_co(w3)


@numba.njit(cache=True, inline="always")
def _normal(w0, w1, w2, w3):
    z0, z1 = box_muller(w0, w1)
    z2, z3 = box_muller(w2, w3)
    return z0, z1, z2, z3


def _run(conv, out, seed, substream, offset):
    o = out.reshape(-1)
    if o.size == 0:
        return
    k0, k1, s0, s1 = key(seed, substream)
    b0, lane0 = np.uint64((offset >> 2) % 2**64), np.int64(offset & 3)
    (_serial if parts(o.size) == 1 else _parallel)(o, conv, k0, k1, s0, s1, b0, lane0, parts(o.size))


def random_raw(out, seed, substream, offset):
    _run(_raw, out, seed, substream, offset)


def uniform(out, seed, substream, offset):
    _run(_uniform, out, seed, substream, offset)


def normal(out, seed, substream, offset):
    _run(_normal, out, seed, substream, offset)
