"""Numba port of cpp/bit_depth.hpp: t = (x - lo) / span in the data's float type (float64
for integers), then ((rint(t * m) / m) * span) + lo in float64, stored in out's dtype."""

import numpy as np
from numba import prange

from ._util import jit_pair, parts


def _bit_depth(x, lo_r, span_r, m, lo, span, out, nparts):
    total = x.size
    for p in prange(nparts):
        for i in range(total * p // nparts, total * (p + 1) // nparts):
            t = np.float64((x[i] - lo_r) / span_r)
            out[i] = ((np.rint(t * m) / m) * span) + lo


_serial, _parallel = jit_pair(_bit_depth)


def bit_depth(x, bits, lo, hi, out):
    r = out.dtype.type  # the normalisation's type: x's float type, float64 for integers
    k = parts(x.size)
    span = hi - lo
    (_parallel if k != 1 else _serial)(x.reshape(-1), r(lo), r(span), float(2**bits - 1), lo, span, out.reshape(-1), k)
