"""Numba port of cpp/bit_depth.hpp."""

import numpy as np
from numba import prange

from ._util import jit_pair, parts


def _bit_depth(x, lo, span, m, out, nparts):
    total = x.size
    for p in prange(nparts):
        for i in range(total * p // nparts, total * (p + 1) // nparts):
            out[i] = ((np.rint(((x[i] - lo) / span) * m) / m) * span) + lo


def _bit_depth_u8(x, lo, span, m, out, nparts):
    total = x.size
    for p in prange(nparts):
        for i in range(total * p // nparts, total * (p + 1) // nparts):
            v = np.rint(((np.rint(((np.float64(x[i]) - lo) / span) * m) / m) * span) + lo)
            out[i] = np.uint8(0.0 if v < 0.0 else (255.0 if v > 255.0 else v))


_float = jit_pair(_bit_depth)
_u8 = jit_pair(_bit_depth_u8)


def bit_depth(x, bits, lo, hi, out):
    # The formula runs in the data's float dtype; uint8 in float64 (cpp/bit_depth.hpp).
    t = np.float64 if x.dtype == np.uint8 else x.dtype.type
    pair = _u8 if x.dtype == np.uint8 else _float
    k = parts(x.size)
    pair[k != 1](x.reshape(-1), t(lo), t(hi - lo), t(2**bits - 1), out.reshape(-1), k)
