"""Numba port of cpp/noise.hpp / .cpp: out = clip(x + scale * draw), out element (r, j)
drawing stream element offset + r*d + j (docs/rng.md); x may be one broadcast row."""
import numpy as np
from numba import prange

from ._util import flat2, jit_pair, parts, per_row
from .philox import block, key
from .random_start import _draws

_KINDS = {"normal": 2, "uniform": 0}


def _noise(x, out, scale, kind, lo, hi, k0, k1, s0, s1, b0, lane0, nparts):
    n, d = out.shape
    total = n * d
    bc = x.shape[0] != n
    for p in prange(nparts):
        i, end = total * p // nparts, total * (p + 1) // nparts
        while i < end:
            t = lane0 + i  # stream element 4*b0 + t
            w0, w1, w2, w3 = block(b0 + np.uint64(t >> 2), k0, k1, s0, s1)
            v = _draws(kind, w0, w1, w2, w3)
            first = t & 3
            last = min(4, first + end - i)
            for k in range(first, last):
                e = i + k - first
                r = e // d
                j = e - r * d
                y = x[0 if bc else r, j] + v[k] * scale[r]
                out[r, j] = lo if y < lo else (hi if y > hi else y)
            i += last - first


_serial, _parallel = jit_pair(_noise)


def noise(x, scale, kind, seed, substream, offset, lo, hi, out):
    if kind not in _KINDS:
        raise ValueError(f"noise kind must be 'normal' or 'uniform', got {kind!r}")
    if out.size == 0:
        return
    x2, o2 = flat2(x), flat2(out)
    t = out.dtype.type
    k0, k1, s0, s1 = key(seed, substream)
    s = per_row(scale, o2.shape[0], out.dtype)
    b0, lane0 = np.uint64((offset >> 2) % 2**64), np.int64(offset & 3)
    k = parts(out.size)
    (_serial if k == 1 else _parallel)(x2, o2, s, _KINDS[kind], t(lo), t(hi), k0, k1, s0, s1, b0, lane0, k)
