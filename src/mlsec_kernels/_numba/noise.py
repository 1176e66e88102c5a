"""Numba port of cpp/noise.hpp / .cpp: out = clip(x + scale * draw), out element (r, j)
drawing stream element offset + r*d + j (docs/rng.md); x may be one broadcast row.
The loop is random_start's _spans (norm inf: the uniform draw), which takes the stream
offset and the broadcast row."""

import numpy as np

from ._util import flat2, parts, per_row
from .philox import key
from .random_start import NORMAL, UNIFORM, _spans_parallel, _spans_serial

_KINDS = {"normal": NORMAL, "uniform": UNIFORM}


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
    (_spans_serial if k == 1 else _spans_parallel)(x2, o2, _KINDS[kind], s, t(lo), t(hi), k0, k1, s0, s1, b0, lane0, k)
