"""Numba port of cpp/noise.hpp / .cpp: out = clip(x + scale * draw), out element (r, j)
drawing stream element offset + r*d + j (docs/rng.md); x may be one broadcast row.
The draws and the writes are random_start's (norm inf: the uniform draw); the loop is its
_spans with a stream offset and a broadcast row added."""
import numpy as np
from numba import prange

from ._util import flat2, jit_pair, parts, per_row
from .philox import copy_emit, key, normals4, scratch_for, visit
from .random_start import _PIECE, _inf, _write


def _noise(x, out, conv, scale, lo, hi, k0, k1, s0, s1, b0, lane0, nparts):
    n, d = out.shape
    total = n * d
    bc = x.shape[0] != n
    for p in prange(nparts):
        scratch = scratch_for(np.float32)
        draws = np.empty(_PIECE, np.float32)
        ys = np.empty(_PIECE, out.dtype)
        i, end = total * p // nparts, total * (p + 1) // nparts
        while i < end:
            r = i // d
            j0 = i - r * d
            j1 = min(d, j0 + end - i, j0 + _PIECE)
            t = lane0 + i  # stream element 4*b0 + t
            visit(conv, copy_emit, draws, k0, k1, s0, s1, b0 + np.uint64(t >> 2), t & 3, j1 - j0, scratch)
            _write((x[0 if bc else r, j0:j1], out[r, j0:j1], ys, scale[r], lo, hi), 0, draws, 0, j1 - j0)
            i += j1 - j0


_serial, _parallel = jit_pair(_noise)
_KINDS = {"normal": normals4, "uniform": _inf}


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
    (_serial if k == 1 else _parallel)(x2, o2, _KINDS[kind], s, t(lo), t(hi), k0, k1, s0, s1, b0, lane0, k)
